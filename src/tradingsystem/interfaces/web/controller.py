"""The dashboard's only door to the engine: every read and every action runs on the engine thread.

``DashboardController`` wraps a :class:`Kernel`. Web handlers call its methods from the event loop
(``await controller.call(fn)``); ``fn`` runs between two engine events through
``kernel.call_soon_threadsafe`` and the handler awaits its result. Manual actions are audited: each
publishes a ``manual_action`` alert (kept in ``kernel.alerts`` and sent on the bus) and is logged,
and every manual order passes the risk engine like any other.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.errors import InvalidRequest
from tradingsystem.domain.orders import OrderType, Side, TimeInForce
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.strategy import Strategy
from tradingsystem.interfaces.web.collector import BASE_S, Collector

__all__ = ["DashboardController", "EngineUnavailable", "WebOptions"]

log = logging.getLogger("tradingsystem.dashboard")
T = TypeVar("T")


def whole_quantity(value: object) -> int:
    """A quantity as typed by a person: a whole positive number (``150.9`` or ``1e400`` is an error, not 150)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"quantity must be a whole number, not {value!r}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"quantity must be a whole number, not {value!r}") from None
    if not d.is_finite() or d != d.to_integral_value() or d <= 0 or d > 10**9:
        raise ValueError(f"quantity must be a whole number from 1 to 1,000,000,000, not {value!r}")
    return int(d)


class EngineUnavailable(RuntimeError):
    """The engine did not run the request in time (not running, or stopped)."""


@dataclass(frozen=True)
class WebOptions:
    """What the web app needs besides the kernel (built by ``runtime.dashboard``)."""

    token: str
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    push_interval_s: float = 0.1
    secure_cookie: bool = False
    session_ttl_s: float = 12 * 3600
    data_dir: Path | None = None
    reports_dir: Path | None = None
    health: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)
    engine_timeout_s: float = 3.0


