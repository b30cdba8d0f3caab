"""Pure functions that shape engine copies into what the pages draw: candles, analytics, correlations.

They run on the web thread on data already copied off the engine thread; no engine access here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tradingsystem.domain.sessions import B3_TZ

__all__ = ["LOG_LEVELS", "REPORT_KINDS", "TIMEFRAMES", "aggregate", "chart_time", "correlation", "filter_log",
           "list_reports", "local_day", "performance", "period_pnl", "report_kind"]

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


def period_pnl(curve: Iterable[tuple[int, str, Decimal]]) -> dict[str, list[dict[str, str]]]:
    """Daily and monthly P&L (exact BRL strings) of the ``total`` equity curve: last value of each period
    less the last value of the one before (the first period starts from zero)."""
    last_day: dict[str, Decimal] = {}
    for ts, key, value in curve:
        if key == "total":
            last_day[local_day(ts)] = value
    days, months = [], {}
    prev = Decimal(0)
    for day, value in last_day.items():
        days.append({"period": day, "pnl_brl": str(value - prev)})
        months[day[:7]] = value
        prev = value
    out_months, prev = [], Decimal(0)
    for month, value in months.items():
        out_months.append({"period": month, "pnl_brl": str(value - prev)})
        prev = value
    return {"daily": days, "monthly": out_months}


LOG_LEVELS = ("INFO", "WARNING", "CRITICAL")


def filter_log(rows: Iterable[dict[str, Any]], source: str = "", level: str = "", symbol: str = "", text: str = "",
               limit: int = 500) -> list[dict[str, Any]]:
    """Newest first; ``level`` keeps that level and above; ``text`` matches case-insensitively anywhere."""
    floor = LOG_LEVELS.index(level) if level in LOG_LEVELS else 0
    needle = text.lower()
    out = []
    for r in sorted(rows, key=lambda r: r["ts"], reverse=True):
        if source and r["source"] != source:
            continue
        if LOG_LEVELS.index(r["level"]) < floor or (symbol and r.get("symbol") != symbol):
            continue
        if needle and needle not in f"{r['symbol']} {r['text']}".lower():
            continue
        out.append(r)
        if len(out) >= limit:
            break
    return out


REPORT_KINDS = ("backtest", "shadow", "ml", "tax", "other")


def report_kind(rel_path: str, siblings: set[str]) -> str:
    """Which CLI wrote a report, from its path and the files next to it (the folder layouts of ``backtest
    --out``, ``tax report --out``, ``ml evaluate --out`` and the shadow reports)."""
    low = rel_path.lower()
    name = low.rsplit("/", 1)[-1]
    if "shadow" in low:
        return "shadow"
    if name.startswith("tax") or "tax" in low.split("/")[:-1] or "darf" in low:
        return "tax"
    if "evaluation.json" in siblings or "/ml/" in f"/{low}" or name.startswith("ml"):
        return "ml"
    if "summary.json" in siblings or "trades.parquet" in siblings or "backtest" in low or "optimize" in low:
        return "backtest"
    return "other"


def list_reports(root: Path, limit: int = 500) -> list[dict[str, Any]]:
    """The readable reports under ``root``: every HTML page, and JSON/Markdown/text files in folders without
    one; newest first, each with its kind."""
    found: list[tuple[float, Path]] = []
    for p in root.rglob("*"):
        if not p.is_file() or p.suffix.lower() not in (".html", ".json", ".md", ".txt"):
            continue
        if p.suffix.lower() != ".html" and any(q.suffix.lower() == ".html" for q in p.parent.iterdir()):
            continue
        found.append((p.stat().st_mtime, p))
    found.sort(key=lambda x: x[0], reverse=True)
    out = []
    for mtime, p in found[:limit]:
        rel = p.relative_to(root).as_posix()
        siblings = {q.name.lower() for q in p.parent.iterdir()}
        out.append({"path": rel, "mtime": mtime, "size": p.stat().st_size, "kind": report_kind(rel, siblings),
                    "type": p.suffix.lower().lstrip(".")})
    return out
