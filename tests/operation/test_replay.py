"""``run --feed replay``: paper trading on what a simulated run recorded, as fast as possible."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tradingsystem.adapters.storage import Catalog
from tradingsystem.runtime.cli import app

FLAGS = ["--no-status", "--no-control", "--no-dashboard", "--speed", "max"]


def test_replay_paper_trades_the_recorded_catalog(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sim = {"seed": 9, "session_date": "2026-03-02", "start_time": "10:05", "symbols": ["WINFUT", "PETR4"]}
    strategies = [{"symbol": "WINFUT", "fast": 3, "slow": 8, "quantity": 1}]
    rec_cfg = tmp_path / "rec.yaml"
    rec_cfg.write_text(yaml.safe_dump({"data_dir": str(data), "persist": False, "sim": sim, "strategies": []}))
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--config", str(rec_cfg), "--duration", "900", *FLAGS])
    assert res.exit_code == 0, res.output
    catalog = Catalog(data)
    recorded = sum(catalog.read_trades(p.instrument, p.day, p.day).num_rows for p in catalog.partitions("trades"))
    catalog.close()
    assert recorded > 100
    cfg = tmp_path / "replay.yaml"
    cfg.write_text(yaml.safe_dump({"data_dir": str(data), "record": False, "persist": False, "sim": sim,
                                   "strategies": strategies}))
    out = tmp_path / "summary.json"
    res = runner.invoke(app, ["run", "--feed", "replay", "--config", str(cfg), "--summary-out", str(out), *FLAGS])
    assert res.exit_code == 0, res.output
    summary = json.loads(out.read_text())
    assert summary["feed"] == "replay" and summary["trades_seen"] == recorded
    assert summary["orders_submitted"] > 0 and summary["fills"] > 0
    journal = (data / "paper" / "journal.jsonl").read_text().splitlines()
    assert len(journal) >= summary["orders_submitted"]
