"""Leakage guards: look-ahead features are caught, timestamps are audited, shuffled labels score at baseline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.ml.helpers import synthetic
from tradingsystem.features import FeatureSet
from tradingsystem.ml import (
    LabelSpec,
    LeakageError,
    ModelSpec,
    TuningSpec,
    WalkForwardSpec,
    audit,
    build_dataset,
    lookahead_probe,
    train_and_evaluate,
)

SET = """
name: probe
features:
  ema_gap: ema(close, 9) - ema(close, 21)
  rsi_14: rsi(close, 14)
  zs: zscore(close, 30)
  rsi_15m: {expr: "rsi(close, 14)", timeframe: 15m}
"""


def _bars() -> dict:
    bars, _ = synthetic(n_days=3, seed=1)
    return {k: (np.round(v).astype(np.int64) if k in ("open", "high", "low", "close") else v)
            for k, v in bars.items()}  # fmt: skip


def test_honest_feature_set_passes_the_probe() -> None:
    fs = FeatureSet.from_yaml(SET)
    lookahead_probe(fs.compute, _bars())


def test_feature_peeking_one_bar_ahead_is_caught() -> None:
    fs = FeatureSet.from_yaml(SET)

    def peeking(bars):
        out = dict(fs.compute(bars))
        nxt = np.roll(np.asarray(bars["close"], dtype=float), -1)
        nxt[-1] = np.nan  # the last row cannot see the future, every other row does
        out["next_close"] = nxt
        return out

    with pytest.raises(LeakageError, match="next_close"):
        lookahead_probe(peeking, _bars())


def test_audit_rejects_a_feature_stamped_after_its_decision() -> None:
    bars, feats = synthetic(n_days=2)
    ds = build_dataset(feats, bars, LabelSpec(horizon=5, threshold_bps=0))
    late = replace(ds, ts_feature=ds.ts_feature + np.where(np.arange(len(ds)) == 10, 1, 0))
    with pytest.raises(LeakageError, match="row 10"):
        audit(late)
    early_label = replace(ds, ts_end=ds.ts.copy())
    with pytest.raises(LeakageError):
        audit(early_label)


def test_labels_never_cross_the_session() -> None:
    bars, feats = synthetic(n_days=3)
    ds = build_dataset(feats, bars, LabelSpec(horizon=5, threshold_bps=0))
    day = (ds.ts - 3 * 3600 * 10**9) // (86_400 * 10**9)
    day_end = (ds.ts_end - 1 - 3 * 3600 * 10**9) // (86_400 * 10**9)
    assert np.array_equal(day, day_end)


FAST = ModelSpec(kind="logistic", calibrate=True)


def test_planted_signal_is_found_and_shuffled_labels_score_at_baseline() -> None:
    bars, feats = synthetic(n_days=25, seed=5)
    ds = build_dataset(feats, bars, LabelSpec(horizon=5, threshold_bps=0.5))
    wf = WalkForwardSpec(n_splits=3)
    real = train_and_evaluate(ds, FAST, wf, TuningSpec(), fit_final_model=False).evaluation
    shuffled = train_and_evaluate(ds, FAST, wf, TuningSpec(), shuffle_labels=True, fit_final_model=False).evaluation
    assert real["hit_rate_ci_low"] > 0.6  # the planted signal is real and found out of sample
    # the control: its interval contains the majority-class baseline (no skill, no leak)
    assert shuffled["hit_rate_ci_low"] <= max(shuffled["baseline_hit_rate"], 0.5) <= shuffled["hit_rate_ci_high"]
    assert abs(shuffled["hit_rate"] - 0.5) < 0.04
