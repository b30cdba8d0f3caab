"""Indicators TA-Lib lacks: session VWAP, rolling z-score, realised volatility.

Same contract and bad-input policy as :mod:`tradingsystem.features.core`; each batch function performs
the same floating-point operations in the same order as its streaming class, so they agree exactly.
"""

from __future__ import annotations

import math
from math import isfinite

import numpy as np
import talib
import talib.stream

from tradingsystem.features.core import NAN, FloatArray, Indicator, TalibIndicator, skip_nonfinite

__all__ = ["RealizedVol", "SessionVWAP", "ZScore", "realized_vol", "session_vwap", "zscore"]


class SessionVWAP(Indicator):
    """Volume-weighted average of the typical price (h+l+c)/3, reset when ``session`` changes.

    ``update(high, low, close, volume, session)``; ``session`` is any number naming the trading day
    (see :func:`tradingsystem.features.bars.session_ids`). Not ready (NaN) until the session has traded
    volume; negative volume counts as bad input and is skipped.
    """

    __slots__ = ("_pv", "_session", "_v", "ready", "rejected", "value")
    value: float

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._pv = 0.0
        self._v = 0.0
        self._session = NAN
        self.value = NAN
        self.ready = False
        self.rejected = 0

    def update(self, high: float, low: float, close: float, volume: float, session: float = 0.0) -> float:  # type: ignore[override]
        s = high + low + close + volume
        if not isfinite(s) or volume < 0:
            self.rejected += 1
            return self.value
        if session != self._session:
            self._session = session
            self._pv = 0.0
            self._v = 0.0
            self.value = NAN
            self.ready = False
        self._pv += (high + low + close) / 3.0 * volume
        self._v += volume
        if self._v > 0:
            self.value = self._pv / self._v
            self.ready = True
        return self.value


def _vwap_core(h: FloatArray, lo: FloatArray, c: FloatArray, v: FloatArray, s: FloatArray) -> FloatArray:
    n = len(h)
    if n == 0:
        return np.empty(0)
    pv = (h + lo + c) / 3.0 * v
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    lens = np.diff(np.r_[starts, n])
    width = int(lens.max())
    if len(starts) * width <= 4 * n + 1024:
        # sequential sums per session in one call: rows = sessions, zero padding after each session
        rows = np.repeat(np.arange(len(starts)), lens)
        cols = np.arange(n) - starts[rows]
        grid = np.zeros((2, len(starts), width))
        grid[0, rows, cols] = pv
        grid[1, rows, cols] = v
        np.add.accumulate(grid, axis=2, out=grid)
        cpv, cv = grid[0, rows, cols], grid[1, rows, cols]
    else:
        cpv, cv = np.empty(n), np.empty(n)
        for a, ln in zip(starts, lens, strict=True):
            cpv[a : a + ln] = np.add.accumulate(pv[a : a + ln])
            cv[a : a + ln] = np.add.accumulate(v[a : a + ln])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cv > 0, cpv / cv, NAN)


def session_vwap(
    high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray, session: FloatArray | None = None
) -> FloatArray:
    """Batch :class:`SessionVWAP`."""
    vol = np.asarray(volume, dtype=np.float64)
    ses = np.zeros(len(vol)) if session is None else np.asarray(session, dtype=np.float64)
    vol = np.where(vol < 0, NAN, vol)
    return skip_nonfinite(_vwap_core, [high, low, close, vol, ses], 1)[0]


class ZScore(Indicator):
    """Rolling z-score ``(x - mean) / std`` over ``period`` steps (population std; 0 when std is 0)."""

    __slots__ = ("_mean", "_sd", "ready", "rejected", "value")
    value: float

    def __init__(self, period: int = 20) -> None:
        self._mean = TalibIndicator("SMA", 1, timeperiod=period)
        self._sd = TalibIndicator("STDDEV", 1, timeperiod=period, nbdev=1.0)
        self.reset()

    def reset(self) -> None:
        self._mean.reset()
        self._sd.reset()
        self.value = NAN
        self.ready = False
        self.rejected = 0

    def update(self, x: float) -> float:  # type: ignore[override]
        if not isfinite(x):
            self.rejected += 1
            return self.value
        m = self._mean.update(x)
        sd = self._sd.update(x)
        if self._mean.ready:
            self.value = (x - m) / sd if sd > 1e-12 * abs(m) else 0.0
            self.ready = True
        return self.value


def _z_core(x: FloatArray, period: int) -> FloatArray:
    if len(x) == 0:
        return np.empty(0)
    m = talib.SMA(x, timeperiod=period)
    sd = talib.STDDEV(x, timeperiod=period, nbdev=1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd > 1e-12 * np.abs(m), (x - m) / sd, 0.0)
    z[np.isnan(m)] = NAN
    return z


def zscore(x: FloatArray, period: int = 20) -> FloatArray:
    """Batch :class:`ZScore`."""
    return skip_nonfinite(lambda a: _z_core(a, period), [x], 1)[0]


class RealizedVol(Indicator):
    """Realised volatility: ``sqrt(sum of squared simple returns)`` over the last ``period`` returns.

    Per-bar units (not annualised). A non-positive price counts as bad input and is skipped.
    """

    __slots__ = ("_prev", "_sum", "ready", "rejected", "value")
    value: float

    def __init__(self, period: int = 20) -> None:
        self._sum = TalibIndicator("SUM", 1, timeperiod=period)
        self.reset()

    def reset(self) -> None:
        self._sum.reset()
        self._prev = NAN
        self.value = NAN
        self.ready = False
        self.rejected = 0

    def update(self, x: float) -> float:  # type: ignore[override]
        if not isfinite(x) or x <= 0:
            self.rejected += 1
            return self.value
        p = self._prev
        self._prev = x
        if p == p:
            r = x / p - 1.0
            s = self._sum.update(r * r)
            if self._sum.ready:
                self.value = math.sqrt(s) if s > 0 else 0.0
                self.ready = True
        return self.value


def _rv_core(x: FloatArray, period: int) -> FloatArray:
    out = np.full(len(x), NAN)
    if len(x) < 2:
        return out
    r = x[1:] / x[:-1] - 1.0
    s = talib.SUM(r * r, timeperiod=period)
    out[1:] = np.where(s > 0, np.sqrt(np.maximum(s, 0.0)), np.where(np.isnan(s), NAN, 0.0))
    return out


def realized_vol(x: FloatArray, period: int = 20) -> FloatArray:
    """Batch :class:`RealizedVol`."""
    a = np.asarray(x, dtype=np.float64)
    a = np.where(a > 0, a, NAN)
    return skip_nonfinite(lambda v: _rv_core(v, period), [a], 1)[0]
