"""Recorded model signals replayed onto the message bus at their timestamps (for ``MlSignalFollower``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["schedule_signals"]


def schedule_signals(kernel: Any, signals: Iterable[tuple[int, str, float]], topic: str = "signals") -> int:
    """Publish ``{"symbol", "value", "ts"}`` on ``topic`` when event time reaches each ``ts``.

    Timers fire in time order before the first market event at or after their time. Returns the count.
    """
    bus = kernel.bus
    n = 0
    for ts, symbol, value in signals:
        msg = {"symbol": symbol, "value": float(value), "ts": int(ts)}
        kernel.clock.schedule(int(ts), lambda _t, m=msg: bus.publish(topic, m))
        n += 1
    return n
