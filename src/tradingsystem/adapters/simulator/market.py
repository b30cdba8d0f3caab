"""The simulated B3 market: a venue plus a market-data feed over one set of matching engines.

``SimulatedMarket.feed`` is a ``ports.MarketDataFeed`` and ``SimulatedMarket.execution`` a
``ports.ExecutionClient``; both share the market's own notion of now (the time of the last stepped
event), so the market never reads the engine's clock. Our commands reach the matching engine
``latency_in_ns`` after they were sent; order events come back ``latency_out_ns`` after they happened.
Market data (trades, book deltas) reaches the data sink when it happens (``ts_init == ts_event``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from tradingsystem.backtest.matching import MatchingEngine, RestingOrder
from tradingsystem.domain import b3
from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import BookSnapshot, TradeTick
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderEventKind
from tradingsystem.domain.sessions import B3_TZ, Phase, hours_for, local_ns
from tradingsystem.engine.session_gate import day_of
from tradingsystem.ports.protocols import DataSink, ExecutionSink

from .config import SimMarketConfig
from .generator import MarketGenerator

_K_DAY, _K_PHASE, _K_SUBMIT, _K_MODIFY, _K_CANCEL, _K_REPORT = range(6)
_REJECTED = int(OrderEventKind.REJECTED)
_FILLED = int(OrderEventKind.FILLED)
_CLOSING = frozenset({int(OrderEventKind.CANCELLED), int(OrderEventKind.EXPIRED), _REJECTED})
_UPDATED = int(OrderEventKind.UPDATED)
_MODIFY_REJECTED = int(OrderEventKind.MODIFY_REJECTED)
_CANCEL_REJECTED = int(OrderEventKind.CANCEL_REJECTED)
_DAY_START = time(8, 0)


class _Calendar(Protocol):
    def is_session(self, day: date) -> bool: ...


def default_instruments(config: SimMarketConfig, is_session: Callable[[date], bool]) -> dict[str, Instrument]:
    """Resolve the configured symbols (``WINFUT`` -> the current contract on the first session day)."""
    day = b3.next_session(config.session_date, is_session)
    out: dict[str, Instrument] = {}
    for sym in config.symbols:
        code = b3.resolve_generic(sym, day, is_session, config.roll_sessions)
        inst = b3.instrument(code, is_session)
        out[inst.symbol] = inst
    return out


def _local_date(ts: int) -> date:
    return datetime.fromtimestamp(ts // 1_000_000_000, tz=B3_TZ).date()


class SimulatedMarket:
    """Matching engines for every instrument, the agent flow that trades on them, and our orders."""

    def __init__(self, config: SimMarketConfig, instruments: Mapping[str, Instrument], calendar: _Calendar,
                 fees: FeeSchedule | None = None) -> None:
        if not instruments:
            raise ValueError("the simulated market needs at least one instrument")
        self.config = config
        self.fees = fees or FeeSchedule()
        self._is_session = calendar.is_session
        self.instruments: dict[str, Instrument] = {i.symbol: i for i in instruments.values()}
        self._alias: dict[str, Instrument] = dict(self.instruments)
        for key, inst in instruments.items():
            self._alias.setdefault(key, inst)
            if inst.is_future:
                self._alias.setdefault(f"{inst.root}FUT", inst)  # generic name -> the contract traded
        self.start_day = b3.next_session(config.session_date, self._is_session)
        self.start_ns = local_ns(self.start_day, config.start_time)
        self.now = self.start_ns
        self.today = self.start_day
        self.engines: dict[str, MatchingEngine] = {
            sym: MatchingEngine(inst, self._on_trade, _drop, partial(self._on_report, inst), Phase.CLOSED,
                                publish_book=False)
            for sym, inst in self.instruments.items()
        }
        self.generator = MarketGenerator(config, list(self.engines.values()), self.start_ns)
        self.trades: list[TradeTick] = []
        self.trade_count = 0
        self._record = config.record_trades
        self._heap: list[tuple[int, int, int, Any]] = []
        self._seq = 0
        self._orders: dict[str, tuple[MatchingEngine, RestingOrder]] = {}
        self._data_sink: DataSink | None = None
        self._exec_sink: ExecutionSink | None = None
        self._subscribed: set[str] | None = None
        self._deliver_trades: set[str] = set()
        self._sink_trade: Callable[[TradeTick], None] = _drop
        self._push(self.start_ns, _K_DAY, (self.start_day, True))
        self.feed = SimFeed(self)
        self.execution = SimExecution(self)

    # ----------------------------------------------------------------- wiring
    def _push(self, ts: int, kind: int, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, kind, payload))

    def _rewire(self) -> None:
        sink = self._data_sink
        subs = self._subscribed
        self._deliver_trades = set()
        for sym, eng in self.engines.items():
            on = sink is not None and (subs is None or sym in subs)
            eng.publish_book = on
            eng.on_delta = sink.on_book_delta if (on and sink is not None) else _drop
            if on:
                self._deliver_trades.add(sym)
        self._sink_trade = sink.on_trade if sink is not None else _drop

    def connect_data(self, sink: DataSink) -> None:
        self._data_sink = sink
        self._rewire()

    def connect_execution(self, sink: ExecutionSink) -> None:
        self._exec_sink = sink

    def subscribe(self, symbols: Iterable[str]) -> None:
        """Deliver data for these symbols (generic names accepted); until called, everything is delivered."""
        before = set(self.engines) if self._subscribed is None else set(self._subscribed)  # delivered so far
        subs = set() if self._subscribed is None else set(self._subscribed)
        for s in symbols:
            inst = self._alias.get(s)
            if inst is None:
                raise ValueError(f"unknown instrument {s!r}; the market trades {sorted(self.instruments)}")
            subs.add(inst.symbol)
        self._subscribed = subs
        self._rewire()
        sink = self._data_sink
        if sink is not None:  # a late subscriber gets the current book once
            for sym in sorted(subs - before):
                if self.engines[sym].bid_prices or self.engines[sym].ask_prices:
                    sink.on_book_snapshot(self.book(sym, 1_000))

    def book(self, symbol: str, levels: int = 10) -> BookSnapshot:
        """The current top ``levels`` of an instrument's book."""
        eng = self.engines[self._alias[symbol].symbol]
        bids, asks = eng.depth(levels)
        return BookSnapshot(eng.symbol, tuple(bids), tuple(asks), eng.sequence, self.now, self.now)

    # ----------------------------------------------------------------- event loop
    def next_ts(self) -> int | None:
        g = self.generator.next_ts
        if self._heap:
            h = self._heap[0][0]
            return h if g is None or h <= g else g
        return g

    def step(self) -> None:
        """Perform the next thing the market does (a scheduled event, a command, a report, or agent flow)."""
        heap = self._heap
        g = self.generator.next_ts
        if heap and (g is None or heap[0][0] <= g):
            ts, _, kind, payload = heapq.heappop(heap)
            if ts > self.now:
                self.now = ts
            if kind == _K_REPORT:
                if self._exec_sink is not None:
                    self._exec_sink.on_order_event(payload)
            elif kind == _K_PHASE:
                self._set_phase(payload[0], payload[1], ts)
            elif kind == _K_SUBMIT:
                self._arrive_submit(payload, ts)
            elif kind == _K_MODIFY:
                self._arrive_modify(payload, ts)
            elif kind == _K_CANCEL:
                self._arrive_cancel(payload, ts)
            else:
                self._start_day(payload[0], payload[1], ts)
        elif g is not None:
            self.now = g
            self.generator.step(g)

    def run_until(self, ts_end: int) -> int:
        """Step until the next event is after ``ts_end``; returns the number of steps (tests, tools)."""
        n = 0
        while True:
            nxt = self.next_ts()
            if nxt is None or nxt > ts_end:
                return n
            self.step()
            n += 1

    # ----------------------------------------------------------------- sessions
    def _start_day(self, day: date, first: bool, ts: int) -> None:
        self.today = day
        self.generator.new_day(day, ts, first)
        for sym, inst in self.instruments.items():
            if not inst.is_tradable_on(day):
                continue
            h = hours_for(inst.asset_class, day)
            marks = [(h.cancel_only, Phase.CANCEL_ONLY), (h.opening_call, Phase.OPENING_CALL),
                     (h.continuous, Phase.CONTINUOUS), (h.closing_call, Phase.CLOSING_CALL),
                     (h.close, Phase.CLOSED)]
            if first:
                phase = h.phase(self.config.start_time)
                if phase is not Phase.CLOSED:
                    self.engines[sym].phase = phase
                    self.generator.set_phase(sym, phase, ts)
                    if phase in (Phase.CONTINUOUS, Phase.CLOSING_CALL):
                        self.generator.seed_book(sym, ts)
            for t, phase in marks:
                if t is None:
                    continue
                at = local_ns(day, t)
                if at > ts:
                    self._push(at, _K_PHASE, (sym, phase))
        nxt = b3.next_session(day + timedelta(days=1), self._is_session)
        self._push(local_ns(nxt, _DAY_START), _K_DAY, (nxt, False))

    def _set_phase(self, sym: str, phase: Phase, ts: int) -> None:
        self.engines[sym].set_phase(phase, ts)
        self.generator.set_phase(sym, phase, ts)

    def close(self) -> None:
        """Stop: nothing more is scheduled or delivered."""
        self._heap.clear()
        self.generator.next_ts = None
        self._data_sink = None
        self._exec_sink = None
        self._rewire()

    def phase(self, symbol: str) -> Phase:
        return self.engines[self._alias[symbol].symbol].phase

    # ----------------------------------------------------------------- engine callbacks
    def _on_trade(self, tick: TradeTick) -> None:
        self.trade_count += 1
        if self._record:
            self.trades.append(tick)
        if tick.symbol in self._deliver_trades:
            self._sink_trade(tick)

    def _on_report(self, inst: Instrument, order: RestingOrder, kind: int, ts: int, qty: int, price: int,
                   tid: int, liq: int, reason: str) -> None:
        oid = str(order.ref)
        fee = Decimal(0)
        if kind == _FILLED:
            fee = self.fees.fee(inst, qty, price, self.config.fees_day_trade, day_of(ts))
            if order.qty == 0:
                self._orders.pop(oid, None)
        elif kind in _CLOSING:
            self._orders.pop(oid, None)
        sym = inst.symbol
        if kind == _UPDATED:
            ev = OrderEvent(oid, kind, ts, sym, venue_order_id=f"{sym}-{order.oid}", quantity=order.quantity,
                            price=order.price, trigger_price=order.trigger)
        else:
            ev = OrderEvent(oid, kind, ts, sym, qty, price, tid, liq, reason, f"{sym}-{order.oid}", fee)
        self._push(ts + self.config.latency_out_ns, _K_REPORT, ev)

    def _emit(self, order_id: str, kind: int, ts: int, symbol: str, reason: str) -> None:
        ev = OrderEvent(order_id, kind, ts, symbol, reason=reason)
        self._push(ts + self.config.latency_out_ns, _K_REPORT, ev)

    # ----------------------------------------------------------------- our orders
    def send(self, kind: int, command: Any) -> None:
        self._push(self.now + self.config.latency_in_ns, kind, command)

    def _arrive_submit(self, cmd: SubmitOrder, ts: int) -> None:
        inst = self._alias.get(cmd.symbol)
        if inst is None:
            self._emit(cmd.order_id, _REJECTED, ts, cmd.symbol, f"unknown instrument {cmd.symbol!r}")
            return
        if cmd.order_id in self._orders:
            self._emit(cmd.order_id, _REJECTED, ts, inst.symbol, f"duplicate order id {cmd.order_id!r}")
            return
        if not inst.is_tradable_on(self.today):
            self._emit(cmd.order_id, _REJECTED, ts, inst.symbol,
                       f"{inst.symbol} expired: its last trading day was {inst.last_trading_day}")
            return
        eng = self.engines[inst.symbol]
        order = eng.submit(cmd.side, cmd.order_type, cmd.quantity, cmd.price, cmd.trigger_price, cmd.tif,
                           self.config.own_broker, ts, cmd.order_id, True)
        if order.live:
            self._orders[cmd.order_id] = (eng, order)

    def _arrive_modify(self, cmd: ModifyOrder, ts: int) -> None:
        found = self._orders.get(cmd.order_id)
        if found is None:
            self._emit(cmd.order_id, _MODIFY_REJECTED, ts, "", "unknown order or order no longer working")
            return
        eng, order = found
        eng.modify(order, cmd.quantity, cmd.price, cmd.trigger_price, ts)

    def _arrive_cancel(self, cmd: CancelOrder, ts: int) -> None:
        found = self._orders.get(cmd.order_id)
        if found is None:
            self._emit(cmd.order_id, _CANCEL_REJECTED, ts, "", "unknown order or order no longer working")
            return
        eng, order = found
        eng.cancel(order, ts)


