"""The control API of a running node, on the same app (and token) as the dashboard; every action runs on the
engine thread.

GET  /risk        risk status and every limit   POST /risk/kill  {"reason": "...", "flatten": false}
GET  /orders      working orders                POST /risk/reset {"who": "..."}
GET  /positions   positions and P&L             POST /flatten    {"symbol": null}  (pauses the strategies there)
                                                POST /strategies/resume {"symbol": null}
They take the node's token as ``Authorization: Bearer`` (what ``tradingsystem risk ...`` sends) or a dashboard
session with its CSRF token; wrong tokens count in the same lockout as the dashboard login (HTTP 429).
GET /health (JSON; a browser asking for HTML gets the dashboard's health page) and GET /metrics (Prometheus
text) need no token.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.limits import limits_view
from tradingsystem.interfaces.web.controller import DashboardController, EngineUnavailable

__all__ = ["add_control_routes", "add_probe_routes", "orders_view", "positions_view"]

Guard = Callable[[Request], str]
Engine = Callable[[Callable[[], Any]], Awaitable[Any]]
Body = Callable[[Request], Awaitable[dict[str, Any]]]
Page = Callable[[Request], Response]
_OFF = "the control API is off on this node (started with --no-control)"


def positions_view(kernel: Kernel) -> dict[str, Any]:
    snap = kernel.snapshot()
    return {"positions": [r for r in snap["instruments"] if r["position"]], "summary": snap["summary"]}


def orders_view(kernel: Kernel) -> dict[str, Any]:
    return {"working_orders": kernel.snapshot()["working_orders"]}


def _reset(kernel: Kernel, who: str) -> dict[str, object]:
    kernel.guard.reset(who)
    return kernel.guard.status()


def add_control_routes(app: FastAPI, kernel: Kernel, actor: Guard, reader: Guard, engine: Engine, body_of: Body,
                       enabled: bool = True) -> None:
    """The control routes; when not ``enabled`` they answer 404 saying the API is off."""
    k = kernel

    async def act(request: Request) -> tuple[str, dict[str, Any]]:
        who = actor(request)
        body = await body_of(request)
        # Who acts, for the audit: the body's ``who`` (the CLI sends ``cli``) over a bearer token, else the session.
        return (str(body.get("who") or "control-api") if who == "api" else f"dashboard:{who}"), body

    def kill(channel: str, b: dict[str, Any]) -> dict[str, Any]:
        flatten = b.get("flatten")
        return k.manual_action(
            channel, "kill", f"reason={b.get('reason') or ''} flatten={bool(flatten)}",
            lambda: k.guard.kill(str(b.get("reason") or "manual kill switch"),
                                 None if flatten is None else bool(flatten))) | {"status": k.guard.status()}

    reads: dict[str, Callable[[], Any]] = {
        "/risk": lambda: k.guard.status() | {"limits": limits_view(k)},
        "/orders": lambda: orders_view(k),
        "/positions": lambda: positions_view(k),
    }
    actions: dict[str, Callable[[str, dict[str, Any]], Any]] = {
        "/risk/kill": kill,
        "/risk/reset": lambda who, b: k.manual_action(who, "reset", "", lambda: _reset(k, str(b.get("who") or who))),
        "/flatten": lambda who, b: k.manual_action(
            who, "flatten", f"symbol={b.get('symbol') or 'all'}",
            lambda: k.manual_flatten(who, b.get("symbol") or None)),
        "/strategies/resume": lambda who, b: k.manual_action(
            who, "resume", f"symbol={b.get('symbol') or 'all'}",
            lambda: k.resume_strategies(b.get("symbol") or None, who)),
    }

    def read_route(fn: Callable[[], Any]) -> Callable[[Request], Awaitable[Any]]:
        async def handler(request: Request) -> Any:
            if not enabled:
                raise HTTPException(404, _OFF)
            reader(request)
            return await engine(fn)
        return handler

    def action_route(fn: Callable[[str, dict[str, Any]], Any]) -> Callable[[Request], Awaitable[Any]]:
        async def handler(request: Request) -> Any:
            if not enabled:
                raise HTTPException(404, _OFF)
            who, body = await act(request)
            return await engine(lambda: fn(who, body))
        return handler

    for path, read in reads.items():
        app.add_api_route(path, read_route(read), methods=["GET"])
    for path, action in actions.items():
        app.add_api_route(path, action_route(action), methods=["POST"])


def add_probe_routes(app: FastAPI, controller: DashboardController, metrics: Callable[[float], str] | None,
                     page: Page | None = None) -> None:
    """GET /health and GET /metrics without a token. ``metrics(engine_wait_s)`` renders the Prometheus text on the
    engine thread; ``page`` serves the dashboard's health page to a browser that asks for HTML."""
    k = controller.kernel
    started = time.time()

    @app.get("/health")
    async def health(request: Request) -> Response:
        if page is not None and "text/html" in request.headers.get("accept", ""):
            return page(request)
        body: dict[str, Any] = {"uptime_s": round(time.time() - started, 1)}
        t0 = time.perf_counter()
        try:
            body |= await controller.call(lambda: {"trading_state": k.risk.state.value,
                                                   "kill_switch": k.guard.kill_switch, "events": k.data_count(),
                                                   "ts": k.clock.now()}, 1.0)
        except EngineUnavailable:
            return JSONResponse({"status": "engine not answering"} | body, status_code=503)
        body["engine_response_s"] = round(time.perf_counter() - t0, 4)
        return JSONResponse({"status": "ok"} | body)

    @app.get("/metrics")
    async def prometheus() -> Response:
        if metrics is None:
            raise HTTPException(404, "no metrics on this server")
        render = metrics
        t0 = time.perf_counter()
        try:
            text = await controller.call(lambda: render(time.perf_counter() - t0))
        except EngineUnavailable:
            return PlainTextResponse("# the engine did not answer in time\n", status_code=503)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
