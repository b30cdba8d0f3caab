"""MetaTrader 5 bar files, both layouts, into exact bar columns (one parser for import, features, ML and
backtests).

* The terminal's tab export: ``<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>``
  (``<TIME>`` absent in daily exports), date ``yyyy.mm.dd``.
* The CSV written from the ``MetaTrader5`` Python package (``copy_rates_*`` to a DataFrame):
  ``time, open, high, low, close, tick_volume, spread, real_volume``; ``time`` as epoch seconds or as
  ``yyyy-mm-dd hh:mm:ss`` text.

MT5 stamps a bar with its open time in the broker server's wall clock. ``source_tz`` says which clock:
``b3`` (America/Sao_Paulo, the default: B3 brokers run their servers on B3 time), ``utc``, or any IANA
zone name for a broker-local server. ``ts_open`` is that instant in UTC ns, ``ts_event`` (the bar's
close) ``ts_open + timeframe``; daily bars run from local midnight to the next. The timeframe comes from
the caller, else the file name suffix (``PETR4_M30.csv``), else the most common spacing of the bars.
Prices become raw integers at the instrument's scale, exactly: a price with more decimals is an error.
Volume is ``<VOL>``/``real_volume`` (shares or contracts), ``trades`` the tick volume.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from tradingsystem.adapters.storage.schema import StorageError

__all__ = ["MT5_TIMEFRAMES", "Mt5Bars", "mt5_timeframe_of", "parse_mt5"]

MT5_TIMEFRAMES = {"M1": "1m", "M2": "2m", "M3": "3m", "M5": "5m", "M10": "10m", "M15": "15m", "M30": "30m",
                  "H1": "1h", "H2": "2h", "H4": "4h", "D1": "1d"}  # fmt: skip
_TF_NS = {"m": 60 * 10**9, "h": 3600 * 10**9, "d": 86_400 * 10**9}
_MAX = 2**62
COLUMNS = ("ts_open", "ts_event", "open", "high", "low", "close", "volume", "trades")


@dataclass
class Mt5Bars:
    """Parsed bars (``columns``: :data:`COLUMNS`, int64), the source line of each, and the rejected lines."""

    columns: dict[str, np.ndarray]
    lines: np.ndarray
    timeframe: str
    wall_day: np.ndarray  # the bar's date as written in the file, days since 1970-01-01
    problems: list[tuple[int, str]] = field(default_factory=list)


def mt5_timeframe_of(name: str) -> str | None:
    """``PETR4_M30.csv`` -> ``30m``; None when the name carries no MT5 timeframe."""
    stem = Path(name.split("!")[-1]).stem
    return MT5_TIMEFRAMES.get(stem.rpartition("_")[2].upper())


def _zone(source_tz: str) -> ZoneInfo:
    name = {"b3": "America/Sao_Paulo", "utc": "UTC"}.get(source_tz.lower(), source_tz)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StorageError(f"unknown source time zone {source_tz!r}: use b3, utc or an IANA name such as "
                           "Europe/Athens") from exc


def _tf_ns(tf: str) -> int:
    m = re.fullmatch(r"(\d+)([mhd])", tf)
    if not m or int(m.group(1)) <= 0:
        raise StorageError(f"MT5 timeframe {tf!r}: use 1m, 5m, 15m, 30m, 1h, 4h or 1d")
    return int(m.group(1)) * _TF_NS[m.group(2)]


def _layout(header: str) -> tuple[str, list[str]]:
    if "<OPEN>" in header.upper():
        return "tab", [c.strip().strip("<>").lower() for c in header.rstrip("\r\n").split("\t")]
    cols = [c.strip().lower() for c in header.rstrip("\r\n").split(",")]
    if {"time", "open", "high", "low", "close"} <= set(cols):
        return "csv", cols
    raise StorageError("not a MetaTrader 5 bar file (no <OPEN> header and no time,open,high,low,close CSV header)")


def _naive_ns(date_s: str, time_s: str, layout: str) -> int:
    """Wall-clock nanoseconds since 1970 of the bar's open, as written in the file."""
    if layout == "csv" and date_s.strip().lstrip("-").isdigit() and not time_s:
        return int(date_s.strip()) * 10**9  # epoch seconds of the server wall clock
    d = np.datetime64(date_s.strip().replace(".", "-") + ("T" + time_s.strip() if time_s.strip() else ""), "ns")
    if np.isnat(d):
        raise ValueError("empty time")
    return int(d.astype(np.int64).item())


def _raw(text: str, scale: int) -> int:
    t = text.strip()
    neg = t.startswith("-")
    whole, _, frac = t.lstrip("+-").partition(".")
    frac = frac.rstrip("0")
    if (not whole.isdigit() and not (whole == "" and frac.isdigit())) or (frac and not frac.isdigit()):
        raise ValueError(f"bad price {t!r}")
    if len(frac) > scale:
        raise ValueError(f"price {t} has more than {scale} decimals")
    v: int = int(whole or "0") * int(10**scale) + int((frac + "0" * scale)[:scale] or "0")
    if v >= _MAX:
        raise ValueError(f"price {t} out of range")
    return -v if neg else v


