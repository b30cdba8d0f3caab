"""Sweeps (process pool and Ray agree), walk-forward folds, PBO and the deflated Sharpe ratio."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tradingsystem.backtest.sweep import grid, run_tasks
from tradingsystem.backtest.validation import deflated_sharpe, pbo
from tradingsystem.backtest.walkforward import folds
from tradingsystem.runtime.cli_backtest import backtest_app

CONFIG = """
data: {source: synthetic, symbols: [WINZ26], ticks: 12000, days: 16, start: 2026-06-01, seed: 3}
strategy: {name: ema_cross, params: {quantity: 1}}
risk: {check_session: false, max_order_qty: 10, max_position: 10}
report: {deterministic: true, equity_interval_s: 300}
optimize:
  params: {fast: [5, 10], slow: {low: 30, high: 60, step: 30}}
  objective: pnl_brl
  workers: 2
  walk_forward: {in_sample_days: 5, out_sample_days: 5, trials: 2, seed: 1}
"""


def square(x: int) -> int:
    return x * x


def test_grid_expands_lists_and_ranges() -> None:
    assert grid({"b": [1, 2], "a": {"low": 3, "high": 7, "step": 2}}) == [
        {"a": 3, "b": 1}, {"a": 3, "b": 2}, {"a": 5, "b": 1}, {"a": 5, "b": 2}, {"a": 7, "b": 1}, {"a": 7, "b": 2}]


def test_process_pool_keeps_task_order() -> None:
    assert run_tasks(square, list(range(7)), "local", 2) == [x * x for x in range(7)]


def test_walk_forward_folds_roll_by_the_out_of_sample_length() -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(10)]
    fs = folds(days, 4, 2)
    assert [(f[0][0].day, f[0][1].day, f[1][0].day, f[1][1].day) for f in fs] == [(1, 4, 5, 6), (3, 6, 7, 8),
                                                                                   (5, 8, 9, 10)]
    assert folds(days, 4, 3, anchored=True)[1][0][0] == days[0]


def test_pbo_is_low_for_a_truly_better_config_and_high_for_noise() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, size=(64, 10))
    skill = noise.copy()
    skill[:, 3] += 1.0
    assert pbo(skill, 8)["pbo"] < 0.05
    assert pbo(noise, 8)["pbo"] > 0.2


def test_deflated_sharpe_falls_with_more_trials() -> None:
    rng = np.random.default_rng(1)
    returns = rng.normal(0.2, 1, size=250)
    few = deflated_sharpe(returns, list(rng.normal(0, 0.1, size=2)))
    many = deflated_sharpe(returns, list(rng.normal(0, 0.1, size=500)))
    assert 0 <= many["dsr"] < few["dsr"] <= 1
    assert many["sr0"] > few["sr0"]


def _optimize(tmp_path: Path, executor: str) -> dict:
    cfg = tmp_path / "opt.yaml"
    cfg.write_text(CONFIG)
    out = tmp_path / executor
    res = CliRunner().invoke(backtest_app, ["optimize", "--config", str(cfg), "--out", str(out),
                                            "--executor", executor])
    assert res.exit_code == 0, res.output
    return json.loads((out / "optimize.json").read_text())  # type: ignore[no-any-return]


def test_optimize_with_ray_matches_the_process_pool(tmp_path: Path) -> None:
    pytest.importorskip("optuna", reason="optuna is not installed (pip install optuna)")
    pytest.importorskip("ray", reason="ray is not installed (pip install 'ray[default]')")
    local = _optimize(tmp_path, "local")
    assert len(local["sweep"]) == 4
    assert len(local["walk_forward"]["folds"]) == 2
    assert 0 <= local["pbo"]["pbo"] <= 1 and 0 <= local["deflated_sharpe"]["dsr"] <= 1
    ray = _optimize(tmp_path, "ray")
    assert ray == local
