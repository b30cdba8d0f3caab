"""Alerts end to end: kernel -> rules -> dispatcher -> real SMTP server and a Telegram Bot API fake."""

from __future__ import annotations

import logging
import threading
from datetime import time
from typing import Any

import pytest

from tests.alerts.servers import SmtpServer, TelegramFake, free_port, wait_until
from tests.engine.helpers import kernel, ticks, weekdays
from tradingsystem.backtest.replay import TickReplayFeed
from tradingsystem.domain import b3
from tradingsystem.domain.commands import OrderEvent, SubmitOrder
from tradingsystem.domain.orders import OrderEventKind
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig, TradingState
from tradingsystem.engine.session_gate import day_of
from tradingsystem.engine.strategy import Strategy
from tradingsystem.ports.notify import Notification
from tradingsystem.runtime.alerts_setup import AlertsConfig, attach_alerts

CHAT = 1001
FAST = {"attempts": 3, "backoff_seconds": 0.01, "max_backoff_seconds": 0.05}


class Script(Strategy):
    def __init__(self, actions: dict[int, Any]) -> None:
        super().__init__("s", ["WINZ26"])
        self.actions, self.n = actions, 0

    def on_trade(self, tick: Any) -> None:
        fn = self.actions.get(self.n)
        self.n += 1
        if fn:
            fn(self)


class RejectAll:
    """A venue that rejects every order with the same reason."""

    def connect(self, sink: Any) -> None:
        self.sink = sink

    def submit(self, command: SubmitOrder) -> None:
        self.sink.on_order_event(OrderEvent(command.order_id, OrderEventKind.REJECTED, command.ts_init,
                                            command.symbol, reason="insufficient margin"))

    def modify(self, command: Any) -> None:
        return None

    def cancel(self, command: Any) -> None:
        return None


class Hanging:
    """A channel stuck on the network until released."""

    name = "hanging"
    min_severity = 0

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def send(self, notification: Notification) -> None:
        self.entered.set()
        self.release.wait(5)
        raise TimeoutError("stuck")

    def close(self) -> None:
        self.release.set()


def config(smtp_port: int, telegram: TelegramFake, **extra: Any) -> AlertsConfig:
    data: dict[str, Any] = {
        "dispatcher": FAST,
        "email": {"host": "127.0.0.1", "port": smtp_port, "secure": "none", "from_addr": "bot@example.com",
                  "to": ["ops@example.com"], "timeout_seconds": 5, "min_interval_seconds": 0},
        "telegram": {"chat_ids": [CHAT], "api_base": telegram.base, "idle_seconds": 0.02,
                     "poll_timeout_seconds": 0, "request_timeout_seconds": 5},
    }
    data.update(extra)
    return AlertsConfig.model_validate(data)


def env(telegram: TelegramFake) -> dict[str, str]:
    return {"TRADINGSYSTEM_TELEGRAM_TOKEN": telegram.token}


def test_kill_switch_sends_one_email_and_one_telegram_message(smtp: SmtpServer, telegram: TelegramFake):
    k, _ = kernel(ticks("WINZ26", [125_000] * 5))
    k.add_strategy(Script({2: lambda s: s.kernel.guard.kill("daily loss limit hit in test")}))
    handle = attach_alerts(k, config(smtp.port, telegram), env(telegram), start_commands=False)
    try:
        k.run()
        assert handle.flush(10)
        assert k.risk.state is TradingState.HALTED
        emails, chats = smtp.texts(), telegram.texts(CHAT)
        assert len(emails) == 1 and len(chats) == 1
        assert "kill switch engaged: daily loss limit hit in test" in emails[0].split("\n", 1)[0]  # subject
        assert "kill switch engaged: daily loss limit hit in test" in chats[0]
        assert "CRITICAL" in emails[0] and "CRITICAL" in chats[0]
    finally:
        handle.close()
    assert len(smtp.texts()) == 1 and len(telegram.texts()) == 1  # closing sends nothing more


