"""/health and /metrics on the HTTP server of a running node (no token), JSON logs."""

from __future__ import annotations

import json
import threading
import urllib.request

from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.logs import configure_logging, get_logger
from tradingsystem.runtime.node import build_sim_node
from tradingsystem.runtime.server import start_server


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read().decode()


def test_health_and_metrics_of_a_running_node() -> None:
    node = build_sim_node(AppConfig(record=False, persist=False), seed=3)
    kernel = node.kernel
    server = start_server(kernel, "127.0.0.1", 0, dashboard=False)
    until = node.start_ns + 3600 * 1_000_000_000
    runner = threading.Thread(target=lambda: kernel.run(until_ts=until, speed=5.0, live=True), daemon=True)
    runner.start()
    try:
        code, body = _get(server.url + "/health")
        health = json.loads(body)
        assert code == 200 and health["status"] == "ok" and health["trading_state"] == "ACTIVE"
        code, text = _get(server.url + "/metrics")
        assert code == 200
        for name in ("tradingsystem_market_events_total{kind=\"trade\"}", "tradingsystem_inbox_depth",
                     "tradingsystem_engine_response_seconds", "tradingsystem_realized_pnl_brl",
                     "tradingsystem_trading_state{state=\"ACTIVE\"} 1", "tradingsystem_kill_switch 0"):
            assert name in text
        assert "# TYPE tradingsystem_fills_total counter" in text
        req = urllib.request.Request(server.url + "/risk")  # the other routes still need the token
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("expected 401")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        kernel.call_soon_threadsafe(kernel.stop)
        runner.join(timeout=30)
        server.stop()
        node.market.close()


def test_json_logs(capsys) -> None:  # type: ignore[no-untyped-def]
    configure_logging(json=True)
    get_logger("test", run="R1").info("node started", events=3)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    rec = json.loads(line)
    assert rec["event"] == "node started" and rec["run"] == "R1" and rec["level"] == "info" and "timestamp" in rec


def test_health_and_metrics_say_so_when_the_engine_does_not_answer() -> None:
    node = build_sim_node(AppConfig(record=False, persist=False), seed=3)  # built, never run: nothing drains
    server = start_server(node.kernel, "127.0.0.1", 0, dashboard=False)
    try:
        for path, marker in (("/health", '"engine not answering"'), ("/metrics", "did not answer")):
            try:
                urllib.request.urlopen(server.url + path, timeout=10)
                raise AssertionError(f"expected 503 from {path}")
            except urllib.error.HTTPError as exc:
                assert exc.code == 503 and marker in exc.read().decode()
    finally:
        server.stop()
        node.market.close()
