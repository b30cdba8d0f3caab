"""Composition of feature sets, data sources and the ``ml`` package: training runs, evaluation runs and the
live signal publisher. ``runtime`` is the only layer that sees all three."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.engine.signals import SIGNAL_TOPIC, SignalPublisher
from tradingsystem.features import FeatureSet, bars_from_trades
from tradingsystem.features.bars import BAR_COLUMNS
from tradingsystem.ml import (
    Dataset,
    LabelSpec,
    ModelRegistry,
    ModelSpec,
    SignalModel,
    TuningSpec,
    WalkForwardSpec,
    build_dataset,
    evaluate,
    html_report,
    library_versions,
    predict_dataset,
    train_and_evaluate,
)
from tradingsystem.ml.deep import DeepSignalModel, DeepSpec
from tradingsystem.runtime import ml_deep

__all__ = [
    "TrainConfig", "build_signal_publisher", "code_revision", "evaluate_model", "load_bars", "load_feature_set",
    "make_dataset", "train_from_config", "write_outputs",
]  # fmt: skip

NS = 1_000_000_000
SETS_DIR = Path(__file__).resolve().parents[1] / "features" / "sets"
WARMUP_DAYS = 7


class TrainConfig(BaseModel):
    """``tradingsystem train --config FILE``; relative paths are relative to the file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    instrument: str
    input: str | None = None  # bar or trade file: Parquet, CSV or MetaTrader 5 export
    data_dir: str | None = None  # capture catalog
    asset_class: str = "auto"
    start: date
    end: date
    feature_set: str = "default"  # a YAML file or a bundled set name
    features: tuple[str, ...] | None = None  # a subset of the set's features (default: every usable one)
    label: LabelSpec = LabelSpec()
    model: ModelSpec | DeepSpec = ModelSpec()  # kind lstm | transformer | tcn: a sequence model
    walk_forward: WalkForwardSpec = WalkForwardSpec()
    tuning: TuningSpec = TuningSpec()
    registry: str = "models"
    min_finite_share: float = Field(0.5, ge=0, le=1)  # features finite on fewer rows are dropped


def code_revision(repo: Path | None = None) -> dict[str, Any]:
    """``git rev-parse HEAD`` and whether the tree has uncommitted changes (read-only git calls)."""
    cwd = repo or Path(__file__).resolve().parents[3]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10,
                             check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
        return {"revision": rev, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"revision": "unknown", "dirty": None}


def load_feature_set(spec: str, base: Path | None = None) -> tuple[FeatureSet, str]:
    """A feature set (YAML path or bundled name) and its YAML text."""
    path = Path(spec)
    if not path.is_absolute() and base is not None and (base / path).exists():
        path = base / path
    if not path.exists() and (SETS_DIR / f"{spec}.yaml").exists():
        path = SETS_DIR / f"{spec}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"feature set {spec} not found (a YAML file or one of "
                                f"{sorted(p.stem for p in SETS_DIR.glob('*.yaml'))})")  # fmt: skip
    text = path.read_text()
    return FeatureSet.from_yaml(text), text


def _day_ns(d: date) -> int:
    return int(datetime.combine(d, time(0), tzinfo=B3_TZ).timestamp()) * NS


def asset_class_of(symbol: str, given: str = "auto") -> AssetClass:
    from tradingsystem.runtime.cli_features import _asset_class

    return _asset_class(symbol, given)