def test_storm_of_rejects_is_a_handful(smtp: SmtpServer, telegram: TelegramFake):
    instruments = {"WINZ26": b3.instrument("WINZ26", weekdays)}
    k = Kernel(instruments, risk=RiskConfig(), is_session=weekdays)
    k.connect(TickReplayFeed(ticks("WINZ26", [125_000] * 3)), RejectAll())

    def storm(s: Strategy) -> None:
        for _ in range(1000):
            s.buy("WINZ26", 1)

    k.add_strategy(Script({0: storm}))
    handle = attach_alerts(k, config(smtp.port, telegram), env(telegram), start_commands=False)
    try:
        k.run()
        assert k.orders.submitted >= 1000 and handle.rules.stats.rejects == 1000
        handle.close()
        emails, chats = smtp.texts(), telegram.texts(CHAT)
        assert 1 <= len(emails) <= 5 and len(emails) == len(chats)
        assert len(emails) == 2  # the first reject, then one digest of the rest
        assert "insufficient margin" in emails[0] and "999 more 'order_rejected'" in emails[1]
        assert "999 more 'order_rejected'" in chats[1]
    finally:
        handle.close()


def test_dead_channel_does_not_stop_the_others_or_the_engine(smtp: SmtpServer, telegram: TelegramFake,
                                                             caplog: pytest.LogCaptureFixture):
    dead_port = free_port()  # nothing listens here
    k, _ = kernel(ticks("WINZ26", [125_000] * 200))
    k.add_strategy(Script({2: lambda s: s.kernel.guard.kill("breaker test")}))
    hanging = Hanging()
    cfg = config(dead_port, telegram)
    caplog.set_level(logging.WARNING)
    handle = attach_alerts(k, cfg, env(telegram), extra_channels=[hanging], start_commands=False)
    try:
        n = k.run()
        assert n == 200 and k.risk.state is TradingState.HALTED  # the engine ran every event
        assert wait_until(lambda: len(telegram.texts(CHAT)) == 1, 10)  # delivered while the others fail
        assert hanging.entered.wait(5) and not handle.flush(0.2)  # the hanging channel is still stuck
        assert wait_until(lambda: handle.dispatcher.stats()["email"].failed == 1, 10), handle.dispatcher.stats()
        stats = handle.dispatcher.stats()["email"]
        assert stats.retries == 2 and stats.sent == 0
        hanging.release.set()
        assert handle.flush(10)
        assert "kill switch engaged: breaker test" in telegram.texts(CHAT)[0]
        assert "giving up" in caplog.text
        assert telegram.token not in caplog.text
    finally:
        handle.close()


def test_telegram_send_is_retried_with_backoff(smtp: SmtpServer, telegram: TelegramFake):
    telegram.fail_sends = 2
    k, _ = kernel(ticks("WINZ26", [125_000] * 3))
    k.add_strategy(Script({1: lambda s: s.kernel.guard.kill("retry test")}))
    handle = attach_alerts(k, config(smtp.port, telegram), env(telegram), start_commands=False)
    try:
        k.run()
        assert handle.flush(10)
        stats = handle.dispatcher.stats()["telegram"]
        assert stats.sent == 1 and stats.retries == 2 and len(telegram.texts(CHAT)) == 1
    finally:
        handle.close()


def test_daily_summary_goes_out_at_the_close(smtp: SmtpServer, telegram: TelegramFake):
    k, _ = kernel(ticks("WINZ26", [125_000] * 3))
    k.add_strategy(Script({0: lambda s: s.buy("WINZ26", 1)}))
    handle = attach_alerts(k, config(smtp.port, telegram), env(telegram), start_commands=False)
    try:
        k.run()
        close = local_ns(day_of(k.clock.now()), time(18, 35))
        k.clock.advance_to(close)  # the engine's clock reaches the close
        assert handle.flush(10)
        summaries = [t for t in telegram.texts(CHAT) if "daily summary" in t]
        assert len(summaries) == 1 and "fills 1 (1 contracts)" in summaries[0]
        assert not any("daily summary" in t for t in smtp.texts())  # email takes warnings and up
    finally:
        handle.close()
