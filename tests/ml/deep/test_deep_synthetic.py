"""Sequence models on a synthetic market with a known lag: they learn it, they do not learn shuffled labels,
no fold reads past its test start, and a window never reads a row after its decision."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.ml.deep.helpers import LAG, lagged, tiny
from tradingsystem.ml import PurgedWalkForward, WalkForwardSpec
from tradingsystem.ml.deep import DEEP_KINDS, DeepSpec, deep_walk_forward, fit_deep, train_and_evaluate_deep
from tradingsystem.ml.deep.nets import build_net, last_step_form
from tradingsystem.ml.deep.train import TRACED_KINDS


@pytest.fixture(scope="module")
def market():
    return lagged()


@pytest.mark.parametrize("kind", DEEP_KINDS)
def test_learns_a_signal_seen_lag_bars_earlier_and_not_shuffled_labels(market, kind: str) -> None:
    ds, seq, _, _ = market
    spec = tiny(kind, lr=1e-2, epochs=10)
    wf = WalkForwardSpec(n_splits=2)
    ev = train_and_evaluate_deep(ds, seq, spec, wf, fit_final_model=False).evaluation
    assert ev["n_predictions"] > 1000
    assert ev["hit_rate_ci_low"] > 0.55, ev["hit_rate"]  # chance is 50%; the planted edge allows ~75%
    shuffled = train_and_evaluate_deep(ds, seq, spec.model_copy(update={"epochs": 4}), wf, shuffle_labels=True,
                                       fit_final_model=False).evaluation  # fmt: skip
    assert shuffled["hit_rate_ci_low"] < 0.5 < shuffled["hit_rate_ci_high"], shuffled["hit_rate"]


def test_no_fold_reads_data_from_its_test_start_on(market) -> None:
    ds, seq, _, _ = market
    spec = tiny("tcn", epochs=2)
    splitter = PurgedWalkForward(n_splits=3, embargo=1)
    res, _ = deep_walk_forward(ds, seq, spec, splitter)
    for f in res.folds:
        assert f["last_input_ts"] < f["test_start_ts"] and f["last_label_end_ts"] < f["test_start_ts"]
    # the strong form: garbage from the test start on leaves the fold's training bit for bit unchanged
    first = next(splitter.split(ds.t0, ds.t1))[1][0]
    later = seq.ts >= ds.ts[first]
    F = seq.F.copy()
    F[later] = np.random.default_rng(0).normal(scale=50.0, size=F[later].shape)
    one = PurgedWalkForward(n_splits=1, test_size=len(ds) - first, embargo=1)
    _, clean = deep_walk_forward(ds, seq, spec, one)
    _, dirty = deep_walk_forward(ds, replace(seq, F=F), spec, one)
    assert clean.onnx == dirty.onnx and clean.info["history"] == dirty.info["history"]


@pytest.mark.parametrize("kind", DEEP_KINDS)
def test_a_window_ends_at_its_decision_row_and_live_equals_offline(market, kind: str) -> None:
    ds, seq, _, _ = market
    rows = np.flatnonzero(ds.usable)[:600]
    j = seq.rows(ds.ts_feature[rows])
    model = fit_deep(tiny(kind, epochs=1), seq, j, ds.y[rows], ds.weight[rows], ds.t0[rows], ds.t1[rows])
    assert bool(model.script) == (kind in TRACED_KINDS)  # batches on the TorchScript trace, live on ONNX Runtime
    probe = np.arange(700, 760)
    base = model.predict_rows(seq, probe).probability
    F = seq.F.copy()
    F[probe[-1] + 1 :] += 100.0  # rows after the last probed decision
    assert np.array_equal(model.predict_rows(replace(seq, F=F), probe).probability, base)
    F[probe[0] - LAG] += 1.0  # a row inside the windows does move them
    assert not np.array_equal(model.predict_rows(replace(seq, F=F), probe).probability, base)
    # live: one row at a time from the start; None while the window fills, then the offline numbers
    offline = model.predict_rows(seq, np.arange(800)).probability
    live = [model.predict_one(x) for x in seq.F[:800]]
    w = model.spec.window
    assert all(v is None for v in live[: w - 1])
    np.testing.assert_allclose([v[1] for v in live[w - 1 :]], offline[w - 1 :], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", DEEP_KINDS)
@pytest.mark.parametrize("size", [{}, {"window": 20, "kernel": 2, "hidden": 8}, {"window": 8, "patch": 2, "heads": 2}])
def test_the_batch_form_of_a_network_gives_the_training_networks_numbers(kind: str, size: dict) -> None:
    torch.manual_seed(3)
    spec = DeepSpec.model_validate({"kind": kind, **size})
    net = build_net(spec, 5).eval()
    x = 3 * torch.randn(300, spec.window, 5)
    with torch.inference_mode():
        np.testing.assert_allclose(last_step_form(net)(x).numpy(), net(x).numpy(), rtol=0, atol=2e-6)
