"""Fit the simulated market's parameters to real 1-minute bars (moment matching, per instrument).

Per instrument: start price (last close), open-to-close volatility, gap share, closing-call share,
flow weight (trades per day relative to the mean), median trade size (bar volume over trade count,
log-normal with the default spread), the factor's share of the 60-minute variance (against the
equal-weight market of the instruments given) and the lag that explains how much less correlated
they are at 1 minute. Market-wide: GARCH persistence from the decay of the |returns| autocorrelation
from lag 1 to lag 60, the open boost from the open/midday volatility ratio, the weekend gap multiplier
from the Monday gaps over the other days'. The day-level spread stays at its default: the slow
volatility factor already makes more day-to-day variation than the real bars show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from .config import FlowModel, InstrumentParams, VolModel
from .facts import Bars, bar_facts, pair_corr


def _lag_for(ratio: float) -> float:
    """Delay (s) behind the factor that keeps ``ratio`` of the factor's 1-minute covariance."""
    return float(round(min(300.0, max(0.0, 60.0 * (1.0 - ratio)))))


def _factor(bars: Mapping[str, Bars]) -> tuple[dict[str, float], dict[str, float]]:
    """Idiosyncratic shares and lags from the pair correlations at 60 and 1 minutes.

    One factor: l = 1 - idio share is the first principal component's share of each variance.
    At 1 minute a delay d behind the factor keeps about k = 1 - d/60 of the factor's covariance, so
    odds(corr1) / odds(corr60) = k for the pair; each instrument gets its pairs' mean.
    """
    syms = sorted(bars)
    if len(syms) < 2:
        return {}, {}
    c60: dict[tuple[str, str], float] = {}
    ks: dict[str, list[float]] = {s: [] for s in syms}
    for i, a in enumerate(syms):
        for b in syms[i + 1:]:
            r60, r1 = pair_corr(bars[a], bars[b], 60), pair_corr(bars[a], bars[b], 1)
            if math.isnan(r60) or math.isnan(r1) or r60 <= 0 or r1 <= 0:
                continue
            c60[(a, b)] = c60[(b, a)] = min(0.99, r60)
            k = (r1 / (1 - r1)) / (r60 / (1 - r60))
            ks[a].append(k)
            ks[b].append(k)
    corr = np.eye(len(syms))
    for i, a in enumerate(syms):
        for j, b in enumerate(syms):
            if i != j:
                corr[i, j] = c60.get((a, b), 0.0)
    w, v = np.linalg.eigh(corr)  # first principal component: the common factor's loadings
    load = {s: min(0.95, max(0.05, float(w[-1] * v[i, -1] ** 2))) for i, s in enumerate(syms)}
    lags = {s: _lag_for(float(np.mean(ks[s]))) if ks[s] else 0.0 for s in syms}
    return {s: 1.0 - v for s, v in load.items()}, lags


def fit(bars: Mapping[str, Bars], lots: Mapping[str, int], scales: Mapping[str, int]) -> dict[str, Any]:
    """Parameters for ``bars`` (per symbol); returns the ``sim`` config section as plain data."""
    if not bars:
        raise ValueError("no bars to calibrate on")
    per: dict[str, dict[str, float]] = {}
    acf1, acf60, ratio, monday = [], [], [], []
    trades_day: dict[str, float] = {}
    for sym, b in bars.items():
        v, _, _ = bar_facts(b)
        if "oc_std" not in v or "gap_share" not in v:
            raise ValueError(f"{sym}: too few sessions to calibrate on (need at least three)")
        per[sym] = v
        acf1.append(v["acf_abs_1"])
        acf60.append(v["acf_abs_60"])
        ratio.append(v.get("open_midday", 2.0))
        if "monday_gap" in v:
            monday.append(v["monday_gap"])
        n_days = len(np.unique((np.asarray(b["ts_open"]) - 3 * 3600 * 10**9) // (86_400 * 10**9)))
        trades = np.asarray(b.get("trades", b["volume"]), dtype=np.float64)
        trades_day[sym] = float(trades.sum() / max(1, n_days))
    mean_trades = float(np.mean(list(trades_day.values())))
    shares, lags = _factor(bars)
    sigma = InstrumentParams().size_sigma
    out: dict[str, dict[str, Any]] = {}
    for sym, b in bars.items():
        v = per[sym]
        close = np.asarray(b["close"], dtype=np.float64)
        price = Decimal(int(close[-1])).scaleb(-scales[sym])
        vol = np.asarray(b["volume"], dtype=np.float64).sum()
        trades = np.asarray(b.get("trades", b["volume"]), dtype=np.float64).sum()
        mean_lots = vol / max(1.0, trades) / lots[sym]
        params: dict[str, Any] = {
            "price": str(price), "vol_daily": round(v["oc_std"], 5), "gap_share": round(v["gap_share"], 3),
            "closing_share": round(min(0.4, v["closing_share"]), 4),
            "weight": round(trades_day[sym] / mean_trades, 3),
            "median_lots": round(max(1.0, mean_lots / math.exp(sigma * sigma / 2)), 2),
        }
        if sym in shares:
            params["idio_share"] = round(shares[sym], 3)
            params["lag_seconds"] = lags[sym]
        out[sym] = InstrumentParams.model_validate(params).model_dump(mode="json", exclude_defaults=False)
    a1, a60 = float(np.nanmean(acf1)), float(np.nanmean(acf60))
    persistence = min(0.995, max(0.9, (a60 / a1) ** (1.0 / 59.0))) if a1 > 0 and a60 > 0 else 0.98
    alpha = VolModel().garch_alpha
    r = float(np.mean(ratio))
    tau = VolModel().tau_minutes
    early = tau / 30.0 * (1.0 - math.exp(-30.0 / tau))  # mean of exp(-t/tau) over the first 30 minutes
    vol_model = VolModel(garch_alpha=alpha, garch_beta=round(persistence - alpha, 4),
                         open_boost=round(max(0.0, (r * r - 1.0) / early), 2),
                         weekend_gap=round(max(1.0, float(np.mean(monday))), 2) if monday else 1.3)
    return {"instruments": out, "vol": vol_model.model_dump(mode="json"), "flow": FlowModel().model_dump(mode="json")}
