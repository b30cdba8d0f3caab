"""A short soak: sessions back to back with faults; all recovered, no violation, memory flat."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tradingsystem.runtime.cli import app

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_soak_three_sessions(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    result = CliRunner().invoke(app, ["soak", "--sessions", "3", "--speed", "max", "--out", str(out),
                                      "--config", str(CONFIG / "soak.yaml"), "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    rep = json.loads(out.read_text())
    for key in ("sessions_completed", "errors", "faults_injected", "faults_recovered", "risk_violations",
                "events_processed", "rss_mb_start", "rss_mb_end", "rss_mb_peak"):
        assert key in rep
    assert rep["sessions_completed"] == 3 and rep["errors"] == 0 and rep["risk_violations"] == 0
    assert rep["faults_injected"] == 9 and rep["faults_recovered"] == 9, rep["unrecovered"]
    assert rep["events_processed"] > 100_000 and rep["orders_submitted"] > 0 and rep["fills"] > 0
    assert rep["rss_mb_end"] <= rep["rss_mb_start"] * 1.10  # flat after the first session


def test_soak_is_deterministic_per_seed(tmp_path: Path) -> None:
    from tradingsystem.runtime.config import load_config
    from tradingsystem.runtime.soak import run_soak

    cfg = load_config(CONFIG / "soak.yaml", {})
    cfg = cfg.model_copy(update={"sim": cfg.sim.model_copy(update={"events_per_second": 1.0})})
    a = run_soak(cfg, 1, tmp_path / "a", seed=3)
    b = run_soak(cfg, 1, tmp_path / "b", seed=3)
    assert (a.events_processed, a.orders_submitted, a.fills) == (b.events_processed, b.orders_submitted, b.fills)
