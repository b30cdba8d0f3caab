"""Out-of-sample evaluation: hit rates with intervals, baselines, buckets, calibration and P&L after costs.

Hit rates, baselines, log loss and Brier are scored on rows whose move cleared the cost band (a real up
or down label); P&L is taken over every row of the period, so calls on moves too small to pay the costs
lose the costs. Trades do not overlap: after entering on a signal the next one is taken only once the
position has closed ``horizon`` bars later (one position at a time).
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np

from tradingsystem.ml.dataset import Dataset
from tradingsystem.ml.metrics import hit_rate, log_loss_brier, variance_inflation, verdict, wilson, wilson_effective

__all__ = ["CONFIDENCE_EDGES", "evaluate", "pnl_after_costs"]

CONFIDENCE_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0000001)
NOTIONAL_BRL = 10_000.0


def _rate(direction: np.ndarray, y: np.ndarray, inflation: float = 1.0) -> dict[str, Any]:
    """Hit rate with its 95% interval on the effective sample ``n / inflation``."""
    n = len(y)
    hits = int(np.sum((direction > 0) == (y == 1)))
    p = hits / n if n else math.nan
    lo, hi = wilson_effective(p, n / inflation) if n else (math.nan, math.nan)
    return {"n": n, "hit_rate": p, "ci_low": lo, "ci_high": hi}


def pnl_after_costs(ds: Dataset, direction: np.ndarray, confidence: np.ndarray, min_confidence: float = 0.0,
                    notional_brl: float = NOTIONAL_BRL) -> dict[str, Any]:  # fmt: skip
    """Non-overlapping trades on the signal, each ``direction * return - round-trip cost`` in bps."""
    cost = ds.spec.cost_bps
    nets: list[float] = []
    free_from = -1
    for i in range(len(ds)):
        if ds.t0[i] < free_from or confidence[i] < min_confidence or not np.isfinite(ds.ret_bps[i]):
            continue
        nets.append(float(direction[i]) * float(ds.ret_bps[i]) - cost)
        free_from = int(ds.t1[i])
    net = np.asarray(nets)
    n = len(net)
    total = float(net.sum()) if n else 0.0
    return {
        "min_confidence": min_confidence, "trades": n, "cost_bps_per_trade": cost,
        "gross_bps_total": total + cost * n, "net_bps_total": total,
        "net_bps_per_trade": total / n if n else math.nan,
        "net_win_rate": float(np.mean(net > 0)) if n else math.nan,
        "net_brl_total": total * notional_brl / 1e4, "notional_brl_per_trade": notional_brl,
        "cumulative_net_bps": np.cumsum(net).round(4).tolist(),
    }  # fmt: skip


def evaluate(ds: Dataset, direction: np.ndarray, probability: np.ndarray, confidence: np.ndarray,
             train_majority: np.ndarray | int, info: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The ``evaluation.json`` document for predictions on the rows of ``ds`` (see the module docstring)."""
    direction = np.asarray(direction)
    probability = np.asarray(probability, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    maj_all = np.broadcast_to(np.asarray(train_majority), (len(ds),))
    u = ds.usable
    d, p, c, y = direction[u], probability[u], confidence[u], ds.y[u]
    order = np.argsort(ds.ts[u], kind="stable")
    inflation = variance_inflation(((d > 0) == (y == 1))[order], max(ds.spec.horizon - 1, 0))
    main = _rate(d, y, inflation)
    naive = wilson(int(np.sum((d > 0) == (y == 1))), len(y))
    maj = maj_all[u]
    baseline = hit_rate(np.where(maj == 1, 1, -1), y)
    prev = ds.prev_ret_bps[u]
    persist = np.where(prev > 0, 1, np.where(prev < 0, -1, np.where(maj == 1, 1, -1)))
    ll, brier = log_loss_brier(y, p)
    buckets: list[dict[str, Any]] = []
    for lo, hi in pairwise(CONFIDENCE_EDGES):
        m = (c >= lo) & (c < hi)
        r = _rate(d[m], y[m], inflation)
        buckets.append({"bucket": f"[{lo:g}, {min(hi, 1.0):g}{']' if hi > 1 else ')'}",
                        "coverage": float(m.mean()) if len(m) else math.nan, **r})  # fmt: skip
    at_least: list[dict[str, Any]] = []
    for lo in CONFIDENCE_EDGES[:-1]:
        m = c >= lo
        at_least.append({"min_confidence": lo, "coverage": float(m.mean()) if len(m) else math.nan,
                         **_rate(d[m], y[m], inflation)})  # fmt: skip
    hours: dict[str, Any] = {}
    for h in np.unique(ds.hour[u]):
        m = ds.hour[u] == h
        hours[f"{int(h):02d}"] = _rate(d[m], y[m], inflation)
    calib: list[dict[str, Any]] = []
    for lo in np.arange(0.0, 1.0, 0.1):
        m = (p >= lo) & (p < lo + 0.1)
        if m.any():
            calib.append({"p_low": round(float(lo), 1), "n": int(m.sum()), "mean_p": float(p[m].mean()),
                          "up_rate": float(np.mean(y[m] == 1))})  # fmt: skip
    top = next((b["min_confidence"] for b in reversed(at_least) if b["n"] >= 30), 0.0)
    pnl = pnl_after_costs(ds, direction, confidence, 0.0)
    pnl_top = pnl_after_costs(ds, direction, confidence, top)
    rate, lo95, hi95 = main["hit_rate"], main["ci_low"], main["ci_high"]
    out: dict[str, Any] = {
        "hit_rate": rate, "hit_rate_ci_low": lo95, "hit_rate_ci_high": hi95, "n_predictions": main["n"],
        "hit_rate_ci_method": "Wilson 95% on the effective sample size n / variance_inflation",
        "variance_inflation": inflation, "n_effective": main["n"] / inflation,
        "hit_rate_ci_naive_low": naive[0], "hit_rate_ci_naive_high": naive[1],
        "n_rows": len(ds), "coverage": float(u.mean()) if len(ds) else math.nan,
        "baseline_hit_rate": baseline, "test_majority_hit_rate": float(max(np.mean(y == 1), np.mean(y == 0)))
        if len(y) else math.nan,
        "persistence_hit_rate": hit_rate(persist, y),
        "up_share": float(np.mean(y == 1)) if len(y) else math.nan,
        "log_loss": ll, "brier": brier,
        "coverage_by_confidence": {b["bucket"]: b["coverage"] for b in buckets},
        "hit_rate_by_confidence": {b["bucket"]: b["hit_rate"] for b in buckets},
        "confidence_buckets": buckets, "min_confidence_curve": at_least,
        "hit_rate_by_hour": hours, "calibration": calib,
        "pnl_after_costs": pnl, "pnl_after_costs_top_confidence": pnl_top,
        "label": ds.spec.model_dump(), "cost_bps_round_trip": ds.spec.cost_bps,
        "clears_55": bool(lo95 > 0.55), "clears_65": bool(lo95 > 0.65),
        "statement_55": verdict(rate, lo95, hi95, 0.55), "statement_65": verdict(rate, lo95, hi95, 0.65),
        "definitions": {
            "hit_rate": "share of out-of-sample predictions whose direction matches the label, over rows whose "
                        "move cleared the round-trip cost band (n_predictions)",
            "variance_inflation": "1 + 2 x the sum of the hit series' autocorrelations at lags 1 .. horizon - 1 "
                                  "(overlapping labels make neighbouring hits dependent); at least 1",
            "hit_rate_ci": "Wilson 95% interval with n replaced by n_effective = n / variance_inflation; "
                           "the independent-rows interval is kept as hit_rate_ci_naive_*",
            "coverage": "share of decision rows in the period whose move cleared the cost band",
            "baseline_hit_rate": "always predicting the training fold's majority class",
            "persistence_hit_rate": "predicting the sign of the return over the previous horizon",
            "confidence": "agreement of ensemble members x |2p - 1|",
            "pnl_after_costs": "non-overlapping trades on every signal, each paying fee_bps x 2 + spread_bps",
        },
    }  # fmt: skip
    if info:
        out.update(info)
    return out
