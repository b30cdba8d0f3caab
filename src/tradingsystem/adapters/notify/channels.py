"""Outbound channels: apprise (email over SMTP, webhooks, anything apprise speaks) and voice (espeak-ng).

Secrets stay ``SecretStr`` until the moment a URL is handed to apprise; errors never include them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tradingsystem.domain.alerts import Severity
from tradingsystem.engine.alerts import SeverityLevel
from tradingsystem.ports.notify import ChannelError, Notification

__all__ = ["AppriseChannel", "EmailConfig", "VoiceChannel", "VoiceConfig", "WebhookConfig"]


class EmailConfig(BaseModel):
    """SMTP mail through apprise. ``secure``: starttls (587), ssl (465) or none (plain, loopback/tests)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    port: int = Field(default=587, gt=0, lt=65536)
    secure: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")
    from_addr: str
    to: list[str] = Field(min_length=1)
    min_severity: SeverityLevel = Severity.WARNING
    timeout_seconds: float = Field(default=15, gt=0)
    min_interval_seconds: float = Field(default=1.0, ge=0)  # apprise's pause between two mails (its default 5.5)

    def apprise_url(self) -> SecretStr:
        scheme = "mailto" if self.secure == "none" else "mailtos"
        auth = ""
        if self.username:
            auth = quote(self.username, safe="")
            pw = self.password.get_secret_value()
            auth += (":" + quote(pw, safe="")) if pw else ""
            auth += "@"
        params = {"smtp": self.host, "from": self.from_addr, "to": ",".join(self.to),
                  "mode": {"none": "insecure", "starttls": "starttls", "ssl": "ssl"}[self.secure],
                  "cto": f"{self.timeout_seconds:g}", "rto": f"{self.timeout_seconds:g}"}
        return SecretStr(f"{scheme}://{auth}{self.host}:{self.port}/?{urlencode(params)}")


class WebhookConfig(BaseModel):
    """Any apprise URL (``json://``, ``slack://``, ``tgram://``...), one channel each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "webhook"
    url: SecretStr
    min_severity: SeverityLevel = Severity.WARNING
    min_interval_seconds: float | None = Field(default=None, ge=0)  # None: apprise's default for the service


_APPRISE_TYPES = {Severity.INFO: "info", Severity.WARNING: "warning", Severity.CRITICAL: "failure"}


class AppriseChannel:
    """A channel that sends through apprise to one or more URLs."""

    def __init__(self, name: str, urls: list[SecretStr], min_severity: int = Severity.INFO,
                 min_interval_seconds: float | None = None) -> None:
        import apprise

        self.name = name
        self.min_severity = min_severity
        self._apprise: Any = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url.get_secret_value()):
                raise ValueError(f"notify channel {name}: apprise does not accept the configured URL")
        if min_interval_seconds is not None:
            for service in self._apprise:  # apprise sleeps this long between two requests to one service
                service.request_rate_per_sec = min_interval_seconds

    def send(self, notification: Notification) -> None:
        kind = _APPRISE_TYPES.get(Severity(notification.severity), "info")
        try:
            ok = self._apprise.notify(title=notification.title, body=notification.body, notify_type=kind)
        except Exception as exc:  # translate at the boundary; the message names no URL
            raise ChannelError(f"{self.name}: apprise raised {type(exc).__name__}") from None
        if not ok:
            raise ChannelError(f"{self.name}: apprise could not deliver (see apprise log)")

    def close(self) -> None:
        self._apprise.clear()


class VoiceConfig(BaseModel):
    """Speak alerts aloud with espeak-ng (or any command that takes the text as its last argument)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: list[str] = Field(default_factory=lambda: ["espeak-ng", "-v", "en"], min_length=1)
    min_severity: SeverityLevel = Severity.CRITICAL
    timeout_seconds: float = Field(default=30, gt=0)
    amplitude: dict[str, int] = Field(default_factory=lambda: {"CRITICAL": 200, "WARNING": 120, "INFO": 80})
    """espeak-ng ``-a`` (0-200) by severity name: a critical alert is spoken louder."""
    words_per_minute: dict[str, int] = Field(default_factory=lambda: {"CRITICAL": 190, "WARNING": 170,
                                                                      "INFO": 160})
    repeat: dict[str, int] = Field(default_factory=lambda: {"CRITICAL": 2})
    """How many times the message is said, by severity name (default once)."""


class VoiceChannel:
    """Runs ``command + [text]``; the text is the severity and the alert's message."""

    def __init__(self, config: VoiceConfig | None = None, name: str = "voice") -> None:
        self.config = config or VoiceConfig()
        self.name = name
        self.min_severity = self.config.min_severity

    @staticmethod
    def available(config: VoiceConfig | None = None) -> bool:
        return shutil.which((config or VoiceConfig()).command[0]) is not None

    def argv(self, notification: Notification) -> list[str]:
        """The command for one alert: espeak-ng gets loudness and pace by severity."""
        cfg, sev = self.config, notification.severity_name.upper()
        message = notification.body.split("\n", 1)[0]
        text = " ".join([f"{sev.lower()} alert. {message}."] * max(1, cfg.repeat.get(sev, 1)))
        extra: list[str] = []
        if Path(cfg.command[0]).name.startswith("espeak"):
            if sev in cfg.amplitude:
                extra += ["-a", str(cfg.amplitude[sev])]
            if sev in cfg.words_per_minute:
                extra += ["-s", str(cfg.words_per_minute[sev])]
        return [*cfg.command, *extra, text]

    def send(self, notification: Notification) -> None:
        try:
            subprocess.run(self.argv(notification), check=True, capture_output=True,
                           timeout=self.config.timeout_seconds)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ChannelError(f"{self.name}: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        return None
