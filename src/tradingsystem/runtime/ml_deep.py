"""Composition for sequence models: raw returns added to the feature set, the feature sequence a model
reads, training with a progress bar, the ``--model``/``--device`` overrides and offline scoring."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, get_args

import numpy as np
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tradingsystem.domain.instruments import AssetClass
from tradingsystem.features import FeatureSet
from tradingsystem.ml import Dataset, ModelSpec, TuningSpec, WalkForwardSpec
from tradingsystem.ml.deep import (
    DEEP_KINDS,
    DeepSignalModel,
    DeepSpec,
    MixedSignalModel,
    Sequences,
    resolve_device,
    train_and_evaluate_deep,
    train_and_evaluate_mixed,
)
from tradingsystem.ml.deep.ensemble import member_spec
from tradingsystem.ml.pipeline import TrainResult

__all__ = ["RETURNS", "model_override", "predict_deep", "progress_bar", "train_deep", "train_mixed", "with_returns"]

RETURNS = {"ret_1": "roc(close, 1)"}  # raw one-bar return (percent), next to the point-in-time features


def with_returns(fs_text: str) -> str:
    """The feature-set YAML with the raw-return inputs appended (kept as is when already there)."""
    data = yaml.safe_load(fs_text)
    feats = dict(data.get("features") or {})
    for name, expr in RETURNS.items():
        feats.setdefault(name, expr)
    return str(yaml.safe_dump({**data, "features": feats}, sort_keys=False))


def with_return_names(names: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if names is None else tuple(names) + tuple(n for n in RETURNS if n not in names)


def model_override(model: Any, kind: str | None, device: str | None) -> ModelSpec | DeepSpec:
    """``train --model KIND --device D``: the config's model with its kind (and device) replaced."""
    if kind is None and device is None and not (isinstance(model, DeepSpec) and model.device == "cuda"):
        return _members_on(model, None) if isinstance(model, ModelSpec) else model
    kind = kind or model.kind
    kinds = (*DEEP_KINDS, *get_args(ModelSpec.model_fields["kind"].annotation))
    if kind not in kinds:
        raise ValueError(f"--model {kind}: use one of {', '.join(kinds)}")
    if device not in (None, "auto", "cpu", "cuda"):
        raise ValueError(f"--device {device}: use auto, cpu or cuda")
    if kind in DEEP_KINDS:
        base = model.model_dump() if isinstance(model, DeepSpec) else {}
        spec = DeepSpec.model_validate({**base, "kind": kind, **({"device": device} if device else {})})
        if spec.device == "cuda":
            resolve_device("cuda")  # fail before loading any data
        return spec
    base = model.model_dump() if isinstance(model, ModelSpec) else {}
    classical = ModelSpec.model_validate({**base, "kind": kind})
    if device is not None and not classical.sequence_members:
        raise ValueError(f"--device applies to {'/'.join(DEEP_KINDS)} models and ensembles with them, not {kind}")
    return _members_on(classical, device)


def _members_on(spec: ModelSpec, device: str | None) -> ModelSpec:
    """An ensemble's sequence members on ``device`` (their configured one when None); cuda without a GPU fails."""
    params = dict(spec.params)
    for k in spec.sequence_members:
        member = member_spec(k, {**params.get(k, {}), **({"device": device} if device else {})})
        if member.device == "cuda":
            resolve_device("cuda")  # fail before loading any data
        params[k] = member.model_dump(exclude={"kind"})
    return spec.model_copy(update={"params": params}) if spec.sequence_members else spec


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[Any]:
    """A rich progress bar fed by the training loop: one line per fold with epoch, loss and validation."""
    cols = (TextColumn("{task.description}"), BarColumn(), TextColumn("epoch {task.completed:.0f}/{task.total:.0f}"),
            TextColumn("loss {task.fields[loss]}  val log loss {task.fields[val]}  val hit {task.fields[hit]}"),
            TimeElapsedColumn())  # fmt: skip
    con = console or Console(stderr=True)
    if not con.is_terminal:  # a log file: one plain line per epoch

        def line(rec: dict[str, Any]) -> None:
            label = "final" if rec["fold"] is None else f"fold {rec['fold']}"
            con.print(f"{rec['kind']} {label} epoch {rec['epoch']}/{rec['epochs']} loss {rec['loss']:.4f} "
                      f"val log loss {rec['val_log_loss']:.4f} val hit {rec['val_hit_rate']:.3f}", highlight=False)

        yield line
        return
    tasks: dict[Any, Any] = {}
    with Progress(*cols, console=con, transient=False) as bar:

        def update(rec: dict[str, Any]) -> None:
            key = (rec["kind"], rec["fold"])
            if key not in tasks or rec["epoch"] == 1:
                label = "final" if rec["fold"] is None else f"fold {rec['fold']}"
                tasks[key] = bar.add_task(f"{rec['kind']} {label}", total=rec["epochs"], loss="-", val="-", hit="-")
            bar.update(tasks[key], completed=rec["epoch"], loss=f"{rec['loss']:.4f}",
                       val=f"{rec['val_log_loss']:.4f}", hit=f"{rec['val_hit_rate']:.3f}")  # fmt: skip

        yield update


def sequences(fs: FeatureSet, bars: dict[str, np.ndarray], ac: AssetClass, names: Sequence[str]) -> Sequences:
    """The rows a live publisher would feed the model: feature rows with every input finite."""
    return Sequences.from_table(fs.compute(bars, ac), names)


def _cublas(device: str) -> None:
    if device != "cpu":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS


def train_deep(spec: DeepSpec, fs: FeatureSet, bars: dict[str, np.ndarray], ds: Dataset, ac: AssetClass,
               wf: WalkForwardSpec, shuffle_labels: bool = False, fit_final_model: bool = True,
               progress: Any = None) -> TrainResult:  # fmt: skip
    """Walk-forward evaluation and final fit of a sequence model on ``ds`` (its features computed from ``bars``)."""
    _cublas(spec.device)
    seq = sequences(fs, bars, ac, ds.names)
    return train_and_evaluate_deep(ds, seq, spec, wf, shuffle_labels, fit_final_model, progress)


def train_mixed(spec: ModelSpec, fs: FeatureSet, bars: dict[str, np.ndarray], ds: Dataset, ac: AssetClass,
                wf: WalkForwardSpec, tuning: TuningSpec, shuffle_labels: bool = False, fit_final_model: bool = True,
                progress: Any = None) -> TrainResult:  # fmt: skip
    """:func:`train_deep` for an ensemble mixing classical and sequence members."""
    for k in spec.sequence_members:
        _cublas(str(spec.params.get(k, {}).get("device", "auto")))
    seq = sequences(fs, bars, ac, ds.names)
    return train_and_evaluate_mixed(ds, seq, spec, wf, tuning, shuffle_labels, fit_final_model, progress)


def predict_deep(model: DeepSignalModel | MixedSignalModel, fs: FeatureSet, bars: dict[str, np.ndarray], ac: AssetClass,
                 ds: Dataset) -> dict[str, Any]:  # fmt: skip
    """:func:`~tradingsystem.ml.predict_dataset` for a sequence model (windows from the full feature table)."""
    seq = sequences(fs, bars, ac, model.names)
    pred = model.predict_rows(seq, seq.rows(ds.ts_feature))
    return {"direction": pred.direction, "probability": pred.probability, "confidence": pred.confidence}
