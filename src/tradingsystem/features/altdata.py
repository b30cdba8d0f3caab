"""As-of joins of alternative data to bars, with no lookahead: a bar sees only what was published by its
``ts_event``.

Indicator columns per series ``S`` (one of ``INDICATORS``):

- ``S_level``: the latest value known (the value of the latest reference date, latest vintage);
- ``S_change``: that value less the value of the reference date before it (both as known);
- ``S_surprise``: at the last release, the new level less the level known just before it (held until the
  next release; a revision is a release too);
- ``S_days``: days since that release.

``copom_days``: days since the Selic target last changed (a Copom decision), as known;
``copom_next_days``: days until the next scheduled decision is announced, from the meeting calendars
published by then (``domain.copom``; NaN past the last known calendar). Sentiment of the
bar's instrument: ``sent_count``, ``sent_mean`` and ``sent_neg_share`` (score < -0.05) of the items known in
the last day, and ``sent_z``, that mean against the items of the 30 days before
((mean - history mean) / history std). NaN where nothing is known yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from tradingsystem.domain.copom import CopomCalendar

__all__ = ["ALT_COLUMNS", "INDICATORS", "SENTIMENT", "alt_columns_used", "altdata_columns", "indicator_columns",
           "sentiment_columns"]

DAY_NS = 86_400 * 1_000_000_000
INDICATORS = ("selic_target", "selic", "cdi", "ptax", "ipca", "ipca_12m", "igpm", "ibc_br", "unemployment")
_FIELDS = ("level", "change", "surprise", "days")
SENTIMENT = ("sent_count", "sent_mean", "sent_neg_share", "sent_z")
ALT_COLUMNS = (*(f"{s}_{f}" for s in INDICATORS for f in _FIELDS), "copom_days", "copom_next_days", *SENTIMENT)
NEGATIVE = -0.05

Vintages = tuple[np.ndarray, np.ndarray, np.ndarray]  # ref (days since epoch), value, published_ns


def alt_columns_used(exprs: Iterable[str]) -> tuple[str, ...]:
    """The alternative-data columns named in expressions, in ``ALT_COLUMNS`` order."""
    words = {w for e in exprs for w in re.findall(r"[A-Za-z_]\w*", e)}
    return tuple(c for c in ALT_COLUMNS if c in words)


def _steps(v: Vintages) -> tuple[np.ndarray, np.ndarray]:
    """(release times, state rows level/change/surprise) after each group of same-time vintages."""
    ref, value, pub = (np.asarray(a) for a in v)
    order = np.lexsort((ref, pub))
    known: dict[int, float] = {}
    times: list[int] = []
    rows: list[tuple[float, float, float]] = []
    level = np.nan
    i, n = 0, len(order)
    while i < n:
        t = int(pub[order[i]])
        while i < n and int(pub[order[i]]) == t:
            known[int(ref[order[i]])] = float(value[order[i]])
            i += 1
        refs = sorted(known)
        new_level = known[refs[-1]]
        change = new_level - known[refs[-2]] if len(refs) > 1 else np.nan
        surprise = new_level - level if np.isfinite(level) else np.nan
        level = new_level
        times.append(t)
        rows.append((level, change, surprise))
    return np.asarray(times, dtype=np.int64), np.asarray(rows, dtype=np.float64).reshape(-1, 3)


def indicator_columns(name: str, bar_ts: np.ndarray, v: Vintages) -> dict[str, np.ndarray]:
    """``{name}_level/_change/_surprise/_days`` for bars ending at ``bar_ts``."""
    ts = np.asarray(bar_ts, dtype=np.int64)
    times, rows = _steps(v)
    idx = np.searchsorted(times, ts, side="right") - 1
    ok = idx >= 0
    out = {f"{name}_{f}": np.full(len(ts), np.nan) for f in _FIELDS}
    for k, f in enumerate(("level", "change", "surprise")):
        out[f"{name}_{f}"][ok] = rows[idx[ok], k]
    out[f"{name}_days"][ok] = (ts[ok] - times[idx[ok]]) / DAY_NS
    return out


def copom_days(bar_ts: np.ndarray, selic_target: Vintages) -> np.ndarray:
    """Days since the Selic target last changed, as known at each bar."""
    ts = np.asarray(bar_ts, dtype=np.int64)
    times, rows = _steps(selic_target)
    moved = times[np.isfinite(rows[:, 2]) & (rows[:, 2] != 0)]
    idx = np.searchsorted(moved, ts, side="right") - 1
    out = np.full(len(ts), np.nan)
    out[idx >= 0] = (ts[idx >= 0] - moved[idx[idx >= 0]]) / DAY_NS
    return out


def copom_next_days(bar_ts: np.ndarray, calendar: CopomCalendar | None = None) -> np.ndarray:
    """Days from each bar to the next scheduled Copom announcement known at that bar (NaN if none)."""
    ts = np.asarray(bar_ts, dtype=np.int64)
    best = np.full(len(ts), np.iinfo(np.int64).max, dtype=np.int64)
    for m in (calendar or CopomCalendar()).meetings:
        at = np.int64(m.decision_ns)
        best = np.where((ts >= m.known_ns) & (ts < at) & (at < best), at, best)
    out = np.full(len(ts), np.nan)
    ok = best != np.iinfo(np.int64).max
    out[ok] = (best[ok] - ts[ok]) / DAY_NS
    return out


def sentiment_columns(bar_ts: np.ndarray, known_ns: np.ndarray, score: np.ndarray, window_ns: int = DAY_NS,
                      history_ns: int = 30 * DAY_NS) -> dict[str, np.ndarray]:
    """Count, mean, negative share and z-score of the items known in ``(t - window, t]``."""
    ts = np.asarray(bar_ts, dtype=np.int64)
    order = np.argsort(np.asarray(known_ns, dtype=np.int64), kind="stable")
    k = np.asarray(known_ns, dtype=np.int64)[order]
    s = np.asarray(score, dtype=np.float64)[order]
    c1 = np.concatenate([[0.0], np.cumsum(s)])
    c2 = np.concatenate([[0.0], np.cumsum(s * s)])
    cn = np.concatenate([[0.0], np.cumsum(s < NEGATIVE)])
    hi = np.searchsorted(k, ts, side="right")
    lo = np.searchsorted(k, ts - window_ns, side="right")
    h0 = np.searchsorted(k, ts - window_ns - history_ns, side="right")
    count = (hi - lo).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c1[hi] - c1[lo]) / count
        neg = (cn[hi] - cn[lo]) / count
        hn = (lo - h0).astype(np.float64)
        hmean = (c1[lo] - c1[h0]) / hn
        hvar = (c2[lo] - c2[h0]) / hn - hmean * hmean
        hstd = np.sqrt(np.where(hvar > 1e-12, hvar, np.nan))
        z = np.where(hn >= 3, (mean - hmean) / hstd, np.nan)
    return {"sent_count": count, "sent_mean": mean, "sent_neg_share": neg, "sent_z": z}


def altdata_columns(names: Iterable[str], bar_ts: np.ndarray, series: Mapping[str, Vintages],
                    posts: tuple[np.ndarray, np.ndarray] | None, calendar: CopomCalendar | None = None
                    ) -> dict[str, np.ndarray]:
    """The requested ``ALT_COLUMNS`` for bars at ``bar_ts``; a series or posts not given give NaN columns."""
    want = list(names)
    n = len(bar_ts)
    out: dict[str, np.ndarray] = {}
    empty: Vintages = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    for s in INDICATORS:
        if any(c.startswith(s + "_") and c.removeprefix(s + "_") in _FIELDS for c in want):
            out.update(indicator_columns(s, bar_ts, series.get(s, empty)))
    if "copom_days" in want:
        out["copom_days"] = copom_days(bar_ts, series.get("selic_target", empty))
    if "copom_next_days" in want:
        out["copom_next_days"] = copom_next_days(bar_ts, calendar)
    if any(c in SENTIMENT for c in want):
        known, score = posts if posts is not None else (np.zeros(0, np.int64), np.zeros(0))
        out.update(sentiment_columns(bar_ts, known, score))
    return {c: out.get(c, np.full(n, np.nan)) for c in want}
