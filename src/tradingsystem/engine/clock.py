"""Clocks: a simulated clock driven by event time, and a wall clock for live trading."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

Callback = Callable[[int], None]


class SimulatedClock:
    """Time moves only when the kernel advances it to the next event's timestamp (UTC ns)."""

    __slots__ = ("_horizon", "_now", "_seq", "_timers")

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns
        self._horizon = start_ns
        self._timers: list[tuple[int, int, Callback]] = []
        self._seq = 0

    def now(self) -> int:
        return self._now

    def schedule(self, ts: int, callback: Callback) -> None:
        """Call ``callback(ts)`` when the clock reaches ``ts`` (FIFO among equal times)."""
        self._seq += 1
        heapq.heappush(self._timers, (ts, self._seq, callback))

    def every(self, interval_ns: int, callback: Callback, catch_up: int = 0) -> None:
        """Call ``callback(ts)`` every ``interval_ns`` from now on.

        Calls stay on the ``interval_ns`` grid. Across a gap with no events (a night, a weekend) longer
        than ``catch_up`` intervals, the calls inside it are skipped but the last one before the gap's end.
        """
        if interval_ns <= 0:
            raise ValueError("interval_ns must be positive")

        def tick(ts: int) -> None:
            callback(ts)
            nxt = ts + interval_ns
            horizon = self.horizon()
            if horizon - nxt > catch_up * interval_ns:
                nxt += (horizon - nxt) // interval_ns * interval_ns
            self.schedule(nxt, tick)

        self.schedule(self._now + interval_ns, tick)

    def next_timer(self) -> int | None:
        return self._timers[0][0] if self._timers else None

    def horizon(self) -> int:
        """The time being advanced to (periodic timers use it to skip intervals with no events)."""
        return self._horizon if self._horizon > self._now else self._now

    def advance_to(self, ts: int) -> None:
        """Fire every timer due at or before ``ts`` in time order, then set now to ``ts``."""
        self._horizon = ts
        timers = self._timers
        while timers and timers[0][0] <= ts:
            when, _, cb = heapq.heappop(timers)
            if when > self._now:
                self._now = when
            cb(when)
        if ts > self._now:
            self._now = ts


class WallClock(SimulatedClock):
    """Live time: ``now`` reads the system clock; timers still fire from the kernel loop."""

    __slots__ = ()

    def now(self) -> int:
        return time.time_ns()
