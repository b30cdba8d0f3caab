"""Order guards for streams of bars and trades: duplicates and out-of-order events are dropped.

* Bars: a bar is accepted only if its ``ts_event`` is strictly later than every accepted bar's.
* Trades: a trade is accepted only if ``(ts_event, trade_id)`` is strictly greater than the last accepted
  pair, so two prints in the same nanosecond need increasing trade numbers. Trades with a non-positive
  price or size are bad input and dropped too.

Each guard counts what it dropped; the batch masks give the same decisions as the streaming guards.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BarGuard", "TradeGuard", "bar_keep_mask", "trade_keep_mask"]


class BarGuard:
    """Streaming bar order check: ``accept(ts_event)`` is False for a duplicate or late bar."""

    __slots__ = ("last", "rejected")

    def __init__(self) -> None:
        self.last: int | None = None
        self.rejected = 0

    def accept(self, ts_event: int) -> bool:
        if self.last is not None and ts_event <= self.last:
            self.rejected += 1
            return False
        self.last = ts_event
        return True


def bar_keep_mask(ts_event: np.ndarray) -> np.ndarray:
    """Batch form of :class:`BarGuard`."""
    ts = np.asarray(ts_event, dtype=np.int64)
    keep = np.ones(len(ts), dtype=bool)
    if len(ts) > 1:
        run = np.maximum.accumulate(ts)
        keep[1:] = ts[1:] > run[:-1]
    return keep


class TradeGuard:
    """Streaming trade order check on ``(ts_event, trade_id)`` plus positive price and size."""

    __slots__ = ("last", "rejected")

    def __init__(self) -> None:
        self.last: tuple[int, int] | None = None
        self.rejected = 0

    def accept(self, ts_event: int, trade_id: int, price: int, size: int) -> bool:
        key = (ts_event, trade_id)
        if price <= 0 or size <= 0 or (self.last is not None and key <= self.last):
            self.rejected += 1
            return False
        self.last = key
        return True


def trade_keep_mask(ts: np.ndarray, trade_id: np.ndarray, price: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Batch form of :class:`TradeGuard` (vectorised when the input is already ordered)."""
    ts = np.asarray(ts, dtype=np.int64)
    tid = np.asarray(trade_id, dtype=np.int64)
    valid = (np.asarray(price) > 0) & (np.asarray(size) > 0)
    n = len(ts)
    if n == 0:
        return valid
    if valid.all():
        dts = np.diff(ts)
        if np.all((dts > 0) | ((dts == 0) & (np.diff(tid) > 0))):
            return valid
    keep = np.zeros(n, dtype=bool)
    last: tuple[int, int] | None = None
    for i in range(n):
        if not valid[i]:
            continue
        key = (int(ts[i]), int(tid[i]))
        if last is None or key > last:
            keep[i] = True
            last = key
    return keep
