"""Composition of alerting: rules on the engine thread, channels from config, the Telegram poller.

``attach_alerts(kernel, config)`` subscribes the rules to the kernel's ``alerts`` topic and order
events, starts the dispatcher (one thread per channel) and, when configured, the Telegram command
poller; it returns an ``AlertsHandle`` to ``close`` at exit. Secrets missing from the config are read
from ``TRADINGSYSTEM_TELEGRAM_TOKEN`` and ``TRADINGSYSTEM_SMTP_PASSWORD``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tradingsystem.adapters.notify import (
    AppriseChannel,
    Dispatcher,
    DispatcherConfig,
    EmailConfig,
    KernelControl,
    TelegramBotApi,
    TelegramChannel,
    TelegramCommands,
    TelegramConfig,
    VoiceChannel,
    VoiceConfig,
    WebhookConfig,
)
from tradingsystem.domain.alerts import Alert
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.orders import Order, OrderEventKind
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.alerts import AlertRules, AlertRulesConfig
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.session_gate import day_of
from tradingsystem.ports.notify import Notification, Notifier

__all__ = ["ENV_SMTP_PASSWORD", "ENV_TELEGRAM_TOKEN", "AlertsConfig", "AlertsHandle", "attach_alerts",
           "build_channels"]

log = logging.getLogger(__name__)
ENV_TELEGRAM_TOKEN = "TRADINGSYSTEM_TELEGRAM_TOKEN"
ENV_SMTP_PASSWORD = "TRADINGSYSTEM_SMTP_PASSWORD"
_FILLED, _REJECTED, _DENIED = OrderEventKind.FILLED, OrderEventKind.REJECTED, OrderEventKind.DENIED


class AlertsConfig(BaseModel):
    """The ``alerts:`` section. No channel configured means nothing is sent (rules still count)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    rules: AlertRulesConfig = AlertRulesConfig()
    dispatcher: DispatcherConfig = DispatcherConfig()
    email: EmailConfig | None = None
    telegram: TelegramConfig | None = None
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    voice: VoiceConfig | None = None
    control_timeout_seconds: float = Field(default=5, gt=0)


def _with_env_secrets(config: AlertsConfig, environ: Mapping[str, str]) -> AlertsConfig:
    tg, mail = config.telegram, config.email
    if tg is not None and not tg.token.get_secret_value() and environ.get(ENV_TELEGRAM_TOKEN):
        tg = tg.model_copy(update={"token": SecretStr(environ[ENV_TELEGRAM_TOKEN])})
    if mail is not None and mail.username and not mail.password.get_secret_value() and environ.get(ENV_SMTP_PASSWORD):
        mail = mail.model_copy(update={"password": SecretStr(environ[ENV_SMTP_PASSWORD])})
    return config.model_copy(update={"telegram": tg, "email": mail})


def build_channels(config: AlertsConfig) -> tuple[list[Notifier], TelegramBotApi | None]:
    """The configured channels, and the Telegram API client the command poller shares."""
    channels: list[Notifier] = []
    api = None
    if config.email is not None:
        mail = config.email
        channels.append(AppriseChannel("email", [mail.apprise_url()], mail.min_severity, mail.min_interval_seconds))
    if config.telegram is not None:
        tg = config.telegram
        if not tg.token.get_secret_value():
            raise ValueError(f"alerts.telegram: no bot token (set alerts.telegram.token or {ENV_TELEGRAM_TOKEN})")
        api = TelegramBotApi(tg.token, tg.api_base, tg.request_timeout_seconds)
        channels.append(TelegramChannel(api, tg.chat_ids, tg.min_severity))
    for i, hook in enumerate(config.webhooks):
        name = hook.name if hook.name != "webhook" or len(config.webhooks) == 1 else f"webhook{i + 1}"
        channels.append(AppriseChannel(name, [hook.url], hook.min_severity, hook.min_interval_seconds))
    if config.voice is not None:
        if VoiceChannel.available(config.voice):
            channels.append(VoiceChannel(config.voice))
        else:
            log.warning("alerts: voice channel skipped, %r not installed", config.voice.command[0])
    return channels, api


