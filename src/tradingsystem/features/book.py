"""Book features from price-level deltas: spread, mid, microprice, depth imbalance, OFI, book delta per level.

The book is a state machine, so the batch form :func:`book_features` replays the same streaming object
over the event columns (one code path: the forms cannot disagree). Definitions, after each event:

* ``spread`` = best ask - best bid; ``mid``; ``microprice`` = (bid * ask_size + ask * bid_size) /
  (bid_size + ask_size). NaN while either side is empty; ``crossed`` is 1 when bid >= ask.
* ``depth_imbalance`` = (bid depth - ask depth) / (bid depth + ask depth) over the best ``levels`` levels.
* ``ofi``: Cont-Kukanov-Stoikov order-flow imbalance, the per-event contribution
  e = 1[b >= b'] q_b - 1[b <= b'] q_b' - 1[a <= a'] q_a + 1[a >= a'] q_a' (primes: before the event),
  summed over the trailing window ``(ts - window, ts]`` as ``ofi_window`` and over all events as
  ``ofi_total``; 0 when a side is empty.
* ``level`` (0 = best) and ``level_delta`` (new size - old size) of the level the event changed, with the
  event's ``side``: the book delta per level.

Events whose ``sequence`` is not above the previous one are dropped (duplicates, out of order).
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any

import numpy as np

from tradingsystem.domain.events import BookDelta, BookSnapshot

__all__ = ["BOOK_COLUMNS", "BookFeatures", "book_features"]

NAN = float("nan")
BOOK_COLUMNS = ("spread", "mid", "microprice", "crossed", "depth_imbalance", "ofi_window", "ofi_total",
                "side", "level", "level_delta")  # fmt: skip


class BookFeatures:
    """Streaming L2 book with its features; ``update(delta)`` returns True when applied."""

    def __init__(self, levels: int = 5, ofi_window_ns: int = 1_000_000_000) -> None:
        self.levels = levels
        self.window = ofi_window_ns
        self.reset()

    def reset(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.last_sequence: int | None = None
        self.rejected = 0
        self._ofi: deque[tuple[int, int]] = deque()
        self.ofi_window = 0
        self.ofi_total = 0
        self.side = 0
        self.level = -1
        self.level_delta = 0
        self._set_top()

    def _set_top(self) -> None:
        self.bid = max(self.bids) if self.bids else 0
        self.ask = min(self.asks) if self.asks else 0
        self.bid_size = self.bids.get(self.bid, 0)
        self.ask_size = self.asks.get(self.ask, 0)

    def snapshot(self, s: BookSnapshot) -> None:
        """Replace the book with a snapshot (features restart from it; OFI history is kept)."""
        self.bids = {p: q for p, q in s.bids if q > 0}
        self.asks = {p: q for p, q in s.asks if q > 0}
        self.last_sequence = s.sequence
        self._set_top()

    def update(self, d: BookDelta) -> bool:
        return self.apply(d.side, d.price, d.size, d.action, d.sequence, d.ts_event)

    def apply(self, side: int, price: int, size: int, action: int, sequence: int, ts: int) -> bool:
        if (self.last_sequence is not None and sequence <= self.last_sequence) or side not in (1, 2) or size < 0:
            self.rejected += 1
            return False
        self.last_sequence = sequence
        book = self.bids if side == 1 else self.asks
        pb, qb, pa, qa = self.bid, self.bid_size, self.ask, self.ask_size
        old = book.get(price, 0)
        new = 0 if action == 1 else size
        if new:
            book[price] = new
        else:
            book.pop(price, None)
        if side == 1:
            better = sum(1 for p in self.bids if p > price)
            if pb == 0 or price >= pb:
                self._set_top()
        else:
            better = sum(1 for p in self.asks if p < price)
            if pa == 0 or price <= pa:
                self._set_top()
        self.side, self.level, self.level_delta = side, better, new - old
        b, q_b, a, q_a = self.bid, self.bid_size, self.ask, self.ask_size
        if pb and pa and b and a:
            e = (q_b if b >= pb else 0) - (qb if b <= pb else 0) - (q_a if a <= pa else 0) + (qa if a >= pa else 0)
        else:
            e = 0
        self.ofi_total += e
        self._ofi.append((ts, e))
        self.ofi_window += e
        edge = ts - self.window
        while self._ofi[0][0] <= edge:
            self.ofi_window -= self._ofi.popleft()[1]
        return True

    @property
    def spread(self) -> float:
        return float(self.ask - self.bid) if self.bid and self.ask else NAN

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2 if self.bid and self.ask else NAN

    @property
    def microprice(self) -> float:
        if not (self.bid and self.ask):
            return NAN
        return (self.bid * self.ask_size + self.ask * self.bid_size) / (self.bid_size + self.ask_size)

    @property
    def depth_imbalance(self) -> float:
        bd = sum(self.bids[p] for p in heapq.nlargest(self.levels, self.bids))
        ad = sum(self.asks[p] for p in heapq.nsmallest(self.levels, self.asks))
        return (bd - ad) / (bd + ad) if bd + ad else NAN

    @property
    def values(self) -> tuple[float, ...]:
        return (self.spread, self.mid, self.microprice, float(bool(self.bid and self.ask and self.bid >= self.ask)),
                self.depth_imbalance, float(self.ofi_window), float(self.ofi_total), float(self.side),
                float(self.level), float(self.level_delta))  # fmt: skip


def book_features(
    side: Any, price: Any, size: Any, action: Any, sequence: Any, ts: Any, levels: int = 5,
    ofi_window_ns: int = 1_000_000_000,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Batch form: ``index`` of applied events plus :data:`BOOK_COLUMNS`, by replaying :class:`BookFeatures`."""
    bf = BookFeatures(levels, ofi_window_ns)
    rows: list[tuple[float, ...]] = []
    idx: list[int] = []
    cols = [np.asarray(c, dtype=np.int64).tolist() for c in (side, price, size, action, sequence, ts)]
    for i, (sd, p, q, ac, sq, t) in enumerate(zip(*cols, strict=True)):
        if bf.apply(sd, p, q, ac, sq, t):
            rows.append(bf.values)
            idx.append(i)
    arr = np.array(rows, dtype=np.float64).reshape(-1, len(BOOK_COLUMNS))
    out = {c: arr[:, k] for k, c in enumerate(BOOK_COLUMNS)}
    out["index"] = np.asarray(idx, dtype=np.int64)
    return out
