"""Where a leader's signals go: a Redis stream, webhooks (HTTP POST) and a Telegram channel.

Each channel takes the signed envelope bytes. Sends happen on the publisher's own thread; a failing
channel is retried with backoff (tenacity) and then counted, never fatal to the node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol

import httpx
import redis
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from tradingsystem.adapters.sharing.messages import Signal

FIELD = b"env"


class SignalChannel(Protocol):
    name: str

    def send(self, signal: Signal, envelope: bytes) -> None: ...

    def close(self) -> None: ...


_retry = retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.05, max=1.0), reraise=True,
               retry=retry_if_exception_type((redis.RedisError, httpx.HTTPError, OSError)))


class RedisStreamChannel:
    """XADD to ``stream`` (approximately trimmed to ``maxlen``)."""

    def __init__(self, url: str, stream: str, maxlen: int = 100_000) -> None:
        self.name = f"redis:{stream}"
        self.stream, self.maxlen = stream, maxlen
        self._r = redis.Redis.from_url(url, socket_timeout=5)

    @_retry
    def send(self, signal: Signal, envelope: bytes) -> None:
        self._r.xadd(self.stream, {FIELD: envelope}, maxlen=self.maxlen, approximate=True)

    def close(self) -> None:
        self._r.close()


class WebhookChannel:
    """POSTs the envelope as JSON to ``url`` (a follower's gateway, a bot, a spreadsheet)."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.name = f"webhook:{httpx.URL(url).host}"
        self.url = url
        self._client = httpx.Client(timeout=timeout_s)

    @_retry
    def send(self, signal: Signal, envelope: bytes) -> None:
        resp = self._client.post(self.url, content=envelope, headers={"content-type": "application/json"})
        resp.raise_for_status()

    def close(self) -> None:
        self._client.close()


class TelegramChannel:
    """Posts each signal to a Telegram channel: a line people read, then the envelope a bot can verify."""

    def __init__(self, token: str, chat_id: str, api_base: str = "https://api.telegram.org",
                 timeout_s: float = 10.0) -> None:
        self.name = f"telegram:{chat_id}"
        self._url = f"{api_base.rstrip('/')}/bot{token}/sendMessage"
        self.chat_id = chat_id
        self._client = httpx.Client(timeout=timeout_s)

    @staticmethod
    def text(signal: Signal, envelope: bytes) -> str:
        return (f"{signal.strategy} {signal.instrument}: target {signal.target:+d} (seq {signal.seq})\n"
                f"{envelope.decode()}")

    @_retry
    def send(self, signal: Signal, envelope: bytes) -> None:
        resp = self._client.post(self._url, json={"chat_id": self.chat_id, "text": self.text(signal, envelope),
                                                  "disable_web_page_preview": True})
        if resp.status_code != 200 or not resp.json().get("ok"):
            raise httpx.HTTPStatusError(f"telegram answered {resp.status_code}", request=resp.request,
                                        response=resp)

    def close(self) -> None:
        self._client.close()


class RedisStreamReader:
    """Blocking reads of a stream from an id on (``0`` = from the start, ``$`` = only new)."""

    def __init__(self, url: str, stream: str, start: str = "0", block_ms: int = 200) -> None:
        self.stream, self.last_id, self.block_ms = stream, start, block_ms
        self._r = redis.Redis.from_url(url, socket_timeout=max(5.0, block_ms / 1000 + 1))

    def read(self, count: int = 500) -> Iterator[bytes]:
        """The envelopes after ``last_id``; raises ``redis.RedisError`` when the server is gone."""
        got: Any = self._r.xread({self.stream: self.last_id}, count=count, block=self.block_ms)
        for _stream, entries in got or []:
            for entry_id, fields in entries:
                self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                yield fields.get(FIELD, b"")

    def close(self) -> None:
        self._r.close()


def describe(channels: list[SignalChannel]) -> str:
    return json.dumps([c.name for c in channels])


__all__ = ["FIELD", "RedisStreamChannel", "RedisStreamReader", "SignalChannel", "TelegramChannel",
           "WebhookChannel", "describe"]