class AlertsHandle:
    """What ``attach_alerts`` wired; ``close`` undoes it."""

    def __init__(self, kernel: Kernel, config: AlertsConfig, dispatcher: Dispatcher,
                 commands: TelegramCommands | None) -> None:
        self.kernel = kernel
        self.config = config
        self.rules = AlertRules(config.rules, kernel.instruments)
        self.dispatcher = dispatcher
        self.commands = commands
        self.errors = 0
        self._realized = {s: kernel.portfolio.realized_brl(s) for s in kernel.instruments}
        self._digest_armed = False

    # --- engine-thread hooks (never raise) ------------------------------------------------------
    def on_alert(self, alert: Alert) -> None:
        try:
            self._submit(self.rules.on_alert(alert))
        except Exception:
            self.errors += 1
            log.exception("alerts: rule failed on %s", alert.kind)

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        kind = event.kind
        if kind != _FILLED and kind != _REJECTED and kind != _DENIED:
            return
        try:
            change = None
            if kind == _FILLED:
                now = self.kernel.portfolio.realized_brl(order.symbol)
                change = now - self._realized.get(order.symbol, Decimal(0))
                self._realized[order.symbol] = now
            self._submit(self.rules.on_order_event(order, event, change))
        except Exception:
            self.errors += 1
            log.exception("alerts: rule failed on order %s", order.order_id)

    def _submit(self, notes: list[Notification]) -> None:
        if notes:
            self.dispatcher.submit_all(notes)
        if not self._digest_armed and self.rules.pending():
            self._digest_armed = True
            step = int(self.rules.config.digest_interval_seconds * 1e9)
            self.kernel.schedule(self.kernel.now() + step, self._on_digest_timer)

    def _on_digest_timer(self, ts: int) -> None:
        self._digest_armed = False
        self._submit(self.rules.drain(ts))

    def schedule_summary(self, after_ts: int | None = None) -> int:
        """Arm the next daily summary (weekdays, ``rules.summary_time`` B3 local); returns its time.

        Before the engine's clock has started (it starts at the first event) the timer waits for it."""
        ts = max(self.kernel.now(), self.kernel.horizon()) if after_ts is None else after_ts
        if ts <= 0:
            self.kernel.schedule(1, self._arm_summary)
            return 0
        day = day_of(ts)
        when = local_ns(day, self.rules.config.summary_time)
        while when <= ts or day.weekday() >= 5:
            day += timedelta(days=1)
            when = local_ns(day, self.rules.config.summary_time)
        self.kernel.schedule(when, self._on_summary_timer)
        return when

    def _arm_summary(self, _ts: int) -> None:
        self.schedule_summary()

    def _on_summary_timer(self, ts: int) -> None:
        try:
            self.send_daily_summary(ts)
        except Exception:
            self.errors += 1
            log.exception("alerts: daily summary failed")
        self.schedule_summary(ts)

    # --- any thread, when the engine is not running -------------------------------------------
    def send_daily_summary(self, ts: int | None = None) -> Notification:
        """Send the summary now (the timer calls this on the engine thread)."""
        ts = self.kernel.now() if ts is None else ts
        self._submit(self.rules.drain(ts, force=True))
        note = self.rules.daily_summary(ts, self.kernel.summary())
        self.dispatcher.submit(note)
        return note

    def digest(self, force: bool = True) -> list[Notification]:
        """Report what the rules held back (a digest per kind)."""
        notes = self.rules.drain(self.kernel.now(), force)
        self.dispatcher.submit_all(notes)
        return notes

    def flush(self, timeout: float = 10.0) -> bool:
        return self.dispatcher.flush(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the poller, report held-back alerts, deliver what is queued, stop the channels."""
        if self.commands is not None:
            self.commands.stop(timeout)
        self.kernel.bus.unsubscribe("alerts", self.on_alert)
        try:
            self.digest(force=True)
        except Exception:
            log.exception("alerts: final digest failed")
        self.dispatcher.close(timeout)


def attach_alerts(kernel: Kernel, config: AlertsConfig | Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None, extra_channels: Sequence[Notifier] = (),
                  start_commands: bool = True) -> AlertsHandle:
    """Wire alerting onto ``kernel`` (call before ``kernel.run``; call ``close`` after it returns)."""
    if not isinstance(config, AlertsConfig):
        config = AlertsConfig.model_validate(dict(config or {}))
    config = _with_env_secrets(config, os.environ if environ is None else environ)
    channels, api = build_channels(config) if config.enabled else ([], None)
    dispatcher = Dispatcher([*channels, *extra_channels], config.dispatcher)
    commands = None
    tg = config.telegram
    if config.enabled and api is not None and tg is not None and tg.commands and tg.allowed():
        commands = TelegramCommands(api, tg.allowed(), KernelControl(kernel, config.control_timeout_seconds),
                                    tg.confirm_seconds, tg.poll_timeout_seconds, tg.idle_seconds)
    handle = AlertsHandle(kernel, config, dispatcher, commands)
    if not config.enabled:
        return handle
    kernel.bus.subscribe("alerts", handle.on_alert)
    kernel.orders.add_listener(handle.on_order_event)
    if config.rules.daily_summary:
        handle.schedule_summary()
    dispatcher.start()
    if commands is not None and start_commands:
        commands.start()
    names = ", ".join(ch.name for ch in dispatcher.channels) or "none"
    log.info("alerts: channels %s; telegram commands %s", names, "on" if commands else "off")
    return handle
