"""Backtest = live: a recorded simulated session replayed with the same strategy gives the same orders and
fills; the shadow report matches it; added venue latency shows as a gap that calibration removes.

The simulated market is the ground truth. Sessions are 3 simulated minutes of WINFUT with the default
strategy (EMA cross, market orders), recorded by ``tradingsystem run`` (catalog + state store).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.runtime.cli import app

FLAGS = ["--no-status", "--no-control", "--no-dashboard", "--speed", "max"]
DAY = "2026-03-02"
SIM = {"seed": 11, "session_date": DAY, "start_time": "10:00", "symbols": ["WINFUT"]}
DURATION = "180"


class _Hook(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(n) or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Hook.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/", _Hook.bodies
    server.shutdown()


def _record(root: Path, sim: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    cfg = root / "node.yaml"
    cfg.write_text(yaml.safe_dump({"data_dir": str(root / "data"), "sim": sim, **(extra or {})}))
    res = CliRunner().invoke(app, ["run", "--config", str(cfg), "--duration", DURATION, "--summary-out",
                                   str(root / "live_summary.json"), *FLAGS])
    assert res.exit_code == 0, res.output
    return cfg


def _bt(path: Path, latency_ms: float) -> Path:
    # the simulated market charges day-trade rates on every fill (sim.fees_day_trade)
    path.write_text(yaml.safe_dump({"venue": {"latency_ms": latency_ms, "ack_latency_ms": 1,
                                              "fee_mode": "day_trade"}}))
    return path


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated market's own latencies (1 ms each way)."""
    root = tmp_path_factory.mktemp("live")
    _record(root, SIM)
    return root


@pytest.fixture(scope="module")
def slow_session(tmp_path_factory: pytest.TempPathFactory, webhook: tuple[str, list[dict[str, Any]]]) -> Path:
    """40 ms from us to the matching engine and 6 ms back, while the backtest venue assumes 1 ms each way;
    nightly shadow on."""
    root = tmp_path_factory.mktemp("slow")
    bt = _bt(root / "bt.yaml", 1)
    _record(root, {**SIM, "latency_in_ns": 40_000_000, "latency_out_ns": 6_000_000},
            {"shadow": {"nightly": True, "backtest": str(bt), "alert_gap_brl": "5"},
             "alerts": {"webhooks": [{"url": webhook[0]}]}})
    return root


def _live(root: Path) -> tuple[list[Any], dict[str, list[tuple[int, int, int]]]]:
    store = SqlStateStore(SqlStoreConfig(url=f"sqlite:///{root / 'data' / 'state.db'}"))
    orders = sorted(store.load_orders(), key=lambda o: o.ts_init)
    fills: dict[str, list[tuple[int, int, int]]] = {}
    for f in store.load_fills():
        fills.setdefault(f.order_id, []).append((f.quantity, f.price, f.ts))
    store.close()
    return orders, fills


