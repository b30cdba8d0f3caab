"""Train and evaluate in one call: walk-forward out-of-sample evaluation, then the final model and its card.

Feature tables come in as arrays (``ml`` does not import ``features``); ``runtime`` composes the feature
set, the data source and this module.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.ml.dataset import Dataset
from tradingsystem.ml.evaluation import evaluate
from tradingsystem.ml.labels import LabelSpec
from tradingsystem.ml.models import ModelSpec, SignalModel
from tradingsystem.ml.splits import PurgedWalkForward
from tradingsystem.ml.tuning import TuningSpec
from tradingsystem.ml.walkforward import WalkForwardResult, fit_final, walk_forward

__all__ = ["TrainResult", "WalkForwardSpec", "predict_dataset", "summarise", "train_and_evaluate"]


class WalkForwardSpec(BaseModel):
    """Walk-forward settings; ``embargo`` defaults to the label horizon (in bars)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["expanding", "rolling"] = "expanding"
    n_splits: int = Field(4, ge=1, le=100)
    test_size: int | None = Field(None, ge=10)
    train_size: int | None = Field(None, ge=10)
    embargo: int | None = Field(None, ge=0)

    def splitter(self, label: LabelSpec) -> PurgedWalkForward:
        emb = label.horizon if self.embargo is None else self.embargo
        return PurgedWalkForward(self.n_splits, self.mode, self.test_size, self.train_size, emb)


class TrainResult(BaseModel):
    """What :func:`train_and_evaluate` returns (the model is kept out of pydantic)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: Any
    evaluation: dict[str, Any]
    folds: list[dict[str, Any]]
    windows: dict[str, Any]
    oos: Any  # WalkForwardResult


def _iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "Z"


def train_and_evaluate(ds: Dataset, model: ModelSpec, wf: WalkForwardSpec, tuning: TuningSpec,
                       shuffle_labels: bool = False, fit_final_model: bool = True) -> TrainResult:  # fmt: skip
    """Walk-forward out-of-sample evaluation of ``model`` on ``ds``, then the final fit on all rows."""
    res: WalkForwardResult = walk_forward(ds, model, wf.splitter(ds.spec), tuning, shuffle_labels)
    final = fit_final(ds, model.model_copy(update={"params": res.last_params or model.params}), None) \
        if fit_final_model else None
    return summarise(ds, res, model.kind, final)


def summarise(ds: Dataset, res: WalkForwardResult, kind: str, final: Any) -> TrainResult:
    """The out-of-sample evaluation and data windows of a walk-forward result, with the final model."""
    test = ds.take(res.index)
    ev = evaluate(test, res.direction, res.probability, res.confidence, res.train_majority,
                  {"evaluation": "walk-forward out of sample", "model_kind": kind,
                   "n_folds": len(res.folds), "folds": res.folds,
                   "period_start": _iso(int(test.ts[0])), "period_end": _iso(int(test.ts[-1]))})  # fmt: skip
    windows = {"data_start": _iso(int(ds.ts[0])), "data_end": _iso(int(ds.ts_end[-1])),
               "final_train_start": _iso(int(ds.ts[0])), "final_train_end": _iso(int(ds.ts_end.max())),
               "folds": [{k: f[k] for k in ("fold", "train_start", "train_end", "test_start", "test_end")}
                         for f in res.folds]}  # fmt: skip
    return TrainResult(model=final, evaluation=ev, folds=res.folds, windows=windows, oos=res)


def predict_dataset(model: SignalModel, ds: Dataset) -> dict[str, Any]:
    """Score every row of ``ds`` with a stored model (columns matched by name)."""
    missing = [n for n in model.names if n not in ds.names]
    if missing:
        raise ValueError(f"dataset lacks the model's features {missing}")
    cols = [ds.names.index(n) for n in model.names]
    pred = model.predict(ds.X[:, cols])
    return {"direction": pred.direction, "probability": pred.probability, "confidence": pred.confidence}
