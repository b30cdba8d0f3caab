"""Pure functions that shape engine copies into what the pages draw: candles, analytics, correlations.

They run on the web thread on data already copied off the engine thread; no engine access here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from tradingsystem.domain.sessions import B3_TZ

__all__ = ["TIMEFRAMES", "aggregate", "chart_time", "correlation", "local_day", "performance"]

TIMEFRAMES = {"5s": 5, "15s": 15, "1m": 60, "5m": 300, "15m": 900, "1h": 3600}
_OFFSET_S = 3 * 3600  # B3 is UTC-3 all year; charts show B3 local time


def chart_time(ts_ns: int) -> int:
    """Seconds for lightweight-charts (which shows UTC) so that its axis reads B3 local time."""
    return ts_ns // 1_000_000_000 - _OFFSET_S


def local_day(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=B3_TZ).date().isoformat()


def aggregate(bars: Iterable[Sequence[int]], seconds: int, scale: int) -> list[dict[str, Any]]:
    """Base bars ``(t_open_ns, o, h, l, c, v)`` into candles of ``seconds``, prices as floats."""
    step = seconds * 1_000_000_000
    out: list[list[int]] = []
    for t, o, h, lo, c, v in bars:
        start = t - t % step
        if out and out[-1][0] == start:
            cur = out[-1]
            cur[2] = max(cur[2], h)
            cur[3] = min(cur[3], lo)
            cur[4] = c
            cur[5] += v
        else:
            out.append([start, o, h, lo, c, v])
    k = 10.0 ** -scale
    return [{"time": chart_time(t), "open": o * k, "high": h * k, "low": lo * k, "close": c * k, "volume": v}
            for t, o, h, lo, c, v in out]


def _downsample(points: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    if len(points) <= limit:
        return points
    step = math.ceil(len(points) / limit)
    sampled = points[::step]
    if sampled[-1] != points[-1]:
        sampled.append(points[-1])
    return sampled


def performance(curve: Iterable[tuple[int, str, Decimal]], results: dict[str, list[int]],
                limit: int = 2000) -> dict[str, Any]:
    """Equity, drawdown and daily P&L per curve key (``total`` and each strategy), with hit rates."""
    series: dict[str, list[tuple[int, float]]] = {}
    for ts, key, value in curve:
        series.setdefault(key, []).append((ts, float(value)))
    out: dict[str, Any] = {"series": {}, "stats": []}
    for key, points in series.items():
        peak = -math.inf
        drawdown: list[tuple[int, float]] = []
        daily: dict[str, float] = {}
        max_dd = 0.0
        for ts, v in points:
            peak = max(peak, v)
            drawdown.append((ts, v - peak))
            max_dd = min(max_dd, v - peak)
            daily[local_day(ts)] = v
        days, prev, day_pnl = [], 0.0, []
        for day, last in daily.items():
            days.append(day)
            day_pnl.append(round(last - prev, 2))
            prev = last
        out["series"][key] = {
            "equity": [[chart_time(t) * 1000, round(v, 2)] for t, v in _downsample(points, limit)],
            "drawdown": [[chart_time(t) * 1000, round(v, 2)] for t, v in _downsample(drawdown, limit)],
            "days": days, "daily_pnl": day_pnl,
        }
        res = results.get(key) if key != "total" else [sum(r[i] for r in results.values()) for i in range(3)]
        wins, losses, closes = res if res else (0, 0, 0)
        out["stats"].append({
            "key": key, "net_brl": round(points[-1][1], 2) if points else 0.0, "max_drawdown_brl": round(max_dd, 2),
            "closing_fills": closes, "wins": wins, "losses": losses,
            "hit_rate": round(wins / (wins + losses), 4) if wins + losses else None,
        })
    return out


def _closes(bars: Sequence[Sequence[int]], seconds: int) -> dict[int, int]:
    step = seconds * 1_000_000_000
    closes: dict[int, int] = {}
    for b in bars:
        closes[b[0] - b[0] % step] = b[4]
    return closes


def correlation(bars: dict[str, Sequence[Sequence[int]]], seconds: int, min_points: int = 5) -> dict[str, Any]:
    """Pearson correlation of log returns over aligned buckets of ``seconds`` (last price carried)."""
    symbols = sorted(s for s, b in bars.items() if b)
    closes = {s: _closes(bars[s], seconds) for s in symbols}
    buckets = sorted({t for c in closes.values() for t in c})
    if len(buckets) < min_points + 1 or len(symbols) < 2:
        return {"symbols": symbols, "matrix": [], "points": max(len(buckets) - 1, 0), "seconds": seconds}
    grid = np.full((len(buckets), len(symbols)), np.nan)
    index = {t: i for i, t in enumerate(buckets)}
    for j, s in enumerate(symbols):
        for t, c in closes[s].items():
            grid[index[t], j] = c
    for j in range(len(symbols)):  # carry the last price forward, back-fill the start
        col = grid[:, j]
        valid = ~np.isnan(col)
        if not valid.any():
            continue
        idx = np.where(valid, np.arange(len(col)), 0)
        np.maximum.accumulate(idx, out=idx)
        col[:] = col[idx]
        first = int(np.argmax(valid))
        col[:first] = col[first]
    rets = np.diff(np.log(grid), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.corrcoef(rets, rowvar=False)
    matrix = np.nan_to_num(matrix, nan=0.0)
    return {"symbols": symbols, "matrix": [[round(float(x), 3) for x in row] for row in matrix],
            "points": len(buckets) - 1, "seconds": seconds}
