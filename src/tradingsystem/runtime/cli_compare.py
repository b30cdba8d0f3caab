"""``tradingsystem ml compare``: every model on the same purged walk-forward folds of the same data.

All models read the same dataset (the feature set plus raw returns, the same label) and the same
splitter, so their test rows are identical. Per model: hit rate with its 95% interval, log loss, P&L
after costs on non-overlapping trades, walk-forward training time and single-row / batch inference
speed. The verdict compares each deep model with the best classical one and claims a difference only
when the two intervals do not overlap.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from tradingsystem.features import FeatureSet, FeatureSetError
from tradingsystem.ml import LeakageError, ModelSpec, fit_final, walk_forward
from tradingsystem.ml.deep import DeepSignalModel, DeepSpec, deep_walk_forward
from tradingsystem.ml.pipeline import summarise
from tradingsystem.runtime import ml_deep
from tradingsystem.runtime.altdata import with_altdata
from tradingsystem.runtime.ml import (
    TrainConfig,
    asset_class_of,
    feature_set_at,
    label_with_costs,
    load_bars,
    load_feature_set,
    make_dataset,
)

__all__ = ["CompareConfig", "compare_cmd", "compare_from_config", "verdicts"]

DEFAULT_MODELS = ("logistic", "lightgbm", "lstm", "transformer", "tcn")
err = Console(stderr=True)


class CompareConfig(TrainConfig):
    """A training config plus ``models``: full specs picked by kind (``--models`` chooses which run)."""

    name: str = "compare"
    models: tuple[ModelSpec | DeepSpec, ...] = ()


def _spec(cfg: CompareConfig, kind: str, device: str | None) -> ModelSpec | DeepSpec:
    given = next((m for m in cfg.models if m.kind == kind), None)
    return ml_deep.model_override(given if given is not None else cfg.model, kind, device if kind in
                                  ("lstm", "transformer", "tcn") else None)  # fmt: skip


def _latency(model: Any, X: np.ndarray, n: int = 300) -> dict[str, float]:
    """Single-row ``predict_one`` p50/p99 (µs) after warming a sequence model's window, and batch rows/s."""
    warm = model.spec.window if isinstance(model, DeepSignalModel) else 0
    if isinstance(model, DeepSignalModel):
        model.reset()
    rows = X[: warm + n]
    times = []
    for i, x in enumerate(rows):
        t = time.perf_counter()
        model.predict_one(x)
        if i >= warm:
            times.append(time.perf_counter() - t)
    model.predict(X[:warm + 1])  # builds the batch session outside the timing
    t = time.perf_counter()
    model.predict(X)
    batch = len(X) / max(time.perf_counter() - t, 1e-9)
    us = np.asarray(times) * 1e6
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)), "batch_rows_per_s": batch}


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    """Plain statements: each deep model against the best classical one, by hit rate and its interval."""
    classical = [r for r in rows if not r["deep"]]
    if not classical:
        return ["no classical model in the comparison"]
    best = max(classical, key=lambda r: r["hit_rate"])
    out = []
    for r in (r for r in rows if r["deep"]):
        d = (r["hit_rate"] - best["hit_rate"]) * 100
        if r["ci_low"] > best["ci_high"]:
            s = f"{r['model']} beats {best['model']} by {d:.1f} points: the intervals do not overlap"
        elif r["ci_high"] < best["ci_low"]:
            s = f"{r['model']} loses to {best['model']} by {-d:.1f} points: the intervals do not overlap"
        else:
            s = (f"{r['model']} vs {best['model']}: {d:+.1f} points, not shown either way (the 95% intervals "
                 f"[{r['ci_low']:.1%}, {r['ci_high']:.1%}] and [{best['ci_low']:.1%}, {best['ci_high']:.1%}] overlap)")
        out.append(s)
    return out


