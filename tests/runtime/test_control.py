"""A running node answers its control API and CLI: status, kill switch, reset, orders, positions; the API, the
dashboard and /health share one server and one token (with one lockout)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tradingsystem.runtime.cli import app

runner = CliRunner()


def _wait_for(path: Path, proc: subprocess.Popen[bytes], limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"node exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError("node did not start its control API")
        time.sleep(0.05)


@contextlib.contextmanager
def _node(data_dir: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """``tradingsystem run`` on the simulated market (30 market seconds a second) until the test stops it."""
    cmd = [sys.executable, "-m", "tradingsystem.runtime.cli", "run", "--speed", "30", "--no-status", "--port", "0",
           "--data-dir", str(data_dir), "--summary-out", str(data_dir / "s.json"), *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": "120", **(env or {})})
    try:
        _wait_for(data_dir / "node.json", proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


@pytest.fixture
def node(tmp_path):
    with _node(tmp_path) as proc:
        yield tmp_path, proc


def cli(*args: str) -> dict:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_kill_switch_through_cli_and_clean_exit(node):
    data_dir, proc = node
    d = str(data_dir)
    status = cli("risk", "status", "--data-dir", d)
    assert status["trading_state"] == "ACTIVE" and status["kill_switch"] is False
    killed = cli("risk", "kill", "--reason", "operator test", "--data-dir", d)
    assert killed["status"]["trading_state"] == "HALTED" and killed["status"]["kill_reason"] == "operator test"
    assert cli("orders", "--data-dir", d)["working_orders"] == []
    assert "summary" in cli("positions", "--data-dir", d)
    assert cli("risk", "reset", "--data-dir", d)["trading_state"] == "ACTIVE"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    summary = json.loads((data_dir / "s.json").read_text())
    assert len(summary["instruments"]) >= 10
    assert not (data_dir / "node.json").exists()


def test_one_server_one_token_for_cli_dashboard_and_lockout(tmp_path):
    """Through `tradingsystem run`: the CLI's kill reaches the node on the dashboard's server; the token in
    node.json logs in to the dashboard, whose actions are audited with their outcome; after the configured
    number of wrong tokens the API, the CLI and the login all get 429, the right token included."""
    env = {"TRADINGSYSTEM__OBSERVABILITY__TOKEN_MAX_FAILURES": "3"}
    d = str(tmp_path)
    with _node(tmp_path, env=env) as proc:
        killed = cli("risk", "kill", "--reason", "e2e", "--data-dir", d)
        assert killed["status"]["trading_state"] == "HALTED" and killed["status"]["kill_reason"] == "e2e"
        info = json.loads((tmp_path / "node.json").read_text())
        assert (tmp_path / "node.json").stat().st_mode & 0o777 == 0o600
        with httpx.Client(base_url=info["url"], timeout=10) as web:
            assert web.get("/health").json()["kill_switch"] is True  # open probe on the same server
            assert web.post("/login", data={"token": info["token"]}).status_code == 303
            csrf = re.search(r'name="csrf" content="([^"]+)"', web.get("/").text)
            assert csrf is not None
            headers = {"X-CSRF-Token": csrf.group(1)}
            assert web.post("/api/control/cancel_all", json={}, headers=headers).status_code == 200
            order = {"symbol": "WDOJ26", "side": "BUY", "quantity": "1", "type": "MARKET"}
            assert web.post("/api/control/order", json=order, headers=headers).json()["ok"] is False  # halted
            assert web.post("/api/control/flatten", json={"symbol": "NOPE"}, headers=headers).status_code == 400
        with httpx.Client(base_url=info["url"], timeout=10) as guess:
            for _ in range(3):
                assert guess.get("/risk", headers={"Authorization": "Bearer nope"}).status_code == 401
            locked = guess.get("/risk", headers={"Authorization": f"Bearer {info['token']}"})
            assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
            assert guess.post("/login", data={"token": info["token"]}).status_code == 429
        refused = runner.invoke(app, ["risk", "status", "--data-dir", d])
        assert refused.exit_code == 1 and "429" in refused.output
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    lines = runner.invoke(app, ["audit", "--data-dir", d]).output.strip().splitlines()
    assert len(lines) == 4, lines
    assert lines[0].split()[3:5] == ["cli", "kill"] and "reason=e2e" in lines[0]
    assert lines[1].split()[3:5] == ["dashboard:web:127.0.0.1", "cancel_all"] and "-> accepted cancelled=" in lines[1]
    assert lines[2].split()[3:5] == ["dashboard:web:127.0.0.1", "order"] and "-> denied by " in lines[2]
    assert lines[3].split()[3:5] == ["dashboard:web:127.0.0.1", "flatten"] and "-> error: " in lines[3]


def test_no_dashboard_still_serves_the_api_and_no_control_turns_it_off(tmp_path):
    d = str(tmp_path)
    with _node(tmp_path, "--no-dashboard"):
        assert cli("risk", "status", "--data-dir", d)["trading_state"] == "ACTIVE"
        url = json.loads((tmp_path / "node.json").read_text())["url"]
        assert httpx.get(url + "/", timeout=10).status_code == 404  # no pages
        assert httpx.get(url + "/metrics", timeout=10).text.startswith("# HELP")
    with _node(tmp_path, "--no-control"):
        off = runner.invoke(app, ["risk", "kill", "--reason", "x", "--data-dir", d])
        assert off.exit_code == 1 and "--no-control" in off.output
        url = json.loads((tmp_path / "node.json").read_text())["url"]
        assert httpx.get(url + "/login", timeout=10).status_code == 200  # the dashboard still is


def test_cli_without_a_node_says_so(tmp_path):
    result = runner.invoke(app, ["risk", "status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no running node" in result.output


def test_run_persists_fills_that_the_tax_report_reads(tmp_path):
    result = runner.invoke(app, ["run", "--duration", "900", "--speed", "max", "--no-status", "--no-control",
                                 "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["fills"] > 0
    out = tmp_path / "tax"
    report = runner.invoke(app, ["tax", "report", "--year", "2026", "--out", str(out),
                                 "--db", f"sqlite:///{tmp_path / 'state.db'}"])
    assert report.exit_code == 0, report.output
    month = json.loads((out / "tax.json").read_text())["months"]["2026-03"]
    assert month["day_trade_result_brl"] != "0.00"


def test_run_composes_bars_and_strategy_templates_from_config(tmp_path):
    cfg = tmp_path / "node.yaml"
    cfg.write_text("bars:\n  - {symbol: WINFUT, timeframe: 1m}\n"
                   "templates:\n  - {name: donchian, symbol: WINFUT, params: {lookback: 10, quantity: 1}}\n"
                   "strategies: []\n")
    result = runner.invoke(app, ["run", "--config", str(cfg), "--duration", "1800", "--speed", "max", "--no-status",
                                 "--no-control", "--no-dashboard", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["orders_submitted"] > 0  # only the Donchian template trades, on 1-minute bars
    bad = tmp_path / "bad.yaml"
    bad.write_text("templates:\n  - {name: nope, symbol: WINFUT}\n")
    refused = runner.invoke(app, ["run", "--config", str(bad), "--duration", "60", "--speed", "max", "--no-status",
                                  "--no-control", "--no-dashboard", "--data-dir", str(tmp_path)])
    assert refused.exit_code == 2 and "unknown strategy 'nope'" in refused.output


def test_manual_actions_are_audited_in_the_state_store(node):
    """CLI kill and reset and a control-API flatten each leave a record (who, what, when, result) that
    `tradingsystem audit` prints after the node has stopped."""
    import urllib.request

    data_dir, proc = node
    d = str(data_dir)
    cli("risk", "kill", "--reason", "audit test", "--flatten", "--data-dir", d)
    cli("risk", "reset", "--data-dir", d)
    info = json.loads((data_dir / "node.json").read_text())
    req = urllib.request.Request(info["url"] + "/flatten", method="POST", data=b"{}",
                                 headers={"Authorization": f"Bearer {info['token']}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    result = runner.invoke(app, ["audit", "--data-dir", d])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3, result.output
    kill, reset, flatten = (line.split() for line in lines)
    assert kill[3:5] == ["cli", "kill"] and "reason=audit" in lines[0] and "flatten=True" in lines[0]
    assert "cancelled=" in lines[0] and "flatten_orders=" in lines[0]
    assert reset[3:5] == ["cli", "reset"] and "trading_state=ACTIVE" in lines[1]
    assert flatten[3:5] == ["control-api", "flatten"] and "symbol=all" in lines[2]
    assert lines[0] < lines[1] < lines[2]  # time order (ISO timestamps first)
    last = runner.invoke(app, ["audit", "--data-dir", d, "--limit", "1"])
    assert last.output.strip().splitlines() == lines[2:]


def test_audit_without_a_state_store_says_so(tmp_path):
    result = runner.invoke(app, ["audit", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no state database" in result.output


def test_control_commands_against_a_running_node_import_no_heavy_library(node):
    data_dir, _ = node
    heavy = ("pandas", "pyarrow", "torch", "sklearn", "duckdb", "scipy", "fastapi", "uvicorn")
    code = ("import json, sys\nfrom tradingsystem.runtime.cli import app\n"
            "from tradingsystem.runtime.cli_errors import run_cli\n"
            f"assert run_cli(app, ['risk', 'status', '--data-dir', {str(data_dir)!r}]) == 0\n"
            f"assert run_cli(app, ['positions', '--data-dir', {str(data_dir)!r}]) == 0\n"
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert '"trading_state": "ACTIVE"' in out and json.loads(out.strip().splitlines()[-1]) == []

