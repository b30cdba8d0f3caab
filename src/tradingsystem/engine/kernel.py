"""The kernel: wires data engine, strategies, order manager, risk and portfolio, and runs the loop.

The same kernel runs a backtest as fast as the CPU allows (simulated clock driven by event time)
and a live session paced to the wall clock (``speed`` = market seconds per wall second).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus
from tradingsystem.domain.records import ManualActionRecord, RiskStateRecord
from tradingsystem.engine.bus import MessageBus
from tradingsystem.engine.cache import Cache
from tradingsystem.engine.clock import SimulatedClock
from tradingsystem.engine.data import DataEngine, Sink
from tradingsystem.engine.emulator import OrderEmulator
from tradingsystem.engine.flatten import Flattener
from tradingsystem.engine.guard import BreakerConfig, Guard
from tradingsystem.engine.orders import OrderManager
from tradingsystem.engine.portfolio import Portfolio
from tradingsystem.engine.risk import RiskConfig, RiskEngine
from tradingsystem.engine.session_gate import DAY_NS, OFFSET_NS, day_of
from tradingsystem.engine.strategy import Strategy
from tradingsystem.ports.protocols import ExecutionClient, MarketDataFeed

IdleHook = Callable[["Kernel"], None]
SETTLEMENT_NS = (18 * 3600 + 30 * 60) * 1_000_000_000

_T = TypeVar("_T")


def _outcome(result: object) -> str:
    """A manual action's result in one line: the scalar fields of a dict result, else its text."""
    if isinstance(result, dict):
        return " ".join(f"{k}={v}" for k, v in result.items() if isinstance(v, (str, int, float, bool)))
    return "ok" if result is None else str(result)


