"""``tradingsystem train`` / ``tradingsystem evaluate`` (and the same under ``tradingsystem ml``), and
``tradingsystem ml compare`` (``cli_compare``).

Mount with ``register(app)`` (adds top-level ``train`` and ``evaluate`` plus the ``ml`` group), or
``app.add_typer(ml_app, name="ml")`` for the group only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console

from tradingsystem.features import FeatureSetError
from tradingsystem.ml import LeakageError, ModelRegistry, RegistryError
from tradingsystem.runtime.cli_compare import compare_cmd
from tradingsystem.runtime.cli_errors import fail, option_date
from tradingsystem.runtime.config import read_utf8
from tradingsystem.runtime.ml import TrainConfig, evaluate_model, train_from_config
from tradingsystem.runtime.ml_deep import model_override, progress_bar

__all__ = ["evaluate_cmd", "ml_app", "register", "train_cmd"]

ml_app = typer.Typer(help="Train, evaluate and list ML signal models.", no_args_is_help=True, add_completion=False)
err = Console(stderr=True)


_fail = fail


def train_cmd(
    config: Annotated[Path, typer.Option(help="training YAML (see docs/ml.md)")],
    out: Annotated[Path | None, typer.Option(help="also write evaluation.json and report.html here")] = None,
    model: Annotated[str | None, typer.Option(help="override the config's model kind: lstm, transformer, tcn, "
                                                   "logistic, lightgbm, ...")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda (sequence models)")] = None,
    allow_suspect: Annotated[bool, typer.Option(help="train even when a leakage check flags a feature")] = False,
) -> None:
    """Walk-forward train and evaluate a model from a config file, then store it in the registry.

    Every run checks for leakage (truncation test, single-feature plausibility, shuffled-label control)
    and fails naming the feature unless --allow-suspect is given."""
    if not config.exists():
        _fail(f"config {config} not found")
    try:
        cfg = TrainConfig.model_validate(yaml.safe_load(read_utf8(config)))
        if allow_suspect:
            cfg = cfg.model_copy(update={"allow_suspect": True})
        cfg = cfg.model_copy(update={"model": model_override(cfg.model, model, device)})
        with progress_bar(err) as progress:
            card = train_from_config(cfg, config.resolve().parent, out, progress=progress)
    except ValidationError as exc:
        _fail(f"{config}: {exc}")
        return
    except (ValueError, FileNotFoundError, FeatureSetError, LeakageError, RegistryError, yaml.YAMLError) as exc:
        _fail(str(exc))
        return
    summary = {"model_id": card["model_id"], **card["oos_summary"], "n_folds": len(card["folds"]),
               "suspect_features": card["leakage"]["suspect_features"],
               "shuffled_label_hit_rate": card["leakage"]["shuffled_label"]["hit_rate"]}
    typer.echo(json.dumps(summary, sort_keys=True))
    _warn(card["leakage"], card.get("input_rejected", {}))


def _warn(leakage: dict[str, object], rejected: dict[str, int]) -> None:
    if leakage.get("suspect_features"):
        err.print(f"warning: --allow-suspect: kept suspect features {leakage['suspect_features']}", highlight=False)
    if rejected:
        err.print(f"warning: input rows rejected: {rejected}", highlight=False)


def evaluate_cmd(
    model: Annotated[str, typer.Option(help="NAME or NAME:VERSION in the registry")],
    start: Annotated[str, typer.Option(help="first B3 date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="last B3 date, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="directory for evaluation.json and report.html")],
    registry: Annotated[Path, typer.Option(help="model registry directory")] = Path("models"),
    input_: Annotated[Path | None, typer.Option("--input", help="bar or trade file (default: the training one)")]
    = None,
    data_dir: Annotated[Path | None, typer.Option(help="catalog directory instead of --input")] = None,
    allow_suspect: Annotated[bool, typer.Option(help="evaluate even when a leakage check flags a feature")]
    = False,
    corporate_actions: Annotated[Path | None, typer.Option(
        help="stocks: splits/dividends CSV (default: the one the model was trained with)")] = None,
) -> None:
    """Evaluate a stored model on a period: evaluation.json and an HTML report in OUT."""
    d0, d1 = option_date(start, "--start"), option_date(end, "--end")
    if d0 is None or d1 is None:
        _fail("--start and --end take YYYY-MM-DD")
        return
    if d1 < d0:
        _fail("--end is before --start")
    try:
        ev = evaluate_model(registry, model, d0, d1, out, input_, data_dir, allow_suspect, corporate_actions)
    except (ValueError, FileNotFoundError, RegistryError, LeakageError) as exc:
        _fail(str(exc))
        return
    keys = ("model_id", "hit_rate", "hit_rate_ci_low", "hit_rate_ci_high", "n_predictions", "baseline_hit_rate",
            "persistence_hit_rate", "overlaps_training")
    typer.echo(json.dumps({k: ev[k] for k in keys}, sort_keys=True))
    err.print(f"55%: {ev['statement_55']}\n65%: {ev['statement_65']}", highlight=False)
    _warn(ev["leakage"], ev.get("input_rejected", {}))


@ml_app.command("models")
def models_cmd(registry: Annotated[Path, typer.Option(help="model registry directory")] = Path("models")) -> None:
    """List stored models and their out-of-sample hit rates."""
    reg = ModelRegistry(registry)
    for name in reg.names():
        for v in reg.versions(name):
            c = reg.card(f"{name}:{v}")
            s = c.get("oos_summary", {})
            typer.echo(f"{name}:{v}  {c.get('instrument')}  {c.get('model', {}).get('kind')}  "
                       f"hit {s.get('hit_rate', float('nan')):.3f} [{s.get('hit_rate_ci_low', float('nan')):.3f}, "
                       f"{s.get('hit_rate_ci_high', float('nan')):.3f}] n={s.get('n_predictions')}")  # fmt: skip


ml_app.command("train")(train_cmd)
ml_app.command("evaluate")(evaluate_cmd)
ml_app.command("compare")(compare_cmd)


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``evaluate`` at the top level and the ``ml`` group to ``app``."""
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
    app.add_typer(ml_app, name="ml")
