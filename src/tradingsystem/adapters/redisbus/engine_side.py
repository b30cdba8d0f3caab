"""The engine side: a live ``MarketDataFeed`` and an ``ExecutionClient`` over Redis Streams.

Events are read with a consumer group (``engine``) and acknowledged after they were handled, together
with the last handled sequence number (``{prefix}:eng:seq``) in one MULTI/EXEC; after a restart our
unacknowledged entries are read again first and any already handled (sequence not above the stored
one) are skipped. Commands get ids (``S:{order_id}``, ``C:{order_id}:{ts}:{n}``, ``M:{order_id}:{ts}:{n}``) that
the gateway de-duplicates; while Redis is unreachable they wait in an outbox and go out in order.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import redis

from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder

from .config import RedisConfig
from .messages import decode_event, encode_event, field

_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)
_GROUP = "engine"


class RedisBus:
    """One link to the gateway: ``.feed`` (market data and order events) and ``.execution`` (commands)."""

    def __init__(self, client: redis.Redis, config: RedisConfig | None = None,
                 on_end: Callable[[], None] | None = None) -> None:
        self.r: Any = client  # redis.Redis (its stubs type stream replies loosely)
        self.cfg = config or RedisConfig()
        p = self.cfg.prefix
        self.k_events, self.k_cmd, self.k_seq = f"{p}:events", f"{p}:cmd", f"{p}:eng:seq"
        self.on_end = on_end
        self.ended = False
        self.connected = False
        self.reconnects = 0
        self.duplicates = 0
        self.received = 0
        self.last_seq = -1  # unknown until the first read
        self._buf: deque[tuple[bytes, int, int, str, bytes]] = deque()
        self._to_ack: list[bytes] = []
        self._handled_seq = 0
        self._outbox: deque[dict[str, Any]] = deque()
        self._retry_at = 0.0
        self._pending_first = True
        self._data: Any = None
        self._exec: Any = None
        self.feed = RedisFeed(self)
        self.execution = RedisExecution(self)

    # ----------------------------------------------------------------- Redis round trips
    def _down(self, exc: BaseException) -> None:
        if self.connected:
            self.reconnects += 1
        self.connected = False
        self._pending_first = True
        self._retry_at = time.monotonic() + self.cfg.retry_s

    def _setup(self) -> None:
        try:
            self.r.xgroup_create(self.k_events, _GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        if self.last_seq < 0:
            self.last_seq = int(self.r.get(self.k_seq) or 0)

    def _ack(self) -> None:
        if self._to_ack:
            pipe = self.r.pipeline(transaction=True)
            pipe.xack(self.k_events, _GROUP, *self._to_ack)
            pipe.set(self.k_seq, self._handled_seq)
            pipe.execute()
            self._to_ack = []

    def _send_outbox(self) -> None:
        while self._outbox:
            self.r.xadd(self.k_cmd, self._outbox[0])
            self._outbox.popleft()

    def poll(self) -> None:
        """Acknowledge what was handled, send waiting commands, read the next batch of events."""
        if time.monotonic() < self._retry_at:
            return
        try:
            self._setup()
            self._ack()
            self._send_outbox()
            start = "0" if self._pending_first else ">"
            out = self.r.xreadgroup(_GROUP, self.cfg.engine_consumer, {self.k_events: start}, count=self.cfg.batch)
            entries = out[0][1] if out else []
            if self._pending_first and not entries:
                self._pending_first = False
                out = self.r.xreadgroup(_GROUP, self.cfg.engine_consumer, {self.k_events: ">"},
                                        count=self.cfg.batch)
                entries = out[0][1] if out else []
            self.connected = True
        except _ERRORS as exc:
            self._down(exc)
            return
        except redis.ResponseError as exc:  # NOGROUP after a Redis that lost its data
            if "NOGROUP" not in str(exc):
                raise
            self._down(exc)
            return
        for entry_id, fields in entries:
            kind = field(fields, "k")
            seq = int(field(fields, "s") or 0)
            if kind != "end" and seq <= self.last_seq:
                self.duplicates += 1
                self._to_ack.append(entry_id)
                continue
            self._buf.append((entry_id, seq, int(field(fields, "t") or 0), kind, fields.get(b"b", b"")))
            if kind != "end":
                self.last_seq = seq

    def flush(self) -> None:
        """Acknowledge what was handled and send waiting commands (best effort)."""
        try:
            self._ack()
            self._send_outbox()
        except _ERRORS as exc:
            self._down(exc)

    def metrics(self) -> dict[str, float]:
        """Gauges for ``/metrics`` (prefixed ``tradingsystem_`` there)."""
        return {"redis_connected": float(self.connected), "redis_reconnects": self.reconnects,
                "redis_events_received": self.received, "redis_duplicates_skipped": self.duplicates,
                "redis_buffered_events": len(self._buf), "redis_outbox_commands": len(self._outbox),
                "redis_last_sequence": max(self.last_seq, 0)}

    # ----------------------------------------------------------------- feed
    def next_ts(self) -> int | None:
        if not self._buf and not self.ended:
            self.poll()
        return self._buf[0][2] if self._buf else None

    def step(self) -> None:
        entry_id, seq, _, kind, body = self._buf.popleft()
        self._to_ack.append(entry_id)
        if seq:
            self._handled_seq = seq
        self.received += 1
        if kind == "end":
            self.ended = True
            self.flush()
            if self.on_end is not None:
                self.on_end()
            return
        obj = decode_event(kind, body)
        if kind == "trade":
            self._data.on_trade(obj)
        elif kind == "delta":
            self._data.on_book_delta(obj)
        elif kind == "snap":
            self._data.on_book_snapshot(obj)
        elif kind == "order" and self._exec is not None:
            self._exec.on_order_event(obj)

    # ----------------------------------------------------------------- execution
    def send(self, cid: str, kind: str, command: Any) -> None:
        self._outbox.append({"c": cid, "k": kind, "b": encode_event(command)})
        if time.monotonic() >= self._retry_at:
            try:
                self._send_outbox()
            except _ERRORS as exc:
                self._down(exc)


class RedisFeed:
    """``ports.MarketDataFeed`` side of a RedisBus (a live feed: ``next_ts`` is None while nothing waits)."""

    def __init__(self, bus: RedisBus) -> None:
        self.bus = bus

    def connect(self, sink: Any) -> None:
        self.bus._data = sink

    def subscribe(self, symbols: Iterable[str]) -> None:
        return None  # the gateway publishes what it was configured with

    def next_ts(self) -> int | None:
        return self.bus.next_ts()

    def step(self) -> None:
        self.bus.step()

    def close(self) -> None:
        self.bus.flush()


class RedisExecution:
    """``ports.ExecutionClient`` side of a RedisBus: commands with ids the gateway de-duplicates."""

    def __init__(self, bus: RedisBus) -> None:
        self.bus = bus
        self._n: dict[str, int] = {}

    def connect(self, sink: Any) -> None:
        self.bus._exec = sink

    def _next(self, order_id: str) -> int:
        n = self._n.get(order_id, 0) + 1
        self._n[order_id] = n
        return n

    def submit(self, command: SubmitOrder) -> None:
        self.bus.send(f"S:{command.order_id}", "submit", command)

    def modify(self, command: ModifyOrder) -> None:
        self.bus.send(f"M:{command.order_id}:{command.ts_init}:{self._next(command.order_id)}", "modify", command)

    def cancel(self, command: CancelOrder) -> None:
        self.bus.send(f"C:{command.order_id}:{command.ts_init}:{self._next(command.order_id)}", "cancel", command)

    def on_order_event(self, event: OrderEvent) -> None:  # pragma: no cover - the bus calls the sink directly
        self.bus._exec.on_order_event(event)
