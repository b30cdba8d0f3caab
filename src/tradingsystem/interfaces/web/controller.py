"""The dashboard's only door to the engine: every read and every action runs on the engine thread.

``DashboardController`` wraps a :class:`Kernel`. Web handlers call its methods from the event loop
(``await controller.call(fn)``); ``fn`` runs between two engine events through
``kernel.call_soon_threadsafe`` and the handler awaits its result. Manual actions are audited once they
have run, with their outcome (accepted, denied by a risk rule, refused, or the error): a record in the state
store (``tradingsystem audit``), a ``manual_action`` alert and a log line. Every manual order passes the risk
engine like any other.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.instruments import cents
from tradingsystem.domain.orders import Order, OrderStatus, OrderType, Side
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.strategy import Strategy
from tradingsystem.interfaces.phases import phase_label, session_note
from tradingsystem.interfaces.web.collector import BASE_S, Collector
from tradingsystem.interfaces.web.ticket import TicketError, fmt_price, fmt_raw, parse_price, parse_ticket

__all__ = ["DashboardController", "EngineUnavailable", "WebOptions"]

log = logging.getLogger("tradingsystem.dashboard")
T = TypeVar("T")


class EngineUnavailable(RuntimeError):
    """The engine did not run the request in time (not running, or stopped)."""


@dataclass(frozen=True)
class WebOptions:
    """What the web app needs besides the kernel (built by ``runtime.server``)."""

    token: str  # the node's one token: dashboard login and ``Authorization: Bearer``
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    push_interval_s: float = 0.1
    secure_cookie: bool = False
    session_ttl_s: float = 12 * 3600
    data_dir: Path | None = None
    reports_dir: Path | None = None
    health: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)
    engine_timeout_s: float = 3.0
    token_max_failures: int = 5  # wrong tokens in a row from one client before it is locked out (HTTP 429)
    token_lockout_s: float = 60.0
    clock: Callable[[], float] = time.monotonic  # seconds, for the lockout (tests step it)
    pages: bool = True  # the dashboard (pages, its JSON API and push); off: the control API and probes only
    control: bool = True  # the control API (/risk, /orders, /positions, /risk/kill, /risk/reset, /flatten)
    metrics: Callable[[float], str] | None = None  # Prometheus text (engine thread), given the engine's wait in s


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

    async def call(self, fn: Callable[[], T], timeout_s: float | None = None) -> T:
        """Run ``fn`` on the engine thread; raise :class:`EngineUnavailable` if it does not answer in time."""
        fut = self.submit(fn)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), timeout_s or self.timeout_s)
        except TimeoutError:
            fut.cancel()
            raise EngineUnavailable("the engine did not answer in time (is it running?)") from None

    def _act(self, action: str, who: str, fn: Callable[[], dict[str, Any]], **data: object) -> dict[str, Any]:
        """Run a person's action and audit it with its real outcome: a record in the state store (through
        ``kernel.manual_action``: accepted, denied with its rule and reason, or the error), an alert and a log line."""
        k = self.kernel
        detail = " ".join(f"{key}={val}" for key, val in data.items())
        box: list[dict[str, Any]] = []

        def run() -> str:
            box.append(fn())
            return outcome(box[0])

        def alert(result: str) -> None:
            text = f"dashboard {action} by {who}" + (f" {detail}" if detail else "") + f" -> {result}"
            log.info(text)
            k.publish_alert(Alert("manual_action", Severity.WARNING, text, k.now(),
                                  {"action": action, "who": who, "result": result,
                                   **{key: str(v) for key, v in data.items()}}))

        try:
            alert(k.manual_action(f"dashboard:{who}", action, detail, run))
        except Exception as exc:
            alert(f"error: {exc}")
            raise
        return box[0]

    # --- reads (engine thread) -----------------------------------------------------------------
    def _strategy(self, strategy_id: str) -> Strategy:
        for s in self.kernel.strategies:
            if s.strategy_id == strategy_id:
                return s
        raise KeyError(f"no strategy {strategy_id!r}")

    def state(self, watch: dict[str, int] | None = None, push: bool = False) -> dict[str, Any]:
        """The pushed state: instruments and positions, working orders, risk, strategies, alerts, feed; and for
        watched symbols (symbol -> last tape sequence seen) the book top, recent base bars and new tape prints.
        Prices are exact strings with the instrument's decimals. ``push`` stamps the wall time of the oldest
        event not yet pushed (``ev_first``) and of this read."""
        k, c = self.kernel, self.collector
        first, last = c.take_walls() if push else (0.0, 0.0)
        ts = k.now()
        alerts = [{"kind": a.kind, "severity": Severity(a.severity).name, "message": a.message, "ts": a.ts_event}
                  for a in list(k.alerts)[-15:]]
        feed = k.feed
        out: dict[str, Any] = {
            "ev_first": first * 1000 if first else 0, "ev_last": last * 1000 if last else 0,
            "ts": ts, "instruments": [self._instrument_row(s, ts) for s in sorted(k.instruments)],
            "working_orders": self.working_orders(), "summary": k.summary(), "risk": k.guard.status(),
            "alerts": alerts[::-1], "fill_seq": c.fill_seq, "denials": k.risk.denials,
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
                "scale": inst.scale, "tick": inst.tick, "bids": bids, "asks": asks,
                "bars": c.recent_bars(symbol, 2 * 3600 // BASE_S + 2),
                "tape": c.tape_since(symbol, seq),
                "fills": c.fills_for(symbol, 20),
            }
        return out

    def _instrument_row(self, symbol: str, ts: int) -> dict[str, Any]:
        """Last price, position with average price and P&L (points and BRL), fees, session phase."""
        k = self.kernel
        inst = k.instruments[symbol]
        tick = k.cache.last_trade.get(symbol)
        pos = k.portfolio.positions.get(symbol)
        last_raw = tick.price if tick else None
        phase = k.risk.phase(symbol, ts)
        book = k.cache.books.get(symbol)
        crossed = False
        if book is not None and book.bids and book.asks:
            crossed = max(book.bids) >= min(book.asks)
        qty = pos.quantity if pos else 0
        avg = pts = ""
        pnl = Decimal(0)
        fees = self.collector.fees_today(symbol, ts)  # the day's fees; the P&L keeps the position's
        if pos is not None:
            pnl = pos.realized_brl() + pos.unrealized_brl(last_raw) - pos.fees
            if qty:
                avg_raw = pos.avg_price
                avg = _fmt_fraction(avg_raw, inst.scale)
                if last_raw is not None:
                    pts = _fmt_fraction((last_raw - avg_raw) * (1 if qty > 0 else -1), inst.scale)
        return {"symbol": symbol, "last": fmt_price(inst, last_raw) if last_raw is not None else "",
                "position": qty, "avg": avg, "pnl_pts": pts, "pnl_brl": str(cents(pnl)), "fees_brl": str(cents(fees)),
                "phase": phase_label(phase, _after_noon(ts)), "note": session_note(phase, crossed),
                "crossed": crossed, "tick": fmt_price(inst, inst.tick), "scale": inst.scale, "lot": inst.lot}

    def working_orders(self, limit: int = 60) -> list[dict[str, Any]]:
        """Open orders (exact prices) and the emulated OCO/bracket groups, newest last."""
        k = self.kernel
        rows: list[dict[str, Any]] = []
        for o in list(k.cache.open_orders.values())[-limit:]:
            inst = k.instruments[o.symbol]
            rows.append({"order_id": o.order_id, "symbol": o.symbol, "side": o.side.name, "qty": o.quantity,
                         "filled": o.filled_qty, "type": _TYPE_NAMES[o.order_type],
                         "price": fmt_price(inst, o.price) if o.price else "",
                         "trigger": fmt_price(inst, o.trigger_price) if o.trigger_price else "",
                         "tif": o.tif.name, "status": o.status.name, "strategy": o.strategy_id})
        for g in list(k.emulator.groups.values())[-limit:]:
            inst = k.instruments[g.symbol]
            rows.append({"order_id": g.group_id, "symbol": g.symbol, "side": g.side.name, "qty": g.remaining,
                         "filled": g.filled, "type": "BRACKET" if g.parent_id else "OCO",
                         "price": fmt_price(inst, g.take_profit) if g.take_profit else "",
                         "trigger": fmt_price(inst, g.stop) if g.stop else "", "tif": "DAY",
                         "status": "WAITING ENTRY" if g.parent_id else "ARMED", "strategy": g.strategy_id})
        return rows

    def candles_source(self, symbol: str) -> dict[str, Any]:
        inst = self.kernel.instruments.get(symbol)
        if inst is None:
            raise KeyError(f"unknown instrument {symbol!r}")
        return {"scale": inst.scale, "tick": inst.tick, "bars": self.collector.recent_bars(symbol, 0),
                "fills": self.collector.fills_for(symbol)}

    def all_bars(self, n: int) -> dict[str, list[tuple[int, ...]]]:
        return {s: self.collector.recent_bars(s, n) for s in self.kernel.instruments}

    def performance_source(self) -> dict[str, Any]:
        return {"curve": list(self.kernel.equity_curve),
                "results": {k: list(v) for k, v in self.collector.results.items()},
                "summary": self.kernel.summary()}

    def trades_source(self) -> dict[str, Any]:
        """Fills (exact prices) with their fees, and the total equity curve for daily and monthly P&L."""
        k = self.kernel
        fills = []
        for f in self.collector.fills_for(None, 1000):
            inst = k.instruments[f["symbol"]]
            fills.append({**f, "price": fmt_price(inst, f["price"])})
        return {"fills": fills, "curve": [c for c in k.equity_curve if c[1] == "total"],
                "fees_brl": str(k.portfolio.fees_brl()), "summary": k.summary()}

    def log_source(self) -> list[dict[str, Any]]:
        """The event log: order events, risk denials (with the rule) and alerts, as rows of one shape."""
        k = self.kernel
        rows: list[dict[str, Any]] = []
        for _seq, ts, symbol, oid, kind, reason in list(self.collector.events):
            level = "WARNING" if reason else "INFO"
            rows.append({"ts": ts, "source": "order", "level": level, "symbol": symbol,
                         "text": f"{oid} {kind}" + (f": {reason}" if reason else "")})
        for d in list(k.risk.audit)[-2000:]:
            if not d.passed:
                rows.append({"ts": d.ts, "source": "risk", "level": "WARNING", "symbol": "",
                             "text": f"{d.order_id} denied by {d.rule} (value {d.value}, limit {d.limit}): {d.detail}"})
        for a in list(k.alerts):
            rows.append({"ts": a.ts_event, "source": "alert", "level": Severity(a.severity).name,
                         "symbol": a.data.get("symbol", ""), "text": f"{a.kind}: {a.message}"})
        return rows

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
        guard = self.kernel.guard
        return self._act("kill", who, lambda: {**guard.kill(reason or "dashboard kill switch", flatten),
                                               "status": guard.status()}, reason=reason, flatten=flatten)

    def reset(self, who: str) -> dict[str, Any]:
        guard = self.kernel.guard

        def reset() -> dict[str, Any]:
            guard.reset(f"{who} (dashboard)")
            return {"trading_state": guard.status()["trading_state"], "status": guard.status()}

        return self._act("reset", who, reset)

    def flatten(self, who: str, symbol: str | None) -> dict[str, Any]:
        return self._act("flatten", who, lambda: self.kernel.manual_flatten(f"dashboard:{who}", symbol),
                         symbol=symbol or "all")  # pauses the strategies there

    def resume_symbol(self, who: str, symbol: str | None) -> dict[str, Any]:
        """Hand an instrument (every paused one when None) a manual trade took back to the strategies."""
        return self._act("resume", who, lambda: self.kernel.resume_strategies(symbol, f"dashboard:{who}"),
                         symbol=symbol or "all")

    def cancel_all(self, who: str) -> dict[str, Any]:
        return self._act("cancel_all", who, lambda: {"cancelled": self.kernel.cancel_all()})

    def set_paused(self, who: str, strategy_id: str, paused: bool) -> dict[str, Any]:
        """Pause: the strategy stops receiving market data (it still gets its order events). Resume: again."""
        return self._act("pause" if paused else "resume", who, lambda: self._set_paused(strategy_id, paused),
                         strategy=strategy_id)

    def _set_paused(self, strategy_id: str, paused: bool) -> dict[str, Any]:
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
        return {"strategy": strategy_id, "paused": strategy_id in self.paused}

    def cancel(self, who: str, order_id: str) -> dict[str, Any]:
        """Cancel one working order or one OCO/bracket group (``G-...``)."""
        k = self.kernel

        def cancel() -> dict[str, Any]:
            if order_id in k.emulator.groups:
                done = k.emulator.cancel(order_id)
            elif order_id in k.cache.open_orders:
                done = k.orders.cancel(order_id)
            else:
                raise TicketError(f"order {order_id} is not working (filled, cancelled or unknown)")
            return {"order_id": order_id, "ok": done, "message": f"{order_id}: cancel sent" if done
                    else f"{order_id}: already being cancelled or updated"}

        return self._act("cancel", who, cancel, order_id=order_id)

    def modify(self, who: str, order_id: str, price: object) -> dict[str, Any]:
        """Move a working order to ``price``: the limit of a limit order, the trigger of a stop (a stop-limit
        keeps its limit-trigger distance). The moved order passes the risk checks again."""
        return self._act("modify", who, lambda: self._modify(order_id, price), order_id=order_id,
                         price=str(price)[:40])

    def _modify(self, order_id: str, price: object) -> dict[str, Any]:
        k = self.kernel
        order = k.cache.open_orders.get(order_id)
        if order is None:
            raise TicketError(f"order {order_id} is not working (filled, cancelled or unknown)")
        inst = k.instruments[order.symbol]
        raw = parse_price(inst, price, "new price")
        otype = order.order_type
        new_price, new_trigger = order.price, order.trigger_price
        if otype is OrderType.LIMIT:
            new_price = raw
        elif otype is OrderType.STOP_MARKET:
            new_trigger = raw
        elif otype is OrderType.STOP_LIMIT:
            new_price, new_trigger = order.price + raw - order.trigger_price, raw
        else:
            raise TicketError(f"{order_id} is a market order; it has no price to move")
        probe = Order(order.order_id, order.symbol, order.side, otype, order.leaves_qty, new_price, new_trigger,
                      order.tif, order.strategy_id, k.now())
        denied = self._risk_answer(probe, k.risk.check(probe, k.now()))
        if denied is not None:
            return {**denied, "order_id": order_id}
        ok = k.orders.modify(order_id, order.quantity, new_price if otype is not OrderType.STOP_MARKET else 0,
                             new_trigger)
        return {"order_id": order_id, "ok": ok, "status": "PENDING_UPDATE" if ok else order.status.name,
                "price": fmt_price(inst, raw),
                "message": f"{order_id} moved to {fmt_price(inst, raw)}" if ok
                else f"{order_id}: not movable now ({order.status.name.lower()})"}

    def reverse(self, who: str, symbol: str) -> dict[str, Any]:
        """Turn the position around with one market order of twice its size (risk checks it like any order)."""
        k = self.kernel

        def reverse() -> dict[str, Any]:
            if symbol not in k.instruments:
                raise TicketError(f"unknown instrument {symbol!r}")
            pos = k.portfolio.positions.get(symbol)
            qty = pos.quantity if pos else 0
            if not qty:
                raise TicketError(f"{symbol}: no position to reverse")
            order = k.orders.new_order(symbol, Side.SELL if qty > 0 else Side.BUY, 2 * abs(qty), OrderType.MARKET,
                                       strategy_id="manual", tags=("dashboard", "reverse"))
            return {**self._submit(order), "position": qty}

        return self._act("reverse", who, reverse, symbol=symbol)

    def order(self, who: str, data: dict[str, Any]) -> dict[str, Any]:
        """A manual order from the ticket, the book or the chart: the same risk checks as any strategy's
        order; a denial comes back with the rule that denied it."""
        fields = {key: str(data[key])[:40] for key in ("symbol", "side", "quantity", "type", "price", "trigger",
                                                       "take_profit", "stop_loss", "tif")
                  if data.get(key) not in (None, "")}  # as typed: a ticket refused as malformed is audited too
        return self._act("order", who, lambda: self._order(data), **fields)

    def _order(self, data: dict[str, Any]) -> dict[str, Any]:
        k = self.kernel
        t = parse_ticket(k.instruments, data)
        if t.kind is None:
            group = k.emulator.oco(t.symbol, t.side, t.quantity, t.take_profit, t.stop_loss, strategy_id="manual")
            return {"ok": True, "order_id": group.group_id, "status": "ARMED",
                    "message": f"{group.group_id}: OCO armed for {t.quantity} {t.symbol}"}
        order = k.orders.new_order(t.symbol, t.side, t.quantity, t.kind, t.price, t.trigger, t.tif, "manual",
                                   ("dashboard",))
        if t.take_profit or t.stop_loss:
            group = k.emulator.bracket(order, t.take_profit, t.stop_loss)
            out = self._answer(order)
            if out["ok"]:
                out["message"] += f"; exits {group.group_id} protect what it fills"
            return out
        return self._submit(order)

    def _submit(self, order: Order) -> dict[str, Any]:
        self.kernel.orders.submit(order)
        return self._answer(order)

    def _answer(self, order: Order) -> dict[str, Any]:
        if order.status is OrderStatus.REJECTED:
            denied = self._risk_answer(order, order.reason)
            if denied is not None:
                return {**denied, "order_id": order.order_id}
        return {"ok": True, "order_id": order.order_id, "status": order.status.name, "rule": "", "reason": "",
                "message": f"{order.order_id}: {order.side.name} {order.quantity} {order.symbol} accepted by risk"}

    def _risk_answer(self, order: Order, reason: str | None) -> dict[str, Any] | None:
        """``None`` when risk let the order through, else the denial with its rule."""
        if reason is None:
            return None
        rule = ""
        for d in reversed(self.kernel.risk.audit):
            if d.order_id == order.order_id and not d.passed:
                rule = d.rule
                break
        return {"ok": False, "status": "DENIED", "rule": rule, "reason": reason,
                "message": f"denied by risk rule {rule or '?'}: {reason}"}


def outcome(result: dict[str, Any]) -> str:
    """A dashboard action's result in one line, for the audit: ``denied by RULE: reason``, ``refused: why``
    (an order not movable now...), else ``accepted`` with the result's scalar fields."""
    if result.get("ok") is False:
        if result.get("status") == "DENIED":
            return f"denied by {result.get('rule') or '?'}: {result.get('reason')}"
        return f"refused: {result.get('message')}"
    fields = " ".join(f"{k}={v}" for k, v in result.items()
                      if k not in ("ok", "message", "rule", "reason") and isinstance(v, (str, int, float, bool)))
    return "accepted" + (f" {fields}" if fields else "")


def _after_noon(ts: int) -> bool:
    return (ts // 1_000_000_000 - 3 * 3600) % 86_400 >= 12 * 3600


def _fmt_fraction(value: Fraction | int, scale: int) -> str:
    """An exact raw amount (maybe a fraction of a raw unit) as a quote, rounded half-even to the grid's decimals."""
    q = Fraction(value)
    raw = round(q)  # Fraction rounding is half-even
    return fmt_raw(int(raw), scale)


_TYPE_NAMES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP_MARKET: "STOP",
               OrderType.STOP_LIMIT: "STOP_LIMIT"}
