"""Classifiers and ensembles with calibrated probabilities and a confidence score.

Members: ``logistic`` (standardised inputs, L2), ``random_forest`` and ``lightgbm``. A
:class:`SignalModel` is one member or an ensemble of several combined by ``soft`` voting (mean
probability), ``hard`` voting (share of members voting up) or ``stacking`` (a logistic regression on the
members' log-odds). Everything data-dependent (column selection, scaling, calibration, the stacker) is
fitted on the training rows given to :func:`fit_model` only, so inside a walk-forward fold it never sees
the test window.

Calibration: the training rows are split in time into a head and a purged tail (``holdout``); members fit
on the head score the tail, where the stacker or a Platt calibrator is fitted; then the members are
refitted on all training rows. Prediction uses fixed-order, row-wise arithmetic, so scoring one row live
gives bit-for-bit the number that scoring a whole table offline gives.

``direction`` is +1 when the calibrated up-probability is above 0.5 (hard voting: the majority), else -1.
``confidence = agreement * |2p - 1|`` where ``agreement`` is the share of members on the published side
(1 for a single model), in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MEMBER_KINDS", "SEQUENCE_MEMBERS", "Member", "ModelSpec", "Prediction", "SignalModel", "calibration_split",
    "fit_combiner", "fit_member", "fit_model",
]  # fmt: skip

MEMBER_KINDS = ("logistic", "random_forest", "lightgbm")
SEQUENCE_MEMBERS = ("lstm", "transformer", "tcn")  # ensemble members fitted by ``ml.deep.ensemble``
EPS = 1e-6

Kind = Literal["logistic", "random_forest", "lightgbm", "soft_voting", "hard_voting", "stacking"]


class ModelSpec(BaseModel):
    """What to fit. ``params`` maps a member kind to its hyper-parameters (tuning overrides them); a
    sequence member's (``lstm``, ``transformer``, ``tcn``) are ``DeepSpec`` fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind = "soft_voting"
    members: tuple[Literal["logistic", "random_forest", "lightgbm", "lstm", "transformer", "tcn"], ...] = (
        "logistic", "random_forest", "lightgbm")  # fmt: skip
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    calibrate: bool = True
    holdout: float = Field(0.25, gt=0, lt=0.9)
    select_k: int | None = Field(None, ge=1)  # keep the k columns most correlated with the label (train only)
    seed: int = 7

    @property
    def member_kinds(self) -> tuple[str, ...]:
        return tuple(self.members) if self.kind in ("soft_voting", "hard_voting", "stacking") else (self.kind,)

    @property
    def sequence_members(self) -> tuple[str, ...]:
        """The members that read a window of rows (fitted by ``ml.deep.ensemble.fit_mixed``)."""
        return tuple(k for k in self.member_kinds if k in SEQUENCE_MEMBERS)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.asarray(np.log(q / (1 - q)))