class DashboardController:
    """Reads and actions on a kernel, from the web thread, through the engine thread."""

    def __init__(self, kernel: Kernel, timeout_s: float = 3.0) -> None:
        self.kernel = kernel
        self.timeout_s = timeout_s
        self.collector = Collector(sorted(kernel.instruments))
        self.paused: set[str] = set()
        self._attached = False

    # --- plumbing ------------------------------------------------------------------------------
    def attach(self) -> None:
        """Register the collector; runs on the engine thread at the next event (call before or while running)."""
        def attach() -> None:
            if not self._attached:
                self.kernel.add_sink(self.collector)
                self.kernel.orders.add_listener(self.collector.on_order_event)
                self._attached = True

        self.kernel.call_soon_threadsafe(attach)

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        done: Future[T] = Future()

        def run() -> None:
            if done.cancelled():
                return
            try:
                done.set_result(fn())
            except Exception as exc:  # the caller gets the error; the engine goes on
                done.set_exception(exc)

        self.kernel.call_soon_threadsafe(run)
        return done

    async def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the engine thread; raise :class:`EngineUnavailable` if it does not answer in time."""
        fut = self.submit(fn)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), self.timeout_s)
        except TimeoutError:
            fut.cancel()
            raise EngineUnavailable("the engine did not answer in time (is it running?)") from None

    def _audit(self, action: str, who: str, **data: object) -> None:
        k = self.kernel
        text = f"dashboard {action} by {who}" + "".join(f" {key}={val}" for key, val in data.items())
        log.info(text)
        k.publish_alert(Alert("manual_action", Severity.WARNING, text, k.now(),
                              {"action": action, "who": who, **{key: str(v) for key, v in data.items()}}))

    # --- reads (engine thread) -----------------------------------------------------------------
    def _strategy(self, strategy_id: str) -> Strategy:
        for s in self.kernel.strategies:
            if s.strategy_id == strategy_id:
                return s
        raise KeyError(f"no strategy {strategy_id!r}")

    def state(self, watch: dict[str, int] | None = None, push: bool = False) -> dict[str, Any]:
        """The pushed state: snapshot, risk, strategies, alerts, feed; and for watched symbols
        (symbol -> last tape sequence seen) the book top, recent base bars and new tape prints.
        ``push`` stamps the wall time of the oldest event not yet pushed (``ev_first``) and of this read."""
        k, c = self.kernel, self.collector
        first, last = c.take_walls() if push else (0.0, 0.0)
        snap = k.snapshot()
        alerts = [{"kind": a.kind, "severity": Severity(a.severity).name, "message": a.message, "ts": a.ts_event}
                  for a in list(k.alerts)[-15:]]
        feed = k.feed
        out: dict[str, Any] = {
            "ev_first": first * 1000 if first else 0, "ev_last": last * 1000 if last else 0,
            "ts": snap["ts"], "instruments": snap["instruments"], "working_orders": snap["working_orders"],
            "summary": snap["summary"], "risk": k.guard.status(), "alerts": alerts[::-1],
            "strategies": [{"id": s.strategy_id, "symbols": s.symbols, "paused": s.strategy_id in self.paused}
                           for s in k.strategies],
            "feed": {"feed": type(feed).__name__ if feed else None,
                     "routing": type(k.execution).__name__ if k.execution else None,
                     "connected": feed is not None and k.execution is not None},
            "symbols": {},
        }
        for symbol, seq in (watch or {}).items():
            inst = k.instruments.get(symbol)
            if inst is None:
                continue
            book = k.cache.books.get(symbol)
            bids, asks = book.top(10) if book else ([], [])
            out["symbols"][symbol] = {
                "scale": inst.scale, "bids": bids, "asks": asks,
                "bars": c.recent_bars(symbol, 2 * 3600 // BASE_S + 2),
                "tape": c.tape_since(symbol, seq),
                "fills": c.fills_for(symbol, 20),
            }
        return out

    def candles_source(self, symbol: str) -> dict[str, Any]:
        inst = self.kernel.instruments.get(symbol)
        if inst is None:
            raise KeyError(f"unknown instrument {symbol!r}")
        return {"scale": inst.scale, "bars": self.collector.recent_bars(symbol, 0),
                "fills": self.collector.fills_for(symbol)}

    def all_bars(self, n: int) -> dict[str, list[tuple[int, ...]]]:
        return {s: self.collector.recent_bars(s, n) for s in self.kernel.instruments}

    def performance_source(self) -> dict[str, Any]:
        return {"curve": list(self.kernel.equity_curve),
                "results": {k: list(v) for k, v in self.collector.results.items()},
                "summary": self.kernel.summary()}

    def health(self, data_dir: Path | None, extra: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, Any]:
        k = self.kernel
        out: dict[str, Any] = {
            "wall": time.time(), "market_ts": k.now(), "data": k.data.stats(),
            "events_processed": k.events_processed, "orders": {"submitted": k.orders.submitted,
                                                               "denied": k.orders.denied, "fills": k.orders.fills,
                                                               "bad_events": k.orders.bad_events,
                                                               "last_error": k.orders.last_error},
            "last_data_error": k.data.last_error, "sources": {},
        }
        stats = getattr(k.feed, "stats", None)
        if callable(stats):
            out["sources"]["feed"] = stats()
        for name, fn in extra.items():
            try:
                out["sources"][name] = fn()
            except Exception as exc:  # a broken counter shows as an error, never breaks the page
                out["sources"][name] = {"error": str(exc)}
        if data_dir is not None and data_dir.exists():
            du = shutil.disk_usage(data_dir)
            out["disk"] = {"path": str(data_dir), "total": du.total, "used": du.used, "free": du.free}
        return out

    # --- actions (engine thread) ---------------------------------------------------------------
    def kill(self, who: str, reason: str, flatten: bool | None) -> dict[str, Any]:
        self._audit("kill", who, reason=reason, flatten=flatten)
        result = self.kernel.guard.kill(reason or "dashboard kill switch", flatten)
        return {**result, "status": self.kernel.guard.status()}

    def reset(self, who: str) -> dict[str, Any]:
        self._audit("reset", who)
        self.kernel.guard.reset(f"{who} (dashboard)")
        return {"status": self.kernel.guard.status()}

    def flatten(self, who: str, symbol: str | None) -> dict[str, Any]:
        if symbol is not None and symbol not in self.kernel.instruments:
            raise KeyError(f"unknown instrument {symbol!r}")
        self._audit("flatten", who, symbol=symbol or "all")
        return {"orders": self.kernel.flatten("dashboard flatten", symbol)}

    def cancel_all(self, who: str) -> dict[str, Any]:
        self._audit("cancel_all", who)
        return {"cancelled": self.kernel.cancel_all()}

    def set_paused(self, who: str, strategy_id: str, paused: bool) -> dict[str, Any]:
        """Pause: the strategy stops receiving market data (it still gets its order events). Resume: again."""
        strat = self._strategy(strategy_id)
        data = self.kernel.data
        if paused and strategy_id not in self.paused:
            for sym in strat.symbols:
                data.unsubscribe_trades(sym, strat.on_trade)
                data.unsubscribe_book(sym, strat.on_book)
                data.unsubscribe_bars(sym, strat.on_bar)
            self.paused.add(strategy_id)
        elif not paused and strategy_id in self.paused:
            for sym in strat.symbols:
                data.subscribe_trades(sym, strat.on_trade)
                if strat.wants_book:
                    data.subscribe_book(sym, strat.on_book)
                data.subscribe_bars(sym, strat.on_bar)
            self.paused.discard(strategy_id)
        self._audit("pause" if paused else "resume", who, strategy=strategy_id)
        return {"strategy": strategy_id, "paused": strategy_id in self.paused}

    def order(self, who: str, symbol: str, side: str, quantity: object, order_type: str = "MARKET",
              price: str | None = None, tif: str = "DAY") -> dict[str, Any]:
        """A manual order: same risk checks as any strategy's (a denial comes back with its reason)."""
        quantity = whole_quantity(quantity)
        inst = self.kernel.instruments.get(symbol)
        if inst is None:
            raise KeyError(f"unknown instrument {symbol!r}")
        try:
            side_v, type_v, tif_v = Side[side.upper()], OrderType[order_type.upper()], TimeInForce[tif.upper()]
        except KeyError as exc:
            raise ValueError(f"bad side, order type or time in force: {exc}") from None
        raw = 0
        if type_v is not OrderType.MARKET:
            try:
                raw = inst.to_raw(Decimal(str(price)))
            except (InvalidOperation, ValueError, TypeError, InvalidRequest) as exc:
                raise ValueError(f"bad price {price!r}: {exc}") from None
        self._audit("order", who, symbol=symbol, side=side_v.name, qty=quantity, type=type_v.name, price=price or "")
        om = self.kernel.orders
        order = om.new_order(symbol, side_v, quantity, type_v, raw, 0, tif_v, "manual", ("dashboard",))
        om.submit(order)
        return {"order_id": order.order_id, "status": order.status.name, "reason": order.reason}
