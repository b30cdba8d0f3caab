"""Deep models in the same purged, embargoed walk-forward as the classical ones.

The folds come from the same :class:`~tradingsystem.ml.splits.PurgedWalkForward` on the same dataset
rows; each fold's scaler, network and early stopping see only its training rows (and of the sequence,
only rows up to the last of them). Every fold records ``last_input_ts`` and ``last_label_end_ts`` and
raises :class:`~tradingsystem.ml.dataset.LeakageError` unless both are before its test start.
Training rows whose window would start before the first sequence row are left out (test rows are
scored with a padded window instead; with the test windows in the last half of the data there are none).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tradingsystem.ml.dataset import Dataset, LeakageError
from tradingsystem.ml.deep.data import Sequences
from tradingsystem.ml.deep.model import DeepSignalModel
from tradingsystem.ml.deep.spec import DeepSpec
from tradingsystem.ml.deep.train import Progress, fit_deep
from tradingsystem.ml.pipeline import TrainResult, WalkForwardSpec, summarise
from tradingsystem.ml.splits import PurgedWalkForward
from tradingsystem.ml.walkforward import WalkForwardResult, collect, fold_record

__all__ = ["deep_walk_forward", "fit_final_deep", "train_and_evaluate_deep"]


def _fit(spec: DeepSpec, ds: Dataset, seq: Sequences, j_all: np.ndarray, rows: np.ndarray, y: np.ndarray,
         progress: Progress | None, fold: int | None) -> DeepSignalModel:  # fmt: skip
    return fit_deep(spec, seq, j_all[rows], y, ds.weight[rows], ds.t0[rows], ds.t1[rows], progress, fold)


def deep_walk_forward(ds: Dataset, seq: Sequences, spec: DeepSpec, splitter: PurgedWalkForward,
                      shuffle_labels: bool = False, progress: Progress | None = None,
                      ) -> tuple[WalkForwardResult, DeepSignalModel]:  # fmt: skip
    """Out-of-sample predictions of ``spec`` on every test window, and the last fold's model."""
    j_all = seq.rows(ds.ts_feature)
    rng = np.random.default_rng(spec.seed)
    parts: list[tuple[np.ndarray, int, Any, np.ndarray]] = []
    folds: list[dict[str, Any]] = []
    model: DeepSignalModel | None = None
    for k, (train_all, test) in enumerate(splitter.split(ds.t0, ds.t1)):
        train = train_all[(ds.y[train_all] >= 0) & seq.complete(j_all[train_all], spec.window)]
        y_train = ds.y[train].copy()
        if shuffle_labels:
            y_train = rng.permutation(y_train)
        model = _fit(spec, ds, seq, j_all, train, y_train, progress, k)
        test_start = int(ds.ts[test[0]])
        last_input, last_label = int(model.info["last_input_ts"]), int(ds.ts_end[train].max())
        if last_input >= test_start or last_label >= test_start:
            raise LeakageError(f"fold {k}: training reads data at {max(last_input, last_label)}, "
                               f"not before its test start {test_start}")  # fmt: skip
        pred = model.predict_rows(seq, j_all[test])
        majority = int(np.average(y_train, weights=ds.weight[train]) >= 0.5)
        parts.append((test, k, pred, np.full(len(test), majority)))
        folds.append(fold_record(ds, k, train, test, pred, majority, {
            "params": spec.model_dump(), "last_input_ts": last_input, "last_label_end_ts": last_label,
            "test_start_ts": test_start, **{key: model.info[key] for key in
                                            ("best_epoch", "epochs_run", "val_log_loss", "train_seconds", "device")},
        }))  # fmt: skip
    assert model is not None
    return collect(parts, folds, {}), model


def fit_final_deep(ds: Dataset, seq: Sequences, spec: DeepSpec, progress: Progress | None = None) -> DeepSignalModel:
    """The model to deploy: trained on every usable row (its own validation tail for early stopping)."""
    j_all = seq.rows(ds.ts_feature)
    rows = np.flatnonzero(ds.usable & seq.complete(j_all, spec.window))
    return _fit(spec, ds, seq, j_all, rows, ds.y[rows], progress, None)


def train_and_evaluate_deep(ds: Dataset, seq: Sequences, spec: DeepSpec, wf: WalkForwardSpec,
                            shuffle_labels: bool = False, fit_final_model: bool = True,
                            progress: Progress | None = None) -> TrainResult:  # fmt: skip
    """:func:`~tradingsystem.ml.pipeline.train_and_evaluate` for a sequence model."""
    res, _ = deep_walk_forward(ds, seq, spec, wf.splitter(ds.spec), shuffle_labels, progress)
    final = fit_final_deep(ds, seq, spec, progress) if fit_final_model else None
    return summarise(ds, res, spec.kind, final)
