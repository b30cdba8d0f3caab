"""Multi-timeframe: resample base bars into session-aligned higher-timeframe bars, without lookahead.

A base bar belongs to the higher-timeframe (HTF) bucket containing its ``ts_open`` (buckets as in
:class:`~tradingsystem.features.bars.TimeBuckets`). Live, an HTF bar closes as soon as a base bar
reaching its end arrives (``ts_event >= end``), or when a base bar of a later bucket arrives. So at a base
row with close time ``t`` the visible HTF bars are exactly those with ``end <= t``: :func:`align` gives
the batch form of that rule, and no HTF value ever depends on a base bar later than the row using it.
Use an HTF timeframe that is a whole multiple of the base one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tradingsystem.domain.events import Bar
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.features.bars import BAR_COLUMNS, DAY_NS, FlowBar, TimeBuckets

__all__ = ["Resampler", "align", "align_index", "resample_bars"]


class Resampler:
    """Live HTF builder: ``update(base_bar)`` returns the HTF bars that closed (0, 1 or 2)."""

    def __init__(self, tf_ns: int, asset_class: AssetClass = AssetClass.STOCK, timeframe: str = "") -> None:
        self.buckets = TimeBuckets(tf_ns, asset_class)
        self.timeframe = timeframe or f"{tf_ns // 1_000_000_000}s"
        self._cur: list[Any] | None = None  # [start, end, o, h, l, c, v, n, bv, sv, bt, st, symbol]

    def _emit(self) -> FlowBar:
        c = self._cur
        assert c is not None
        self._cur = None
        bar = Bar(c[12], self.timeframe, c[2], c[3], c[4], c[5], c[6], c[7], c[0], c[1], c[1])
        return FlowBar(bar, c[8], c[9], c[10], c[11])

    def update(self, x: FlowBar | Bar) -> list[FlowBar]:
        if isinstance(x, FlowBar):
            b, bv, sv, bt, st = x.bar, x.buy_volume, x.sell_volume, x.buy_trades, x.sell_trades
        else:
            b, bv, sv, bt, st = x, 0, 0, 0, 0
        out: list[FlowBar] = []
        start, end = self.buckets.bucket(b.ts_open)
        c = self._cur
        if c is not None and c[0] != start:
            out.append(self._emit())
            c = None
        if c is None:
            self._cur = [start, end, b.open, b.high, b.low, b.close, b.volume, b.trades, bv, sv, bt, st, b.symbol]
        else:
            c[3] = max(c[3], b.high)
            c[4] = min(c[4], b.low)
            c[5] = b.close
            c[6] += b.volume
            c[7] += b.trades
            c[8] += bv
            c[9] += sv
            c[10] += bt
            c[11] += st
        cur = self._cur
        if self.buckets.daily and cur is not None:
            cur[1] = max(cur[1], b.ts_event)
        elif b.ts_event >= end:
            out.append(self._emit())
        return out

    def flush(self) -> list[FlowBar]:
        return [self._emit()] if self._cur is not None else []


def resample_bars(
    cols: dict[str, np.ndarray], tf_ns: int, asset_class: AssetClass = AssetClass.STOCK
) -> dict[str, np.ndarray]:
    """Batch :class:`Resampler` over bar columns (:data:`BAR_COLUMNS`; flow columns optional)."""
    ts_open = np.asarray(cols["ts_open"], dtype=np.int64)
    if len(ts_open) == 0:
        return {c: np.empty(0, dtype=np.int64) for c in BAR_COLUMNS}
    start, end = TimeBuckets(tf_ns, asset_class).buckets(ts_open)
    first = np.flatnonzero(np.r_[True, start[1:] != start[:-1]])
    last = np.r_[first[1:], len(start)] - 1
    out: dict[str, np.ndarray] = {"ts_open": start[first], "ts_event": end[first]}
    if tf_ns >= DAY_NS and "ts_event" in cols:  # one bar per session: it closes with its last input bar
        out["ts_event"] = np.maximum(end[first], np.maximum.reduceat(np.asarray(cols["ts_event"], np.int64), first))
    for c in ("open",):
        out[c] = np.asarray(cols[c])[first]
    out["close"] = np.asarray(cols["close"])[last]
    out["high"] = np.maximum.reduceat(np.asarray(cols["high"]), first)
    out["low"] = np.minimum.reduceat(np.asarray(cols["low"]), first)
    for c in ("volume", "trades", "buy_volume", "sell_volume", "buy_trades", "sell_trades"):
        src = np.asarray(cols[c]) if c in cols else np.zeros(len(start), dtype=np.int64)
        out[c] = np.add.reduceat(src, first)
    return {c: out[c] for c in BAR_COLUMNS}


def align_index(base_ts_event: np.ndarray, htf_ts_event: np.ndarray) -> np.ndarray:
    """For each base row, the index of the last HTF bar with ``end <= base ts_event`` (-1 if none)."""
    return np.searchsorted(np.asarray(htf_ts_event), np.asarray(base_ts_event), side="right") - 1


def align(base_ts_event: np.ndarray, htf_ts_event: np.ndarray, values: np.ndarray) -> np.ndarray:
    """HTF ``values`` as seen at each base row (NaN before the first HTF bar closes)."""
    idx = align_index(base_ts_event, htf_ts_event)
    vals = np.asarray(values, dtype=np.float64)
    out = np.full(len(idx), np.nan)
    ok = idx >= 0
    out[ok] = vals[idx[ok]]
    return out
