"""The follower side: reads a leader's stream, verifies each message, hands good ones to the engine.

Runs on its own thread. A refused message is counted by reason (unsigned, forged, stale, replayed …)
and never reaches the engine. When the stream's server goes away the reader backs off and resumes
after the last entry it read, so nothing is applied twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from tradingsystem.adapters.sharing.channels import RedisStreamReader
from tradingsystem.adapters.sharing.messages import Signal, SignalRefused, Verifier

log = logging.getLogger(__name__)
Deliver = Callable[[Signal], None]


@dataclass
class FollowerStats:
    received: int = 0
    accepted: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)
    disconnects: int = 0

    def latency_ms(self) -> dict[str, float]:
        if not self.latencies_ns:
            return {}
        xs = sorted(self.latencies_ns)

        def pick(q: float) -> float:
            return round(xs[min(len(xs) - 1, int(q * len(xs)))] / 1e6, 3)

        return {"p50": pick(0.5), "p99": pick(0.99), "max": round(xs[-1] / 1e6, 3)}


class SignalFollower:
    def __init__(self, reader: RedisStreamReader, verifier: Verifier, deliver: Deliver,
                 wall_ns: Callable[[], int] = time.time_ns, retry_s: float = 0.5) -> None:
        self.reader, self.verifier, self.deliver, self.wall_ns = reader, verifier, deliver, wall_ns
        self.retry_s = retry_s
        self.stats = FollowerStats()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="signal-follower", daemon=True)

    def start(self) -> SignalFollower:
        """Take in what already waits in the stream (before the engine's first event), then follow."""
        try:
            while self.poll():
                pass
        except (redis.RedisError, OSError) as exc:
            self.stats.disconnects += 1
            log.warning("signal stream unavailable at start (%s); retrying in the background", exc)
        self._thread.start()
        return self

    def handle(self, data: bytes) -> Signal | None:
        """Verify one envelope; deliver it when good. Returns the signal or None."""
        self.stats.received += 1
        now = self.wall_ns()
        try:
            signal = self.verifier.open(data, now)
        except SignalRefused as exc:
            self.stats.refused[exc.reason] = self.stats.refused.get(exc.reason, 0) + 1
            log.warning("signal refused: %s", exc)
            return None
        self.stats.accepted += 1
        self.stats.latencies_ns.append(max(0, now - signal.sent_ns))
        self.deliver(signal)
        return signal

    def poll(self) -> int:
        """Read and handle what is waiting (one round trip); raises ``redis.RedisError``."""
        n = 0
        for data in self.reader.read():
            self.handle(data)
            n += 1
        return n

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except (redis.RedisError, OSError) as exc:
                self.stats.disconnects += 1
                log.warning("signal stream unavailable (%s); retrying", exc)
                self._stop.wait(self.retry_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.reader.close()


__all__ = ["FollowerStats", "SignalFollower"]