class SimFeed:
    """``ports.MarketDataFeed`` side of a SimulatedMarket."""

    __slots__ = ("market",)

    def __init__(self, market: SimulatedMarket) -> None:
        self.market = market

    def connect(self, sink: DataSink) -> None:
        self.market.connect_data(sink)

    def subscribe(self, symbols: Iterable[str]) -> None:
        self.market.subscribe(symbols)

    def next_ts(self) -> int | None:
        return self.market.next_ts()

    def step(self) -> None:
        self.market.step()

    def drain(self, until_ts: int, clock: Any, budget: int) -> int:
        """Fast path for full-speed runs: the kernel's next_ts/advance_to/step loop in one call."""
        market = self.market
        next_ts, step, advance = market.next_ts, market.step, clock.advance_to
        n = 0
        while n < budget:
            ts = next_ts()
            if ts is None or ts > until_ts:
                break
            advance(ts)
            step()
            n += 1
        return n

    def close(self) -> None:
        self.market.close()


class SimExecution:
    """``ports.ExecutionClient`` side of a SimulatedMarket: commands stamped with the market's now."""

    __slots__ = ("market",)

    def __init__(self, market: SimulatedMarket) -> None:
        self.market = market

    def connect(self, sink: ExecutionSink) -> None:
        self.market.connect_execution(sink)

    def submit(self, command: SubmitOrder) -> None:
        self.market.send(_K_SUBMIT, command)

    def modify(self, command: ModifyOrder) -> None:
        self.market.send(_K_MODIFY, command)

    def cancel(self, command: CancelOrder) -> None:
        self.market.send(_K_CANCEL, command)


def generate_trades(config: SimMarketConfig, instruments: Mapping[str, Instrument], calendar: _Calendar,
                    until_ns: int, fees: FeeSchedule | None = None) -> list[TradeTick]:
    """Every trade the market prints up to ``until_ns`` with no orders of ours (deterministic per seed)."""
    market = SimulatedMarket(config.model_copy(update={"record_trades": True}), instruments, calendar, fees)
    market.run_until(until_ns)
    return market.trades


def _drop(_: object) -> None:
    return None