class Kernel:
    """One trading node's engine. Build it, add strategies, ``connect`` a feed and venue, ``run``."""

    def __init__(
        self,
        instruments: dict[str, Instrument],
        clock: SimulatedClock | None = None,
        risk: RiskConfig | None = None,
        fees: FeeSchedule | None = None,
        is_session: Callable[[date], bool] | None = None,
        breakers: BreakerConfig | None = None,
        equity_interval_s: float = 0,
    ) -> None:
        self.instruments = instruments
        self.clock = clock or SimulatedClock()
        self.bus = MessageBus()
        self.cache = Cache(instruments)
        self.data = DataEngine(self.cache)
        self.portfolio = Portfolio(self.cache, fees or FeeSchedule())
        self.risk = RiskEngine(risk or RiskConfig(), instruments, self, is_session)
        self.orders = OrderManager(self.cache, self.portfolio, self.risk, self.clock)
        self.guard = Guard(self.risk, self, breakers, sorted(instruments))
        self.orders.add_listener(self.guard.on_order_event)
        self.orders.paused = self.guard.paused  # one dict: the guard persists it, the order manager enforces it
        self.orders.on_manual = self._manual_order
        self.orders.add_listener(self._cancel_paused)
        self._pause_cancels: dict[str, int] = {}  # order id -> cancels asked since its instrument was paused
        self.emulator = OrderEmulator(self.orders, self.data)
        self.flattener = Flattener(self.orders, self.cache, self.portfolio.quantity, self._flatten_limits,
                                   lambda: self.guard.kill_switch, self._flatten_alert)
        self.alerts: deque[Alert] = deque(maxlen=1000)
        self.alert_counts: dict[str, int] = {}  # kind -> alerts raised this run (the summary shows them)
        self.last_critical = ""
        self.equity_curve: deque[tuple[int, str, Decimal]] = deque(maxlen=200_000)
        self._equity_interval_ns = int(equity_interval_s * 1e9)
        self._inbox: deque[Callable[[], None]] = deque()
        self.strategies: list[Strategy] = []
        self.feed: MarketDataFeed | None = None
        self.execution: ExecutionClient | None = None
        self.events_processed = 0
        self.wall_seconds = 0.0
        self._running = False
        self._stop_requested = False
        self._started = False

    # --- RiskContext and GuardContext ----------------------------------------------------------
    def position(self, symbol: str) -> int:
        return self.portfolio.quantity(symbol)

    def pending(self, symbol: str, sign: int) -> int:
        return self.orders.pending(symbol, sign)

    def working_orders(self) -> int:
        return len(self.cache.open_orders)

    def last_price(self, symbol: str) -> int | None:
        return self.data.last_price(symbol)

    def gross_exposure_brl(self) -> Decimal:
        total = Decimal(0)
        for symbol, pos in self.portfolio.positions.items():
            if pos.quantity:
                px = self.data.last_price(symbol) or pos.last_price
                total += abs(pos.instrument.brl(px * pos.quantity))
        return total

    def worst_positions(self, symbol: str = "", signed_qty: int = 0) -> dict[str, tuple[int, int]]:
        """Per symbol, the (lowest, highest) position working orders can reach, with ``signed_qty`` more of
        ``symbol`` (an order being checked)."""
        out: dict[str, tuple[int, int]] = {}
        for sym in self.instruments:
            pos = self.portfolio.quantity(sym)
            lo, hi = pos + self.orders.pending(sym, -1), pos + self.orders.pending(sym, 1)
            if sym == symbol:
                lo, hi = (lo, hi + signed_qty) if signed_qty > 0 else (lo + signed_qty, hi)
            if lo or hi:
                out[sym] = (lo, hi)
        return out

    def worst_gross_brl(self, symbol: str, signed_qty: int, price: int) -> Decimal:
        total = Decimal(0)
        for sym, (lo, hi) in self.worst_positions(symbol, signed_qty).items():
            pos = self.portfolio.positions.get(sym)
            px = self.data.last_price(sym) or (pos.last_price if pos else 0) or (price if sym == symbol else 0)
            total += abs(self.instruments[sym].brl(px * max(-lo, hi, 0)))
        return total

    def now(self) -> int:
        return self.clock.now()

    def horizon(self) -> int:
        return self.clock.horizon()

    def schedule(self, ts: int, callback: Callable[[int], None]) -> None:
        self.clock.schedule(ts, callback)

    def every(self, interval_ns: int, callback: Callable[[int], None], catch_up: int = 0) -> None:
        self.clock.every(interval_ns, callback, catch_up)

    def cancel_all(self) -> int:
        return self.emulator.cancel_all() + self.orders.cancel_all()

    def pending_live(self, symbol: str, sign: int) -> int:
        return self.orders.pending_live(symbol, sign)

    def flatten(self, reason: str = "flatten", symbol: str | None = None) -> int:
        """Bring positions (all, or one symbol) to zero with reduce-only market orders, and keep at it until
        flat: fills or refused cancels that land later are closed too (:mod:`tradingsystem.engine.flatten`).
        While the kill switch is engaged the symbol's other orders are cancelled as well."""
        symbols = sorted(self.instruments) if symbol is None else [symbol]
        return self.flattener.request(symbols, reason)

    def stop_flatten(self) -> None:
        self.flattener.clear()

    def _flatten_limits(self, symbol: str) -> tuple[int, int]:
        """(largest flatten order on the lot grid, max position) for ``symbol``."""
        lot = self.instruments[symbol].lot
        top = self.risk.max_order_qty(symbol) // lot * lot
        return max(top, lot), self.risk.max_position(symbol)

    def _flatten_alert(self, symbol: str, message: str) -> None:
        self.publish_alert(Alert("flatten", Severity.CRITICAL, message, self.clock.now(), {"symbol": symbol}))

    # --- manual trades and strategy pauses (docs/risk.md "Manual trades pause the strategies") -----------
    def strategy_symbols(self) -> list[str]:
        return sorted({sym for s in self.strategies for sym in s.symbols})

    def pause_strategies(self, symbol: str | None, who: str, why: str) -> list[str]:
        """Take ``symbol`` (every instrument a strategy trades when None) from the strategies until
        :meth:`resume_strategies`: their new orders there are refused, their working orders and exit groups
        there cancelled. Returns the symbols newly paused."""
        traded = self.strategy_symbols()
        symbols = traded if symbol is None else [symbol] if symbol in traded else []
        new = self.guard.pause(symbols, who, why)
        for sym in new:
            for group in [g for g in self.emulator.groups.values()
                          if g.symbol == sym and self.orders.is_strategy(g.strategy_id)]:
                self.emulator.cancel(group.group_id)
            for order in [o for o in self.cache.open_orders.values()
                          if o.symbol == sym and self.orders.is_strategy(o.strategy_id)]:
                self.orders.cancel(order.order_id)
        return new

    def resume_strategies(self, symbol: str | None = None, who: str = "operator") -> dict[str, Any]:
        """A person hands ``symbol`` (every paused one when None) back to the strategies, with its position as
        it stands."""
        if symbol is not None and symbol not in self.instruments:
            raise KeyError(f"unknown instrument {symbol!r}")
        resumed = self.guard.resume(symbol, who)
        return {"resumed": ",".join(resumed) or "none", "paused": dict(sorted(self.guard.paused.items()))}

    def manual_flatten(self, who: str, symbol: str | None = None) -> dict[str, Any]:
        """A person's flatten: pause the strategies on the instrument(s), cancel theirs, then flatten."""
        if symbol is not None and symbol not in self.instruments:
            raise KeyError(f"unknown instrument {symbol!r}")
        paused = self.pause_strategies(symbol, who, "manual flatten")
        return {"orders": self.flatten(f"manual flatten by {who}", symbol), "paused": ",".join(paused) or "none"}

    def _cancel_paused(self, order: Order, event: OrderEvent) -> None:
        """A strategy order on a paused instrument that is working again (its ack overtook the cancel, or the
        venue refused the cancel) is cancelled again, up to 3 times."""
        asked, paused = self._pause_cancels, self.guard.paused
        if not paused and not asked:
            return
        if order.is_closed:
            asked.pop(order.order_id, None)
            return
        if order.symbol not in paused:
            return
        if (self.orders.is_strategy(order.strategy_id) and asked.get(order.order_id, 0) < 3
                and order.status is not OrderStatus.PENDING_CANCEL
                and order.can_apply(OrderEventKind.PENDING_CANCEL)):
            asked[order.order_id] = asked.get(order.order_id, 0) + 1
            self.orders.cancel(order.order_id)

    def _manual_order(self, order: Order) -> None:
        """A person's order is going out: the strategies leave its instrument."""
        who = order.strategy_id.partition(":")[2] or (order.tags[0] if order.tags else "manual")
        self.pause_strategies(order.symbol, who, "manual order")

    def equity_brl(self) -> Decimal:
        return self.portfolio.net_brl()

    def data_count(self) -> int:
        return self.data.trades_seen + self.data.book_events

    def publish_alert(self, alert: Alert) -> None:
        self.alert_counts[alert.kind] = self.alert_counts.get(alert.kind, 0) + 1
        if alert.severity >= Severity.CRITICAL:
            self.last_critical = alert.message
        self.alerts.append(alert)
        self.bus.publish("alerts", alert)

    def publish_state(self, record: RiskStateRecord) -> None:
        self.bus.publish("risk.state", record)

    def manual_action(self, channel: str, action: str, detail: str, fn: Callable[[], _T]) -> _T:
        """Run a person's action (engine thread) and publish its audit record on ``manual.action`` (the state
        keeper stores it): ``channel`` is who (control-api, cli, dashboard:web:HOST, telegram)."""
        try:
            result = fn()
        except Exception as exc:
            self.bus.publish("manual.action", ManualActionRecord(self.now(), channel, action, detail, f"error: {exc}"))
            raise
        self.bus.publish("manual.action", ManualActionRecord(self.now(), channel, action, detail, _outcome(result)))
        return result

    # --- calls from other threads ---------------------------------------------------------------
    def call_soon_threadsafe(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the engine thread between two events (control API, adapters)."""
        self._inbox.append(fn)

    def _drain_inbox(self) -> None:
        inbox = self._inbox
        while inbox:
            inbox.popleft()()

    @staticmethod
    def _next_settlement(ts: int) -> int:
        """The next 18:30 B3 time after ``ts`` (futures close; settlement prices are taken then)."""
        day_start = (ts - OFFSET_NS) // DAY_NS * DAY_NS + OFFSET_NS
        at = day_start + SETTLEMENT_NS
        return at if at > ts else at + DAY_NS

    def _settle(self, ts: int) -> None:
        """Daily settlement at the last trade price (a replay or live feed can publish real settlement prices
        by calling ``portfolio.settle`` itself and leaving this timer unused)."""
        prices = {s: t.price for s, t in self.cache.last_trade.items() if self.instruments[s].is_future}
        for ajuste in self.portfolio.settle(day_of(ts).isoformat(), prices):
            self.bus.publish("portfolio.ajuste", ajuste)
        self.clock.schedule(self._next_settlement(max(ts, self.clock.horizon())), self._settle)

    def _sample_equity(self, ts: int) -> None:
        self.equity_curve.append((ts, "total", self.portfolio.net_brl()))
        for strategy in self.strategies:
            self.equity_curve.append((ts, strategy.strategy_id, self.portfolio.strategy_net_brl(strategy.strategy_id)))

    # --- wiring --------------------------------------------------------------------------------
    def connect(self, feed: MarketDataFeed, execution: ExecutionClient) -> None:
        self.feed = feed
        self.execution = execution
        feed.connect(self.data)
        execution.connect(self.orders)
        self.orders.attach(execution)
        feed.subscribe(list(self.instruments))

    def add_strategy(self, strategy: Strategy) -> None:
        strategy.bind(self)
        self.strategies.append(strategy)
        for symbol in strategy.symbols:
            self.data.subscribe_trades(symbol, strategy.on_trade)
            if strategy.wants_book:
                self.data.subscribe_book(symbol, strategy.on_book)
            self.data.subscribe_bars(symbol, strategy.on_bar)
        self.orders.register(strategy.strategy_id, strategy.on_order_event)

    def add_sink(self, sink: Sink) -> None:
        self.data.add_sink(sink)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.guard.start()
        if any(i.is_future for i in self.instruments.values()):
            self.clock.schedule(self._next_settlement(self.clock.now()), self._settle)
        if self._equity_interval_ns:
            self.clock.every(self._equity_interval_ns, self._sample_equity)
        for strategy in self.strategies:
            strategy.on_start()

    def stop(self) -> None:
        """Ask a running loop to return after the current event."""
        self._stop_requested = True

    def finish(self) -> None:
        """Stop strategies (once)."""
        if self._started:
            for strategy in self.strategies:
                strategy.on_stop()
            self._started = False

    def run(self, until_ts: int | None = None, speed: float | None = None, on_idle: IdleHook | None = None,
            idle_every_s: float = 0.25, max_events: int | None = None, live: bool = False) -> int:
        """Process events until the feed ends, ``until_ts`` passes, ``stop()`` or ``max_events``.

        ``speed`` None runs as fast as possible; otherwise event time is paced to the wall clock.
        ``live`` feeds may have nothing waiting (``next_ts`` None) without being finished.
        Returns the number of events processed.
        """
        if self.feed is None:
            raise RuntimeError("connect a feed and an execution client before run()")
        feed, clock = self.feed, self.clock
        first = feed.next_ts()
        if not self._started and first is not None and clock.now() < first:
            clock.advance_to(first)  # the engine's time starts at the first event
        self.start()
        next_ts, step, advance = feed.next_ts, feed.step, clock.advance_to
        limit = until_ts if until_ts is not None else 1 << 62
        budget = max_events if max_events is not None else 1 << 62
        wall0 = time.perf_counter()
        next_idle = wall0 + idle_every_s
        ts0: int | None = None
        n = 0
        self._stop_requested = False
        self._running = True
        drain = getattr(feed, "drain", None)
        wait = getattr(feed, "wait", None) if live else None  # a live feed that can wake us on new data
        try:
            if drain is not None and speed is None and on_idle is None and not live:
                n = drain(limit, clock, budget)
            inbox = self._inbox
            while n < budget and not self._stop_requested:
                if inbox:
                    self._drain_inbox()
                ts = next_ts()
                if ts is None:
                    if not live or clock.now() > limit:
                        break
                    if wait is not None:
                        wait(0.001)  # returns as soon as the feed has data (GIL released meanwhile)
                    else:
                        time.sleep(0.001)
                    advance(clock.now())  # a wall clock fires its timers while the feed is quiet
                    if inbox:
                        self._drain_inbox()
                    if on_idle is not None and time.perf_counter() >= next_idle:
                        on_idle(self)
                        next_idle = time.perf_counter() + idle_every_s
                    continue
                if ts > limit:
                    break
                if speed is not None:
                    if ts0 is None:
                        ts0 = ts
                    due = wall0 + (ts - ts0) / 1e9 / speed
                    while True:
                        if inbox:
                            self._drain_inbox()
                        now = time.perf_counter()
                        if now >= due or self._stop_requested:
                            break
                        advance(min(ts, ts0 + int((now - wall0) * speed * 1e9)))  # timers fire in quiet spells
                        if on_idle is not None and now >= next_idle:
                            on_idle(self)
                            next_idle = now + idle_every_s
                        time.sleep(min(due - now, 0.05))
                    if self._stop_requested:
                        break
                advance(ts)
                step()
                n += 1
                if on_idle is not None and not n & 1023:
                    now = time.perf_counter()
                    if now >= next_idle:
                        on_idle(self)
                        next_idle = now + idle_every_s
            if until_ts is not None and not self._stop_requested and n < budget:
                advance(until_ts)
        finally:
            self._running = False
            self.events_processed += n
            self.wall_seconds += time.perf_counter() - wall0
        return n

    # --- reporting -----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The run's numbers, JSON-ready (money as strings of exact BRL)."""
        pf = self.portfolio
        positions = {s: p.quantity for s, p in sorted(pf.positions.items())}
        return {
            "instruments": sorted(self.instruments),
            "trades_seen": self.data.trades_seen,
            "book_events": self.data.book_events,
            "orders_submitted": self.orders.submitted,
            "fills": self.orders.fills,
            "positions": positions,
            "realized_pnl_brl": str(pf.realized_brl()),
            "unrealized_pnl_brl": str(pf.unrealized_brl()),
            "fees_brl": str(pf.fees_brl()),
            "net_pnl_brl": str(pf.realized_brl() + pf.unrealized_brl() - pf.fees_brl()),
            "risk_denials": self.risk.denials,
            "trading_state": self.risk.state.value,
            "trading_reason": self.risk.state_reason,
            "paused": dict(sorted(self.guard.paused.items())),
            "paused_refused": self.orders.paused_refused,
            "alerts": dict(sorted(self.alert_counts.items())),
            "last_critical_alert": self.last_critical,
            "events_processed": self.events_processed,
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def snapshot(self) -> dict[str, Any]:
        """What a status view shows: per-instrument last price, position, P&L; working orders."""
        rows = []
        for symbol, inst in sorted(self.instruments.items()):
            tick = self.cache.last_trade.get(symbol)
            pos = self.portfolio.positions.get(symbol)
            rows.append({
                "symbol": symbol,
                "last": str(inst.to_price(tick.price)) if tick else "",
                "position": pos.quantity if pos else 0,
                "pnl_brl": str((pos.realized_brl() + pos.unrealized_brl(tick.price if tick else None)
                                - pos.fees) if pos else Decimal(0)),
                "paused": self.guard.paused.get(symbol, ""),
            })
        working = [
            {"order_id": o.order_id, "symbol": o.symbol, "side": o.side.name, "qty": o.quantity,
             "filled": o.filled_qty, "type": o.order_type.name, "status": o.status.name}
            for o in list(self.cache.open_orders.values())[:20]
        ]
        return {"ts": self.clock.now(), "instruments": rows, "working_orders": working,
                "summary": self.summary()}
