"""Trading from the screen and the trader's reads: per-order cancel and modify, reverse, trades, the log.

``add_trading_routes`` adds them to the app with the app's own guards: ``actor`` (session + CSRF +
same origin, or bearer) for actions, ``reader`` for reads, ``engine`` to run on the engine thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from tradingsystem.interfaces.web.controller import DashboardController
from tradingsystem.interfaces.web.views import filter_log, period_pnl

__all__ = ["add_trading_routes"]

Guard = Callable[[Request], str]
Engine = Callable[[Callable[[], Any]], Awaitable[Any]]
Body = Callable[[Request], Awaitable[dict[str, Any]]]


def add_trading_routes(app: FastAPI, controller: DashboardController, actor: Guard, reader: Guard, engine: Engine,
                       body_of: Body) -> None:
    @app.post("/api/orders/{order_id}/cancel")
    async def cancel_order(request: Request, order_id: str) -> Any:
        who = actor(request)
        return await engine(lambda: controller.cancel(who, order_id))

    @app.post("/api/orders/{order_id}/modify")
    async def modify_order(request: Request, order_id: str) -> Any:
        who = actor(request)
        b = await body_of(request)
        if b.get("price") in (None, ""):
            raise HTTPException(400, "new price: enter a price")
        return await engine(lambda: controller.modify(who, order_id, b["price"]))

    @app.post("/api/positions/{symbol}/reverse")
    async def reverse(request: Request, symbol: str) -> Any:
        who = actor(request)
        return await engine(lambda: controller.reverse(who, symbol))

    @app.get("/api/trades")
    async def trades(request: Request) -> Any:
        reader(request)
        src = await engine(controller.trades_source)
        return {"fills": src["fills"][::-1], **period_pnl(src["curve"]), "fees_brl": src["fees_brl"],
                "net_pnl_brl": src["summary"]["net_pnl_brl"]}

    @app.get("/api/log")
    async def log(request: Request, source: str = "", level: str = "", symbol: str = "", q: str = "",
                  limit: int = 500) -> Any:
        reader(request)
        rows = await engine(controller.log_source)
        return {"rows": filter_log(rows, source, level.upper(), symbol, q, max(1, min(limit, 2000)))}
