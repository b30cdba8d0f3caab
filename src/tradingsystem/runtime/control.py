"""Control API of a running node: local HTTP with a token; every action runs on the engine thread.

GET  /risk        risk status            POST /risk/kill  {"reason": "...", "flatten": false}
GET  /orders      working orders         POST /risk/reset {"who": "..."}
GET  /positions   positions and P&L      POST /flatten    {"symbol": null}  (pauses the strategies there)
                                         POST /strategies/resume {"symbol": null}
After ``token_max_failures`` wrong tokens in a row a client gets HTTP 429 for ``token_lockout_s`` seconds.
GET  /health and GET /metrics (Prometheus text) need no token: keep the server on loopback (the default)
or behind a proxy that restricts them.
The node writes ``{data_dir}/node.json`` (mode 0600) with the URL and token so the CLI finds it.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.limits import limits_view
from tradingsystem.interfaces.throttle import Locked, TokenThrottle
from tradingsystem.runtime.metrics import MetricSource, render_metrics

TIMEOUT_S = 5.0


def _on_engine(kernel: Kernel, fn: Callable[[], Any], timeout: float = TIMEOUT_S) -> Any:
    """Run ``fn`` on the engine thread and wait for its result."""
    done: Future[Any] = Future()

    def call() -> None:
        try:
            done.set_result(fn())
        except Exception as exc:  # the caller gets the error; the engine goes on
            done.set_exception(exc)

    kernel.call_soon_threadsafe(call)
    return done.result(timeout=timeout)


def _reset(kernel: Kernel, who: str) -> dict[str, object]:
    kernel.guard.reset(who)
    return kernel.guard.status()


def _channel(body: dict[str, Any]) -> str:
    """Who acts, for the manual-action audit: the body's ``who`` (the CLI sends ``cli``), else control-api."""
    return str(body.get("who") or "control-api")


def positions_view(kernel: Kernel) -> dict[str, Any]:
    snap = kernel.snapshot()
    return {"positions": [r for r in snap["instruments"] if r["position"]], "summary": snap["summary"]}


def orders_view(kernel: Kernel) -> dict[str, Any]:
    return {"working_orders": kernel.snapshot()["working_orders"]}


class ControlServer:
    """Serves the control API on 127.0.0.1 (or ``host``) from a daemon thread."""

    def __init__(self, kernel: Kernel, host: str = "127.0.0.1", port: int = 0, token: str | None = None, *,
                 token_max_failures: int = 5, token_lockout_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.kernel = kernel
        self.token = token or secrets.token_urlsafe(24)
        self.throttle = TokenThrottle(self.token, token_max_failures, token_lockout_s, clock)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
                return

            def _reply(self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                got = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                return server.throttle.check(got, self.client_address[0])

            def _body(self) -> dict[str, Any]:
                n = int(self.headers.get("Content-Length") or 0)
                if not n:
                    return {}
                data = json.loads(self.rfile.read(n) or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("the request body must be a JSON object")
                return data

            def _text(self, code: int, text: str, content_type: str) -> None:
                data = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _open_route(self) -> bool:
                """/health and /metrics (no token)."""
                path = self.path.split("?")[0]
                if path == "/health":
                    code, body = server.health()
                    self._reply(code, body)
                    return True
                if path == "/metrics":
                    try:
                        self._text(200, server.metrics(), "text/plain; version=0.0.4; charset=utf-8")
                    except TimeoutError:
                        self._text(503, "# the engine did not answer in time\n", "text/plain; charset=utf-8")
                    return True
                return False

            def _handle(self, method: str) -> None:
                if method == "GET" and self._open_route():
                    return
                try:
                    if not self._authorized():
                        self._reply(401, {"error": "missing or wrong token"})
                        return
                except Locked as exc:
                    self._reply(429, {"error": str(exc)}, {"Retry-After": exc.retry_after})
                    return
                route = server.routes.get((method, self.path.split("?")[0]))
                if route is None:
                    self._reply(404, {"error": f"no route {method} {self.path}"})
                    return
                try:
                    body = self._body() if method == "POST" else {}
                    self._reply(200, _on_engine(server.kernel, lambda: route(body)))
                except (ValueError, TypeError, KeyError) as exc:
                    self._reply(400, {"error": str(exc)})
                except TimeoutError:
                    self._reply(503, {"error": "the engine did not answer in time"})

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        k = kernel
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", "/risk"): lambda b: k.guard.status() | {"limits": limits_view(k)},
            ("GET", "/orders"): lambda b: orders_view(k),
            ("GET", "/positions"): lambda b: positions_view(k),
            ("POST", "/risk/kill"): lambda b: k.manual_action(
                _channel(b), "kill", f"reason={b.get('reason') or ''} flatten={bool(b.get('flatten'))}",
                lambda: k.guard.kill(str(b.get("reason") or "manual kill switch"), b.get("flatten"))
            ) | {"status": k.guard.status()},
            ("POST", "/risk/reset"): lambda b: k.manual_action(
                _channel(b), "reset", "", lambda: _reset(k, str(b.get("who") or "operator"))),
            ("POST", "/flatten"): lambda b: k.manual_action(
                _channel(b), "flatten", f"symbol={b.get('symbol') or 'all'}",
                lambda: k.manual_flatten(_channel(b), b.get("symbol") or None)),
            ("POST", "/strategies/resume"): lambda b: k.manual_action(
                _channel(b), "resume", f"symbol={b.get('symbol') or 'all'}",
                lambda: k.resume_strategies(b.get("symbol") or None, _channel(b))),
        }
        self.metric_sources: list[MetricSource] = []
        self.started_at = time.time()
        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="control-api", daemon=True)

    def health(self) -> tuple[int, dict[str, Any]]:
        """200 while the engine thread answers within a second, else 503."""
        k = self.kernel
        body: dict[str, Any] = {"uptime_s": round(time.time() - self.started_at, 1)}
        try:
            t0 = time.perf_counter()
            body |= _on_engine(k, lambda: {"trading_state": k.risk.state.value, "kill_switch": k.guard.kill_switch,
                                          "events": k.data_count(), "ts": k.clock.now()}, 1.0)
            body["engine_response_s"] = round(time.perf_counter() - t0, 4)
            return 200, {"status": "ok"} | body
        except TimeoutError:
            return 503, {"status": "engine not answering"} | body

    def metrics(self) -> str:
        t0 = time.perf_counter()
        sources = list(self.metric_sources)
        return str(_on_engine(self.kernel, lambda: render_metrics(self.kernel, sources, time.perf_counter() - t0)))

    def start(self, state_file: Path | None = None) -> None:
        self._thread.start()
        if state_file is not None:
            write_node_file(state_file, self.url, self.token)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def write_node_file(path: Path, url: str, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, fh)
    os.replace(tmp, path)
