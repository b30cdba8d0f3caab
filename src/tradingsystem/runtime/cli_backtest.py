"""``tradingsystem backtest`` and ``tradingsystem optimize``: run a config, write reports, validate.

Mount on the main app with ``register(app)`` (adds both commands), or use ``backtest_app`` on its own.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradingsystem.backtest.report import write_report
from tradingsystem.backtest.sweep import grid, run_tasks
from tradingsystem.backtest.validation import deflated_sharpe, pbo, period_sharpe
from tradingsystem.backtest.walkforward import folds, optimize_fold
from tradingsystem.domain.errors import TradingSystemError
from tradingsystem.runtime.backtest_setup import (
    BacktestConfig,
    evaluate,
    load_backtest_config,
    load_dataset,
    run_backtest,
)
from tradingsystem.runtime.benchmark_source import backtest_benchmark
from tradingsystem.runtime.cli_errors import fail
from tradingsystem.runtime.config import ConfigError

__all__ = ["backtest_app", "backtest_command", "optimize_command", "register", "run_optimize"]

console = Console(stderr=True)
backtest_app = typer.Typer(help="Backtests on the live engine.", no_args_is_help=True, add_completion=False)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False, disable=not console.is_terminal)


def _load(config: Path) -> BacktestConfig:
    try:
        return load_backtest_config(config)
    except ConfigError as exc:
        fail(exc)


def backtest_command(
    config: Annotated[Path, typer.Option(help="backtest YAML config", exists=True, dir_okay=False)],
    out: Annotated[Path, typer.Option(help="folder for summary.json, trades/equity.parquet, report.html")],
) -> None:
    """Replay history through the engine and write the report."""
    cfg = _load(config)
    try:
        with _progress() as bar:
            task = bar.add_task("replaying", total=None)
            result = run_backtest(cfg, progress=lambda n: bar.update(task, completed=n))
            bar.update(task, total=result.events, completed=result.events)
        summary = write_report(result, out, cfg.report.deterministic, title=f"{cfg.strategy.name} backtest",
                               benchmark=backtest_benchmark(cfg.benchmark, result.equity))
    except (ConfigError, TradingSystemError, ValueError, OSError) as exc:
        fail(exc)
    table = Table("metric", "value")
    for key in ("trades", "win_rate", "pnl_brl", "fees_brl", "sharpe", "max_drawdown_brl", "events"):
        table.add_row(key, str(summary[key]))
    console.print(table)
    typer.echo(json.dumps(summary, sort_keys=True))


def _sweep_task(cfg_json: str, params: dict[str, Any]) -> dict[str, Any]:
    return evaluate(cfg_json, params)


def _fold_task(cfg_json: str, space: dict[str, Any], trials: int, seed: int,
               fold: tuple[tuple[date, date], tuple[date, date]]) -> dict[str, Any]:
    return optimize_fold(functools.partial(_window_eval, cfg_json), space, fold, trials, seed)


def _window_eval(cfg_json: str, params: dict[str, Any], window: tuple[date, date]) -> dict[str, Any]:
    return evaluate(cfg_json, params, window)


def run_optimize(cfg: BacktestConfig, out: Path, executor: str = "local", progress: Progress | None = None
                 ) -> dict[str, Any]:
    """Grid sweep (parallel) with PBO and deflated Sharpe, then walk-forward with Optuna (folds in parallel)."""
    opt = cfg.optimize
    if not opt.params:
        raise ConfigError("optimize.params is empty: give each parameter a list or {low, high, step}")
    cfg_json = cfg.model_dump_json()
    combos = grid(opt.params)

    def tick(task_id: Any) -> Any:
        return (lambda done, total: progress.update(task_id, completed=done, total=total)) if progress else None

    sweep_task = progress.add_task("sweep", total=len(combos)) if progress else None
    results = run_tasks(functools.partial(_sweep_task, cfg_json), combos, executor,  # type: ignore[arg-type]
                        opt.workers, tick(sweep_task))
    days = sorted({d for r in results for d in r["days"]})
    matrix = np.zeros((len(days), len(results)))
    index = {d: i for i, d in enumerate(days)}
    for j, r in enumerate(results):
        for d, v in zip(r["days"], r["daily"], strict=False):
            matrix[index[d], j] = float(v)
    sharpes = [period_sharpe(matrix[:, j]) for j in range(len(results))]
    best = int(np.argmax([r["objective"] for r in results]))
    report: dict[str, Any] = {
        "objective": opt.objective,
        "sweep": [{"params": r["params"], "objective": r["objective"], "pnl_brl": r["metrics"]["pnl_brl"],
                   "trades": r["metrics"]["trades"], "sharpe": r["metrics"]["sharpe"]} for r in results],
        "best": {"params": results[best]["params"], "objective": results[best]["objective"]},
        "deflated_sharpe": deflated_sharpe(matrix[:, best], sharpes),
        "pbo": pbo(matrix, opt.pbo_splits),
    }
    wf = opt.walk_forward
    if wf is not None:
        data_days = load_dataset(cfg).days
        fs = folds(data_days, wf.in_sample_days, wf.out_sample_days, wf.anchored)
        fold_task = progress.add_task("walk-forward", total=len(fs)) if progress else None
        fold_results = run_tasks(functools.partial(_fold_task, cfg_json, opt.params, wf.trials, wf.seed),
                                 fs, executor, opt.workers, tick(fold_task))  # type: ignore[arg-type]
        oos_pnl = sum(float(f["out_of_sample"]["metrics"]["pnl_brl"]) for f in fold_results)
        report["walk_forward"] = {
            "folds": fold_results,
            "out_of_sample_pnl_brl": f"{oos_pnl:.2f}",
            "mean_out_of_sample_objective": (sum(f["out_of_sample_objective"] for f in fold_results) / len(fs))
            if fs else None,
        }
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
    (out / "optimize.json").write_text(text)
    return json.loads(text)  # type: ignore[no-any-return]


def optimize_command(
    config: Annotated[Path, typer.Option(help="backtest YAML config with an optimize section", exists=True,
                                         dir_okay=False)],
    out: Annotated[Path, typer.Option(help="folder for optimize.json")],
    executor: Annotated[str, typer.Option(help="local (process pool) or ray")] = "local",
) -> None:
    """Parameter sweep with overfitting checks (PBO, deflated Sharpe) and walk-forward optimisation."""
    if executor not in ("local", "ray"):
        fail("--executor takes local or ray")
    cfg = _load(config)
    try:
        with _progress() as bar:
            report = run_optimize(cfg, out, executor, bar)
    except (ConfigError, TradingSystemError, ValueError, OSError, RuntimeError) as exc:
        fail(exc)
    table = Table("check", "value")
    table.add_row("best params", json.dumps(report["best"]["params"]))
    table.add_row("best objective", f"{report['best']['objective']}")
    table.add_row("deflated Sharpe (prob.)", f"{report['deflated_sharpe']['dsr']:.4f}")
    table.add_row("PBO", f"{report['pbo']['pbo']}")
    if "walk_forward" in report:
        table.add_row("walk-forward folds", str(len(report["walk_forward"]["folds"])))
        table.add_row("OOS P&L (BRL)", report["walk_forward"]["out_of_sample_pnl_brl"])
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``backtest`` and ``optimize`` to a typer app (the main ``tradingsystem`` CLI)."""
    app.command("backtest")(backtest_command)
    app.command("optimize")(optimize_command)


register(backtest_app)
