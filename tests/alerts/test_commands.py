"""Telegram commands: only configured chats; /kill needs /confirm and goes through the risk engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from tests.alerts.servers import TelegramFake, wait_until
from tests.engine.helpers import kernel, ticks
from tradingsystem.adapters.notify import TelegramBotApi, TelegramCommands
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import TradingState
from tradingsystem.engine.state import StateKeeper
from tradingsystem.ports.memory import MemoryStateStore
from tradingsystem.runtime.alerts_setup import AlertsConfig, attach_alerts

OPS, STRANGER = 1001, 666


class Control:
    def __init__(self) -> None:
        self.kills: list[str] = []

    def status(self) -> str:
        return "state: ACTIVE"

    def pnl(self) -> str:
        return "net R$ 0"

    def kill(self, reason: str) -> str:
        self.kills.append(reason)
        return "Kill switch engaged."

    def resume(self, symbol: str | None) -> str:
        return f"resumed {symbol}"


def commands(control: Control, now: list[float]) -> TelegramCommands:
    api = TelegramBotApi(SecretStr("t"), "http://127.0.0.1:9")  # never called by handle()
    return TelegramCommands(api, [OPS], control, confirm_seconds=60, clock=lambda: now[0])


def test_unknown_chat_is_refused():
    control, now = Control(), [0.0]
    cmd = commands(control, now)
    assert cmd.handle(STRANGER, "/kill") == "Not authorised."
    assert cmd.handle(STRANGER, "/confirm") == "Not authorised."
    assert cmd.handle(STRANGER, "/status") == "Not authorised."
    assert control.kills == [] and cmd.refused == 3


def test_kill_needs_a_timely_confirmation_from_the_same_chat():
    control, now = Control(), [0.0]
    cmd = commands(control, now)
    assert "Nothing to confirm" in cmd.handle(OPS, "/confirm")
    assert "/confirm" in cmd.handle(OPS, "/kill@t_bot spread blew up")
    now[0] = 61.0
    assert "Nothing to confirm" in cmd.handle(OPS, "/confirm")  # too late
    cmd.handle(OPS, "/kill spread blew up")
    assert cmd.handle(OPS, "/cancel") == "Kill cancelled."
    assert "Nothing to confirm" in cmd.handle(OPS, "/confirm")
    cmd.handle(OPS, "/kill spread blew up")
    assert cmd.handle(OPS, "/confirm") == "Kill switch engaged."
    assert control.kills == ["/kill from telegram chat 1001: spread blew up"]
    assert cmd.handle(OPS, "/pnl") == "net R$ 0" and "Unknown command" in cmd.handle(OPS, "/flatten")


@pytest.fixture
def live_kernel() -> Iterator[Kernel]:
    """A kernel whose loop runs on its own thread, as live: it drains calls from other threads."""
    k, _ = kernel(ticks("WINZ26", [125_000] * 3))
    thread = threading.Thread(target=lambda: k.run(live=True), daemon=True)
    thread.start()
    assert wait_until(lambda: k.data.trades_seen == 3, 5)
    yield k
    k.stop()
    thread.join(5)


def test_kill_over_telegram_halts_trading_only_from_a_known_chat(live_kernel: Kernel, telegram: TelegramFake):
    k = live_kernel
    cfg = AlertsConfig.model_validate({
        "dispatcher": {"attempts": 2, "backoff_seconds": 0.01},
        "telegram": {"token": telegram.token, "chat_ids": [OPS], "api_base": telegram.base,
                     "idle_seconds": 0.02, "poll_timeout_seconds": 0, "request_timeout_seconds": 5},
    })
    store = MemoryStateStore()
    k.call_soon_threadsafe(lambda: StateKeeper(k, store) and None)  # the state keeper lives on the engine thread
    handle = attach_alerts(k, cfg, environ={})
    try:
        assert handle.commands is not None
        telegram.push(STRANGER, "/kill", "mallory")
        telegram.push(STRANGER, "/confirm", "mallory")
        assert wait_until(lambda: len(telegram.texts(STRANGER)) == 2, 5)
        assert telegram.texts(STRANGER) == ["Not authorised.", "Not authorised."]
        assert k.risk.state is TradingState.ACTIVE and not k.guard.kill_switch

        telegram.push(OPS, "/kill feed looks wrong", "ana")
        assert wait_until(lambda: len(telegram.texts(OPS)) == 1, 5)
        assert not k.guard.kill_switch  # not before the confirmation
        telegram.push(OPS, "/confirm", "ana")
        assert wait_until(lambda: k.guard.kill_switch, 5)
        assert k.risk.state is TradingState.HALTED
        assert "telegram chat 1001 (@ana): feed looks wrong" in k.guard.kill_reason
        assert wait_until(lambda: len(store.manual) == 1, 5)  # the audited manual action: who, what, result
        rec = store.manual[0]
        assert (rec.channel, rec.action) == ("telegram", "kill") and "feed looks wrong" in rec.detail
        assert "cancelled=0" in rec.result and rec.ts > 0
        assert wait_until(lambda: any(t.startswith("Kill switch engaged") for t in telegram.texts(OPS)), 5)
        assert handle.flush(5)
        alerts = [t for t in telegram.texts(OPS) if "kill switch engaged:" in t]
        assert len(alerts) == 1  # the kill switch alert itself, through the notifier
        telegram.push(OPS, "/status", "ana")
        assert wait_until(lambda: any(t.startswith("state: HALTED") for t in telegram.texts(OPS)), 5)
        assert not any(t.startswith("state:") for t in telegram.texts(STRANGER))
    finally:
        handle.close()


def test_backlog_from_before_start_is_ignored(live_kernel: Kernel, telegram: TelegramFake):
    telegram.push(OPS, "/kill old", "ana")
    telegram.push(OPS, "/confirm", "ana")
    cfg: dict[str, Any] = {"telegram": {"token": telegram.token, "chat_ids": [OPS], "api_base": telegram.base,
                                        "idle_seconds": 0.02, "poll_timeout_seconds": 0}}
    handle = attach_alerts(live_kernel, cfg, environ={})
    try:
        telegram.push(OPS, "/pnl", "ana")
        assert wait_until(lambda: len(telegram.texts(OPS)) == 1, 5)
        assert telegram.texts(OPS)[0].startswith("net R$")
        assert not live_kernel.guard.kill_switch
    finally:
        handle.close()


def test_resume_over_telegram_hands_a_paused_instrument_back(live_kernel: Kernel, telegram: TelegramFake):
    k = live_kernel
    cfg: dict[str, Any] = {"telegram": {"token": telegram.token, "chat_ids": [OPS], "api_base": telegram.base,
                                        "idle_seconds": 0.02, "poll_timeout_seconds": 0}}
    k.call_soon_threadsafe(lambda: k.guard.pause(["WINZ26"], "cli", "manual flatten") and None)
    handle = attach_alerts(k, cfg, environ={})
    try:
        def replies(prefix: str) -> list[str]:
            return [t for t in telegram.texts(OPS) if t.startswith(prefix)]

        telegram.push(OPS, "/status", "ana")
        assert wait_until(lambda: replies("state:"), 5)
        assert "strategies paused on WINZ26: manual flatten by cli (/resume WINZ26)" in replies("state:")[0]
        telegram.push(OPS, "/resume nope", "ana")
        assert wait_until(lambda: replies("Not resumed"), 5)
        assert replies("Not resumed") == ["Not resumed: unknown instrument 'NOPE'."]
        telegram.push(OPS, "/resume winz26", "ana")
        assert wait_until(lambda: replies("Strategies resumed"), 5)
        assert replies("Strategies resumed") == ["Strategies resumed on WINZ26."] and k.guard.paused == {}
        telegram.push(OPS, "/resume", "ana")
        assert wait_until(lambda: replies("Nothing was paused"), 5)
    finally:
        handle.close()
