"""Wiring of the browser dashboard into a node: uvicorn on a daemon thread, token from config or env.

``start_dashboard(kernel, host, port, token)`` attaches the dashboard to the kernel (the attachment runs
on the engine thread at its next event) and serves it; ``handle.stop()`` shuts it down.
``TRADINGSYSTEM_DASHBOARD_TOKEN`` sets the token when none is given; otherwise one is generated.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from tradingsystem.engine.kernel import Kernel
from tradingsystem.interfaces.web import DashboardController, WebOptions, create_app

__all__ = ["DashboardHandle", "start_dashboard"]

_LOCAL = ("127.0.0.1", "localhost", "::1")


@dataclass
class DashboardHandle:
    url: str
    token: str
    server: uvicorn.Server
    thread: threading.Thread
    controller: DashboardController

    @property
    def login_url(self) -> str:
        return f"{self.url}/login?token={self.token}"

    def stop(self, timeout_s: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout_s)


def start_dashboard(kernel: Kernel, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
                    data_dir: Path | None = None, reports_dir: Path | None = None,
                    allowed_hosts: tuple[str, ...] | None = None, push_interval_s: float = 0.1,
                    health: dict[str, Callable[[], dict[str, Any]]] | None = None,
                    token_max_failures: int = 5, token_lockout_s: float = 60.0,
                    clock: Callable[[], float] = time.monotonic, wait_s: float = 10.0) -> DashboardHandle:
    """Serve the dashboard for ``kernel`` on ``host:port`` (port 0 picks a free one) and return its handle."""
    token = token or os.environ.get("TRADINGSYSTEM_DASHBOARD_TOKEN") or secrets.token_urlsafe(24)
    if allowed_hosts is None:
        allowed_hosts = ("127.0.0.1", "localhost") if host in _LOCAL else ("*",)
    controller = DashboardController(kernel)
    controller.attach()
    options = WebOptions(token=token, allowed_hosts=allowed_hosts, push_interval_s=push_interval_s,
                         data_dir=data_dir, reports_dir=reports_dir, health=dict(health or {}),
                         token_max_failures=token_max_failures, token_lockout_s=token_lockout_s, clock=clock)
    config = uvicorn.Config(create_app(controller, options), host=host, port=port, log_level="warning",
                            access_log=False, ws="websockets-sansio", lifespan="on", ws_ping_interval=20)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the dashboard did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
    shown = f"[{host}]" if ":" in host else host
    return DashboardHandle(f"http://{shown}:{bound}", token, server, thread, controller)
