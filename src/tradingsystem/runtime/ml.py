"""Composition of feature sets, data sources and the ``ml`` package: training runs, evaluation runs and the
live signal publisher. ``runtime`` is the only layer that sees all three."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain import b3
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.engine.signals import SIGNAL_TOPIC, SignalPublisher
from tradingsystem.features import FeatureSet, FeatureSetError
from tradingsystem.features.bars import parse_timeframe
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
from tradingsystem.ml.dataset import LeakageError
from tradingsystem.ml.deep import DeepSignalModel, DeepSpec, MixedSignalModel
from tradingsystem.ml.deep.ensemble import member_specs
from tradingsystem.ml.labels import instrument_costs
from tradingsystem.ml.leakage import (
    describe,
    shuffled_control_verdict,
    single_feature_scores,
    suspect_features,
    truncation_test,
)
from tradingsystem.runtime import ml_deep
from tradingsystem.runtime.altdata import with_altdata
from tradingsystem.runtime.bar_source import BarLoad, asset_class_for, day_ns
from tradingsystem.runtime.bar_source import load_bars as _load_bars
from tradingsystem.runtime.corporate_actions import adjusted_for_actions, check_stock

__all__ = [
    "TrainConfig", "build_signal_publisher", "code_revision", "evaluate_model", "load_bars", "load_feature_set",
    "make_dataset", "train_from_config", "write_outputs",
]  # fmt: skip

NS = 1_000_000_000
SETS_DIR = Path(__file__).resolve().parents[1] / "features" / "sets"
WARMUP_BARS = 300
_SESSION_NS = 7 * 3600 * NS  # the shortest B3 session we plan warm-up days with


class TrainConfig(BaseModel):
    """``tradingsystem train --config FILE``; relative paths are relative to the file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    instrument: str
    input: str | None = None  # bar or trade file: Parquet, CSV or MetaTrader 5 export
    data_dir: str | None = None  # capture catalog
    altdata_dir: str | None = None  # where `altdata fetch` stored series and posts (default: data_dir)
    corporate_actions: str | None = None  # stocks: CSV of splits and dividends; research bars adjusted
    asset_class: str = "auto"
    start: date
    end: date
    feature_set: str = "default"  # a YAML file or a bundled set name
    features: tuple[str, ...] | None = None  # a subset of the set's features (default: every usable one)
    label: LabelSpec = LabelSpec()
    model: ModelSpec | DeepSpec = ModelSpec()  # kind lstm | transformer | tcn: a sequence model; an ensemble
    # may list them as members (their DeepSpec settings under params)
    walk_forward: WalkForwardSpec = WalkForwardSpec()
    tuning: TuningSpec = TuningSpec()
    registry: str = "models"
    min_finite_share: float = Field(0.5, ge=0, le=1)  # features finite on fewer rows are dropped
    timeframe: str | None = None  # bar timeframe (default: the feature set's); finer input is resampled
    source_tz: str = "b3"  # MT5 input: clock of the bar times (b3, utc or an IANA zone)
    warmup_bars: int = Field(WARMUP_BARS, ge=0)  # bars before ``start`` that warm the features up
    allow_suspect: bool = False  # train even when a leakage check flags a feature (the report says so)


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
    return day_ns(d)


def asset_class_of(symbol: str, given: str = "auto") -> AssetClass:
    return asset_class_for(symbol, given)


