"""Ensembles mixing classical and sequence members on the synthetic market with a known lag: the stacker
learns to lean on the member that can see the lag, fits on out-of-sample member predictions only, no fold
reads past its test start, live equals offline and a pickled model predicts identically."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tests.ml.deep.helpers import lagged, tiny
from tradingsystem.ml import ModelSpec, WalkForwardSpec, fit_model
from tradingsystem.ml.deep import fit_mixed, train_and_evaluate_mixed


def _spec(kind: str = "stacking", **deep: object) -> ModelSpec:
    lstm = tiny("lstm", **{"lr": 1e-2, "epochs": 6, **deep}).model_dump(exclude={"kind"})
    return ModelSpec(kind=kind, members=("logistic", "lightgbm", "lstm"),  # type: ignore[arg-type]
                     params={"lightgbm": {"n_estimators": 30}, "lstm": lstm})  # fmt: skip


@pytest.fixture(scope="module")
def market():
    return lagged(n_days=5)


@pytest.fixture(scope="module")
def fitted(market):
    ds, seq, _, _ = market
    rows = np.flatnonzero(ds.usable)
    rows = rows[seq.rows(ds.ts_feature[rows]) >= 7][:1200]
    d = ds.take(rows)
    return fit_mixed(_spec(), seq, seq.rows(d.ts_feature), d.X, d.y, d.weight, d.t0, d.t1, ds.names), rows


def test_the_sequence_member_gives_the_ensemble_the_skill_its_classical_members_lack(market, fitted) -> None:
    ds, seq, _, _ = market
    model, rows = fitted
    later = np.flatnonzero(ds.usable & (ds.t0 > ds.t1[rows].max() + 5))  # rows after the training window
    mixed = model.predict_rows(seq, seq.rows(ds.ts_feature[later]))
    d = ds.take(rows)
    classical = fit_model(ModelSpec(kind="stacking", members=("logistic", "lightgbm"),
                                    params={"lightgbm": {"n_estimators": 30}}), d.X, d.y, d.weight, ds.names,
                          d.t0, d.t1).predict(ds.X[later])  # fmt: skip
    y = np.where(ds.y[later] == 1, 1, -1)
    # the label depends on a feature 5 bars back: only the LSTM's window holds it
    hit_mixed, hit_classical = np.mean(mixed.direction == y), np.mean(classical.direction == y)
    assert hit_mixed > 0.56 and hit_mixed - hit_classical > 0.04, (hit_mixed, hit_classical)


def test_walk_forward_learns_the_lag_not_shuffled_labels_and_reads_nothing_after_a_test_start(market) -> None:
    ds, seq, _, _ = market
    wf = WalkForwardSpec(n_splits=2)
    res = train_and_evaluate_mixed(ds, seq, _spec(), wf, fit_final_model=False)
    ev = res.evaluation
    assert ev["model_kind"] == "stacking" and ev["n_predictions"] > 800
    assert ev["hit_rate_ci_low"] > 0.52, ev["hit_rate"]  # chance is 50%
    for f in res.folds:
        assert f["last_input_ts"] < f["test_start_ts"] and f["last_label_end_ts"] < f["test_start_ts"]
        assert set(f["members"]) == {"lstm"} and f["members"]["lstm"]["device"] == "cpu"
    shuffled = train_and_evaluate_mixed(ds, seq, _spec(epochs=3), wf, shuffle_labels=True,
                                        fit_final_model=False).evaluation  # fmt: skip
    assert shuffled["hit_rate_ci_low"] < 0.5 < shuffled["hit_rate_ci_high"], shuffled["hit_rate"]


def test_live_rows_equal_offline_and_a_pickled_model_predicts_the_same(market, fitted) -> None:
    _, seq, _, _ = market
    model, _ = fitted
    j = np.arange(1300, 1500)
    offline = model.predict_rows(seq, j)
    model.reset()
    live = [model.predict_one(x) for x in seq.F[j[0] - 7 : j[-1] + 1]]
    assert all(o is None for o in live[:7])  # the LSTM's window (8 rows) is still filling
    got = np.array([o[1] for o in live[7:] if o is not None])
    np.testing.assert_allclose(got, offline.probability, rtol=0, atol=1e-6)
    assert [o[0] for o in live[7:] if o is not None] == offline.direction.tolist()
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_rows(seq, j).probability, offline.probability)


def test_classical_fit_refuses_sequence_members_and_bad_member_settings_fail_plainly(market) -> None:
    ds, seq, _, _ = market
    with pytest.raises(ValueError, match="read windows of rows"):
        fit_model(_spec(), ds.X[:100], ds.y[:100].clip(0), ds.weight[:100], ds.names)
    with pytest.raises(ValueError, match="appears twice"):
        fit_mixed(ModelSpec(members=("lstm", "lstm")), seq, np.arange(50), ds.X[:50],  # type: ignore[arg-type]
                  ds.y[:50], ds.weight[:50], ds.t0[:50], ds.t1[:50], ds.names)  # fmt: skip
    with pytest.raises(ValueError, match="window"):
        fit_mixed(ModelSpec(members=("lstm",), params={"lstm": {"window": 1}}), seq,  # type: ignore[arg-type]
                  np.arange(50), ds.X[:50], ds.y[:50], ds.weight[:50], ds.t0[:50], ds.t1[:50], ds.names)  # fmt: skip
