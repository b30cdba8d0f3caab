"""Stylised facts of a market from its 1-minute bars and trade prints (real or simulated, same code).

Bars are per instrument: ``ts_open`` (UTC ns), ``open``, ``close``, ``volume`` arrays in time order;
returns are log close-to-close between consecutive bars of one session. Trades are ``ts`` (UTC ns),
``size`` and ``aggressor`` (1 buy, 2 sell, 0 none). Every fact is a mean over the instruments given,
except the pair correlations (PETR4-VALE3 when both are there, else the first two instruments).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

NS = 1_000_000_000
_OFFSET_NS = 3 * 3600 * NS  # B3 local = UTC - 3 h
DAY_NS = 86_400 * NS

Bars = Mapping[str, np.ndarray]
Trades = Mapping[str, np.ndarray]

FACTS: tuple[tuple[str, str], ...] = (
    ("kurtosis", "excess kurtosis of 1-min returns"),
    ("kurtosis_adj", "... after removing time-of-day and day effects"),
    ("acf_abs_1", "autocorrelation of |returns|, lag 1"),
    ("acf_abs_60", "autocorrelation of |returns|, lag 60"),
    ("acf_abs_min_30", "lowest |returns| autocorrelation, lags 1-30"),
    ("day_vol_cv", "day-to-day volatility variation"),
    ("acf_ret_1", "lag-1 autocorrelation of 1-min returns"),
    ("open_midday", "open vs midday volatility"),
    ("gap_share", "overnight gap share of close-to-close variance"),
    ("monday_gap", "Monday gap std over other gaps"),
    ("oc_std", "open-to-close std"),
    ("closing_share", "closing auction share of daily volume"),
    ("corr_1m", "pair correlation at 1 min"),
    ("corr_60m", "pair correlation at 60 min"),
    ("sign_acf_1", "trade-sign persistence, lag 1 (per aggression)"),
    ("sign_acf_print", "trade-sign persistence, lag 1 (per print)"),
    ("size_p99_median", "trade size p99/median"),
    ("weibull_shape", "inter-trade durations (Weibull shape)"),
    ("trades_per_day", "trades/day (first instrument)"),
    ("mean_size", "mean trade size (first instrument)"),
)
"""Keys and labels of the facts table, in order."""


@dataclass
class Facts:
    values: dict[str, float] = field(default_factory=dict)
    per_instrument: dict[str, dict[str, float]] = field(default_factory=dict)
    abs_acf: list[float] = field(default_factory=list)  # mean |returns| autocorrelation, lags 1..60
    intraday: list[float] = field(default_factory=list)  # std of returns by 10-minute slot from the open


def _day(ts: np.ndarray) -> np.ndarray:
    return (ts - _OFFSET_NS) // DAY_NS


def _minute(ts: np.ndarray) -> np.ndarray:
    return ((ts - _OFFSET_NS) % DAY_NS) // (60 * NS)


def _kurt(x: np.ndarray) -> float:
    if len(x) < 4:
        return math.nan
    d = x - x.mean()
    v = float(np.mean(d * d))
    return float(np.mean(d ** 4) / (v * v) - 3.0) if v > 0 else math.nan


def _acf(x: np.ndarray, same: np.ndarray, lag: int) -> float:
    """Autocorrelation at ``lag`` over pairs inside one session (``same``: session id per element)."""
    if len(x) <= lag:
        return math.nan
    d = x - x.mean()
    ok = same[lag:] == same[:-lag]
    v = float(np.mean(d * d))
    if v <= 0 or not ok.any():
        return math.nan
    return float(np.mean((d[lag:] * d[:-lag])[ok]) / v)


def _returns(b: Bars) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(returns, session day, minute of day of the bar that ends each return)."""
    ts = np.asarray(b["ts_open"], dtype=np.int64)
    close = np.log(np.asarray(b["close"], dtype=np.float64))
    day = _day(ts)
    same = day[1:] == day[:-1]
    r = (close[1:] - close[:-1])[same]
    return r, day[1:][same], _minute(ts)[1:][same]


