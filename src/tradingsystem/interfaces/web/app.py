"""The node's one FastAPI app: the dashboard (login, pages, JSON API, manual controls, WebSocket push), the
control API (``routes_control``) and the open /health and /metrics.

``create_app(controller, options)`` builds it; ``runtime.server`` serves it with uvicorn inside the node.
One token: pages and reads need a session (log in with the token) or ``Authorization: Bearer <token>``;
actions need the bearer token, or a session with its CSRF token from the same origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradingsystem.domain.errors import TradingSystemError
from tradingsystem.interfaces.throttle import Locked, TokenThrottle
from tradingsystem.interfaces.web.altdata import altdata_summary
from tradingsystem.interfaces.web.auth import COOKIE, Access, Sessions, same_origin
from tradingsystem.interfaces.web.controller import DashboardController, EngineUnavailable, WebOptions
from tradingsystem.interfaces.web.leaderboard import leaderboard
from tradingsystem.interfaces.web.pages import login_page, render
from tradingsystem.interfaces.web.push import PushHub
from tradingsystem.interfaces.web.routes_control import add_control_routes, add_probe_routes
from tradingsystem.interfaces.web.routes_trading import Engine, add_trading_routes
from tradingsystem.interfaces.web.ticket import fmt_raw
from tradingsystem.interfaces.web.views import TIMEFRAMES, aggregate, correlation, list_reports, performance

__all__ = ["create_app"]

_STATIC = Path(__file__).parent / "static"
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
_REPORT_CSP = "sandbox allow-scripts; default-src 'self' 'unsafe-inline' data:; frame-ancestors 'self'"


class SecurityHeaders:
    """Pure ASGI middleware: nosniff and referrer policy everywhere; CSP and no framing on HTML pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")  # no-referrer would make Origin "null"
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", _CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, wrapped)


