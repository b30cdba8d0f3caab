"""Machine learning for signals: point-in-time datasets, cost-aware labels, purged walk-forward,
classifiers and ensembles, Optuna tuning inside folds, a model registry and honest evaluation.
See ``docs/ml.md``."""

from tradingsystem.ml.dataset import Dataset, LeakageError, audit, build_dataset, lookahead_probe
from tradingsystem.ml.evaluation import evaluate, pnl_after_costs
from tradingsystem.ml.labels import Labels, LabelSpec, make_labels, overlap_weights, round_trip_cost_bps
from tradingsystem.ml.metrics import (
    hit_rate,
    log_loss_brier,
    variance_inflation,
    verdict,
    wilson,
    wilson_effective,
)
from tradingsystem.ml.models import MEMBER_KINDS, Member, ModelSpec, Prediction, SignalModel, fit_member, fit_model
from tradingsystem.ml.pipeline import TrainResult, WalkForwardSpec, predict_dataset, train_and_evaluate
from tradingsystem.ml.registry import ModelRegistry, RegistryError, library_versions, parse_ref
from tradingsystem.ml.report import html_report
from tradingsystem.ml.splits import PurgedWalkForward, purge_train
from tradingsystem.ml.tuning import TuningSpec, tune_member
from tradingsystem.ml.walkforward import WalkForwardResult, fit_final, walk_forward

__all__ = [
    "MEMBER_KINDS", "Dataset", "LabelSpec", "Labels", "LeakageError", "Member", "ModelRegistry", "ModelSpec",
    "Prediction", "PurgedWalkForward", "RegistryError", "SignalModel", "TrainResult", "TuningSpec",
    "WalkForwardResult", "WalkForwardSpec", "audit", "build_dataset", "evaluate", "fit_final", "fit_member",
    "fit_model", "hit_rate", "html_report", "library_versions", "log_loss_brier", "lookahead_probe",
    "make_labels", "overlap_weights", "parse_ref", "pnl_after_costs", "predict_dataset", "purge_train",
    "round_trip_cost_bps", "train_and_evaluate", "tune_member", "variance_inflation", "verdict", "walk_forward",
    "wilson", "wilson_effective",
]  # fmt: skip
