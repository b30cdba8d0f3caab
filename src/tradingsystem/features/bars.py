"""Bar builders from trades: time bars aligned to B3 sessions, tick, volume and dollar bars.

Every builder exists live (``update(trade)`` returns the bars it closed) and batch (columns in, columns
out); both assign each trade to a bar by the same integer rule, so the bars are identical.

* Time bars: the bucket of a trade at ``ts`` is ``anchor + k * tf`` where ``anchor`` is that B3 day's
  continuous-session start for the asset class (10:00 stocks, 09:00 futures), so a 7-minute bar starts
  at 10:00, 10:07, ... Auction prints before the anchor fall in earlier buckets. A bucket's end is capped
  at the session close. Empty buckets produce no bar. Live, a time bar closes when a trade of a later
  bucket arrives, or on ``close_until(now)`` / ``flush()``.
* Tick bars every ``n`` trades; volume bars close on the trade that brings the bar's volume to ``n`` or
  more; dollar bars likewise on ``price * size`` in raw price units. Trades are not split (a bar may
  exceed ``n``; the next bar starts from zero); ``ts_open``/``ts_event`` are its first and last trade times.

Trades pass a :class:`~tradingsystem.features.guards.TradeGuard` first (duplicates, out-of-order and
non-positive prints are dropped). Each bar also carries aggressor buy/sell volume and counts.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import msgspec
import numpy as np

from tradingsystem.domain.events import Bar, TradeTick
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import hours_for, local_ns
from tradingsystem.features.guards import TradeGuard, trade_keep_mask

__all__ = [
    "BAR_COLUMNS",
    "BarBuilder",
    "FlowBar",
    "TimeBuckets",
    "bars_from_trades",
    "bars_to_columns",
    "local_day",
    "parse_timeframe",
    "session_ids",
]

NS = 1_000_000_000
DAY_NS = 86_400 * NS
_UTC_OFFSET = 3 * 3600 * NS  # B3 is UTC-3 all year
_EPOCH = date(1970, 1, 1)
BAR_COLUMNS = (
    "ts_open", "ts_event", "open", "high", "low", "close", "volume", "trades",
    "buy_volume", "sell_volume", "buy_trades", "sell_trades",
)  # fmt: skip


class FlowBar(msgspec.Struct, frozen=True, gc=False):
    """A bar with the aggressor split of its volume and trade count."""

    bar: Bar
    buy_volume: int = 0
    sell_volume: int = 0
    buy_trades: int = 0
    sell_trades: int = 0


def parse_timeframe(text: str) -> int:
    """``"30s"``, ``"1m"``, ``"15m"``, ``"2h"`` to nanoseconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([smh])\s*", text)
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"bad timeframe {text!r}: use a positive number followed by s, m or h")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)] * NS


def local_day(ts_ns: int) -> int:
    """B3 local calendar day of an instant, as days since 1970-01-01."""
    return (ts_ns - _UTC_OFFSET) // DAY_NS


