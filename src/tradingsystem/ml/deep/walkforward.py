"""Deep models (and ensembles with sequence members) in the same purged, embargoed walk-forward as the
classical ones.

The folds come from the same :class:`~tradingsystem.ml.splits.PurgedWalkForward` on the same dataset
rows; each fold's scaler, network and early stopping see only its training rows (and of the sequence,
only rows up to the last of them). Every fold records ``last_input_ts`` and ``last_label_end_ts`` and
raises :class:`~tradingsystem.ml.dataset.LeakageError` unless both are before its test start.
Training rows whose window would start before the first sequence row are left out (test rows are
scored with a padded window instead; with the test windows in the last half of the data there are none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from tradingsystem.ml.dataset import Dataset, LeakageError
from tradingsystem.ml.deep.data import Sequences
from tradingsystem.ml.deep.ensemble import MixedSignalModel, fit_mixed, member_specs
from tradingsystem.ml.deep.model import DeepSignalModel
from tradingsystem.ml.deep.spec import DeepSpec
from tradingsystem.ml.deep.train import Progress, fit_deep
from tradingsystem.ml.models import ModelSpec
from tradingsystem.ml.pipeline import TrainResult, WalkForwardSpec, summarise
from tradingsystem.ml.splits import PurgedWalkForward
from tradingsystem.ml.tuning import TuningSpec
from tradingsystem.ml.walkforward import WalkForwardResult, collect, fold_record, tuned_spec

__all__ = [
    "deep_walk_forward", "fit_final_deep", "fit_final_mixed", "mixed_walk_forward", "train_and_evaluate_deep",
    "train_and_evaluate_mixed",
]  # fmt: skip

Model = DeepSignalModel | MixedSignalModel
# fit(training rows, their labels, fold) -> (model, the fold record's extra entries)
FitFold = Callable[[np.ndarray, np.ndarray, int], tuple[Model, dict[str, Any]]]


def _fit(spec: DeepSpec, ds: Dataset, seq: Sequences, j_all: np.ndarray, rows: np.ndarray, y: np.ndarray,
         progress: Progress | None, fold: int | None) -> DeepSignalModel:  # fmt: skip
    return fit_deep(spec, seq, j_all[rows], y, ds.weight[rows], ds.t0[rows], ds.t1[rows], progress, fold)


def _walk(ds: Dataset, seq: Sequences, window: int, splitter: PurgedWalkForward, fit: FitFold, shuffle_labels: bool,
          seed: int) -> tuple[WalkForwardResult, Model]:  # fmt: skip
    """The fold loop shared by single sequence models and mixed ensembles (``window``: the longest)."""
    j_all = seq.rows(ds.ts_feature)
    rng = np.random.default_rng(seed)
    parts: list[tuple[np.ndarray, int, Any, np.ndarray]] = []
    folds: list[dict[str, Any]] = []
    model: Model | None = None
    last: dict[str, dict[str, Any]] = {}
    for k, (train_all, test) in enumerate(splitter.split(ds.t0, ds.t1)):
        train = train_all[(ds.y[train_all] >= 0) & seq.complete(j_all[train_all], window)]
        y_train = ds.y[train].copy()
        if shuffle_labels:
            y_train = rng.permutation(y_train)
        model, extra = fit(train, y_train, k)
        test_start = int(ds.ts[test[0]])
        last_input, last_label = int(model.info["last_input_ts"]), int(ds.ts_end[train].max())
        if last_input >= test_start or last_label >= test_start:
            raise LeakageError(f"fold {k}: training reads data at {max(last_input, last_label)}, "
                               f"not before its test start {test_start}")  # fmt: skip
        pred = model.predict_rows(seq, j_all[test])
        majority = int(np.average(y_train, weights=ds.weight[train]) >= 0.5)
        parts.append((test, k, pred, np.full(len(test), majority)))
        folds.append(fold_record(ds, k, train, test, pred, majority, {
            "last_input_ts": last_input, "last_label_end_ts": last_label, "test_start_ts": test_start, **extra}))
        last = dict(extra.get("params", {})) if isinstance(model, MixedSignalModel) else {}
    assert model is not None
    return collect(parts, folds, last), model


def deep_walk_forward(ds: Dataset, seq: Sequences, spec: DeepSpec, splitter: PurgedWalkForward,
                      shuffle_labels: bool = False, progress: Progress | None = None,
                      ) -> tuple[WalkForwardResult, DeepSignalModel]:  # fmt: skip
    """Out-of-sample predictions of ``spec`` on every test window, and the last fold's model."""
    j_all = seq.rows(ds.ts_feature)

    def fit(train: np.ndarray, y: np.ndarray, k: int) -> tuple[Model, dict[str, Any]]:
        m = _fit(spec, ds, seq, j_all, train, y, progress, k)
        keys = ("best_epoch", "epochs_run", "val_log_loss", "train_seconds", "device")
        return m, {"params": spec.model_dump(), **{key: m.info[key] for key in keys}}

    res, model = _walk(ds, seq, spec.window, splitter, fit, shuffle_labels, spec.seed)
    assert isinstance(model, DeepSignalModel)
    return res, model


