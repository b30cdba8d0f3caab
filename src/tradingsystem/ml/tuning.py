"""Optuna search inside a walk-forward fold: only the fold's training rows are ever seen.

The training rows are split in time into an inner head and a purged validation tail; each trial fits a
member on the head and scores weighted log loss on the tail. The test window is not passed in at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.ml.models import fit_member

__all__ = ["TuningSpec", "suggest", "tune_member"]


class TuningSpec(BaseModel):
    """``trials`` per member kind per fold (0 turns tuning off)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trials: int = Field(0, ge=0, le=1000)
    validation: float = Field(0.25, gt=0, lt=0.9)
    seed: int = 7


def suggest(trial: Any, kind: str) -> dict[str, Any]:
    """The search space of a member kind."""
    if kind == "logistic":
        return {"C": trial.suggest_float("C", 1e-3, 10.0, log=True)}
    if kind == "random_forest":
        return {"max_depth": trial.suggest_int("max_depth", 3, 10),
                "min_samples_leaf": trial.suggest_int("min_samples_leaf", 20, 300, log=True),
                "max_features": trial.suggest_float("max_features", 0.2, 0.9)}  # fmt: skip
    return {"num_leaves": trial.suggest_int("num_leaves", 4, 63, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "n_estimators": trial.suggest_int("n_estimators", 50, 300, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 20, 400, log=True),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True)}  # fmt: skip


def _logloss(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-(w * (y * np.log(q) + (1 - y) * np.log(1 - q))).sum() / w.sum())


def tune_member(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, t0: np.ndarray, t1: np.ndarray,
                spec: TuningSpec, base: dict[str, Any] | None = None) -> tuple[dict[str, Any], float]:  # fmt: skip
    """Best parameters for ``kind`` on these training rows and the validation log loss they reached."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n = len(y)
    cut = int(n * (1 - spec.validation))
    head = np.arange(cut)
    head = head[t1[head] < t0[cut]]
    val = np.arange(cut, n)
    if len(head) < 20 or len(np.unique(y[head])) < 2 or len(val) < 20:
        return dict(base or {}), float("nan")

    def objective(trial: Any) -> float:
        params = {**(base or {}), **suggest(trial, kind)}
        m = fit_member(kind, X[head], y[head], w[head], params, spec.seed)
        return _logloss(y[val], m.prob(X[val]), w[val])

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=spec.seed))
    study.optimize(objective, n_trials=spec.trials)
    return {**(base or {}), **study.best_params}, float(study.best_value)