def _per_order(fills: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """(quantity, cost, first fill time): fills per maker order (live) and per level (replay) compare equal."""
    return sum(q for q, _, _ in fills), sum(q * p for q, p, _ in fills), min(t for _, _, t in fills)


def test_replay_of_the_capture_gets_the_live_orders_and_fills(session: Path) -> None:
    cfg = session / "replay.yaml"
    cfg.write_text(yaml.safe_dump({"data_dir": str(session / "data"), "record": False, "persist": False,
                                   "sim": SIM}))
    out = session / "replay.json"
    res = CliRunner().invoke(app, ["run", "--feed", "replay", "--config", str(cfg), "--summary-out", str(out),
                                   *FLAGS])
    assert res.exit_code == 0, res.output
    summary = json.loads(out.read_text())
    book_rows = sum(pq.read_metadata(p).num_rows for p in (session / "data" / "book").rglob("*.parquet"))
    assert book_rows > 1000 and summary["book_events"] == book_rows  # book events replayed, every one
    orders, fills = _live(session)
    assert len(orders) > 50
    replay_orders: list[dict[str, Any]] = []
    replay_fills: dict[str, list[tuple[int, int, int]]] = {}
    for line in (session / "data" / "paper" / "journal.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["t"] == "arrive":
            replay_orders.append(entry["cmd"])
        elif entry["ev"]["kind"] == 4:
            ev = entry["ev"]
            replay_fills.setdefault(ev["order_id"], []).append((ev["fill_qty"], ev["fill_price"], ev["ts_event"]))
    # tolerance: none. Same orders at the same times, each filled with the same quantity, the same average
    # price (0 ticks) and the same first-fill time (0 ms)
    assert [(o.side, o.order_type, o.quantity, o.ts_init) for o in orders] == \
        [(o["side"], o["order_type"], o["quantity"], o["ts_init"]) for o in replay_orders]
    assert [_per_order(fills[o.order_id]) for o in orders] == \
        [_per_order(replay_fills[o["order_id"]]) for o in replay_orders]


def test_catalog_backtest_gets_the_live_pnl(session: Path) -> None:
    bt = session / "bt_catalog.yaml"
    bt.write_text(yaml.safe_dump({
        "data": {"source": "catalog", "data_dir": str(session / "data"), "symbols": ["WINJ26"],
                 "kinds": ["trades", "book"], "calendar": "bvmf"},
        "strategy": {"name": "ema_cross", "params": {"fast": 10, "slow": 30, "quantity": 1}},
        "venue": {"latency_ms": 1, "ack_latency_ms": 1, "fee_mode": "day_trade"},
        "risk": {"max_order_qty": 50, "max_position": 100},
        "report": {"deterministic": True}}))
    res = CliRunner().invoke(app, ["backtest", "--config", str(bt), "--out", str(session / "bt_out")])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    live = json.loads((session / "live_summary.json").read_text())
    assert summary["orders"] == live["orders_submitted"] > 50 and summary["positions"] == live["positions"]
    gross = Decimal(summary["pnl_brl"]) + Decimal(summary["fees_brl"])
    assert gross == Decimal(live["net_pnl_brl"]) + Decimal(live["fees_brl"])  # exact before fees
    assert abs(Decimal(summary["fees_brl"]) - Decimal(live["fees_brl"])) <= _fee_tolerance(live["fills"],
                                                                                         summary["fills"])


def _fee_tolerance(*fills: int) -> Decimal:
    """Fees are rounded to the cent per fill; the simulated market reports one fill per resting order it hits,
    the model one per price level: at most half a cent per fill apart."""
    return Decimal("0.005") * sum(fills)


def _shadow(root: Path, bt: Path, *extra: str) -> dict[str, Any]:
    res = CliRunner().invoke(app, ["shadow", "--date", DAY, "--config", str(root / "node.yaml"), "--backtest",
                                   str(bt), *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_shadow_report_matches_the_live_session(session: Path) -> None:
    s = _shadow(session, _bt(session / "bt.yaml", 1), "--strategy", "ema_cross")
    assert s["orders_live"] == s["orders_replay"] == s["matched"] > 50
    assert s["mean_abs_price_diff_ticks"] == 0 and s["mean_abs_time_diff_ms"] == 0
    assert s["gross_gap_brl"] == "0.00" and s["causes"] == []
    assert abs(Decimal(s["pnl_gap_brl"])) <= _fee_tolerance(s["fills_live"], s["fills_replay"])
    report = session / "data" / "reports" / "shadow" / f"shadow-{DAY}-ema_cross.html"
    assert "Shadow backtest" in report.read_text()  # where the dashboard's Reports page looks
    rows = json.loads(report.with_suffix(".json").read_text())["orders"]
    assert len(rows) == s["orders_live"] and all(r["cause"] == "match" for r in rows)


def test_added_latency_shows_a_gap_that_calibration_removes(slow_session: Path,
                                                              webhook: tuple[str, list[dict[str, Any]]]) -> None:
    # the nightly shadow of ``run`` wrote its report and alerted: the 1 ms model misses the 40 ms venue
    nightly = json.loads((slow_session / "data" / "reports" / "shadow" / f"shadow-{DAY}.json").read_text())
    assert abs(Decimal(nightly["summary"]["pnl_gap_brl"])) > 5
    assert any("shadow" in json.dumps(b) for b in webhook[1])
    bt = slow_session / "bt.yaml"
    before = _shadow(slow_session, bt)
    assert before["pnl_gap_brl"] == nightly["summary"]["pnl_gap_brl"]
    assert 39 <= before["mean_abs_time_diff_ms"] <= 45 and before["causes"]  # 40 ms added (a few orders match later)
    res = CliRunner().invoke(app, ["calibrate", "--date", DAY, "--config", str(slow_session / "node.yaml"),
                                   "--backtest", str(bt)])
    assert res.exit_code == 0, res.output
    fit = json.loads(res.stdout.strip().splitlines()[-1])
    assert fit["gap_before_brl"] == before["pnl_gap_brl"]
    written = yaml.safe_load(bt.read_text())["venue"]["calibrated"]
    assert written["WINJ26"]["continuous"]["latency_ms"] == pytest.approx(40, abs=0.01)
    assert written["WINJ26"]["continuous"]["ack_latency_ms"] == pytest.approx(6, abs=0.01)  # from orders.ts_ack
    after = _shadow(slow_session, bt)
    assert abs(Decimal(after["pnl_gap_brl"])) < abs(Decimal(before["pnl_gap_brl"]))
    assert after["mean_abs_time_diff_ms"] < 1 and fit["gap_after_brl"] == after["pnl_gap_brl"]


def test_bad_input_is_one_line_and_nonzero(session: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["shadow", "--date", "02/03/2026", "--config", str(session / "node.yaml")])
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["shadow", "--date", "2026-03-09", "--config", str(session / "node.yaml")])
    assert res.exit_code == 2 and "no captured market data" in res.output
