"""The node's one HTTP server: uvicorn on a daemon thread serving the app of ``interfaces.web``.

``start_server(kernel, host, port)`` serves the dashboard (unless ``dashboard=False``), the control API
(``GET /risk /orders /positions``, ``POST /risk/kill /risk/reset /flatten``; unless ``control=False``) and
``GET /health`` and ``GET /metrics`` without a token. One token for all of it: the dashboard login and
``Authorization: Bearer`` for scripts and the CLI; after ``token_max_failures`` wrong ones in a row a client
gets HTTP 429 for ``token_lockout_s`` seconds, whichever way it tried. The token comes from the argument, else
``TRADINGSYSTEM_TOKEN``, else it is generated. ``node_file`` (``{data_dir}/node.json``, mode 0600) gets the URL
and the token so ``tradingsystem risk ...`` finds the node; ``stop()`` removes it. A port that is taken raises
``OSError`` before anything is attached to the kernel (``listen`` binds ahead, to fail early).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from tradingsystem.engine.kernel import Kernel
from tradingsystem.interfaces.web import DashboardController, WebOptions, create_app
from tradingsystem.runtime.metrics import MetricSource, render_metrics

__all__ = ["NodeServer", "listen", "start_server", "write_node_file"]

_LOCAL = ("127.0.0.1", "localhost", "::1")
_ANY = ("0.0.0.0", "::", "")


@dataclass
class NodeServer:
    url: str
    token: str
    server: uvicorn.Server
    thread: threading.Thread
    controller: DashboardController
    node_file: Path | None = None

    @property
    def login_url(self) -> str:
        return f"{self.url}/login?token={self.token}"

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.node_file is not None:
            self.node_file.unlink(missing_ok=True)
        self.server.should_exit = True
        self.thread.join(timeout_s)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one); ``OSError`` when taken or not an address here."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def start_server(kernel: Kernel, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
                 sock: socket.socket | None = None, dashboard: bool = True, control: bool = True,
                 node_file: Path | None = None,
                 data_dir: Path | None = None, reports_dir: Path | None = None,
                 allowed_hosts: tuple[str, ...] | None = None, push_interval_s: float = 0.1,
                 health: dict[str, Callable[[], dict[str, Any]]] | None = None,
                 metric_sources: Iterable[MetricSource] = (), token_max_failures: int = 5,
                 token_lockout_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 wait_s: float = 10.0) -> NodeServer:
    """Serve ``kernel`` on ``host:port`` (port 0 picks a free one), or on ``sock`` from :func:`listen`, and
    return the running server."""
    sock = sock or listen(host, port)
    token = token or os.environ.get("TRADINGSYSTEM_TOKEN") or secrets.token_urlsafe(24)
    if allowed_hosts is None:
        allowed_hosts = ("127.0.0.1", "localhost") if host in _LOCAL else ("*",)
    controller = DashboardController(kernel)
    if dashboard:
        controller.attach()  # the dashboard's collector; the control API needs none
    sources = list(metric_sources)
    options = WebOptions(token=token, allowed_hosts=allowed_hosts, push_interval_s=push_interval_s,
                         data_dir=data_dir, reports_dir=reports_dir, health=dict(health or {}),
                         token_max_failures=token_max_failures, token_lockout_s=token_lockout_s, clock=clock,
                         pages=dashboard, control=control,
                         metrics=lambda waited_s: render_metrics(kernel, sources, waited_s))
    config = uvicorn.Config(create_app(controller, options), log_level="warning", access_log=False,
                            ws="websockets-sansio", lifespan="on", ws_ping_interval=20)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="http", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"the node's HTTP server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = sock.getsockname()[1]
    local = "127.0.0.1" if host in _ANY else host  # a wildcard address is reached on loopback from here
    url = f"http://{f'[{local}]' if ':' in local else local}:{bound}"
    if node_file is not None:
        write_node_file(node_file, url, token)
    return NodeServer(url, token, server, thread, controller, node_file)


def write_node_file(path: Path, url: str, token: str) -> None:
    """``{url, token, pid}`` for the CLI, readable by this user only (written whole, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, fh)
    os.replace(tmp, path)
