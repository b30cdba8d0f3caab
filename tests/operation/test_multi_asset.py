"""The shipped ten-instrument config: every instrument trades under the book-wide limits, and a soak on it
holds memory flat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradingsystem.runtime.cli import app
from tradingsystem.runtime.config import load_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "multi-asset.yaml"


def test_the_multi_asset_config_trades_ten_instruments() -> None:
    cfg = load_config(CONFIG, {})
    assert len(cfg.sim.symbols) >= 10 and len({s.symbol for s in cfg.strategies}) >= 10
    assert cfg.risk.max_gross_exposure_brl > 0 and cfg.risk.daily_loss_limit_brl > 0


@pytest.mark.slow
def test_ten_asset_soak_holds_memory_flat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADINGSYSTEM__SIM__EVENTS_PER_SECOND", "2")  # lighter flow, same instruments
    out = tmp_path / "soak.json"
    result = CliRunner().invoke(app, ["soak", "--sessions", "3", "--speed", "max", "--out", str(out),
                                      "--config", str(CONFIG), "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    rep = json.loads(out.read_text())
    assert rep["sessions_completed"] == 3 and rep["errors"] == 0 and rep["risk_violations"] == 0
    assert rep["faults_recovered"] == rep["faults_injected"] == 9, rep["unrecovered"]
    assert rep["fills"] > 1000
    assert rep["rss_mb_end"] <= rep["rss_mb_start"] * 1.10
