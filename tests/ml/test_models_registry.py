"""Models, ensembles, confidence, Optuna inside folds, and the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.ml.helpers import synthetic
from tradingsystem.ml import (
    LabelSpec,
    ModelRegistry,
    ModelSpec,
    RegistryError,
    TuningSpec,
    build_dataset,
    fit_model,
    parse_ref,
    tune_member,
    walk_forward,
    wilson,
)
from tradingsystem.ml.splits import PurgedWalkForward

SMALL = {"random_forest": {"n_estimators": 20}, "lightgbm": {"n_estimators": 40}}


@pytest.fixture(scope="module")
def ds():
    bars, feats = synthetic(n_days=8, seed=11)
    return build_dataset(feats, bars, LabelSpec(horizon=5, threshold_bps=0.5))


def _usable(ds):
    u = ds.usable
    return ds.X[u], ds.y[u], ds.weight[u], ds.t0[u], ds.t1[u]


@pytest.mark.parametrize("kind", ["logistic", "random_forest", "lightgbm", "soft_voting", "hard_voting", "stacking"])
def test_every_kind_fits_and_scores_one_row_like_a_batch(ds, kind: str) -> None:
    X, y, w, t0, t1 = _usable(ds)
    n = int(len(y) * 0.8)
    m = fit_model(ModelSpec(kind=kind, params=SMALL), X[:n], y[:n], w[:n], ds.names, t0[:n], t1[:n])
    pred = m.predict(X[n:])
    assert np.all((pred.probability >= 0) & (pred.probability <= 1))
    assert np.all((pred.confidence >= 0) & (pred.confidence <= 1))
    assert set(np.unique(pred.direction)) <= {-1, 1}
    assert np.mean((pred.direction > 0) == (y[n:] == 1)) > 0.6  # the planted signal
    for i in range(0, len(y) - n, 97):  # bit-for-bit: one row alone equals its row in the batch
        d, p, c = m.predict_one(X[n + i])
        assert (d, p, c) == (pred.direction[i], pred.probability[i], pred.confidence[i])


def test_hard_voting_follows_the_majority_and_confidence_uses_agreement(ds) -> None:
    X, y, w, t0, t1 = _usable(ds)
    m = fit_model(ModelSpec(kind="hard_voting", params=SMALL), X, y, w, ds.names, t0, t1)
    P = np.column_stack([mem.prob(X[:, m.keep]) for mem in m.members])
    pred = m.predict(X)
    votes = (P > 0.5).sum(axis=1)
    assert np.array_equal(pred.direction, np.where(votes >= 2, 1, -1))
    assert np.allclose(pred.agreement, np.where(votes >= 2, votes, 3 - votes) / 3)
    assert np.allclose(pred.confidence, pred.agreement * np.abs(2 * pred.probability - 1))


def test_feature_selection_and_scaling_fit_on_training_rows_only(ds) -> None:
    X, y, w, _, _ = _usable(ds)
    m = fit_model(ModelSpec(kind="logistic", select_k=2), X[:500], y[:500], w[:500], ds.names)
    assert "sig" in m.info["kept_columns"] and len(m.keep) == 2
    assert np.allclose(m.members[0].mean, X[:500][:, m.keep].mean(axis=0))


def test_optuna_sees_only_training_rows(ds, monkeypatch) -> None:
    import tradingsystem.ml.walkforward as wfm

    seen: list[int] = []
    real = wfm.tune_member

    def spy(kind, X, y, w, t0, t1, spec, base=None):
        seen.append(int(t1.max()))
        return real(kind, X, y, w, t0, t1, spec, base)

    monkeypatch.setattr(wfm, "tune_member", spy)
    splitter = PurgedWalkForward(n_splits=2, embargo=5)
    res = walk_forward(ds, ModelSpec(kind="lightgbm", params=SMALL), splitter, TuningSpec(trials=2))
    firsts = [int(ds.t0[res.index[res.fold == k][0]]) for k in range(2)]
    assert len(seen) == 2 and all(s < f - 5 for s, f in zip(seen, firsts, strict=True))
    assert all("num_leaves" in f["params"]["lightgbm"] for f in res.folds)


def test_tune_member_is_seeded(ds) -> None:
    X, y, w, t0, t1 = _usable(ds)
    a = tune_member("logistic", X, y, w, t0, t1, TuningSpec(trials=3, seed=1))
    b = tune_member("logistic", X, y, w, t0, t1, TuningSpec(trials=3, seed=1))
    assert a == b


def test_registry_versions_load_and_hash_check(tmp_path, ds) -> None:
    X, y, w, _, _ = _usable(ds)
    m = fit_model(ModelSpec(kind="logistic", calibrate=False), X, y, w, ds.names)
    reg = ModelRegistry(tmp_path)
    c1 = reg.save("demo", m, {"note": "first"})
    c2 = reg.save("demo", m, {"note": "second"})
    assert (c1["version"], c2["version"]) == (1, 2) and c2["model_id"] == "demo:2"
    loaded, card = reg.load("demo")
    assert card["note"] == "second"
    assert np.array_equal(loaded.predict_proba(X), m.predict_proba(X))
    assert reg.load("demo:1")[1]["note"] == "first"
    (tmp_path / "demo" / "1" / "model.pkl").write_bytes(b"tampered")
    with pytest.raises(RegistryError, match="SHA-256"):
        reg.load("demo:1")
    with pytest.raises(RegistryError):
        reg.load("demo:9")
    with pytest.raises(RegistryError):
        parse_ref("bad name")


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson(55, 100)
    assert abs(lo - 0.4524) < 1e-3 and abs(hi - 0.6438) < 1e-3
    assert all(math.isnan(v) for v in wilson(0, 0))
