"""Notifications: what the alert rules hand to channels, and the port every channel implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tradingsystem.domain.alerts import Severity

__all__ = ["ChannelError", "Notification", "Notifier", "TradingControl"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for people: ``title`` is a one-line subject, ``body`` the text."""

    kind: str
    severity: int
    title: str
    body: str
    ts_event: int
    data: dict[str, str] = field(default_factory=dict)

    @property
    def severity_name(self) -> str:
        return Severity(self.severity).name if self.severity in Severity._value2member_map_ else str(self.severity)


class ChannelError(RuntimeError):
    """A channel could not deliver; the dispatcher retries with backoff, then logs and drops."""


class Notifier(Protocol):
    """A notification channel (email, Telegram, webhook, voice). ``send`` blocks and may raise.

    Channels run on the dispatcher's threads, never on the engine thread.
    """

    name: str
    min_severity: int

    def send(self, notification: Notification) -> None: ...

    def close(self) -> None: ...


class TradingControl(Protocol):
    """Manual controls a remote command channel may use; implementations pass them to the risk engine."""

    def status(self) -> str: ...

    def pnl(self) -> str: ...

    def kill(self, reason: str) -> str: ...

    def resume(self, symbol: str | None) -> str: ...
