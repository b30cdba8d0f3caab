"""Walk-forward training: tune and fit inside each purged fold, predict its test window out of sample.

Every prediction in :class:`WalkForwardResult` comes from a model fitted (scaling, column selection,
tuning, calibration included) on rows whose labels end before that window, less the embargo.
``shuffle_labels`` permutes the training labels of every fold (the shuffled-label control).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tradingsystem.ml.dataset import Dataset
from tradingsystem.ml.metrics import hit_rate, log_loss_brier
from tradingsystem.ml.models import SEQUENCE_MEMBERS, ModelSpec, Prediction, SignalModel, _select, fit_model
from tradingsystem.ml.splits import PurgedWalkForward
from tradingsystem.ml.tuning import TuningSpec, tune_member

__all__ = ["WalkForwardResult", "collect", "fit_final", "fold_record", "tuned_spec", "walk_forward"]


@dataclass
class WalkForwardResult:
    """Out-of-sample predictions (rows ``index`` of the dataset) and one metrics dict per fold."""

    index: np.ndarray
    fold: np.ndarray
    direction: np.ndarray
    probability: np.ndarray
    confidence: np.ndarray
    train_majority: np.ndarray  # majority class (1 up, 0 down) of each row's training fold
    folds: list[dict[str, Any]] = field(default_factory=list)
    last_params: dict[str, dict[str, Any]] = field(default_factory=dict)


def tuned_spec(spec: ModelSpec, tuning: TuningSpec, ds: Dataset, train: np.ndarray) -> tuple[ModelSpec, dict[str, Any]]:
    """``spec`` with each member's parameters tuned on the rows ``train`` only."""
    if tuning.trials == 0:
        return spec, {}
    X, y, w = ds.X[train], ds.y[train], ds.weight[train]
    keep = _select(X, y, w, spec.select_k)
    params = dict(spec.params)
    scores: dict[str, Any] = {}
    for kind in spec.member_kinds:
        if kind in SEQUENCE_MEMBERS:  # sequence members keep their given settings
            continue
        best, loss = tune_member(kind, X[:, keep], y, w, ds.t0[train], ds.t1[train], tuning, params.get(kind))
        params[kind] = best
        scores[kind] = loss
    return spec.model_copy(update={"params": params}), scores


def _iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "Z"


def walk_forward(ds: Dataset, spec: ModelSpec, splitter: PurgedWalkForward, tuning: TuningSpec | None = None,
                 shuffle_labels: bool = False) -> WalkForwardResult:  # fmt: skip
    """Run the walk-forward; see the module docstring."""
    tuning = tuning or TuningSpec()
    rng = np.random.default_rng(spec.seed)
    parts: list[tuple[np.ndarray, int, Any, np.ndarray]] = []
    folds: list[dict[str, Any]] = []
    last: dict[str, dict[str, Any]] = {}
    for k, (train_all, test) in enumerate(splitter.split(ds.t0, ds.t1)):
        train = train_all[ds.y[train_all] >= 0]
        y_train = ds.y[train].copy()
        if shuffle_labels:
            y_train = rng.permutation(y_train)
        sub = replace(ds.take(train), y=y_train)
        fold_spec, losses = tuned_spec(spec, tuning, sub, np.arange(len(train)))
        model: SignalModel = fit_model(fold_spec, sub.X, sub.y, sub.weight, ds.names, sub.t0, sub.t1)
        pred = model.predict(ds.X[test])
        majority = int(np.average(y_train, weights=sub.weight) >= 0.5)
        parts.append((test, k, pred, np.full(len(test), majority)))
        folds.append(fold_record(ds, k, train, test, pred, majority,
                                 {"params": fold_spec.params, "tuning_val_log_loss": losses}))  # fmt: skip
        last = dict(fold_spec.params)
    return collect(parts, folds, last)


def fold_record(ds: Dataset, k: int, train: np.ndarray, test: np.ndarray, pred: Prediction, majority: int,
                extra: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """One fold's windows and out-of-sample scores (the ``folds`` entries of a result)."""
    u = ds.y[test] >= 0
    yt = ds.y[test][u]
    ll, brier = log_loss_brier(yt, pred.probability[u])
    return {
        "fold": k, "n_train": len(train), "n_test": int(u.sum()), "n_test_rows": len(test),
        "train_start": _iso(int(ds.ts[train[0]])), "train_end": _iso(int(ds.ts_end[train].max())),
        "test_start": _iso(int(ds.ts[test[0]])), "test_end": _iso(int(ds.ts[test[-1]])),
        "hit_rate": hit_rate(pred.direction[u], yt), "baseline_hit_rate": float(np.mean(yt == majority)),
        "log_loss": ll, "brier": brier, **extra,
    }  # fmt: skip


def collect(parts: list[tuple[np.ndarray, int, Any, np.ndarray]], folds: list[dict[str, Any]],
            last: dict[str, dict[str, Any]]) -> WalkForwardResult:  # fmt: skip
    """Join per-fold ``(test rows, fold, prediction, train majority)`` parts into one result."""
    idx = np.concatenate([p[0] for p in parts])
    return WalkForwardResult(
        index=idx, fold=np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
        direction=np.concatenate([p[2].direction for p in parts]),
        probability=np.concatenate([p[2].probability for p in parts]),
        confidence=np.concatenate([p[2].confidence for p in parts]),
        train_majority=np.concatenate([p[3] for p in parts]), folds=folds, last_params=last,
    )  # fmt: skip


def fit_final(ds: Dataset, spec: ModelSpec, tuning: TuningSpec | None = None) -> SignalModel:
    """The model to deploy: tuned on and fitted to every row of ``ds``."""
    d = ds.take(np.flatnonzero(ds.usable))
    fspec, _ = tuned_spec(spec, tuning or TuningSpec(), d, np.arange(len(d)))
    return fit_model(fspec, d.X, d.y, d.weight, d.names, d.t0, d.t1)
