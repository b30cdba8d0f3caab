"""The leader side: turns strategy fills into signed target-position signals for followers.

Listens to the order manager on the engine thread, reads the strategy's position after each fill,
and hands the signal to its own sender thread (the engine never waits on a network).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tradingsystem.adapters.sharing.channels import SignalChannel
from tradingsystem.adapters.sharing.messages import Signal, Signer
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.orders import Order, OrderEventKind
from tradingsystem.engine.kernel import Kernel

log = logging.getLogger(__name__)


@dataclass
class PublisherStats:
    published: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)


class SignalPublisher:
    """Publishes ``strategies`` (all when empty) to ``channels``, signed by ``signer``."""

    def __init__(self, kernel: Kernel, leader: str, signer: Signer, channels: list[SignalChannel],
                 strategies: frozenset[str] = frozenset(), wall_ns: Callable[[], int] = time.time_ns,
                 queue_size: int = 10_000) -> None:
        self.kernel, self.leader, self.signer, self.channels = kernel, leader, signer, channels
        self.strategies, self.wall_ns = strategies, wall_ns
        self.stats = PublisherStats()
        self._seq = 0
        self._last: dict[tuple[str, str], int] = {}
        self._q: queue.Queue[tuple[Signal, bytes] | None] = queue.Queue(queue_size)
        self._thread = threading.Thread(target=self._send_loop, name="signal-publisher", daemon=True)
        self._thread.start()
        kernel.orders.add_listener(self.on_order_event)

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if event.kind != OrderEventKind.FILLED:
            return
        sid = order.strategy_id
        if self.strategies and sid not in self.strategies:
            return
        pos = self.kernel.portfolio.by_strategy.get((sid, order.symbol))
        target = pos.quantity if pos is not None else 0
        key = (sid, order.symbol)
        if self._last.get(key) == target:
            return
        self._last[key] = target
        self._seq += 1
        signal = Signal(self.leader, sid, order.symbol, target, self._seq, self.wall_ns(), self.kernel.clock.now(),
                        price=int(event.fill_price))
        try:
            self._q.put_nowait((signal, self.signer.envelope(signal)))
            self.stats.published += 1
        except queue.Full:
            self.stats.failed["queue"] = self.stats.failed.get("queue", 0) + 1

    def _send_loop(self) -> None:
        while (item := self._q.get()) is not None:
            signal, env = item
            for ch in self.channels:
                try:
                    ch.send(signal, env)
                    self.stats.sent[ch.name] = self.stats.sent.get(ch.name, 0) + 1
                except Exception as exc:  # a failing channel is counted, never fatal
                    self.stats.failed[ch.name] = self.stats.failed.get(ch.name, 0) + 1
                    log.warning("signal channel %s failed: %s", ch.name, exc)

    def close(self) -> None:
        """Send what is queued, then stop."""
        self._q.put(None)
        self._thread.join(timeout=60)
        for ch in self.channels:
            ch.close()


__all__ = ["PublisherStats", "SignalPublisher"]
