"""Bars from trades (batch with numpy, and streaming) and from finer bars.

Timeframes: ``Ns``/``Nm``/``Nh`` and ``1d`` time bars aligned to B3 local time (sessions open on the
hour, so buckets line up with the session), ``ticks:N`` (N prints), ``volume:N`` (lots) and
``dollar:N`` (traded value in BRL of quoted price x quantity). Count bars restart every session day;
a trade belongs to the bar in which its cumulative count/volume/value *starts*, so a big print never
splits and the streaming and batch forms agree exactly. Prices stay raw integers here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tradingsystem.adapters.storage.schema import B3_UTC_OFFSET_NS, DAY_NS
from tradingsystem.domain.events import Bar, TradeTick

_TIME_RE = re.compile(r"^(\d+)([smhd])$")
_UNIT_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": DAY_NS}
BAR_COLUMNS = ("ts_open", "ts_event", "open", "high", "low", "close", "volume", "trades")


@dataclass(frozen=True)
class Timeframe:
    """A parsed timeframe: ``kind`` is time, ticks, volume or dollar; ``n`` is ns or the count."""

    text: str
    kind: str
    n: int

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        m = _TIME_RE.match(text)
        if m:
            n = int(m.group(1)) * _UNIT_NS[m.group(2)]
            if n <= 0 or (m.group(2) == "d" and m.group(1) != "1") or DAY_NS % n:
                raise ValueError(f"timeframe {text!r}: a time bar must divide a day (1d at most)")
            return cls(text, "time", n)
        kind, _, count = text.partition(":")
        if kind in ("ticks", "volume", "dollar") and count.isdigit() and int(count) > 0:
            return cls(text, kind, int(count))
        raise ValueError(f"unknown timeframe {text!r}: use 1m, 5m, 15m, 1h, 1d, ticks:N, volume:N or dollar:N")


def _day(ts: np.ndarray) -> np.ndarray:
    return (ts + B3_UTC_OFFSET_NS) // DAY_NS


def bar_keys(tf: Timeframe, ts: np.ndarray, price: np.ndarray, size: np.ndarray, scale: int) -> np.ndarray:
    """Bar id of each trade (trades sorted by time); equal ids form one bar."""
    if tf.kind == "time":
        return (ts + B3_UTC_OFFSET_NS) // tf.n
    day = _day(ts)
    starts = np.r_[0, np.flatnonzero(np.diff(day)) + 1]
    if tf.kind == "ticks":
        amount = np.ones(len(ts), dtype=np.int64)
        threshold = tf.n
    elif tf.kind == "volume":
        amount, threshold = size, tf.n
    else:
        amount, threshold = price * size, tf.n * 10**scale
    cum = np.cumsum(amount)
    base = np.repeat(cum[starts] - amount[starts], np.diff(np.r_[starts, len(ts)]))
    within = (cum - amount - base) // threshold
    keys: np.ndarray = day * (1 << 40) + within
    return keys


def bars_from_trades(tf: Timeframe, ts: np.ndarray, price: np.ndarray, size: np.ndarray, scale: int
                     ) -> dict[str, np.ndarray]:
    """OHLCV arrays, one element per bar, from trades sorted by time."""
    if len(ts) == 0:
        return {c: np.zeros(0, dtype=np.int64) for c in BAR_COLUMNS}
    keys = bar_keys(tf, ts, price, size, scale)
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    ends = np.r_[starts[1:], len(ts)]
    if tf.kind == "time":
        ts_open = keys[starts] * tf.n - B3_UTC_OFFSET_NS
        ts_close = ts_open + tf.n
    else:
        ts_open = ts[starts]
        ts_close = ts[ends - 1]
    return {
        "ts_open": ts_open, "ts_event": ts_close,
        "open": price[starts], "high": np.maximum.reduceat(price, starts),
        "low": np.minimum.reduceat(price, starts), "close": price[ends - 1],
        "volume": np.add.reduceat(size, starts), "trades": (ends - starts).astype(np.int64),
    }


def resample_bars(tf: Timeframe, ts_open: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray,
                  c: np.ndarray, v: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """Coarser time bars from finer ones sorted by ``ts_open``."""
    if tf.kind != "time":
        raise ValueError(f"cannot build {tf.text} bars from bars: count bars need trades")
    if len(ts_open) == 0:
        return {c_: np.zeros(0, dtype=np.int64) for c_ in BAR_COLUMNS}
    keys = (ts_open + B3_UTC_OFFSET_NS) // tf.n
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    ends = np.r_[starts[1:], len(keys)]
    out_open = keys[starts] * tf.n - B3_UTC_OFFSET_NS
    return {
        "ts_open": out_open, "ts_event": out_open + tf.n,
        "open": o[starts], "high": np.maximum.reduceat(h, starts), "low": np.minimum.reduceat(lo, starts),
        "close": c[ends - 1], "volume": np.add.reduceat(v, starts), "trades": np.add.reduceat(n, starts),
    }


class BarBuilder:
    """Streaming bars for one instrument: ``update`` returns the bars a trade completed."""

    def __init__(self, symbol: str, timeframe: str, scale: int) -> None:
        self.symbol = symbol
        self.tf = Timeframe.parse(timeframe)
        self.scale = scale
        self._key: int | None = None
        self._day = -1
        self._cum = 0
        self._threshold = self.tf.n * 10**scale if self.tf.kind == "dollar" else self.tf.n
        self._o = self._h = self._l = self._c = self._v = self._n = 0
        self._t0 = self._t1 = 0

    def _key_of(self, t: TradeTick) -> int:
        if self.tf.kind == "time":
            return (t.ts_event + B3_UTC_OFFSET_NS) // self.tf.n
        day = (t.ts_event + B3_UTC_OFFSET_NS) // DAY_NS
        if day != self._day:
            self._day, self._cum = day, 0
        amount = 1 if self.tf.kind == "ticks" else t.size if self.tf.kind == "volume" else t.price * t.size
        key = day * (1 << 40) + self._cum // self._threshold
        self._cum += amount
        return key

    def update(self, t: TradeTick) -> list[Bar]:
        key = self._key_of(t)
        out: list[Bar] = []
        if key != self._key:
            if self._key is not None:
                out.append(self._bar())
            self._key = key
            self._o = self._h = self._l = t.price
            self._v = self._n = 0
            self._t0 = key * self.tf.n - B3_UTC_OFFSET_NS if self.tf.kind == "time" else t.ts_event
        self._h = max(self._h, t.price)
        self._l = min(self._l, t.price)
        self._c = t.price
        self._v += t.size
        self._n += 1
        self._t1 = self._t0 + self.tf.n if self.tf.kind == "time" else t.ts_event
        return out

    def flush(self) -> list[Bar]:
        """The bar in progress, if any (call at the end of data or of the session)."""
        if self._key is None:
            return []
        bar = self._bar()
        self._key = None
        return [bar]

    def _bar(self) -> Bar:
        return Bar(self.symbol, self.tf.text, self._o, self._h, self._l, self._c, self._v, self._n,
                   self._t0, self._t1, self._t1)