def _sessions(b: Bars) -> dict[str, np.ndarray]:
    ts = np.asarray(b["ts_open"], dtype=np.int64)
    day = _day(ts)
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    ends = np.r_[starts[1:], len(ts)] - 1
    vol = np.asarray(b["volume"], dtype=np.float64)
    day_vol = np.add.reduceat(vol, starts) if len(starts) else np.zeros(0)
    return {"day": day[starts], "open": np.asarray(b["open"], dtype=np.float64)[starts],
            "close": np.asarray(b["close"], dtype=np.float64)[ends], "last_vol": vol[ends], "day_vol": day_vol,
            "ts": ts[starts]}


def bar_facts(b: Bars) -> tuple[dict[str, float], list[float], list[float]]:
    """One instrument's bar facts, its |returns| autocorrelations (lags 1..60) and intraday profile."""
    r, day, minute = _returns(b)
    out: dict[str, float] = {"kurtosis": _kurt(r)}
    if len(r) < 100:
        return out, [], []
    # time-of-day and day effects: divide by the std of the minute of day and of the session
    tod = np.zeros(1440)
    for m in np.unique(minute):
        sel = minute == m
        tod[m] = math.sqrt(float(np.mean(r[sel] ** 2))) if sel.sum() > 2 else 0.0
    _, inv = np.unique(day, return_inverse=True)
    z = r / np.where(tod[minute] > 0, tod[minute], 1.0)
    dsd = np.sqrt(np.bincount(inv, z * z) / np.maximum(1, np.bincount(inv)))
    out["kurtosis_adj"] = _kurt(z / np.where(dsd[inv] > 0, dsd[inv], 1.0))
    a = np.abs(r)
    acf = [_acf(a, day, k) for k in range(1, 61)]
    out["acf_abs_1"], out["acf_abs_60"] = acf[0], acf[59]
    out["acf_abs_min_30"] = float(np.nanmin(acf[:30]))
    out["acf_ret_1"] = _acf(r, day, 1)
    rv = np.sqrt(np.bincount(inv, r * r))
    out["day_vol_cv"] = float(rv.std() / rv.mean()) if len(rv) > 1 and rv.mean() > 0 else math.nan
    open_m = int(minute.min())  # first minute with a return: one after the open
    early = (minute >= open_m) & (minute < open_m + 30)
    mid = (minute >= 720) & (minute < 840)
    if early.any() and mid.any():
        out["open_midday"] = float(np.std(r[early]) / np.std(r[mid]))
    slot = (minute - open_m) // 10
    intraday = [float(np.std(r[slot == k])) if (slot == k).sum() > 2 else math.nan for k in range(int(slot.max()) + 1)]
    s = _sessions(b)
    oc = np.log(s["close"] / s["open"])
    out["oc_std"] = float(oc.std())
    consecutive = np.diff(s["day"])
    if len(oc) > 2:
        gap = np.log(s["open"][1:] / s["close"][:-1])
        gv = float(np.mean(gap ** 2))
        out["gap_share"] = gv / (gv + float(np.mean(oc ** 2)))
        weekend = consecutive > 1
        if weekend.any() and (~weekend).any():
            out["monday_gap"] = float(np.sqrt(np.mean(gap[weekend] ** 2) / np.mean(gap[~weekend] ** 2)))
    out["closing_share"] = float(np.mean(s["last_vol"] / np.maximum(1.0, s["day_vol"])))
    return out, acf, intraday


