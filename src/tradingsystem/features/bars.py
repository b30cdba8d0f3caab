"""The one bar engine: time bars aligned to B3 sessions, tick, volume and dollar bars, from trades or bars.

Capture (``engine/bars.py``), the catalog (``data bars``), features, ML and backtests all build bars here.
Every builder exists live (``update(trade)`` returns the bars it closed) and batch (columns in, columns
out); both assign each trade to a bar by the same integer rule, so the bars are identical. A bar carries
``ts_open`` (its start) and ``ts_event`` (its close, the instant it is known); consumers stamp a bar at
``ts_event`` for every timeframe.

* Time bars (``Timeframe`` ``30s``, ``1m``, ``7m``, ``30m``, ``1h``, ``1d`` ...): buckets
  ``anchor + k * tf`` where ``anchor`` is that B3 day's continuous-session start for the asset class
  (10:00 stocks, 09:00 futures), so a 7-minute bar starts at 10:00, 10:07, ... A bucket's end is capped
  at the session close. Prints before the anchor (opening auction) join the first bucket; prints at or
  after the close (closing auction, after-market) form buckets ``[close + k * tf, ...)``. ``1d`` is one
  bar per session, ``ts_open`` the anchor, ``ts_event`` the close (or the last print, if later). Empty
  buckets produce no bar. Live, a time bar closes when a trade of a later bucket arrives, or on
  ``close_until(now)`` / ``flush()``.
* Tick bars every ``n`` trades; volume bars close on the trade that brings the bar's volume to ``n``
  lots or more; dollar bars on the trade that brings the traded value (quoted price x quantity, in
  the quote's unit: BRL for stocks, points for futures) to ``n`` or more. Trades are not split (a bar
  may exceed ``n``; the next starts from zero) and count bars restart every session day.
  ``ts_open``/``ts_event`` are the bar's first and last trade times.

Trades pass a :class:`~tradingsystem.features.guards.TradeGuard` first (late, repeated and non-positive
prints are dropped and counted). Each bar also carries aggressor buy/sell volume and counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import msgspec
import numpy as np

from tradingsystem.domain.events import Bar, TradeTick
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import hours_for, local_ns
from tradingsystem.features.guards import TradeGuard, trade_check

__all__ = [
    "BAR_COLUMNS",
    "BarBuilder",
    "FlowBar",
    "TimeBuckets",
    "Timeframe",
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


_TIME_RE = re.compile(r"\s*(\d+)\s*([smhd])\s*")
_UNIT_NS = {"s": NS, "m": 60 * NS, "h": 3600 * NS, "d": DAY_NS}
_COUNT_KINDS = {"tick": "tick", "ticks": "tick", "volume": "volume", "dollar": "dollar"}


@dataclass(frozen=True)
class Timeframe:
    """A parsed bar spec: ``kind`` is time (``n`` in ns), tick, volume or dollar (``n`` the threshold)."""

    text: str
    kind: str
    n: int

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        m = _TIME_RE.fullmatch(text)
        if m:
            return cls(text.strip(), "time", parse_timeframe(text))
        kind, _, count = text.strip().partition(":")
        if kind in _COUNT_KINDS and count.isdigit() and int(count) > 0:
            return cls(text.strip(), _COUNT_KINDS[kind], int(count))
        raise ValueError(f"unknown timeframe {text!r}: use 30s, 1m, 5m, 30m, 1h, 1d, ticks:N, volume:N or dollar:N")


def parse_timeframe(text: str) -> int:
    """``"30s"``, ``"1m"``, ``"15m"``, ``"2h"``, ``"1d"`` to nanoseconds (``1d``: one bar per session)."""
    m = _TIME_RE.fullmatch(text)
    if not m or int(m.group(1)) <= 0 or (m.group(2) == "d" and m.group(1) != "1"):
        raise ValueError(f"bad timeframe {text!r}: use a positive number followed by s, m or h, or 1d")
    return int(m.group(1)) * _UNIT_NS[m.group(2)]


def local_day(ts_ns: int) -> int:
    """B3 local calendar day of an instant, as days since 1970-01-01."""
    return (ts_ns - _UTC_OFFSET) // DAY_NS


def session_ids(ts_ns: Any) -> np.ndarray:
    """Vectorised :func:`local_day` (as float64, ready to feed an indicator)."""
    return ((np.asarray(ts_ns, dtype=np.int64) - _UTC_OFFSET) // DAY_NS).astype(np.float64)


class TimeBuckets:
    """Maps instants to ``[start, end)`` buckets of ``tf_ns`` aligned to each B3 session (module docstring)."""

    def __init__(self, tf_ns: int, asset_class: AssetClass = AssetClass.STOCK) -> None:
        if tf_ns <= 0:
            raise ValueError("timeframe must be positive")
        self.tf = tf_ns
        self.daily = tf_ns >= DAY_NS
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
        s, e = self.buckets(np.array([ts], dtype=np.int64))
        return int(s[0]), int(e[0])

    def buckets(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ts = np.asarray(ts, dtype=np.int64)
        days = (ts - _UTC_OFFSET) // DAY_NS
        uniq, inv = np.unique(days, return_inverse=True)
        bounds = np.array([self.day_bounds(int(d)) for d in uniq], dtype=np.int64).reshape(-1, 2)
        anchor = bounds[inv, 0]
        close = bounds[inv, 1]
        if self.daily:
            return anchor, np.maximum(close, ts + 1)
        after = ts >= close
        base = np.where(after, close, anchor)
        start = base + np.maximum(ts - base, 0) // self.tf * self.tf
        end = start + self.tf
        end = np.where(~after & (start < close) & (close < end), close, end)
        return start, end


class _Acc:
    __slots__ = ("bt", "bv", "c", "day", "h", "key", "l", "n", "o", "st", "sv", "t0", "t1", "v")

    def __init__(self, key: int, t: TradeTick, t0: int, t1: int) -> None:
        self.key = key
        self.day = local_day(t.ts_event)
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
    """Live bar builder. ``kind`` is ``"time"`` (``size`` in ns), ``"tick"``, ``"volume"`` or ``"dollar"``
    (``size`` in quote units: the raw threshold is ``size * 10**scale``)."""

    def __init__(
        self,
        symbol: str,
        kind: str,
        size: int,
        asset_class: AssetClass = AssetClass.STOCK,
        timeframe: str | None = None,
        scale: int = 0,
    ) -> None:
        if kind not in ("time", "tick", "volume", "dollar") or size <= 0:
            raise ValueError(f"bad bar spec {kind}/{size}")
        self.symbol = symbol
        self.kind = kind
        self.size = size * 10**scale if kind == "dollar" else size
        self.timeframe = timeframe or f"{kind}{size}"
        self._buckets = TimeBuckets(size, asset_class) if kind == "time" else None
        self.guard = TradeGuard()
        self._acc: _Acc | None = None
        self._total = 0  # trades, volume or dollar volume so far

    @classmethod
    def for_timeframe(cls, symbol: str, timeframe: str, asset_class: AssetClass = AssetClass.STOCK,
                      scale: int = 0) -> BarBuilder:
        """A builder from a timeframe text (``1m``, ``ticks:100``, ``dollar:5000000`` ...)."""
        tf = Timeframe.parse(timeframe)
        return cls(symbol, tf.kind, tf.n, asset_class, tf.text, scale)

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
            if self._buckets.daily:
                self._acc.t1 = max(self._acc.t1, t.ts_event + 1)
            return out
        if self._acc is not None and self._acc.day != local_day(t.ts_event):
            out.append(self._emit())  # count bars restart every session day
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


def _count_keys(ts: np.ndarray, step: np.ndarray, threshold: int) -> np.ndarray:
    """Bar number of each trade for count bars: close on reaching ``threshold``, restart every day."""
    day = (ts - _UTC_OFFSET) // DAY_NS
    cum = np.cumsum(step)
    day_end = np.r_[np.flatnonzero(np.diff(day)) + 1, len(ts)]
    key = np.zeros(len(ts), dtype=np.int64)
    i, k, d = 0, 0, 0
    while i < len(ts):  # one iteration per bar: the bar starting at i ends where it reaches the threshold
        while day_end[d] <= i:
            d += 1
        base = cum[i - 1] if i else 0
        j = min(int(np.searchsorted(cum, base + threshold, side="left")), int(day_end[d]) - 1)
        key[i : j + 1] = k
        i, k = j + 1, k + 1
    return key


def bars_from_trades(
    ts: Any,
    price: Any,
    size: Any,
    aggressor: Any,
    trade_id: Any,
    kind: str,
    bar_size: int,
    asset_class: AssetClass = AssetClass.STOCK,
    scale: int = 0,
    rejected: dict[str, int] | None = None,
) -> dict[str, np.ndarray]:
    """Batch bar builder: trade columns in, :data:`BAR_COLUMNS` out (int64), equal to the live builder.

    Give trades in (exchange time, trade number) order (:func:`~tradingsystem.features.guards.trade_order`).
    ``rejected``, when given, receives the guard's drop counts by reason.
    """
    ts = np.asarray(ts, dtype=np.int64)
    price = np.asarray(price, dtype=np.int64)
    size = np.asarray(size, dtype=np.int64)
    aggressor = np.asarray(aggressor, dtype=np.int64)
    keep, counts = trade_check(ts, np.asarray(trade_id, dtype=np.int64), price, size)
    if rejected is not None:
        rejected.update(counts)
    ts, price, size, aggressor = ts[keep], price[keep], size[keep], aggressor[keep]
    if len(ts) == 0:
        return {c: np.empty(0, dtype=np.int64) for c in BAR_COLUMNS}
    if kind == "time":
        key, end = TimeBuckets(bar_size, asset_class).buckets(ts)
    else:
        step = np.ones_like(size) if kind == "tick" else size if kind == "volume" else size * price
        key = _count_keys(ts, step, bar_size * 10**scale if kind == "dollar" else bar_size)
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
        out["ts_open"] = key[first]
        out["ts_event"] = np.maximum.reduceat(end, first) if bar_size >= DAY_NS else end[first]
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
