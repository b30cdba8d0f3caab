"""Loopback servers for the alert tests: a real SMTP server (aiosmtpd) and a Telegram Bot API fake."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Bounded wait on a condition another thread makes true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class SmtpServer:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = free_port()
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def texts(self) -> list[str]:
        """Subject plus plain-text body of each message."""
        out = []
        for msg in list(self.messages):
            body = ""
            for part in msg.walk():
                if part.get_content_type() == "text/plain":
                    payload = part.get_payload(decode=True)
                    body = payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)
                    break
            out.append(f"{msg['Subject']}\n{body}")
        return out


class TelegramFake:
    """Speaks getMe, sendMessage and getUpdates under ``/bot<token>/``; records what it was sent."""

    def __init__(self, token: str = "123456:TEST-token-secret") -> None:
        self.token = token
        self.sent: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.fail_sends = 0  # answer the next N sendMessage calls with HTTP 500
        self._next_id = 1
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(raw)

            def do_GET(self) -> None:
                self._answer(b"")

            def _answer(self, raw: bytes) -> None:
                path = self.path.split("?", 1)[0]
                prefix = f"/bot{fake.token}/"
                if not path.startswith(prefix):
                    self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                try:
                    params = json.loads(raw) if raw.strip().startswith(b"{") else {
                        k: v[0] for k, v in parse_qs(raw.decode()).items()}
                except ValueError:
                    params = {}
                code, body = fake.handle(path[len(prefix):], params)
                self._json(code, body)

            def _json(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(method)
            if method == "getMe":
                return 200, {"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "t", "username": "t_bot"}}
            if method == "sendMessage":
                if self.fail_sends:
                    self.fail_sends -= 1
                    return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
                self.sent.append({"chat_id": int(params.get("chat_id", 0)), "text": str(params.get("text", ""))})
                return 200, {"ok": True, "result": {"message_id": len(self.sent), "date": 0,
                                                    "chat": {"id": int(params.get("chat_id", 0))}}}
            if method == "getUpdates":
                offset = params.get("offset")
                ups = self.updates
                if offset is not None and int(offset) < 0:
                    ups = ups[int(offset):]
                elif offset is not None:
                    ups = [u for u in ups if u["update_id"] >= int(offset)]
                return 200, {"ok": True, "result": ups}
            return 404, {"ok": False, "error_code": 404, "description": "method not found"}

    def push(self, chat_id: int, text: str, username: str = "someone") -> None:
        """A user sends ``text`` to the bot from ``chat_id``."""
        with self._lock:
            self.updates.append({"update_id": self._next_id, "message": {
                "message_id": self._next_id, "date": 0, "text": text, "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "username": username}}})
            self._next_id += 1

    def texts(self, chat_id: int | None = None) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.sent if chat_id is None or m["chat_id"] == chat_id]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
