"""Telegram: a small Bot API client (stdlib HTTP), the outbound channel and the command poller.

Commands (``/status``, ``/pnl``, ``/kill`` then ``/confirm``) are accepted only from configured chat
ids and act through a ``TradingControl``, which passes them to the risk engine on the engine thread.
The bot token lives in the request path only; it is never logged or put in an error message.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tradingsystem.domain.alerts import Severity
from tradingsystem.engine.alerts import SeverityLevel
from tradingsystem.ports.notify import ChannelError, Notification, TradingControl

__all__ = ["TelegramBotApi", "TelegramChannel", "TelegramCommands", "TelegramConfig", "TelegramError"]

log = logging.getLogger(__name__)
MAX_TEXT = 4096
HELP = ("/status: trading state, positions, working orders\n/pnl: today's P&L\n"
        "/kill [reason]: engage the kill switch (asks for /confirm)\n/confirm: confirm a pending /kill\n"
        "/cancel: drop a pending /kill\n/resume [SYMBOL]: hand instruments a manual trade paused back to the "
        "strategies")


class TelegramConfig(BaseModel):
    """Bot token and chats: ``chat_ids`` receive alerts; ``command_chat_ids`` (default: the same) may command."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: SecretStr = SecretStr("")  # or TRADINGSYSTEM_TELEGRAM_TOKEN
    chat_ids: list[int] = Field(min_length=1)
    command_chat_ids: list[int] | None = None
    commands: bool = True
    api_base: str = "https://api.telegram.org"
    min_severity: SeverityLevel = Severity.INFO
    request_timeout_seconds: float = Field(default=10, gt=0)
    poll_timeout_seconds: int = Field(default=25, ge=0)
    idle_seconds: float = Field(default=1.0, ge=0)
    confirm_seconds: float = Field(default=60, gt=0)

    def allowed(self) -> list[int]:
        return list(self.chat_ids if self.command_chat_ids is None else self.command_chat_ids)


class TelegramError(RuntimeError):
    """A Bot API call failed (network, HTTP status or ``ok: false``)."""