def load_bars(instrument: str, start: date, end: date, timeframe_ns: int, asset_class: AssetClass,
              input_: Path | None = None, data_dir: Path | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Bar columns of ``instrument`` over ``[start, end]`` from a file or the catalog (trades become bars)."""
    from tradingsystem.runtime.cli_features import _read_table

    if (input_ is None) == (data_dir is None):
        raise ValueError("give exactly one of input or data_dir")
    if input_ is not None:
        table = _read_table(input_)
    else:
        from tradingsystem.adapters.storage import Catalog

        cat = Catalog(data_dir)  # type: ignore[arg-type]
        try:
            table = cat.read_trades(instrument, start, end, ["ts_event", "trade_id", "price", "size", "aggressor"])
            if not table.num_rows:
                table = cat.bars(instrument, "1m", start, end)
        finally:
            cat.close()
    names = set(table.column_names)
    for col in ("symbol", "instrument"):
        if col in names:
            table = table.filter(pc.equal(table.column(col), instrument))
    ts = table.column("ts_event").to_numpy()
    keep = (ts >= _day_ns(start)) & (ts < _day_ns(end + timedelta(days=1)))
    cols = {c: table.column(c).to_numpy()[keep] for c in table.column_names if c not in ("symbol", "instrument")}
    if {"price", "size"} <= names:
        z = np.zeros(int(keep.sum()), dtype=np.int64)
        return bars_from_trades(cols["ts_event"], cols["price"], cols["size"], cols.get("aggressor", z),
                                cols.get("trade_id", np.arange(len(z))), "time", timeframe_ns, asset_class)  # fmt: skip
    return {c: np.asarray(cols[c]) for c in BAR_COLUMNS if c in cols}


def make_dataset(fs: FeatureSet, bars: dict[str, np.ndarray], label: LabelSpec, names: tuple[str, ...] | None,
                 asset_class: AssetClass, min_finite: float = 0.5) -> tuple[Dataset, list[str]]:  # fmt: skip
    """Features, labels and the audited dataset; also the features dropped as (almost) never finite."""
    table = fs.compute(bars, asset_class)
    dropped: list[str] = []
    if names is None:
        usable: list[str] = []
        for n in fs.names:
            (usable if np.isfinite(table[n]).mean() >= min_finite else dropped).append(n)
        names = tuple(usable)
    return build_dataset(table, bars, label, names), dropped


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_outputs(evaluation: dict[str, Any], out: Path, title: str) -> None:
    """``evaluation.json`` and ``report.html`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(evaluation, indent=2, sort_keys=True, default=str) + "\n")
    (out / "report.html").write_text(html_report(evaluation, title))


def train_from_config(cfg: TrainConfig, base: Path, out: Path | None = None,
                      now: datetime | None = None, progress: Any = None) -> dict[str, Any]:  # fmt: skip
    """Walk-forward evaluation, final fit and registration; returns the stored card."""
    fs, fs_text = load_feature_set(cfg.feature_set, base)
    deep = isinstance(cfg.model, DeepSpec)
    if deep:
        fs_text = ml_deep.with_returns(fs_text)
        fs = FeatureSet.from_yaml(fs_text)
    ac = asset_class_of(cfg.instrument, cfg.asset_class)
    inp = (base / cfg.input) if cfg.input else None
    ddir = (base / cfg.data_dir) if cfg.data_dir else None
    bars = load_bars(cfg.instrument, cfg.start, cfg.end, fs.base_ns, ac, inp, ddir)
    if len(bars.get("ts_event", ())) == 0:
        raise ValueError(f"no {cfg.instrument} data between {cfg.start} and {cfg.end}")
    names = ml_deep.with_return_names(cfg.features) if deep else cfg.features
    ds, dropped = make_dataset(fs, bars, cfg.label, names, ac, cfg.min_finite_share)
    if isinstance(cfg.model, DeepSpec):
        result = ml_deep.train_deep(cfg.model, fs, bars, ds, ac, cfg.walk_forward, progress=progress)
    else:
        result = train_and_evaluate(ds, cfg.model, cfg.walk_forward, cfg.tuning)
    model: SignalModel | DeepSignalModel = result.model
    usable = ds.usable
    majority = int(np.average(ds.y[usable], weights=ds.weight[usable]) >= 0.5)
    card = {
        "instrument": cfg.instrument, "asset_class": ac.value,
        "feature_set": {"name": fs.name, "timeframe": fs.timeframe, "yaml": fs_text,
                        "sha256": hashlib.sha256(fs_text.encode()).hexdigest()},
        "features": list(ds.names), "features_dropped_not_finite": dropped,
        "label": cfg.label.model_dump(), "model": model.spec.model_dump(), "tuning": cfg.tuning.model_dump(),
        "walk_forward": cfg.walk_forward.model_dump(), "windows": result.windows, "folds": result.folds,
        "oos_summary": {k: result.evaluation[k] for k in ("hit_rate", "hit_rate_ci_low", "hit_rate_ci_high",
                                                          "n_predictions", "baseline_hit_rate", "log_loss")},
        "train_majority": majority, "n_rows": len(ds), "n_usable": int(usable.sum()),
        "data": {"input": str(inp) if inp else None, "data_dir": str(ddir) if ddir else None,
                 "sha256": _sha256(inp) if inp and inp.is_file() else None},
        "libraries": library_versions(), "code": code_revision(),
        "created_utc": (now or datetime.now(UTC)).isoformat(), "config": cfg.model_dump(mode="json"),
    }  # fmt: skip
    reg = ModelRegistry(base / cfg.registry)
    stored = reg.save(cfg.name, model, card)
    ev = {**result.evaluation, "model_id": stored["model_id"], "instrument": cfg.instrument}
    title = f"{stored['model_id']} walk-forward out of sample ({cfg.instrument})"
    write_outputs(ev, reg.path(stored["model_id"]), title)
    if out is not None:
        write_outputs(ev, out, title)
    return stored


def evaluate_model(registry: Path, ref: str, start: date, end: date, out: Path, input_: Path | None = None,
                   data_dir: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Score a stored model on ``[start, end]`` (features warmed up on the days before) and write the report."""
    reg = ModelRegistry(registry)
    model, card = reg.load(ref)
    fs = FeatureSet.from_yaml(card["feature_set"]["yaml"])
    ac = AssetClass(card["asset_class"])
    if input_ is None and data_dir is None:
        src = card["data"]
        input_ = Path(src["input"]) if src.get("input") else None
        data_dir = Path(src["data_dir"]) if src.get("data_dir") else None
    bars = load_bars(card["instrument"], start - timedelta(days=WARMUP_DAYS), end, fs.base_ns, ac, input_, data_dir)
    label = LabelSpec(**card["label"])
    ds, _ = make_dataset(fs, bars, label, tuple(card["features"]), ac)
    ds = ds.between(_day_ns(start), _day_ns(end + timedelta(days=1)))
    if len(ds) == 0:
        raise ValueError(f"no rows to evaluate between {start} and {end}")
    pred = ml_deep.predict_deep(model, fs, bars, ac, ds) if isinstance(model, DeepSignalModel) \
        else predict_dataset(model, ds)
    t_end = card["windows"]["final_train_end"]
    t_start = card["windows"]["final_train_start"]
    first = str(np.datetime64(int(ds.ts[0]), "ns").astype("datetime64[s]")) + "Z"
    last = str(np.datetime64(int(ds.ts[-1]), "ns").astype("datetime64[s]")) + "Z"
    overlaps = not (last < t_start or first > t_end)
    info = {"evaluation": "stored model on a chosen period", "model_id": card["model_id"],
            "instrument": card["instrument"], "period_start": first, "period_end": last,
            "overlaps_training": overlaps,
            "note": "in-sample: the period overlaps the model's training window" if overlaps else "out of sample"}
    ev = evaluate(ds, pred["direction"], pred["probability"], pred["confidence"], card["train_majority"], info)
    write_outputs(ev, out, f"{card['model_id']} on {start}..{end} ({card['instrument']})")
    return ev


def build_signal_publisher(registry: Path, ref: str, bus: Any, clock: Any = None) -> SignalPublisher:
    """A live publisher for a stored model: its own feature set online, publishing on ``signals``."""
    model, card = ModelRegistry(registry).load(ref)
    fs = FeatureSet.from_yaml(card["feature_set"]["yaml"])
    stream = fs.online(AssetClass(card["asset_class"]))
    return SignalPublisher(card["instrument"], stream, model, card["model_id"], bus, SIGNAL_TOPIC, clock)