def session_ids(ts_ns: Any) -> np.ndarray:
    """Vectorised :func:`local_day` (as float64, ready to feed an indicator)."""
    return ((np.asarray(ts_ns, dtype=np.int64) - _UTC_OFFSET) // DAY_NS).astype(np.float64)


class TimeBuckets:
    """Maps instants to ``[start, end)`` buckets of ``tf_ns`` aligned to each B3 session."""

    def __init__(self, tf_ns: int, asset_class: AssetClass = AssetClass.STOCK) -> None:
        if tf_ns <= 0:
            raise ValueError("timeframe must be positive")
        self.tf = tf_ns
        self.asset_class = asset_class
        self._days: dict[int, tuple[int, int]] = {}

    def day_bounds(self, day: int) -> tuple[int, int]:
        """(continuous-session start, close) of a local day, in UTC ns."""
        b = self._days.get(day)
        if b is None:
            d = _EPOCH + timedelta(days=day)
            h = hours_for(self.asset_class, d)
            b = (local_ns(d, h.continuous), local_ns(d, h.close))
            self._days[day] = b
        return b

    def bucket(self, ts: int) -> tuple[int, int]:
        anchor, close = self.day_bounds(local_day(ts))
        start = anchor + (ts - anchor) // self.tf * self.tf
        end = start + self.tf
        if start < close < end:
            end = close
        return start, end

    def buckets(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ts = np.asarray(ts, dtype=np.int64)
        days = (ts - _UTC_OFFSET) // DAY_NS
        uniq, inv = np.unique(days, return_inverse=True)
        bounds = np.array([self.day_bounds(int(d)) for d in uniq], dtype=np.int64).reshape(-1, 2)
        anchor = bounds[inv, 0]
        close = bounds[inv, 1]
        start = anchor + (ts - anchor) // self.tf * self.tf
        end = start + self.tf
        end = np.where((start < close) & (close < end), close, end)
        return start, end


class _Acc:
    __slots__ = ("bt", "bv", "c", "h", "key", "l", "n", "o", "st", "sv", "t0", "t1", "v")

    def __init__(self, key: int, t: TradeTick, t0: int, t1: int) -> None:
        self.key = key
        self.o = self.h = self.l = self.c = t.price
        self.v = 0
        self.n = 0
        self.bv = self.sv = self.bt = self.st = 0
        self.t0 = t0
        self.t1 = t1

    def add(self, t: TradeTick) -> None:
        p = t.price
        if p > self.h:
            self.h = p
        if p < self.l:
            self.l = p
        self.c = p
        self.v += t.size
        self.n += 1
        if t.aggressor == 1:
            self.bv += t.size
            self.bt += 1
        elif t.aggressor == 2:
            self.sv += t.size
            self.st += 1


class BarBuilder:
    """Live bar builder. ``kind`` is ``"time"`` (``size`` in ns), ``"tick"``, ``"volume"`` or ``"dollar"``."""

    def __init__(
        self,
        symbol: str,
        kind: str,
        size: int,
        asset_class: AssetClass = AssetClass.STOCK,
        timeframe: str | None = None,
    ) -> None:
        if kind not in ("time", "tick", "volume", "dollar") or size <= 0:
            raise ValueError(f"bad bar spec {kind}/{size}")
        self.symbol = symbol
        self.kind = kind
        self.size = size
        self.timeframe = timeframe or f"{kind}{size}"
        self._buckets = TimeBuckets(size, asset_class) if kind == "time" else None
        self.guard = TradeGuard()
        self._acc: _Acc | None = None
        self._total = 0  # trades, volume or dollar volume so far

    def _emit(self) -> FlowBar:
        a = self._acc
        assert a is not None
        self._acc = None
        bar = Bar(self.symbol, self.timeframe, a.o, a.h, a.l, a.c, a.v, a.n, a.t0, a.t1, a.t1)
        return FlowBar(bar, a.bv, a.sv, a.bt, a.st)

    def update(self, t: TradeTick) -> list[FlowBar]:
        """Add one trade; returns the bars this trade closed (usually none)."""
        if not self.guard.accept(t.ts_event, t.trade_id, t.price, t.size):
            return []
        out: list[FlowBar] = []
        if self._buckets is not None:
            start, end = self._buckets.bucket(t.ts_event)
            if self._acc is not None and self._acc.key != start:
                out.append(self._emit())
            if self._acc is None:
                self._acc = _Acc(start, t, start, end)
            self._acc.add(t)
            return out
        if self._acc is None:
            self._acc = _Acc(0, t, t.ts_event, t.ts_event)
            self._total = 0
        acc = self._acc
        acc.add(t)
        acc.t1 = t.ts_event
        self._total += 1 if self.kind == "tick" else t.size if self.kind == "volume" else t.size * t.price
        if self._total >= self.size:
            out.append(self._emit())
        return out

    def close_until(self, now: int) -> list[FlowBar]:
        """Close the open time bar if its end is at or before ``now`` (clock-driven close)."""
        if self._buckets is not None and self._acc is not None and self._acc.t1 <= now:
            return [self._emit()]
        return []

    def flush(self) -> list[FlowBar]:
        """Close whatever bar is open (end of data or of session)."""
        return [self._emit()] if self._acc is not None else []


def bars_from_trades(
    ts: Any,
    price: Any,
    size: Any,
    aggressor: Any,
    trade_id: Any,
    kind: str,
    bar_size: int,
    asset_class: AssetClass = AssetClass.STOCK,
) -> dict[str, np.ndarray]:
    """Batch bar builder: trade columns in, :data:`BAR_COLUMNS` out (int64), equal to the live builder."""
    ts = np.asarray(ts, dtype=np.int64)
    price = np.asarray(price, dtype=np.int64)
    size = np.asarray(size, dtype=np.int64)
    aggressor = np.asarray(aggressor, dtype=np.int64)
    keep = trade_keep_mask(ts, np.asarray(trade_id, dtype=np.int64), price, size)
    ts, price, size, aggressor = ts[keep], price[keep], size[keep], aggressor[keep]
    if len(ts) == 0:
        return {c: np.empty(0, dtype=np.int64) for c in BAR_COLUMNS}
    if kind == "time":
        key, end = TimeBuckets(bar_size, asset_class).buckets(ts)
    else:
        step = np.ones_like(size) if kind == "tick" else size if kind == "volume" else size * price
        cum = np.cumsum(step)
        key = np.zeros(len(ts), dtype=np.int64)
        i, k = 0, 0
        while i < len(ts):  # one iteration per bar: the bar starting at i ends where it reaches bar_size
            base = cum[i - 1] if i else 0
            j = int(np.searchsorted(cum, base + bar_size, side="left"))
            key[i : j + 1] = k
            i, k = j + 1, k + 1
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    last = np.r_[first[1:], len(ts)] - 1
    buy = aggressor == 1
    sell = aggressor == 2
    out = {
        "open": price[first],
        "high": np.maximum.reduceat(price, first),
        "low": np.minimum.reduceat(price, first),
        "close": price[last],
        "volume": np.add.reduceat(size, first),
        "trades": last - first + 1,
        "buy_volume": np.add.reduceat(np.where(buy, size, 0), first),
        "sell_volume": np.add.reduceat(np.where(sell, size, 0), first),
        "buy_trades": np.add.reduceat(buy.astype(np.int64), first),
        "sell_trades": np.add.reduceat(sell.astype(np.int64), first),
    }
    if kind == "time":
        out["ts_open"], out["ts_event"] = key[first], end[first]
    else:
        out["ts_open"], out["ts_event"] = ts[first], ts[last]
    return {c: np.asarray(out[c], dtype=np.int64) for c in BAR_COLUMNS}


def bars_to_columns(bars: list[FlowBar] | list[Bar]) -> dict[str, np.ndarray]:
    """Live bars to the batch column layout (flow columns are 0 for plain bars)."""
    rows = []
    for x in bars:
        if isinstance(x, FlowBar):
            b, f = x.bar, (x.buy_volume, x.sell_volume, x.buy_trades, x.sell_trades)
        else:
            b, f = x, (0, 0, 0, 0)
        rows.append((b.ts_open, b.ts_event, b.open, b.high, b.low, b.close, b.volume, b.trades, *f))
    arr = np.array(rows, dtype=np.int64).reshape(-1, len(BAR_COLUMNS))
    return {c: arr[:, i] for i, c in enumerate(BAR_COLUMNS)}