def create_app(controller: DashboardController, options: WebOptions) -> FastAPI:
    """The node's app: the dashboard (``options.pages``; ``controller.attach()`` must have been called), the
    control API (``options.control``, else its routes answer 404) and the open /health and /metrics."""
    sessions = Sessions(options.token, options.session_ttl_s, throttle=TokenThrottle(
        options.token, options.token_max_failures, options.token_lockout_s, options.clock))
    access = Access(sessions)
    hub = PushHub(controller, options.push_interval_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not options.pages:
            yield
            return
        task = asyncio.create_task(hub.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="TradingSystem node", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub = hub
    app.state.sessions = sessions
    app.state.controller = controller
    app.add_middleware(GZipMiddleware, minimum_size=2000)
    if "*" not in options.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(options.allowed_hosts))

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(Locked)
    async def locked_out(request: Request, exc: Locked) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": exc.retry_after})

    async def engine(fn: Callable[[], Any]) -> Any:
        try:
            return await controller.call(fn)
        except EngineUnavailable as exc:
            raise HTTPException(503, str(exc)) from None
        except (KeyError, ValueError, TypeError, TradingSystemError) as exc:
            raise HTTPException(400, str(exc).strip("'\"")) from None

    health_page = _add_dashboard(app, controller, options, access, hub, engine) if options.pages else None
    add_control_routes(app, controller.kernel, access.actor, access.reader, engine, body_of, options.control)
    add_probe_routes(app, controller, options.metrics, health_page)
    return app


async def body_of(request: Request) -> dict[str, Any]:
    """The request's JSON object body (``{}`` when empty); 400 otherwise."""
    if not (await request.body()):
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "the body must be JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return data


def _add_dashboard(app: FastAPI, controller: DashboardController, options: WebOptions, access: Access,
                   hub: PushHub, engine: Engine) -> Callable[[Request], Response]:
    """Login, pages, the dashboard's JSON API, its manual controls and the WebSocket push; returns the
    health page (served at /health to a browser)."""
    sessions = access.sessions
    client_of, session_of, reader, actor = access.client_of, access.session_of, access.reader, access.actor

    def start_session(request: Request, next_url: str) -> Response:
        session = sessions.login(f"web:{client_of(request)}")
        response = RedirectResponse(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/",
                                    status_code=303)
        response.set_cookie(COOKIE, session.sid, httponly=True, samesite="strict", secure=options.secure_cookie,
                            path="/", max_age=int(options.session_ttl_s))
        return response

    # --- login ---------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, token: str | None = None, next: str = "/") -> Response:
        if token is not None:
            if sessions.check_token(token, client_of(request)):
                return start_session(request, next)
            await asyncio.sleep(0.5)
            return HTMLResponse(login_page("wrong token", next), status_code=401)
        return HTMLResponse(login_page("", next))

    @app.post("/login")
    async def login(request: Request) -> Response:
        if not same_origin(request.headers.get("origin"), request.headers.get("host"), request.url.scheme):
            raise HTTPException(403, "cross-origin login refused")
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        next_url = (form.get("next") or ["/"])[0]
        if sessions.check_token((form.get("token") or [""])[0], client_of(request)):
            return start_session(request, next_url)
        await asyncio.sleep(0.5)
        return HTMLResponse(login_page("wrong token", next_url), status_code=401)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        actor(request)
        sessions.logout(request.cookies.get(COOKIE))
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- pages ---------------------------------------------------------------------------------
    def page(request: Request, name: str, **data: str) -> Response:
        session = session_of(request)
        if session is None:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return HTMLResponse(render(name, session.csrf, **data))

    @app.get("/", response_class=HTMLResponse)
    async def overview(request: Request) -> Response:
        return page(request, "overview")

    @app.get("/instrument", response_class=HTMLResponse)
    async def instrument_default(request: Request) -> Response:
        return RedirectResponse(f"/instrument/{sorted(controller.kernel.instruments)[0]}", status_code=303)

    @app.get("/instrument/{symbol}", response_class=HTMLResponse)
    async def instrument(request: Request, symbol: str) -> Response:
        if symbol not in controller.kernel.instruments:
            raise HTTPException(404, f"unknown instrument {symbol}")
        return page(request, "instrument", symbol=symbol, symbols=",".join(sorted(controller.kernel.instruments)))

    for name in ("performance", "trades", "log", "heatmap", "reports", "altdata", "leaderboard"):
        def make(n: str) -> Callable[[Request], Awaitable[Response]]:
            async def handler(request: Request) -> Response:
                return page(request, n)
            return handler
        app.add_api_route(f"/{name}", make(name), methods=["GET"], response_class=HTMLResponse)

    @app.get("/manifest.webmanifest")
    async def manifest() -> Response:
        return FileResponse(_STATIC / "manifest.webmanifest", media_type="application/manifest+json")

    @app.get("/favicon.ico")
    async def favicon() -> Response:
        return FileResponse(_STATIC / "icon.svg", media_type="image/svg+xml")

    @app.get("/sw.js")
    async def service_worker() -> Response:
        return FileResponse(_STATIC / "sw.js", media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=_STATIC), name="static")

    # --- reads ---------------------------------------------------------------------------------
    @app.get("/api/state")
    async def api_state(request: Request) -> Any:
        reader(request)
        state = await engine(lambda: controller.state())
        state.pop("symbols", None)
        return state

    @app.get("/api/candles")
    async def api_candles(request: Request, symbol: str, tf: str = "1m") -> Any:
        reader(request)
        if tf not in TIMEFRAMES:
            raise HTTPException(400, f"timeframe must be one of {', '.join(TIMEFRAMES)}")
        src = await engine(lambda: controller.candles_source(symbol))
        scale = src["scale"]
        return {"symbol": symbol, "tf": tf, "candles": aggregate(src["bars"], TIMEFRAMES[tf], scale), "scale": scale,
                "tick": fmt_raw(src["tick"], scale),
                "fills": [{**f, "price": fmt_raw(f["price"], scale)} for f in src["fills"]]}

    @app.get("/api/performance")
    async def api_performance(request: Request) -> Any:
        reader(request)
        src = await engine(controller.performance_source)
        return {**performance(src["curve"], src["results"]), "summary": src["summary"]}

    @app.get("/api/correlation")
    async def api_correlation(request: Request, tf: str = "1m") -> Any:
        reader(request)
        if tf not in TIMEFRAMES:
            raise HTTPException(400, f"timeframe must be one of {', '.join(TIMEFRAMES)}")
        seconds = TIMEFRAMES[tf]
        bars = await engine(lambda: controller.all_bars(max(200, 240 * seconds // 5)))
        return correlation(bars, seconds)

    @app.get("/api/health")
    async def api_health(request: Request) -> Any:
        reader(request)
        out = await engine(lambda: controller.health(options.data_dir, options.health))
        out["dashboard"] = {"clients": len(hub.clients), "pushes": hub.pushes,
                            "engine_read_ms": round(hub.engine_ms_last, 3), "login_failures": sessions.failures}
        return out

    @app.get("/api/altdata")
    async def api_altdata(request: Request) -> Any:
        reader(request)
        return await asyncio.to_thread(altdata_summary, options.data_dir)

    @app.get("/api/leaderboard")
    async def api_leaderboard(request: Request) -> Any:
        reader(request)
        return await engine(lambda: leaderboard(controller.kernel))

    @app.get("/api/reports")
    async def api_reports(request: Request) -> Any:
        reader(request)
        root = options.reports_dir
        if root is None or not root.is_dir():
            return {"folder": str(root) if root else None, "reports": []}
        return {"folder": str(root), "reports": list_reports(root)}

    @app.get("/reports/file/{path:path}")
    async def report_file(request: Request, path: str) -> Response:
        reader(request)
        root = options.reports_dir
        if root is None:
            raise HTTPException(404, "no reports folder configured")
        target = (root / path).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            raise HTTPException(404, "no such report")
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return FileResponse(target, media_type=media, headers={
            "Content-Security-Policy": _REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"})

    # --- manual controls -----------------------------------------------------------------------
    @app.post("/api/control/{action}")
    async def control(request: Request, action: str) -> Any:
        who = actor(request)
        b = await body_of(request)
        if action == "kill":
            flatten = b.get("flatten")
            return await engine(lambda: controller.kill(who, str(b.get("reason") or "dashboard kill switch"),
                                                        None if flatten is None else bool(flatten)))
        if action == "reset":
            if b.get("confirm") is not True:
                raise HTTPException(400, "reset needs {\"confirm\": true}")
            return await engine(lambda: controller.reset(who))
        if action == "flatten":
            symbol = b.get("symbol")
            return await engine(lambda: controller.flatten(who, str(symbol) if symbol else None))
        if action == "cancel_all":
            return await engine(lambda: controller.cancel_all(who))
        if action == "resume_symbol":  # hand an instrument a manual trade paused back to the strategies
            symbol = b.get("symbol")
            return await engine(lambda: controller.resume_symbol(who, str(symbol) if symbol else None))
        if action in ("pause", "resume"):
            sid = str(b.get("strategy") or "")
            return await engine(lambda: controller.set_paused(who, sid, action == "pause"))
        if action == "order":
            return await engine(lambda: controller.order(who, b))
        raise HTTPException(404, f"no control action {action!r}")

    add_trading_routes(app, controller, actor, reader, engine, body_of)

    # --- push ----------------------------------------------------------------------------------
    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        session = sessions.get(websocket.cookies.get(COOKIE))
        scheme = "https" if websocket.url.scheme == "wss" else "http"
        if session is None or not same_origin(websocket.headers.get("origin"), websocket.headers.get("host"),
                                              scheme):
            await websocket.close(code=1008)
            return
        await websocket.accept()
        await hub.serve(websocket)

    return lambda request: page(request, "health")
