"""Split deployment: gateway and engine as separate processes over a real Redis.

Redis is killed and restarted, then the gateway is killed and restarted; afterwards every trade the
gateway published is in the engine's catalog exactly once, the event stream has no gap and no repeat,
and no order was executed twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

redis = pytest.importorskip("redis")

from tradingsystem.adapters.redisbus.messages import decode_event, field  # noqa: E402
from tradingsystem.adapters.storage import Catalog  # noqa: E402
from tradingsystem.domain.orders import OrderEventKind  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "tradingsystem.runtime.cli"]


def _write(path: Path, source: str, updates: dict[str, object]) -> Path:
    data = yaml.safe_load((ROOT / "config" / source).read_text())
    for key, value in updates.items():
        section, _, name = key.partition(".")
        if name:
            data.setdefault(section, {})[name] = value
        else:
            data[section] = value
    path.write_text(yaml.safe_dump(data))
    return path


def _wait(cond, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except redis.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CLI, *args], env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def test_split_survives_redis_and_gateway_restarts(redis_server, tmp_path: Path) -> None:
    symbols = ["WINFUT", "WDOFUT", "PETR4", "VALE3", "ITUB4", "BBDC4", "BBAS3", "ABEV3", "B3SA3", "WEGE3"]
    sim = {"seed": 5, "session_date": "2026-03-02", "start_time": "10:05", "symbols": symbols,
           "events_per_second": 40}
    gw_cfg = _write(tmp_path / "gw.yaml", "split-gateway.yaml",
                    {"gateway.speed": 40, "gateway.duration_s": 600, "sim": sim})
    data = tmp_path / "data"
    eng_cfg = _write(tmp_path / "eng.yaml", "split-engine.yaml", {
        "data_dir": str(data), "sim": {k: sim[k] for k in ("session_date", "start_time", "symbols")},
        "strategies": [{"symbol": "WINFUT", "fast": 3, "slow": 8, "quantity": 1},
                       {"symbol": "WDOFUT", "fast": 3, "slow": 8, "quantity": 1},
                       {"symbol": "PETR4", "fast": 3, "slow": 8, "quantity": 100}]})
    env = {**os.environ, "TRADINGSYSTEM__REDIS__URL": redis_server.url, "PYTHONUNBUFFERED": "1"}
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=1)
    summary = tmp_path / "summary.json"
    log = tmp_path / "procs.log"
    gw = _start(["gateway", "--config", str(gw_cfg)], env, log)
    engine = _start(["run", "--feed", "redis", "--config", str(eng_cfg), "--no-status", "--no-control",
                     "--no-dashboard", "--summary-out", str(summary)], env, log)
    try:
        steps = lambda: int(client.get("ts:gw:step") or 0)  # noqa: E731
        _wait(lambda: steps() > 2000, 120, "the gateway to publish")
        # --- Redis dies and comes back (same port, same data directory) --------------------------
        redis_server.kill()
        time.sleep(1.0)
        redis_server.start()
        at = steps()
        _wait(lambda: steps() > at + 500, 120, "the gateway to publish again after the Redis restart")
        # --- the gateway dies and comes back -----------------------------------------------------
        gw.send_signal(signal.SIGKILL)
        gw.wait(timeout=30)
        gw = _start(["gateway", "--config", str(gw_cfg)], env, log)
        assert gw.wait(timeout=240) == 0, log.read_text()[-3000:]
        assert engine.wait(timeout=240) == 0, log.read_text()[-3000:]
    finally:
        for p in (gw, engine):
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)

    entries = client.xrange("ts:events")
    seqs = [int(field(f, "s")) for _, f in entries if field(f, "k") != "end"]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, no repeat across both restarts
    trades: Counter[tuple[str, int]] = Counter()
    accepted: Counter[str] = Counter()
    fills = 0
    for _, f in entries:
        kind = field(f, "k")
        if kind == "trade":
            t = decode_event("trade", f[b"b"])
            trades[(t.symbol, t.trade_id)] += 1
        elif kind == "order":
            ev = decode_event("order", f[b"b"])
            if ev.kind == int(OrderEventKind.ACCEPTED):
                accepted[ev.order_id] += 1
            fills += ev.kind == int(OrderEventKind.FILLED)
    assert trades and max(trades.values()) == 1
    # no trade lost in the catalog, none twice
    catalog = Catalog(data)
    recorded: Counter[tuple[str, int]] = Counter()
    for sym in {s for s, _ in trades}:
        for tid in catalog.read_trades(sym, columns=["trade_id"]).column("trade_id").to_pylist():
            recorded[(sym, int(tid))] += 1
    catalog.close()
    assert recorded == trades
    # no order executed twice: one journal entry per command id, one acceptance per order
    journal = [field(f, "c") for _, f in client.xrange("ts:gw:journal")]
    assert journal and len(journal) == len(set(journal))
    assert accepted and max(accepted.values()) == 1
    result = json.loads(summary.read_text())
    sent = {field(f, "c") for _, f in client.xrange("ts:cmd")}
    submits = {c for c in sent if c.startswith("S:")}
    assert result["orders_submitted"] == len(submits)  # each order sent once (a resend would be de-duplicated)
    assert set(journal) <= sent
    assert len(submits - set(journal)) <= 3  # only orders sent after the gateway's ``end`` were never executed
    assert result["fills"] == fills
    assert int(client.get("ts:eng:seq") or 0) == len(seqs)  # the engine acknowledged everything
