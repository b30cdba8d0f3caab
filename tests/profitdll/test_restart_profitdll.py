"""``tradingsystem run --feed profitdll`` SIGKILLed with a position open at the broker, then started again on the
same data directory against the same broker account (the double keeps it across processes): the second run
finds the same positions, orders, P&L and risk state, and sends nothing twice. A broker position or order the
store does not know is adopted, alerted, and puts the node in ``breakers.reconcile_action``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.profitdll.helpers import weekdays
from tests.sqlstore.conftest import postgres_server, postgres_url  # noqa: F401
from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.domain import b3
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.state import restore

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--no-status", "--no-control", "--no-dashboard"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/data/state.db"
    return str(request.getfixturevalue("postgres_url"))


def _env(dll: str) -> dict[str, str]:
    creds = {"DLL_PATH": dll, "ACTIVATION_KEY": "k3y", "USER": "trader", "PASSWORD": "s3cret"}
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}",
            **{f"TRADINGSYSTEM_PROFITDLL_{k}": v for k, v in creds.items()}}


def _node(dll: str, account: Path, cfg: Path, *run: str, seeds: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "tests.profitdll.run_node", "--dll", dll, "--account", str(account), *seeds, "--",
            "run", "--feed", "profitdll", "--config", str(cfg), *run, *FLAGS]


def _config(tmp_path: Path, url: str, strategies: list[dict[str, object]], **breakers: str) -> Path:
    cfg = tmp_path / "node.yaml"
    cfg.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"), "record": False, "state_url": url,
        "sim": {"symbols": ["WINZ26"]}, "alerts": {"enabled": False},
        "risk": {"check_session": False, "flatten_before_close_minutes": 0},
        "breakers": {"stale_data_seconds": 0, **breakers}, "strategies": strategies,
    }))
    return cfg


def _stored(url: str) -> tuple[int, dict[str, int], str, set[str]]:
    """Fills, positions, realized P&L the store holds (replayed as a restart would), and its venue order ids."""
    with SqlStateStore(SqlStoreConfig(url=url)) as store:
        kernel = Kernel({"WINZ26": b3.instrument("WINZ26", weekdays)}, is_session=weekdays)
        report = restore(kernel, store)
        venue_ids = [r.venue_order_id for r in store.load_orders() if r.venue_order_id]
        assert len(venue_ids) == len(set(venue_ids))  # one store order per broker order
        return report.fills_replayed, report.positions, str(kernel.portfolio.realized_brl()), set(venue_ids)


def _held(restored: dict) -> dict[str, int]:
    return {s: q for s, q in restored["positions"].items() if q}


def _run(cmd: list[str], env: dict[str, str], out: Path) -> dict:
    done = subprocess.run([*cmd, "--summary-out", str(out)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(out.read_text())
    summary["stderr"] = done.stderr
    return summary


def test_sigkill_with_a_broker_position_then_restart(dll_path: str, tmp_path: Path, url: str) -> None:
    """On SQLite and on a real PostgreSQL server."""
    account = tmp_path / "account.bin"
    cfg = _config(tmp_path, url, [{"symbol": "WINZ26", "fast": 3, "slow": 8, "quantity": 1}])
    env = _env(dll_path)
    first = subprocess.Popen(_node(dll_path, account, cfg), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        n, positions = 0, {}
        while n < 3 or not positions:  # trading, and a position open (no timing asserted)
            assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
            try:
                n, positions, _, _ = _stored(url)
            except Exception:  # the schema is being created
                n = 0
            time.sleep(0.1)  # poll gently (nothing is timed)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    fills, positions, realized, venue_ids = _stored(url)
    assert positions  # open at the broker too (checked by the restart below)

    again = _run(_node(dll_path, account, cfg, "--duration", "1"), env, tmp_path / "s2.json")
    restored = again["restored"]
    assert restored["fills_replayed"] == fills
    broker = restored["broker"]
    assert broker["positions"] == _held(restored)  # the node holds what the broker holds
    assert broker["positions_adopted"] == {} and restored["kill_switch"] is False
    if broker["orders_adopted"]:
        # The kill landed after a SendOrder and before the store wrote the order: the broker's filled order is
        # adopted with its fill (owner broker, stored), alerted, and the node waits in REDUCING for a person.
        assert all("filled at the broker" in m for m in broker["mismatches"])
        assert restored["trading_state"] == "REDUCING"
        assert broker["matched"] + len(broker["orders_adopted"]) == broker["listed"]
    else:
        assert broker["mismatches"] == [] and restored["trading_state"] == "ACTIVE"
        assert broker["matched"] == broker["listed"] >= len(venue_ids)  # every broker order is one of ours
        if restored["fills_recovered"] == 0:  # else the kill landed between a fill and its store write
            assert _held(restored) == positions and restored["realized_pnl_brl"] == realized

    third = _run(_node(dll_path, account, cfg, "--duration", "1"), env, tmp_path / "s3.json")
    # The broker received exactly the orders the second run submitted: nothing from before was sent again.
    assert third["restored"]["broker"]["listed"] == broker["listed"] + again["orders_submitted"]
    assert third["restored"]["broker"]["mismatches"] == []
    assert third["restored"]["broker"]["positions"] == _held(third["restored"])
    if third["restored"]["fills_recovered"] == 0:
        assert _held(third["restored"]) == {s: q for s, q in again["positions"].items() if q}


@pytest.mark.parametrize("action", [None, "HALTED"])
def test_a_broker_position_the_store_does_not_know_is_adopted(dll_path: str, tmp_path: Path,
                                                              action: str | None) -> None:
    account = tmp_path / "account.bin"
    cfg = _config(tmp_path, f"sqlite:///{tmp_path}/data/state.db", [],
                  **({"reconcile_action": action} if action else {}))
    seeds = ("--seed-position", "WDOZ26:F:3:5012.5", "--seed-order", "WINZ26:F:1:2:119000")
    summary = _run(_node(dll_path, account, cfg, "--duration", "1", seeds=seeds), _env(dll_path),
                   tmp_path / "s.json")
    restored = summary["restored"]
    broker = restored["broker"]
    assert broker["positions_adopted"] == {"WDOZ26": 3} and restored["positions"]["WDOZ26"] == 3
    assert len(broker["orders_adopted"]) == 1 and broker["orders_adopted"] == restored["working"]
    assert len(broker["mismatches"]) == 2 and "broker and state store differ" in summary["stderr"]
    assert restored["trading_state"] == (action or "REDUCING")  # the default is the safe one
    # Adopted into the store: a second start agrees with the broker; the state stays latched until a reset.
    again = _run(_node(dll_path, account, cfg, "--duration", "1"), _env(dll_path), tmp_path / "s2.json")
    assert again["restored"]["broker"]["mismatches"] == []
    assert again["restored"]["positions"]["WDOZ26"] == 3
    assert again["restored"]["working"] == broker["orders_adopted"]  # the same broker order, from the store
    assert again["restored"]["trading_state"] == (action or "REDUCING")  # latched until `risk reset`
