"""Order guards for streams of bars and trades: duplicates, late and impossible events are dropped.

* Bars: a bar is accepted only if its ``ts_event`` is strictly later than every accepted bar's.
* Trades: prints come in exchange-time order; B3 stamps several prints with the same millisecond and
  does not promise trade-number order inside it, so a print is accepted when its ``ts_event`` is not
  earlier than the last accepted one and, at an equal ``ts_event``, its trade number was not accepted at
  that instant yet (trade number 0 means unknown and is never a duplicate). A late print (earlier
  ``ts_event``), a repeated trade number and a non-positive price or size are dropped, each counted
  under its reason. Readers of stored trades sort by (exchange time, trade number) first, so every
  valid stored trade is kept.

Each guard counts what it dropped; the batch masks give the same decisions as the streaming guards.
"""

from __future__ import annotations

import numpy as np

__all__ = ["REJECT_REASONS", "BarGuard", "TradeGuard", "bar_keep_mask", "trade_check", "trade_keep_mask",
           "trade_order"]  # fmt: skip

REJECT_REASONS = ("bad_price_or_size", "late", "duplicate")


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
    """Streaming trade check (see the module docstring); ``reasons`` counts the drops by reason."""

    __slots__ = ("_ids", "last", "reasons")

    def __init__(self) -> None:
        self.last: int | None = None
        self._ids: set[int] = set()
        self.reasons = dict.fromkeys(REJECT_REASONS, 0)

    @property
    def rejected(self) -> int:
        return sum(self.reasons.values())

    def accept(self, ts_event: int, trade_id: int, price: int, size: int) -> bool:
        if price <= 0 or size <= 0:
            self.reasons["bad_price_or_size"] += 1
            return False
        if self.last is not None and ts_event < self.last:
            self.reasons["late"] += 1
            return False
        if ts_event != self.last:
            self.last = ts_event
            self._ids.clear()
        elif trade_id and trade_id in self._ids:
            self.reasons["duplicate"] += 1
            return False
        if trade_id:
            self._ids.add(trade_id)
        return True


def trade_order(ts: np.ndarray, trade_id: np.ndarray) -> np.ndarray:
    """Indices that sort trades by (exchange time, trade number): the one order every reader uses."""
    return np.lexsort((np.asarray(trade_id, dtype=np.int64), np.asarray(ts, dtype=np.int64)))


def trade_check(ts: np.ndarray, trade_id: np.ndarray, price: np.ndarray, size: np.ndarray
                ) -> tuple[np.ndarray, dict[str, int]]:
    """Batch form of :class:`TradeGuard`: the keep mask and the drop count per reason."""
    ts = np.asarray(ts, dtype=np.int64)
    tid = np.asarray(trade_id, dtype=np.int64)
    valid = (np.asarray(price) > 0) & (np.asarray(size) > 0)
    counts = dict.fromkeys(REJECT_REASONS, 0)
    counts["bad_price_or_size"] = int((~valid).sum())
    n = len(ts)
    if n == 0:
        return valid, counts
    v_ts = ts[valid]
    if len(v_ts) == 0 or bool(np.all(np.diff(v_ts) >= 0)):
        # in time order: only repeated trade numbers inside one instant can drop
        order = np.lexsort((tid[valid], v_ts))
        st, si = v_ts[order], tid[valid][order]
        dup_sorted = np.zeros(len(order), dtype=bool)
        dup_sorted[1:] = (st[1:] == st[:-1]) & (si[1:] == si[:-1]) & (si[1:] != 0)
        if not dup_sorted.any():
            return valid, counts
    guard = TradeGuard()
    keep = np.zeros(n, dtype=bool)
    for i in range(n):
        keep[i] = guard.accept(int(ts[i]), int(tid[i]), int(valid[i]), int(valid[i]))
    counts["late"] = guard.reasons["late"]
    counts["duplicate"] = guard.reasons["duplicate"]
    return keep, counts


def trade_keep_mask(ts: np.ndarray, trade_id: np.ndarray, price: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Keep mask of :func:`trade_check`."""
    return trade_check(ts, trade_id, price, size)[0]
