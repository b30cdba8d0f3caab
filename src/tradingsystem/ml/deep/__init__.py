"""Sequence models for signals (LSTM, patch Transformer, TCN) trained in the purged walk-forward and
scored with ONNX Runtime or TorchScript, alone or in ensembles with classical members. torch is imported
only when a network is built or trained, never by importing this package. See ``docs/ml.md``, Deep
learning."""

from tradingsystem.ml.deep.data import Scaler, Sequences
from tradingsystem.ml.deep.ensemble import MixedSignalModel, fit_mixed
from tradingsystem.ml.deep.model import DeepSignalModel
from tradingsystem.ml.deep.spec import DEEP_KINDS, DeepSpec
from tradingsystem.ml.deep.train import fit_deep, resolve_device
from tradingsystem.ml.deep.walkforward import (
    deep_walk_forward,
    fit_final_deep,
    fit_final_mixed,
    mixed_walk_forward,
    train_and_evaluate_deep,
    train_and_evaluate_mixed,
)

__all__ = [
    "DEEP_KINDS", "DeepSignalModel", "DeepSpec", "MixedSignalModel", "Scaler", "Sequences", "deep_walk_forward",
    "fit_deep", "fit_final_deep", "fit_final_mixed", "fit_mixed", "mixed_walk_forward", "resolve_device",
    "train_and_evaluate_deep", "train_and_evaluate_mixed",
]  # fmt: skip
