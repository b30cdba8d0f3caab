"""Ensembles mixing classical and sequence members: ``soft_voting``, ``hard_voting`` or ``stacking`` of
e.g. ``[logistic, lightgbm, lstm]`` (``ModelSpec.members``; a sequence member's settings are
``DeepSpec`` fields in ``ModelSpec.params``).

The classical members score the decision bar's feature row, a sequence member the window of rows ending
there (:mod:`tradingsystem.ml.deep.data`); the combination is the classical ensemble's
(:class:`~tradingsystem.ml.models.SignalModel`: the members' probabilities in spec order, then the
stacker or the Platt-calibrated vote). Fitting follows :func:`~tradingsystem.ml.models.fit_model`:
members fit on the head of the training rows score the purged tail, which is all the stacker or
calibrator sees (out-of-sample member predictions only), then every member is refitted on all rows.

Live the model feeds every row to each sequence member and answers None until the longest window is
full; offline it scores windows of the feature sequence, the same numbers to float32 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import ValidationError

from tradingsystem.ml.deep.data import Sequences
from tradingsystem.ml.deep.model import DeepSignalModel
from tradingsystem.ml.deep.spec import DeepSpec
from tradingsystem.ml.deep.train import Progress, fit_deep
from tradingsystem.ml.models import (
    ModelSpec,
    Prediction,
    SignalModel,
    _select,
    calibration_split,
    fit_combiner,
    fit_member,
)

__all__ = ["MixedSignalModel", "fit_mixed", "member_spec", "member_specs"]


def member_spec(kind: str, params: dict[str, Any]) -> DeepSpec:
    """The :class:`DeepSpec` of sequence member ``kind`` from its ``params``; a bad setting is a one-line error."""
    try:
        return DeepSpec.model_validate({**params, "kind": kind})
    except ValidationError as exc:
        e = exc.errors()[0]
        raise ValueError(f"model.params.{kind}.{'.'.join(map(str, e['loc']))}: {e['msg']}") from None


def member_specs(spec: ModelSpec) -> dict[str, DeepSpec]:
    """Each sequence member's :class:`DeepSpec` (its ``params`` entry plus the kind)."""
    if len(set(spec.sequence_members)) < len(spec.sequence_members):
        raise ValueError(f"a sequence member kind appears twice in {list(spec.members)}")
    return {k: member_spec(k, spec.params.get(k, {})) for k in spec.sequence_members}


@dataclass
class MixedSignalModel:
    """See the module docstring. ``base`` holds the classical members, column selection and combiner."""

    spec: ModelSpec
    names: tuple[str, ...]
    base: SignalModel
    deep: list[DeepSignalModel]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def window(self) -> int:
        return max(d.spec.window for d in self.deep)

    def _assemble(self, classical: np.ndarray, deep: list[np.ndarray]) -> np.ndarray:
        cols, c, d = [], iter(classical.T), iter(deep)
        for k in self.spec.member_kinds:
            cols.append(next(d) if k in self.spec.sequence_members else next(c))
        return np.column_stack(cols)

    def predict_rows(self, seq: Sequences, j: np.ndarray) -> Prediction:
        """Predictions at sequence rows ``j`` (windows read only rows ``<= j``)."""
        X = seq.F[np.asarray(j)][:, [seq.names.index(n) for n in self.names]]
        P = self._assemble(self.base._member_probs(X), [d.predict_rows(seq, j).probability for d in self.deep])
        return self.base.from_member_probs(P)

    def predict(self, X: np.ndarray) -> Prediction:
        """Predictions at every row of ``X``, read as the consecutive rows a live model would be fed."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        return self.predict_rows(Sequences(self.names, np.arange(len(X), dtype=np.int64), X), np.arange(len(X)))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.predict(X).probability

    def reset(self) -> None:
        for d in self.deep:
            d.reset()

    def predict_one(self, x: np.ndarray) -> tuple[int, float, float] | None:
        """Feed the next row to every member; None until each sequence member's window is full."""
        x = np.asarray(x, dtype=np.float64).reshape(1, -1)
        outs = [d.predict_one(x[0]) for d in self.deep]
        if any(o is None for o in outs):
            return None
        deep = [np.array([o[1]]) for o in outs if o is not None]
        pr = self.base.from_member_probs(self._assemble(self.base._member_probs(x), deep))
        return int(pr.direction[0]), float(pr.probability[0]), float(pr.confidence[0])


def fit_mixed(spec: ModelSpec, seq: Sequences, j: np.ndarray, X: np.ndarray, y: np.ndarray, w: np.ndarray,
              t0: np.ndarray, t1: np.ndarray, names: tuple[str, ...], progress: Progress | None = None,
              fold: int | None = None) -> MixedSignalModel:  # fmt: skip
    """Fit ``spec`` on training rows (time order): feature rows ``X`` at sequence rows ``j`` (every window
    complete), labels ``y`` (0/1), weights ``w``, label spans ``t0``/``t1``."""
    deep_specs = member_specs(spec)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    w = np.asarray(w, dtype=np.float64)
    keep = _select(X, y, w, spec.select_k)
    Xk = X[:, keep]
    classical = [k for k in spec.member_kinds if k not in deep_specs]
    base = SignalModel(spec, tuple(names), keep, [])

    def fit(rows: np.ndarray) -> list[DeepSignalModel]:
        base.members = [fit_member(k, Xk[rows], y[rows], w[rows], spec.params.get(k), spec.seed) for k in classical]
        return [fit_deep(s, seq, j[rows], y[rows], w[rows], t0[rows], t1[rows], progress, fold)
                for s in deep_specs.values()]  # fmt: skip

    model = MixedSignalModel(spec, tuple(names), base, [])
    split = calibration_split(spec, y, t0, t1)
    if split is not None:
        head, tail = split
        model.deep = fit(head)
        P = model._assemble(base._member_probs(X[tail]), [d.predict_rows(seq, j[tail]).probability for d in model.deep])
        fit_combiner(base, P, y[tail], w[tail])
    model.deep = fit(np.arange(len(y)))
    base.info = {"kept_columns": [names[i] for i in keep], "n_train": len(y)}
    model.info = {"last_input_ts": int(seq.ts[int(j.max())]), "n_train": len(y),
                  "members": {d.spec.kind: {k: d.info[k] for k in ("best_epoch", "epochs_run", "val_log_loss",
                                                                   "train_seconds", "device")} for d in model.deep}}
    return model