def mixed_walk_forward(ds: Dataset, seq: Sequences, spec: ModelSpec, splitter: PurgedWalkForward,
                       tuning: TuningSpec | None = None, shuffle_labels: bool = False,
                       progress: Progress | None = None) -> tuple[WalkForwardResult, MixedSignalModel]:  # fmt: skip
    """:func:`deep_walk_forward` for an ensemble with sequence members; classical members are tuned
    inside each fold as in :func:`~tradingsystem.ml.walkforward.walk_forward`."""
    window = max(s.window for s in member_specs(spec).values())
    j_all = seq.rows(ds.ts_feature)
    tuning = tuning or TuningSpec()

    def fit(train: np.ndarray, y: np.ndarray, k: int) -> tuple[Model, dict[str, Any]]:
        sub = replace(ds.take(train), y=y)
        fold_spec, losses = tuned_spec(spec, tuning, sub, np.arange(len(train)))
        m = fit_mixed(fold_spec, seq, j_all[train], sub.X, y, sub.weight, sub.t0, sub.t1, ds.names, progress, k)
        return m, {"params": fold_spec.params, "tuning_val_log_loss": losses, "members": m.info["members"]}

    res, model = _walk(ds, seq, window, splitter, fit, shuffle_labels, spec.seed)
    assert isinstance(model, MixedSignalModel)
    return res, model


def fit_final_deep(ds: Dataset, seq: Sequences, spec: DeepSpec, progress: Progress | None = None) -> DeepSignalModel:
    """The model to deploy: trained on every usable row (its own validation tail for early stopping)."""
    j_all = seq.rows(ds.ts_feature)
    rows = np.flatnonzero(ds.usable & seq.complete(j_all, spec.window))
    return _fit(spec, ds, seq, j_all, rows, ds.y[rows], progress, None)


def fit_final_mixed(ds: Dataset, seq: Sequences, spec: ModelSpec, progress: Progress | None = None
                    ) -> MixedSignalModel:  # fmt: skip
    """The mixed ensemble to deploy, fitted on every usable row whose windows are complete."""
    window = max(s.window for s in member_specs(spec).values())
    j_all = seq.rows(ds.ts_feature)
    rows = np.flatnonzero(ds.usable & seq.complete(j_all, window))
    d = ds.take(rows)
    return fit_mixed(spec, seq, j_all[rows], d.X, d.y, d.weight, d.t0, d.t1, ds.names, progress, None)


def train_and_evaluate_deep(ds: Dataset, seq: Sequences, spec: DeepSpec, wf: WalkForwardSpec,
                            shuffle_labels: bool = False, fit_final_model: bool = True,
                            progress: Progress | None = None) -> TrainResult:  # fmt: skip
    """:func:`~tradingsystem.ml.pipeline.train_and_evaluate` for a sequence model."""
    res, _ = deep_walk_forward(ds, seq, spec, wf.splitter(ds.spec), shuffle_labels, progress)
    final = fit_final_deep(ds, seq, spec, progress) if fit_final_model else None
    return summarise(ds, res, spec.kind, final)


def train_and_evaluate_mixed(ds: Dataset, seq: Sequences, spec: ModelSpec, wf: WalkForwardSpec,
                             tuning: TuningSpec | None = None, shuffle_labels: bool = False,
                             fit_final_model: bool = True, progress: Progress | None = None,
                             ) -> TrainResult:  # fmt: skip
    """:func:`~tradingsystem.ml.pipeline.train_and_evaluate` for an ensemble with sequence members
    (the final fit takes the last fold's tuned parameters)."""
    res, _ = mixed_walk_forward(ds, seq, spec, wf.splitter(ds.spec), tuning, shuffle_labels, progress)
    final_spec = spec.model_copy(update={"params": res.last_params or spec.params})
    final = fit_final_mixed(ds, seq, final_spec, progress) if fit_final_model else None
    return summarise(ds, res, spec.kind, final)