def _count(text: str, what: str) -> int:
    t = text.strip()
    try:
        v = int(t) if t.lstrip("+-").isdigit() else int(float(t))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"bad {what} {t!r}") from exc
    if abs(v) >= _MAX:
        raise ValueError(f"{what} {t} out of range")
    return v


def parse_mt5(lines: Sequence[str], scale: int, timeframe: str | None = None, source_tz: str = "b3",
              name: str = "") -> Mt5Bars:
    """Parse the lines of an MT5 bar file (header first); range-checked rows in, bad lines listed out."""
    zone = _zone(source_tz)
    body = [(i, t) for i, t in enumerate(lines, 1) if t.strip()]
    if not body:
        raise StorageError("empty file: no header and no bars")
    layout, cols = _layout(body[0][1])
    idx = {c: cols.index(c) for c in cols}
    vol_col = "vol" if layout == "tab" else "real_volume"
    tick_col = "tickvol" if layout == "tab" else "tick_volume"
    sep = "\t" if layout == "tab" else ","
    rows: list[tuple[int, ...]] = []
    line_no: list[int] = []
    problems: list[tuple[int, str]] = []
    for n, text in body[1:]:
        f = text.rstrip("\r\n").split(sep)
        if len(f) < len(cols) - (1 if "spread" in idx else 0):
            problems.append((n, f"expected {len(cols)} fields, got {len(f)}"))
            continue
        try:
            if layout == "tab":
                wall = _naive_ns(f[idx["date"]], f[idx["time"]] if "time" in idx else "", layout)
            else:
                wall = _naive_ns(f[idx["time"]], "", layout)
            o, h, lo, c = (_raw(f[idx[k]], scale) for k in ("open", "high", "low", "close"))
            vol = _count(f[idx[vol_col]], "volume") if vol_col in idx else 0
            ticks = _count(f[idx[tick_col]], "tick volume") if tick_col in idx else 0
        except (ValueError, IndexError) as exc:
            problems.append((n, str(exc)))
            continue
        if min(o, h, lo, c) <= 0:
            problems.append((n, "prices must be positive"))
        elif h < lo or h < max(o, c) or lo > min(o, c):
            problems.append((n, "high/low do not bracket open/close"))
        elif vol < 0 or ticks < 0:
            problems.append((n, "negative volume"))
        else:
            rows.append((wall, o, h, lo, c, vol, ticks))
            line_no.append(n)
    arr = np.array(rows, dtype=np.int64).reshape(-1, 7)
    naive = arr[:, 0]
    tf = timeframe or mt5_timeframe_of(name) or _infer(naive)
    step = _tf_ns(tf)
    ts_open = _to_utc(naive, zone)
    ts_event = _to_utc(naive + step, zone) if step >= _TF_NS["d"] else ts_open + step
    out = {"ts_open": ts_open, "ts_event": ts_event, "open": arr[:, 1], "high": arr[:, 2], "low": arr[:, 3],
           "close": arr[:, 4], "volume": arr[:, 5], "trades": arr[:, 6]}
    order = np.argsort(ts_open, kind="stable")
    return Mt5Bars({k: v[order] for k, v in out.items()}, np.asarray(line_no, dtype=np.int64)[order], tf,
                   (naive // _TF_NS["d"])[order], problems)


def _infer(naive: np.ndarray) -> str:
    """The most common spacing of consecutive bars within a day (1d when every day holds one bar)."""
    if len(naive) < 2:
        return "1m"
    s = np.sort(naive)
    day = s // _TF_NS["d"]
    d = np.diff(s)[np.diff(day) == 0]
    d = d[d > 0]
    if len(d) == 0:
        return "1d"
    vals, counts = np.unique(d, return_counts=True)
    ns = int(vals[np.argmax(counts)])
    return f"{ns // _TF_NS['h']}h" if ns % _TF_NS["h"] == 0 else f"{max(ns // _TF_NS['m'], 1)}m"


def _to_utc(naive: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Wall-clock ns in ``zone`` to UTC ns (one offset lookup per distinct hour)."""
    if len(naive) == 0:
        return naive.astype(np.int64)
    from datetime import UTC, datetime

    hours = naive // (3600 * 10**9)
    uniq, inv = np.unique(hours, return_inverse=True)
    offs = np.empty(len(uniq), dtype=np.int64)
    for i, h in enumerate(uniq):
        wall = datetime.fromtimestamp(int(h) * 3600, UTC).replace(tzinfo=zone)
        off = wall.utcoffset()
        offs[i] = int(off.total_seconds()) * 10**9 if off is not None else 0
    return naive - offs[inv]
