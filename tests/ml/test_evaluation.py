"""Evaluation document: P&L after costs without overlapping trades, verdicts, report."""

from __future__ import annotations

import numpy as np

from tests.ml.helpers import synthetic
from tradingsystem.ml import LabelSpec, build_dataset, evaluate, html_report, pnl_after_costs, verdict


def test_pnl_takes_one_position_at_a_time_and_pays_the_round_trip() -> None:
    bars, feats = synthetic(n_days=2, seed=2)
    ds = build_dataset(feats, bars, LabelSpec(horizon=10, fee_bps=2.3, spread_bps=5.0))
    up = np.ones(len(ds), dtype=np.int64)
    p = pnl_after_costs(ds, up, np.ones(len(ds)))
    assert p["cost_bps_per_trade"] == 9.6
    assert np.isclose(p["gross_bps_total"] - p["net_bps_total"], 9.6 * p["trades"])
    # every trade starts at or after the previous one's exit; one per 10 bars or so
    assert 0.8 * len(ds) / 10 < p["trades"] <= len(ds) / 10 + 2


def test_verdicts_use_the_interval() -> None:
    assert verdict(0.60, 0.56, 0.64, 0.55).startswith("clears 55%")
    assert verdict(0.56, 0.53, 0.59, 0.55).startswith("not shown to clear 55%")
    assert verdict(0.51, 0.50, 0.52, 0.55).startswith("does not clear 55%")


def test_evaluation_keys_and_self_contained_report() -> None:
    bars, feats = synthetic(n_days=3, seed=4)
    ds = build_dataset(feats, bars, LabelSpec(horizon=5, threshold_bps=1))
    rng = np.random.default_rng(0)
    p = rng.random(len(ds))
    ev = evaluate(ds, np.where(p > 0.5, 1, -1), p, np.abs(2 * p - 1), 1)
    for k in ("hit_rate", "hit_rate_ci_low", "hit_rate_ci_high", "n_predictions", "baseline_hit_rate",
              "persistence_hit_rate", "coverage", "hit_rate_by_confidence", "hit_rate_by_hour", "log_loss", "brier",
              "pnl_after_costs"):  # fmt: skip
        assert k in ev
    assert ev["n_predictions"] == int(ds.usable.sum())
    assert abs(ev["hit_rate"] - 0.5) < 0.05  # random calls score at chance
    page = html_report(ev, "t")
    assert page.count("<svg") == 4 and "<script" not in page