def compare_from_config(cfg: CompareConfig, base: Path, kinds: tuple[str, ...], device: str | None = None,
                        progress: Any = None) -> dict[str, Any]:  # fmt: skip
    """Run ``kinds`` on the same folds of ``cfg``'s data; returns the comparison document."""
    _, fs_text = load_feature_set(cfg.feature_set, base)
    fs = feature_set_at(FeatureSet.from_yaml(ml_deep.with_returns(fs_text)), cfg.timeframe)
    ac = asset_class_of(cfg.instrument, cfg.asset_class)
    ddir = (base / cfg.data_dir) if cfg.data_dir else None
    bars = load_bars(cfg.instrument, cfg.start, cfg.end, fs.timeframe, ac, (base / cfg.input) if cfg.input else None,
                     ddir, cfg.source_tz)  # fmt: skip
    if len(bars.get("ts_event", ())) == 0:
        raise ValueError(f"no {cfg.instrument} data between {cfg.start} and {cfg.end}")
    bars = with_altdata(fs, bars, cfg.instrument, (base / cfg.altdata_dir) if cfg.altdata_dir else ddir)
    label, _ = label_with_costs(cfg.label, cfg.instrument, bars)
    ds, _ = make_dataset(fs, bars, label, ml_deep.with_return_names(cfg.features), ac, cfg.min_finite_share)
    splitter = cfg.walk_forward.splitter(ds.spec)
    seq = ml_deep.sequences(fs, bars, ac, ds.names)
    rows: list[dict[str, Any]] = []
    for kind in kinds:
        spec = _spec(cfg, kind, device)
        t = time.perf_counter()
        model: Any
        if isinstance(spec, DeepSpec):
            res, model = deep_walk_forward(ds, seq, spec, splitter, progress=progress)
        else:
            res = walk_forward(ds, spec, splitter, cfg.tuning)
            model = fit_final(ds, spec)
        train_s = time.perf_counter() - t
        ev = summarise(ds, res, kind, None).evaluation
        test_X = seq.F[seq.rows(ds.ts_feature[res.index])] if isinstance(spec, DeepSpec) else ds.X[res.index]
        pnl = ev["pnl_after_costs"]
        rows.append({
            "model": kind, "deep": isinstance(spec, DeepSpec), "hit_rate": ev["hit_rate"],
            "ci_low": ev["hit_rate_ci_low"], "ci_high": ev["hit_rate_ci_high"], "n": ev["n_predictions"],
            "baseline_hit_rate": ev["baseline_hit_rate"], "log_loss": ev["log_loss"],
            "n_effective": ev["n_effective"], "variance_inflation": ev["variance_inflation"],
            "net_bps_per_trade": pnl["net_bps_per_trade"], "trades": pnl["trades"], "train_seconds": train_s,
            **_latency(model, test_X), "spec": spec.model_dump(), "folds": ev["folds"],
        })  # fmt: skip
    return {"instrument": cfg.instrument, "start": str(cfg.start), "end": str(cfg.end), "n_rows": len(ds),
            "features": list(ds.names), "label": label.model_dump(), "walk_forward": cfg.walk_forward.model_dump(),
            "interval": "95% Wilson on the effective sample n / variance inflation of the overlapping hits",
            "models": rows, "verdicts": verdicts(rows)}  # fmt: skip


def table(doc: dict[str, Any]) -> str:
    """The comparison as a Markdown table."""
    lines = ["| model | hit rate [95% CI] | n | log loss | net bps / trade (trades) | train s | p50 / p99 µs "
             "| batch rows/s |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in doc["models"]:
        lines.append(f"| {r['model']} | {r['hit_rate']:.1%} [{r['ci_low']:.1%}, {r['ci_high']:.1%}] | {r['n']:,} | "
                     f"{r['log_loss']:.3f} | {r['net_bps_per_trade']:.1f} ({r['trades']}) | {r['train_seconds']:.0f} | "
                     f"{r['p50_us']:.0f} / {r['p99_us']:.0f} | {r['batch_rows_per_s']:,.0f} |")  # fmt: skip
    return "\n".join(lines)


def compare_cmd(
    config: Annotated[Path, typer.Option(help="training YAML (see docs/ml.md); may list full specs under models")],
    models: Annotated[str, typer.Option(help="comma-separated kinds to compare")] = ",".join(DEFAULT_MODELS),
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda for the sequence models")] = None,
    out: Annotated[Path | None, typer.Option(help="write compare.json and compare.md here")] = None,
) -> None:
    """Every model on the same walk-forward folds: hit rate and interval, log loss, P&L, speed; a verdict."""
    if not config.exists():
        err.print(f"[red]error:[/red] config {escape(str(config))} not found", highlight=False)
        raise typer.Exit(2)
    try:
        cfg = CompareConfig.model_validate(yaml.safe_load(config.read_text()))
        kinds = tuple(k.strip() for k in models.split(",") if k.strip())
        for k in kinds:
            _spec(cfg, k, device)
        with ml_deep.progress_bar(err) as progress:
            doc = compare_from_config(cfg, config.resolve().parent, kinds, device, progress)
    except (ValidationError, ValueError, FileNotFoundError, FeatureSetError, LeakageError, yaml.YAMLError) as exc:
        msg = str(exc).splitlines()[0] if isinstance(exc, ValidationError) else str(exc)
        err.print(f"[red]error:[/red] {escape(msg)}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    md = table(doc) + "\n\n" + "\n".join(f"- {v}" for v in doc["verdicts"]) + "\n"
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")
        (out / "compare.md").write_text(md)
    typer.echo(md)