def _rowdot(A: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-wise dot product in a fixed order (same bits for one row or many)."""
    return np.asarray((A * w).sum(axis=1))


DEFAULTS: dict[str, dict[str, Any]] = {
    "logistic": {"C": 0.1},
    "random_forest": {"n_estimators": 100, "max_depth": 6, "min_samples_leaf": 50, "max_features": 0.5},
    "lightgbm": {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 100,
                 "colsample_bytree": 0.8, "subsample": 0.8, "subsample_freq": 1, "reg_lambda": 1.0},
}  # fmt: skip


@dataclass
class Member:
    """One fitted classifier; ``prob(X)`` is its up-probability (uncalibrated)."""

    kind: str
    params: dict[str, Any]
    est: Any = None
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    coef: np.ndarray | None = None
    intercept: float = 0.0

    def prob(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "logistic":
            assert self.mean is not None and self.scale is not None and self.coef is not None
            return _sigmoid(_rowdot((X - self.mean) / self.scale, self.coef) + self.intercept)
        if self.kind == "lightgbm":
            return _sigmoid(np.asarray(self.est.booster_.predict(X, raw_score=True, num_threads=1), dtype=np.float64))
        return np.asarray(self.est.predict_proba(X)[:, 1], dtype=np.float64)


def fit_member(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, params: dict[str, Any] | None = None,
               seed: int = 7) -> Member:  # fmt: skip
    """Fit one member on ``(X, y)`` with sample weights ``w``."""
    p = {**DEFAULTS[kind], **(params or {})}
    m = Member(kind, p)
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        m.mean = X.mean(axis=0)
        sd = X.std(axis=0)
        m.scale = np.where(sd > 0, sd, 1.0)
        lr = LogisticRegression(C=float(p["C"]), max_iter=500)
        lr.fit((X - m.mean) / m.scale, y, sample_weight=w)
        m.coef = np.asarray(lr.coef_[0], dtype=np.float64)
        m.intercept = float(lr.intercept_[0])
    elif kind == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        m.est = RandomForestClassifier(**p, random_state=seed, n_jobs=1)
        m.est.fit(X, y, sample_weight=w)
    elif kind == "lightgbm":
        from lightgbm import LGBMClassifier

        m.est = LGBMClassifier(**p, random_state=seed, n_jobs=1, verbose=-1, deterministic=True)
        m.est.fit(X, y, sample_weight=w)
    else:
        raise ValueError(f"unknown member kind {kind!r}; use one of {MEMBER_KINDS}")
    return m


@dataclass(frozen=True, slots=True)
class Prediction:
    """Arrays over rows: ``direction`` (+1/-1), ``probability`` (of up), ``confidence``, ``agreement``."""

    direction: np.ndarray
    probability: np.ndarray
    confidence: np.ndarray
    agreement: np.ndarray


@dataclass
class SignalModel:
    """A fitted model over the named input columns; see the module docstring."""

    spec: ModelSpec
    names: tuple[str, ...]
    keep: np.ndarray
    members: list[Member]
    stack_w: np.ndarray | None = None
    stack_b: float = 0.0
    platt: tuple[float, float] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.spec.kind

    def _member_probs(self, X: np.ndarray) -> np.ndarray:
        Xk = np.ascontiguousarray(X[:, self.keep], dtype=np.float64)
        if not self.members:
            return np.zeros((len(X), 0))
        return np.column_stack([m.prob(Xk) for m in self.members])

    def _combine(self, P: np.ndarray) -> np.ndarray:
        if self.stack_w is not None:
            return _sigmoid(_rowdot(_logit(P), self.stack_w) + self.stack_b)
        if self.spec.kind == "hard_voting":
            raw = (P > 0.5).sum(axis=1) / P.shape[1]
        else:
            raw = P.sum(axis=1) / P.shape[1]
        if self.platt is None:
            return np.asarray(raw)
        a, b = self.platt
        return _sigmoid(a * _logit(raw) + b)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of up for each row of ``X`` (columns in ``names`` order)."""
        return self._combine(self._member_probs(np.atleast_2d(X)))

    def predict(self, X: np.ndarray) -> Prediction:
        return self.from_member_probs(self._member_probs(np.atleast_2d(X)))

    def from_member_probs(self, P: np.ndarray) -> Prediction:
        """The prediction from the members' up-probabilities ``P`` (rows x members, spec order)."""
        p = self._combine(P)
        if self.spec.kind == "hard_voting":
            up = (P > 0.5).sum(axis=1) * 2 > P.shape[1]
        else:
            up = p > 0.5
        direction = np.where(up, 1, -1)
        agree = np.where(up[:, None], P > 0.5, P <= 0.5).sum(axis=1) / P.shape[1]
        conf = agree * np.abs(2.0 * p - 1.0)
        return Prediction(direction, p, conf, agree)

    def predict_one(self, x: np.ndarray) -> tuple[int, float, float]:
        """``(direction, probability, confidence)`` for one feature row."""
        pr = self.predict(np.asarray(x, dtype=np.float64).reshape(1, -1))
        return int(pr.direction[0]), float(pr.probability[0]), float(pr.confidence[0])


def _select(X: np.ndarray, y: np.ndarray, w: np.ndarray, k: int | None) -> np.ndarray:
    """Columns to keep: non-constant, and the ``k`` with the largest weighted |correlation| with ``y``."""
    sd = X.std(axis=0)
    cand = np.flatnonzero(sd > 0)
    if k is None or k >= len(cand):
        return cand
    wn = w / w.sum()
    xc = X[:, cand] - (wn @ X[:, cand])
    yc = y - wn @ y
    corr = np.abs(wn @ (xc * yc[:, None])) / (np.sqrt(wn @ xc**2) * np.sqrt(wn @ yc**2) + 1e-300)
    return np.asarray(np.sort(cand[np.argsort(-corr, kind="stable")[:k]]))


def _fit_platt(s: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4, max_iter=500)
    lr.fit(_logit(s).reshape(-1, 1), y, sample_weight=w)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def calibration_split(spec: ModelSpec, y: np.ndarray, t0: np.ndarray | None, t1: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """Head and purged tail (``holdout``) of the training rows for the stacker or the Platt calibrator;
    None when neither is wanted or the rows are too few."""
    if not (spec.kind == "stacking" or spec.calibrate):
        return None
    n = len(y)
    cut = int(n * (1 - spec.holdout))
    head = np.arange(cut)
    if t0 is not None and t1 is not None and cut < n:
        head = head[np.asarray(t1)[head] < np.asarray(t0)[cut]]
    tail = np.arange(cut, n)
    if len(head) >= 20 and len(tail) >= 20 and len(np.unique(y[head])) == 2:
        return head, tail
    return None


def fit_combiner(model: SignalModel, P: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
    """Fit ``model``'s stacker (stacking) or Platt calibrator on members' probabilities ``P`` of held-out rows."""
    if model.spec.kind == "stacking":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1.0, max_iter=500)
        lr.fit(_logit(P), y, sample_weight=w)
        model.stack_w = np.asarray(lr.coef_[0], dtype=np.float64)
        model.stack_b = float(lr.intercept_[0])
    else:
        model.platt = _fit_platt(model._combine(P), y, w)


def fit_model(spec: ModelSpec, X: np.ndarray, y: np.ndarray, w: np.ndarray, names: tuple[str, ...],
              t0: np.ndarray | None = None, t1: np.ndarray | None = None) -> SignalModel:  # fmt: skip
    """Fit ``spec`` on training rows (sorted in time). ``t0``/``t1`` (label bar spans) purge the
    calibration tail: head rows whose label reaches into the tail are dropped from the head."""
    if spec.sequence_members:
        raise ValueError(f"members {spec.sequence_members} read windows of rows: fit with ml.deep.fit_mixed")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    w = np.asarray(w, dtype=np.float64)
    keep = _select(X, y, w, spec.select_k)
    Xk = X[:, keep]
    kinds = spec.member_kinds
    model = SignalModel(spec, tuple(names), keep, [])
    split = calibration_split(spec, y, t0, t1)
    if split is not None:
        head, tail = split
        model.members = [fit_member(k, Xk[head], y[head], w[head], spec.params.get(k), spec.seed) for k in kinds]
        fit_combiner(model, np.column_stack([m.prob(Xk[tail]) for m in model.members]), y[tail], w[tail])
    model.members = [fit_member(k, Xk, y, w, spec.params.get(k), spec.seed) for k in kinds]
    model.info = {"kept_columns": [names[i] for i in keep], "n_train": len(y)}
    return model
