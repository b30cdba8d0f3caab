"""Order-flow features from trade prints, streaming and batch (integer arithmetic: the forms agree exactly).

Per accepted trade (see :class:`~tradingsystem.features.guards.TradeGuard`):

* ``buy_volume``, ``sell_volume``, ``buy_count``, ``sell_count`` over the trailing window
  ``(ts - window, ts]`` by aggressor (aggressor NONE counts in neither);
* ``imbalance`` = (buy - sell) / (buy + sell) volume over the window, 0.0 when both are 0;
* ``cvd``: cumulative buy minus sell aggressor volume since the start;
* ``large``: 1 when the trade's size is at least ``large_size``;
* ``vpin``: volume-synchronised probability of informed trading over the last ``vpin_buckets`` buckets of
  ``vpin_bucket`` lots each (trades split across bucket boundaries; NaN until that many buckets filled);
* net flow by broker: bought minus sold lots per broker code (``net_by_broker``, :func:`broker_net_flow`).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from tradingsystem.domain.events import TradeTick
from tradingsystem.features.guards import TradeGuard, trade_keep_mask

__all__ = ["FLOW_COLUMNS", "TradeFlow", "broker_net_flow", "trade_flow"]

FLOW_COLUMNS = ("buy_volume", "sell_volume", "buy_count", "sell_count", "imbalance", "cvd", "large", "vpin")
NAN = float("nan")


class TradeFlow:
    """Streaming order-flow state; ``update(trade)`` returns True when the trade was accepted."""

    def __init__(self, window_ns: int, large_size: int, vpin_bucket: int = 10_000, vpin_buckets: int = 50) -> None:
        if window_ns <= 0 or large_size <= 0 or vpin_bucket <= 0 or vpin_buckets <= 0:
            raise ValueError("window, large_size and VPIN sizes must be positive")
        self.window = window_ns
        self.large_size = large_size
        self.vpin_bucket = vpin_bucket
        self.vpin_buckets = vpin_buckets
        self.reset()

    def reset(self) -> None:
        self.guard = TradeGuard()
        self._win: deque[tuple[int, int, int]] = deque()  # ts, buy size, sell size
        self.buy_volume = self.sell_volume = self.buy_count = self.sell_count = 0
        self.cvd = 0
        self.large = 0
        self.imbalance = 0.0
        self.net_by_broker: dict[int, int] = {}
        self._fill = 0  # lots in the open VPIN bucket
        self._bb = 0  # buy lots in the open bucket
        self._bs = 0
        self._imb: deque[int] = deque()  # |buy - sell| of each closed bucket
        self._imb_sum = 0
        self.vpin = NAN

    def update(self, t: TradeTick) -> bool:
        if not self.guard.accept(t.ts_event, t.trade_id, t.price, t.size):
            return False
        ts, size, side = t.ts_event, t.size, t.aggressor
        b = size if side == 1 else 0
        s = size if side == 2 else 0
        win = self._win
        win.append((ts, b, s))
        self.buy_volume += b
        self.sell_volume += s
        self.buy_count += side == 1
        self.sell_count += side == 2
        edge = ts - self.window
        while win[0][0] <= edge:
            _, ob, os_ = win.popleft()
            self.buy_volume -= ob
            self.sell_volume -= os_
            self.buy_count -= ob > 0
            self.sell_count -= os_ > 0
        tot = self.buy_volume + self.sell_volume
        self.imbalance = (self.buy_volume - self.sell_volume) / tot if tot else 0.0
        self.cvd += b - s
        self.large = int(size >= self.large_size)
        nb = self.net_by_broker
        if t.buyer:
            nb[t.buyer] = nb.get(t.buyer, 0) + size
        if t.seller:
            nb[t.seller] = nb.get(t.seller, 0) - size
        self._vpin_add(size, side)
        return True

    def _vpin_add(self, size: int, side: int) -> None:
        V = self.vpin_bucket
        while size > 0:
            take = min(size, V - self._fill)
            self._fill += take
            if side == 1:
                self._bb += take
            elif side == 2:
                self._bs += take
            size -= take
            if self._fill == V:
                d = abs(self._bb - self._bs)
                self._imb.append(d)
                self._imb_sum += d
                if len(self._imb) > self.vpin_buckets:
                    self._imb_sum -= self._imb.popleft()
                if len(self._imb) == self.vpin_buckets:
                    self.vpin = self._imb_sum / (self.vpin_buckets * V)
                self._fill = self._bb = self._bs = 0

    @property
    def values(self) -> tuple[float, ...]:
        return (self.buy_volume, self.sell_volume, self.buy_count, self.sell_count, self.imbalance,
                self.cvd, self.large, self.vpin)  # fmt: skip


def _vpin_batch(size: np.ndarray, side: np.ndarray, V: int, n: int) -> np.ndarray:
    """VPIN after each trade, by exact integer interpolation at bucket boundaries."""
    cum = np.cumsum(size)
    cb = np.cumsum(np.where(side == 1, size, 0))
    cs = np.cumsum(np.where(side == 2, size, 0))
    out = np.full(len(size), NAN)
    n_buckets = int(cum[-1] // V) if len(cum) else 0
    if n_buckets < n:
        return out
    bounds = np.arange(1, n_buckets + 1, dtype=np.int64) * V
    j = np.searchsorted(cum, bounds, side="left")  # trade completing each bucket
    before = cum[j] - size[j]
    part = bounds - before  # lots of trade j inside the bucket ending at bound
    buy_at = cb[j] - np.where(side[j] == 1, size[j], 0) + np.where(side[j] == 1, part, 0)
    sell_at = cs[j] - np.where(side[j] == 2, size[j], 0) + np.where(side[j] == 2, part, 0)
    d = np.abs(np.diff(np.r_[0, buy_at]) - np.diff(np.r_[0, sell_at]))
    cd = np.cumsum(np.r_[0, d])
    roll = cd[n:] - cd[:-n]  # sum over buckets k-n+1..k for k = n-1..
    vp = roll / (n * V)
    # value after trade i: the last bucket completed by trade i (bucket k completes at trade j[k])
    k_at = np.searchsorted(j, np.arange(len(size)), side="right") - 1
    ok = k_at >= n - 1
    out[ok] = vp[k_at[ok] - (n - 1)]
    return out


def trade_flow(
    ts: Any,
    price: Any,
    size: Any,
    aggressor: Any,
    trade_id: Any,
    window_ns: int,
    large_size: int,
    vpin_bucket: int = 10_000,
    vpin_buckets: int = 50,
) -> dict[str, np.ndarray]:
    """Batch :class:`TradeFlow`: ``index`` (accepted input rows) plus :data:`FLOW_COLUMNS`."""
    ts = np.asarray(ts, dtype=np.int64)
    size_a = np.asarray(size, dtype=np.int64)
    side_a = np.asarray(aggressor, dtype=np.int64)
    keep = trade_keep_mask(ts, np.asarray(trade_id, dtype=np.int64), np.asarray(price), size_a)
    idx = np.flatnonzero(keep)
    ts, sz, side = ts[idx], size_a[idx], side_a[idx]
    b = np.where(side == 1, sz, 0)
    s = np.where(side == 2, sz, 0)
    cb, cs = np.cumsum(np.r_[0, b]), np.cumsum(np.r_[0, s])
    nb, ns = np.cumsum(np.r_[0, side == 1]), np.cumsum(np.r_[0, side == 2])
    left = np.searchsorted(ts, ts - window_ns, side="right")
    right = np.arange(1, len(ts) + 1)
    bv, sv = cb[right] - cb[left], cs[right] - cs[left]
    tot = bv + sv
    with np.errstate(invalid="ignore", divide="ignore"):
        imb = np.where(tot > 0, (bv - sv) / np.where(tot > 0, tot, 1), 0.0)
    return {
        "index": idx,
        "buy_volume": bv,
        "sell_volume": sv,
        "buy_count": nb[right] - nb[left],
        "sell_count": ns[right] - ns[left],
        "imbalance": imb,
        "cvd": np.cumsum(b - s),
        "large": (sz >= large_size).astype(np.int64),
        "vpin": _vpin_batch(sz, side, vpin_bucket, vpin_buckets),
    }


def broker_net_flow(buyer: Any, seller: Any, size: Any) -> dict[int, int]:
    """Bought minus sold lots per broker code (code 0 = unknown, ignored) over accepted trades."""
    buyer = np.asarray(buyer, dtype=np.int64)
    seller = np.asarray(seller, dtype=np.int64)
    size = np.asarray(size, dtype=np.int64)
    codes = np.concatenate([buyer, seller])
    flows = np.concatenate([size, -size])
    ok = codes != 0
    uniq, inv = np.unique(codes[ok], return_inverse=True)
    tot = np.zeros(len(uniq), dtype=np.int64)
    np.add.at(tot, inv, flows[ok])
    return {int(k): int(v) for k, v in zip(uniq, tot, strict=True)}