def pair_corr(a: Bars, b: Bars, minutes: int) -> float:
    """Correlation of two instruments' returns over ``minutes``-minute buckets within sessions."""
    def bucket(x: Bars) -> dict[int, float]:
        ts = np.asarray(x["ts_open"], dtype=np.int64)
        key = (ts - _OFFSET_NS) // (minutes * 60 * NS)
        last = np.flatnonzero(np.r_[key[1:] != key[:-1], True])
        return dict(zip(key[last].tolist(), np.log(np.asarray(x["close"], dtype=np.float64)[last]).tolist(),
                        strict=True))
    ca, cb = bucket(a), bucket(b)
    keys = sorted(set(ca) & set(cb))
    per_day = (24 * 60) // minutes
    ra, rb = [], []
    for k0, k1 in itertools.pairwise(keys):
        if k1 == k0 + 1 and k0 // per_day == k1 // per_day:
            ra.append(ca[k1] - ca[k0])
            rb.append(cb[k1] - cb[k0])
    if len(ra) < 10:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def trade_facts(t: Trades) -> dict[str, float]:
    """Trade-level facts: sign persistence (per aggression: the prints of one instant and side count
    once; and per print), size tail, duration clustering, daily count and size."""
    ts = np.asarray(t["ts"], dtype=np.int64)
    size = np.asarray(t["size"], dtype=np.float64)
    agg = np.asarray(t["aggressor"], dtype=np.int64)
    out: dict[str, float] = {}
    if len(ts) < 100:
        return out
    cont = agg > 0
    sign = np.where(agg[cont] == 1, 1.0, -1.0)
    out["sign_acf_print"] = _acf(sign, _day(ts[cont]), 1)
    # one aggression against several resting orders prints several trades at one instant, one sign
    tc, sc = ts[cont], agg[cont]
    first = np.r_[True, (tc[1:] != tc[:-1]) | (sc[1:] != sc[:-1])]
    out["sign_acf_1"] = _acf(sign[first], _day(tc[first]), 1)
    out["size_p99_median"] = float(np.percentile(size, 99) / np.median(size))
    # one aggression that walks several levels prints at one instant: durations between instants
    inst = np.unique(ts[cont])
    d = np.diff(inst).astype(np.float64)
    d = d[(d > 0) & (_day(inst[1:]) == _day(inst[:-1]))]
    if len(d) > 10:
        out["weibull_shape"] = float(math.pi / (math.sqrt(6.0) * np.std(np.log(d))))
    out["trades_per_day"] = float(len(ts) / len(np.unique(_day(ts))))
    out["mean_size"] = float(size.mean())
    return out


def _pair(symbols: list[str]) -> tuple[str, str] | None:
    if "PETR4" in symbols and "VALE3" in symbols:
        return "PETR4", "VALE3"
    return (symbols[0], symbols[1]) if len(symbols) > 1 else None


def compute(bars: Mapping[str, Bars], trades: Mapping[str, Trades] | None = None) -> Facts:
    """Facts of a market: bar facts averaged over instruments, pair correlations, trade facts."""
    f = Facts()
    acfs, profiles = [], []
    for sym, b in bars.items():
        vals, acf, prof = bar_facts(b)
        f.per_instrument[sym] = vals
        if acf:
            acfs.append(acf)
        if prof:
            profiles.append(prof)
    keys = [k for k, _ in FACTS]
    for k in keys:
        xs = [v[k] for v in f.per_instrument.values() if k in v and not math.isnan(v[k])]
        if xs:
            f.values[k] = float(np.mean(xs))
    if acfs:
        f.abs_acf = np.nanmean(np.array(acfs), axis=0).tolist()
    if profiles:
        n = min(len(p) for p in profiles)
        f.intraday = np.nanmean(np.array([p[:n] for p in profiles]), axis=0).tolist()
    pair = _pair(sorted(bars))
    if pair:
        f.values["corr_1m"] = pair_corr(bars[pair[0]], bars[pair[1]], 1)
        f.values["corr_60m"] = pair_corr(bars[pair[0]], bars[pair[1]], 60)
    if trades:
        per = {s: trade_facts(t) for s, t in trades.items()}
        first = next(iter(trades))
        for k in ("sign_acf_1", "sign_acf_print", "size_p99_median", "weibull_shape"):
            xs = [v[k] for v in per.values() if k in v]
            if xs:
                f.values[k] = float(np.mean(xs))
        for k in ("trades_per_day", "mean_size"):
            if k in per[first]:
                f.values[k] = per[first][k]
        for s, v in per.items():
            f.per_instrument.setdefault(s, {}).update(v)
    return f


def table(sim: Facts, real: Facts | None = None) -> list[tuple[str, str, str]]:
    """(label, real, simulated) rows; a fact neither side has is left out."""
    def fmt(v: float | None) -> str:
        if v is None or math.isnan(v):
            return "-"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}"
    rows = []
    for key, label in FACTS:
        a = real.values.get(key) if real else None
        b = sim.values.get(key)
        if a is None and b is None:
            continue
        rows.append((label, fmt(a), fmt(b)))
    return rows
