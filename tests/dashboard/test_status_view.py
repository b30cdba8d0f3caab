"""The terminal status view of `tradingsystem run`: risk state, halts, alerts and phases, within 80x24."""

from __future__ import annotations

from datetime import time

from rich.console import Console

from tradingsystem.adapters.simulator import SimMarketConfig
from tradingsystem.domain.sessions import local_ns
from tradingsystem.interfaces.status import render, status_snapshot
from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.node import build_sim_node


def _screen(snapshot: dict) -> list[str]:
    console = Console(width=80, height=24, record=True, color_system=None, force_terminal=False)
    console.print(render(snapshot))
    return console.export_text().rstrip("\n").split("\n")


def test_status_view_shows_phase_halt_and_alerts_in_80_by_24(tmp_path) -> None:
    cfg = AppConfig(data_dir=tmp_path, record=False, persist=False, sim=SimMarketConfig(start_time=time(9, 50)))
    node = build_sim_node(cfg, seed=3)
    k = node.kernel
    try:
        k.run(until_ts=local_ns(node.session_date, time(9, 52)))
        lines = _screen(status_snapshot(k))
        assert len(lines) <= 24 and max(map(len, lines)) <= 80
        text = "\n".join(lines)
        assert "ACTIVE" in text and "HALTED" not in text
        petr = next(line for line in lines if line.startswith("PETR4"))
        win = next(line for line in lines if line.startswith("WIN"))
        assert "opening auction" in petr and "continuous" in win  # why stocks have no price before 10:00

        k.guard.kill("operator test")
        lines = _screen(status_snapshot(k))
        text = "\n".join(lines)
        assert len(lines) <= 24 and max(map(len, lines)) <= 80
        assert "HALTED" in text and "KILL SWITCH" in text and "operator test" in text
        assert "risk reset" in text and "alerts:" in text and "kill_switch" in text
    finally:
        k.finish()
        node.market.close()


def test_status_view_shows_instruments_a_manual_flatten_took_from_the_strategies(tmp_path) -> None:
    cfg = AppConfig(data_dir=tmp_path, record=False, persist=False, sim=SimMarketConfig(start_time=time(10, 0)))
    node = build_sim_node(cfg, seed=3)
    k = node.kernel
    try:
        k.run(until_ts=local_ns(node.session_date, time(10, 5)))
        win = k.strategies[0].symbols[0]
        k.manual_flatten("cli", win)
        lines = _screen(status_snapshot(k))
        assert len(lines) <= 24 and max(map(len, lines)) <= 80
        text = "\n".join(lines)
        assert f"strategies paused on {win}: `tradingsystem strategies resume`" in text
        assert f"strategies paused on {win} by cli (manual flatt" in text  # the alert says why and who
        k.resume_strategies(win, "cli")
        text = "\n".join(_screen(status_snapshot(k)))
        assert f"strategies paused on {win}:" not in text and f"strategies resumed on {win} by cli" in text
    finally:
        k.finish()
        node.market.close()