class TelegramBotApi:
    """``call(method, params)`` posts JSON to ``{api_base}/bot{token}/{method}`` and returns ``result``."""

    def __init__(self, token: SecretStr, api_base: str = "https://api.telegram.org", timeout: float = 10) -> None:
        self._token = token
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, params: dict[str, Any] | None = None, http_timeout: float | None = None) -> Any:
        url = f"{self.api_base}/bot{self._token.get_secret_value()}/{method}"
        req = urllib.request.Request(url, json.dumps(params or {}).encode(), {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=http_timeout or self.timeout) as resp:
                body = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                desc = json.loads(exc.read().decode("utf-8")).get("description", "")
            except (ValueError, OSError):
                desc = ""
            raise TelegramError(f"{method}: HTTP {exc.code} {desc}".rstrip()) from None
        except urllib.error.URLError as exc:
            raise TelegramError(f"{method}: {exc.reason}") from None
        except (OSError, ValueError) as exc:
            raise TelegramError(f"{method}: {type(exc).__name__}: {exc}") from None
        if not isinstance(body, dict) or not body.get("ok"):
            desc = body.get("description", "not ok") if isinstance(body, dict) else "bad reply"
            raise TelegramError(f"{method}: {desc}")
        return body.get("result")

    def get_me(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("getMe")
        return result

    def send_message(self, chat_id: int, text: str) -> None:
        self.call("sendMessage", {"chat_id": chat_id, "text": text[:MAX_TEXT], "disable_web_page_preview": True})

    def get_updates(self, offset: int | None, timeout: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": ["message"]}
        if offset is not None:
            params["offset"] = offset
        result = self.call("getUpdates", params, self.timeout + timeout)
        return list(result or [])


class TelegramChannel:
    """Sends each notification to every configured chat; on retry only the chats that failed."""

    def __init__(self, api: TelegramBotApi, chat_ids: Iterable[int], min_severity: int = Severity.INFO,
                 name: str = "telegram") -> None:
        self.api = api
        self.chat_ids = list(chat_ids)
        self.min_severity = min_severity
        self.name = name
        self._note: Notification | None = None
        self._done: set[int] = set()

    def send(self, notification: Notification) -> None:
        if notification is not self._note:
            self._note, self._done = notification, set()
        text = f"{notification.title}\n\n{notification.body}"
        errors = []
        for chat in self.chat_ids:
            if chat in self._done:
                continue
            try:
                self.api.send_message(chat, text)
                self._done.add(chat)
            except TelegramError as exc:
                errors.append(str(exc))
        if errors:
            raise ChannelError(f"{self.name}: {'; '.join(errors)}")

    def close(self) -> None:
        return None


class TelegramCommands:
    """Polls ``getUpdates`` on its own thread and answers commands from allowed chats only."""

    def __init__(self, api: TelegramBotApi, allowed_chat_ids: Iterable[int], control: TradingControl,
                 confirm_seconds: float = 60, poll_timeout: int = 25, idle_seconds: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.allowed = set(allowed_chat_ids)
        self.control = control
        self.confirm_seconds = confirm_seconds
        self.poll_timeout = poll_timeout
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.offset: int | None = None
        self.refused = 0
        self.handled = 0
        self._pending: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self, skip_backlog: bool = True) -> None:
        """Start polling; ``skip_backlog`` ignores commands sent while the bot was down."""
        if self._thread is not None:
            return
        if skip_backlog:
            try:
                last = self.api.get_updates(-1, 0)
                if last:
                    self.offset = int(last[-1]["update_id"]) + 1
            except TelegramError as exc:
                log.warning("telegram: could not skip the backlog: %s", exc)
        self._thread = threading.Thread(target=self._run, name="telegram-commands", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                n = self.poll_once(self.poll_timeout)
                backoff = 1.0
                if not n:
                    self._stop.wait(self.idle_seconds)
            except TelegramError as exc:
                log.warning("telegram: polling failed (%s), retry in %.0fs", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)
            except Exception:  # a bug in a handler must not end polling
                log.exception("telegram: command handling failed")
                self._stop.wait(backoff)

    # --- commands ------------------------------------------------------------------------------
    def poll_once(self, timeout: int = 0) -> int:
        """Fetch and handle waiting updates; returns how many."""
        updates = self.api.get_updates(self.offset, timeout)
        for update in updates:
            self.offset = int(update["update_id"]) + 1
            message = update.get("message") or {}
            chat = (message.get("chat") or {}).get("id")
            text = (message.get("text") or "").strip()
            if chat is None or not text.startswith("/"):
                continue
            reply = self.handle(int(chat), text, (message.get("from") or {}).get("username", ""))
            if reply:
                try:
                    self.api.send_message(int(chat), reply)
                except TelegramError as exc:
                    log.warning("telegram: reply to chat %s failed: %s", chat, exc)
        return len(updates)

    def handle(self, chat_id: int, text: str, user: str = "") -> str:
        """The reply to one command line from ``chat_id``."""
        if chat_id not in self.allowed:
            self.refused += 1
            log.warning("telegram: command from unknown chat %s refused", chat_id)
            return "Not authorised."
        self.handled += 1
        head, _, rest = text.partition(" ")
        command = head.split("@", 1)[0].lower()
        rest = rest.strip()
        who = f"telegram chat {chat_id}" + (f" (@{user})" if user else "")
        if command == "/status":
            return self.control.status()
        if command == "/pnl":
            return self.control.pnl()
        if command == "/kill":
            reason = f"/kill from {who}" + (f": {rest}" if rest else "")
            self._pending[chat_id] = (reason, self.clock() + self.confirm_seconds)
            return f"Reply /confirm within {self.confirm_seconds:g}s to engage the kill switch."
        if command == "/confirm":
            pending = self._pending.pop(chat_id, None)
            if pending is None or self.clock() > pending[1]:
                return "Nothing to confirm: send /kill first."
            log.warning("telegram: kill switch confirmed by %s", who)
            return self.control.kill(pending[0])
        if command == "/cancel":
            return "Kill cancelled." if self._pending.pop(chat_id, None) else "Nothing pending."
        if command == "/resume":
            log.warning("telegram: strategies resumed on %s by %s", rest or "all", who)
            return self.control.resume(rest.upper() or None)
        if command in ("/help", "/start"):
            return HELP
        return f"Unknown command {command}.\n{HELP}"