def load_bars(instrument: str, start: date, end: date, timeframe: int | str, asset_class: AssetClass,
              input_: Path | None = None, data_dir: Path | None = None, source_tz: str = "b3",
              load: BarLoad | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Bar columns of ``instrument`` over ``[start, end]`` at ``timeframe`` (see ``runtime/bar_source.py``)."""
    return _load_bars(instrument, start, end, timeframe, asset_class, input_, data_dir, source_tz, load)


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


def feature_set_at(fs: FeatureSet, timeframe: str | None) -> FeatureSet:
    """``fs`` on ``timeframe`` bars (its own timeframe when None). Features of a higher timeframe that is
    not a whole multiple above the new base are left out (``train`` lists them in the card)."""
    if timeframe is None or timeframe == fs.timeframe:
        return fs
    base = parse_timeframe(timeframe)
    keep = [f for f in fs.features if f.timeframe in (None, fs.timeframe)
            or (parse_timeframe(f.timeframe) > base and parse_timeframe(f.timeframe) % base == 0)]
    kept = {f.name for f in keep}
    for f in keep:  # a kept feature must not use a left-out one
        used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.expr)) & ({g.name for g in fs.features} - kept)
        if used:
            raise ValueError(f"feature {f.name!r} uses {sorted(used)}, which cannot run on {timeframe} bars")
    return FeatureSet(fs.name, keep, timeframe, fs.description)


def label_with_costs(label: LabelSpec, instrument: str, bars: dict[str, np.ndarray], fees: FeeSchedule | None = None
                     ) -> tuple[LabelSpec, dict[str, float]]:
    """``label`` with the fee and spread it leaves out taken from the fee model for this instrument at the
    data's median price (day-trade fees: a label ends inside its session)."""
    weekdays = _weekdays
    inst = b3.instrument(b3.resolve_generic(instrument, date(2026, 1, 5), weekdays), weekdays)
    price = float(np.median(np.asarray(bars["close"], dtype=np.float64))) if len(bars["close"]) else 1.0
    costs = instrument_costs(inst, fees or FeeSchedule(), price, day_trade=True)
    update = {k: costs[k] for k in ("fee_bps", "spread_bps") if getattr(label, k) is None}
    spec = label.model_copy(update=update)
    costs = {**costs, "fee_bps": float(spec.fee_bps or 0.0), "spread_bps": float(spec.spread_bps or 0.0),
             "round_trip_bps": spec.cost_bps}
    return spec, costs


def _weekdays(d: date) -> bool:
    return d.weekday() < 5


def _leakage(fs: FeatureSet, bars: dict[str, np.ndarray], ds: Dataset, ac: AssetClass, allow: bool
             ) -> dict[str, Any]:
    """Truncation test and single-feature check; raises ``LeakageError`` unless ``allow``."""
    out: dict[str, Any] = {"allow_suspect": allow}
    try:
        out["truncation"] = truncation_test(lambda b: fs.compute(b, ac), bars, ds.names)
    except LeakageError as exc:
        if not allow:
            raise LeakageError(f"truncation test failed: {exc}; fix the feature or pass --allow-suspect") from exc
        out["truncation"] = {"passed": False, "error": str(exc)}
    scores = single_feature_scores(ds)
    bad = suspect_features(scores)
    out["single_feature"] = scores
    out["suspect_features"] = [s["feature"] for s in bad]
    if bad and not allow:
        raise LeakageError(describe(bad))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_outputs(evaluation: dict[str, Any], out: Path, title: str) -> None:
    """``evaluation.json`` and ``report.html`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(evaluation, indent=2, sort_keys=True, default=str) + "\n")
    (out / "report.html").write_text(html_report(evaluation, title))


def train_from_config(cfg: TrainConfig, base: Path, out: Path | None = None,
                      now: datetime | None = None, progress: Any = None) -> dict[str, Any]:  # fmt: skip
    """Walk-forward evaluation with the leakage checks, final fit and registration; returns the stored card."""
    fs0, fs_text = load_feature_set(cfg.feature_set, base)
    deep = isinstance(cfg.model, DeepSpec) or bool(cfg.model.sequence_members)
    if isinstance(cfg.model, ModelSpec):
        member_specs(cfg.model)  # a bad sequence member fails before any data is read
    if deep:
        fs_text = ml_deep.with_returns(fs_text)
        fs0 = FeatureSet.from_yaml(fs_text)
    try:
        fs = feature_set_at(fs0, cfg.timeframe)
    except FeatureSetError as exc:
        raise ValueError(f"timeframe {cfg.timeframe}: {exc}") from exc
    ac = asset_class_of(cfg.instrument, cfg.asset_class)
    inp = (base / cfg.input) if cfg.input else None
    ddir = (base / cfg.data_dir) if cfg.data_dir else None
    actions = (base / cfg.corporate_actions).resolve() if cfg.corporate_actions else None
    if actions is not None:
        check_stock(cfg.instrument, ac)
    load = BarLoad()
    bars = load_bars(cfg.instrument, cfg.start, cfg.end, fs.timeframe, ac, inp, ddir, cfg.source_tz, load)
    if len(bars.get("ts_event", ())) == 0:
        raise ValueError(f"no {cfg.instrument} data between {cfg.start} and {cfg.end}")
    bars = adjusted_for_actions(bars, actions, cfg.instrument, ac)
    alt_dir = (base / cfg.altdata_dir) if cfg.altdata_dir else ddir
    bars = with_altdata(fs, bars, cfg.instrument, alt_dir)
    label, costs = label_with_costs(cfg.label, cfg.instrument, bars)
    names = ml_deep.with_return_names(cfg.features) if deep else cfg.features
    ds, dropped = make_dataset(fs, bars, label, names, ac, cfg.min_finite_share)
    leakage = _leakage(fs, bars, ds, ac, cfg.allow_suspect)
    if isinstance(cfg.model, DeepSpec):
        result = ml_deep.train_deep(cfg.model, fs, bars, ds, ac, cfg.walk_forward, progress=progress)
        control = ml_deep.train_deep(cfg.model, fs, bars, ds, ac, cfg.walk_forward, shuffle_labels=True,
                                     fit_final_model=False)  # fmt: skip
    elif cfg.model.sequence_members:
        result = ml_deep.train_mixed(cfg.model, fs, bars, ds, ac, cfg.walk_forward, cfg.tuning, progress=progress)
        control = ml_deep.train_mixed(cfg.model, fs, bars, ds, ac, cfg.walk_forward,
                                      cfg.tuning.model_copy(update={"trials": 0}), shuffle_labels=True,
                                      fit_final_model=False)  # fmt: skip
    else:
        result = train_and_evaluate(ds, cfg.model, cfg.walk_forward, cfg.tuning)
        control = train_and_evaluate(ds, cfg.model, cfg.walk_forward, cfg.tuning.model_copy(update={"trials": 0}),
                                     shuffle_labels=True, fit_final_model=False)  # fmt: skip
    leakage["shuffled_label"] = shuffled_control_verdict(control.evaluation)
    if not leakage["shuffled_label"]["at_baseline"] and not cfg.allow_suspect:
        raise LeakageError(f"shuffled-label control scored {control.evaluation['hit_rate']:.1%}, above its baseline "
                           f"{leakage['shuffled_label']['baseline_hit_rate']:.1%}: the evaluation leaks; "
                           "pass --allow-suspect to train anyway")  # fmt: skip
    model: SignalModel | DeepSignalModel | MixedSignalModel = result.model
    usable = ds.usable
    majority = int(np.average(ds.y[usable], weights=ds.weight[usable]) >= 0.5)
    card = {
        "instrument": cfg.instrument, "asset_class": ac.value,
        "feature_set": {"name": fs.name, "timeframe": fs.timeframe, "yaml": fs_text,
                        "sha256": hashlib.sha256(fs_text.encode()).hexdigest()},
        "features": list(ds.names), "features_dropped_not_finite": dropped,
        "features_dropped_timeframe": sorted(set(fs0.names) - set(fs.names)),
        "label": label.model_dump(), "label_costs": costs, "model": model.spec.model_dump(),
        "tuning": cfg.tuning.model_dump(),
        "walk_forward": cfg.walk_forward.model_dump(), "windows": result.windows, "folds": result.folds,
        "oos_summary": {k: result.evaluation[k] for k in ("hit_rate", "hit_rate_ci_low", "hit_rate_ci_high",
                                                          "n_predictions", "baseline_hit_rate", "log_loss",
                                                          "variance_inflation", "n_effective")},
        "train_majority": majority, "n_rows": len(ds), "n_usable": int(usable.sum()),
        "warmup_bars": cfg.warmup_bars, "source_tz": cfg.source_tz, "leakage": leakage,
        "input_rejected": load.rejected,
        "data": {"input": str(inp) if inp else None, "data_dir": str(ddir) if ddir else None,
                 "sha256": _sha256(inp) if inp and inp.is_file() else None,
                 "corporate_actions": str(actions) if actions else None},
        "libraries": library_versions(), "code": code_revision(),
        "created_utc": (now or datetime.now(UTC)).isoformat(), "config": cfg.model_dump(mode="json"),
    }  # fmt: skip
    reg = ModelRegistry(base / cfg.registry)
    stored = reg.save(cfg.name, model, card)
    ev = {**result.evaluation, "model_id": stored["model_id"], "instrument": cfg.instrument, "leakage": leakage,
          "label_costs": costs}
    title = f"{stored['model_id']} walk-forward out of sample ({cfg.instrument})"
    write_outputs(ev, reg.path(stored["model_id"]), title)
    if out is not None:
        write_outputs(ev, out, title)
    return stored


def _warmup_days(warmup_bars: int, tf_ns: int) -> int:
    """Calendar days before ``start`` that hold at least ``warmup_bars`` bars (weekends and holidays too)."""
    per_day = max(_SESSION_NS // max(tf_ns, 1), 1)
    sessions = -(-warmup_bars // per_day)
    return int(sessions * 7 // 5 + 10)


def evaluate_model(registry: Path, ref: str, start: date, end: date, out: Path, input_: Path | None = None,
                   data_dir: Path | None = None, allow_suspect: bool = False,
                   corporate_actions: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Score a stored model on ``[start, end]`` (features warmed up on the ``warmup_bars`` bars before), with
    the leakage checks, and write the report. Stock bars are adjusted with ``corporate_actions`` (default: the
    training file, if any)."""
    reg = ModelRegistry(registry)
    model, card = reg.load(ref)
    fs = FeatureSet.from_yaml(card["feature_set"]["yaml"])
    fs = feature_set_at(fs, card["feature_set"].get("timeframe"))
    ac = AssetClass(card["asset_class"])
    if input_ is None and data_dir is None:
        src = card["data"]
        input_ = Path(src["input"]) if src.get("input") else None
        data_dir = Path(src["data_dir"]) if src.get("data_dir") else None
    warm = int(card.get("warmup_bars", WARMUP_BARS))
    load = BarLoad()
    bars = load_bars(card["instrument"], start - timedelta(days=_warmup_days(warm, fs.base_ns)), end, fs.timeframe,
                     ac, input_, data_dir, card.get("source_tz", "b3"), load)
    first = int(np.searchsorted(np.asarray(bars["ts_open"], dtype=np.int64), _day_ns(start)))
    bars = {k: np.asarray(v)[max(first - warm, 0):] for k, v in bars.items()}
    actions = corporate_actions or (Path(card["data"]["corporate_actions"])
                                    if card.get("data", {}).get("corporate_actions") else None)
    bars = adjusted_for_actions(bars, actions, card["instrument"], ac)
    alt = card["config"].get("altdata_dir") if isinstance(card.get("config"), dict) else None
    bars = with_altdata(fs, bars, card["instrument"], Path(alt) if alt else data_dir)
    label = LabelSpec(**card["label"])
    ds, _ = make_dataset(fs, bars, label, tuple(card["features"]), ac)
    ds = ds.between(_day_ns(start), _day_ns(end + timedelta(days=1)))
    if len(ds) == 0:
        raise ValueError(f"no rows to evaluate between {start} and {end}")
    leakage = _leakage(fs, bars, ds, ac, allow_suspect)
    pred = ml_deep.predict_deep(model, fs, bars, ac, ds) if isinstance(model, DeepSignalModel | MixedSignalModel) \
        else predict_dataset(model, ds)
    t_end = card["windows"]["final_train_end"]
    t_start = card["windows"]["final_train_start"]
    first_s = str(np.datetime64(int(ds.ts[0]), "ns").astype("datetime64[s]")) + "Z"
    last_s = str(np.datetime64(int(ds.ts[-1]), "ns").astype("datetime64[s]")) + "Z"
    overlaps = not (last_s < t_start or first_s > t_end)
    info = {"evaluation": "stored model on a chosen period", "model_id": card["model_id"],
            "instrument": card["instrument"], "period_start": first_s, "period_end": last_s,
            "overlaps_training": overlaps, "warmup_bars": min(first, warm), "input_rejected": load.rejected,
            "note": "in-sample: the period overlaps the model's training window" if overlaps else "out of sample"}
    ev = evaluate(ds, pred["direction"], pred["probability"], pred["confidence"], card["train_majority"], info)
    shuffled = ds.take(np.arange(len(ds)))
    rng = np.random.default_rng(7)
    shuffled = replace(shuffled, y=rng.permutation(shuffled.y))
    ctrl = evaluate(shuffled, pred["direction"], pred["probability"], pred["confidence"], card["train_majority"])
    leakage["shuffled_label"] = shuffled_control_verdict(ctrl)
    if not leakage["shuffled_label"]["at_baseline"] and not allow_suspect:
        raise LeakageError(f"shuffled-label control scored {ctrl['hit_rate']:.1%}, above its baseline: the "
                           "evaluation leaks; pass --allow-suspect to evaluate anyway")
    ev["leakage"] = leakage
    write_outputs(ev, out, f"{card['model_id']} on {start}..{end} ({card['instrument']})")
    return ev


def build_signal_publisher(registry: Path, ref: str, bus: Any, clock: Any = None,
                           altdata_dir: Path | None = None) -> SignalPublisher:  # fmt: skip
    """A live publisher for a stored model: its own feature set online, publishing on ``signals``. A set
    using alternative data reads it as of each bar from the store in ``altdata_dir`` (the node's poller's)."""
    from tradingsystem.runtime.altdata import LiveAltData

    model, card = ModelRegistry(registry).load(ref)
    fs = FeatureSet.from_yaml(card["feature_set"]["yaml"])
    stream = fs.online(AssetClass(card["asset_class"]))
    alt = None
    if fs.alt_inputs:
        if altdata_dir is None:
            raise ValueError(f"model {ref}: its features use alternative data ({', '.join(fs.alt_inputs)}); "
                             "give the altdata store (signals: altdata_dir, default data_dir)")
        alt = LiveAltData(fs.alt_inputs, card["instrument"], altdata_dir)
    return SignalPublisher(card["instrument"], stream, model, card["model_id"], bus, SIGNAL_TOPIC, clock, alt)
