"""Leakage checks run by every ``train`` and ``evaluate``: truncation, single-feature plausibility, and the
shuffled-label control.

* Truncation (:func:`~tradingsystem.ml.dataset.lookahead_probe`): features recomputed on bars cut at
  a few points must equal the full table's rows up to the cut; a feature that reads later bars fails.
* Single feature: on the usable rows, a feature alone must not predict the label implausibly well:
  its median-split hit rate (either sign) at or above ``max_single_hit_rate`` (0.60), or its absolute
  correlation with the label-window return at or above ``max_single_corr`` (0.50), flags it. On real
  PETR4 1-minute bars (May-Oct 2020, 15-bar label) honest features score 0.50-0.56 (price levels reach
  |0.23| correlation over two weeks of trend), the next bar's return 0.611 (correlation 0.29) and the
  label itself 1.0. The hit rate must also clear the limit beyond sampling noise: the lower end of its
  overlap-aware 95% interval (effective sample size from the hits' autocorrelation over the label
  horizon) must reach ``MIN_SINGLE_HIT_LOW`` (0.53), so a price level over a short, trending period of
  daily bars (a few hundred overlapping labels) is not called a leak.
* Shuffled labels: the same walk-forward with the training labels permuted must score at its
  baseline; a hit rate whose whole (overlap-aware) interval sits above the baseline means the split or
  the evaluation leaks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tradingsystem.ml.dataset import Dataset, LeakageError, lookahead_probe
from tradingsystem.ml.metrics import variance_inflation

__all__ = ["MAX_SINGLE_CORR", "MAX_SINGLE_HIT_RATE", "MIN_SINGLE_HIT_LOW", "shuffled_control_verdict",
           "single_feature_scores", "suspect_features", "truncation_test"]  # fmt: skip

MAX_SINGLE_HIT_RATE = 0.60
MAX_SINGLE_CORR = 0.50
MIN_SINGLE_HIT_LOW = 0.53


def truncation_test(compute: Callable[[Mapping[str, np.ndarray]], Mapping[str, Any]], bars: Mapping[str, Any],
                    names: tuple[str, ...], n_cuts: int = 3) -> dict[str, Any]:
    """Run the truncation test at ``n_cuts`` evenly spaced cuts; raises :class:`LeakageError` naming the
    feature that changed."""
    n = len(bars["ts_event"])
    cuts = sorted({max(2, n * (k + 1) // (n_cuts + 1)) for k in range(n_cuts)})
    lookahead_probe(compute, bars, cuts, names)
    return {"passed": True, "cuts": cuts}


def single_feature_scores(ds: Dataset) -> list[dict[str, Any]]:
    """Per feature, on usable rows: median-split hit rate (best sign), the lower end of its overlap-aware
    95% interval, and the correlation with ``ret_bps``."""
    u = ds.usable
    y = ds.y[u]
    ret = ds.ret_bps[u]
    out = []
    for j, name in enumerate(ds.names):
        x = ds.X[u, j]
        hit = low = corr = math.nan
        if len(x) > 10 and np.ptp(x) > 0:
            hits = (x > np.median(x)) == (y == 1)
            h = float(np.mean(hits))
            hit = max(h, 1.0 - h)
            n_eff = len(hits) / variance_inflation(hits, ds.spec.horizon)
            low = hit - 1.96 * math.sqrt(hit * (1.0 - hit) / n_eff)
            c = np.corrcoef(x, ret)[0, 1]
            corr = float(c) if np.isfinite(c) else math.nan
        out.append({"feature": name, "single_hit_rate": hit, "single_hit_rate_low": low,
                    "corr_with_label_return": corr})
    return out


def suspect_features(scores: list[dict[str, Any]], max_hit: float = MAX_SINGLE_HIT_RATE,
                     max_corr: float = MAX_SINGLE_CORR, min_low: float = MIN_SINGLE_HIT_LOW) -> list[dict[str, Any]]:
    """The scores of features that predict the label implausibly well on their own."""
    bad = []
    for s in scores:
        h, c = s["single_hit_rate"], s["corr_with_label_return"]
        low = s.get("single_hit_rate_low", h)
        if (not math.isnan(h) and h >= max_hit and low >= min_low) or (not math.isnan(c) and abs(c) >= max_corr):
            bad.append(s)
    return bad


def describe(bad: list[dict[str, Any]]) -> str:
    parts = [f"feature {s['feature']!r} alone: hit rate {s['single_hit_rate']:.1%} (95% low "
             f"{s.get('single_hit_rate_low', s['single_hit_rate']):.1%}), correlation with the label "
             f"return {s['corr_with_label_return']:.2f}" for s in bad]  # fmt: skip
    return ("implausible single-feature skill, likely leakage: " + "; ".join(parts) +
            f" (limits: hit rate {MAX_SINGLE_HIT_RATE:.0%} with its 95% low at {MIN_SINGLE_HIT_LOW:.0%}, "
            f"|correlation| {MAX_SINGLE_CORR}); "
            "fix the feature or pass --allow-suspect")


def shuffled_control_verdict(ev: dict[str, Any]) -> dict[str, Any]:
    """Whether a shuffled-label evaluation sits at its baseline (its interval reaches the baseline)."""
    base = max(ev["baseline_hit_rate"], ev.get("test_majority_hit_rate", 0.0))
    ok = bool(ev["hit_rate_ci_low"] <= base) if not math.isnan(ev["hit_rate_ci_low"]) else True
    return {"hit_rate": ev["hit_rate"], "ci_low": ev["hit_rate_ci_low"], "ci_high": ev["hit_rate_ci_high"],
            "baseline_hit_rate": base, "at_baseline": ok}


def check(ok: bool, message: str) -> None:
    if not ok:
        raise LeakageError(message)
