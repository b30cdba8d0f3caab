"""A queue-aware simulated venue: realistic fills for replays of recorded trades and books.

Rules (see ``docs/backtesting.md``):

* A resting limit order joins the *back* of the queue at its price: the volume ahead of it is the
  recorded book's size at that level when book data exists, else ``queue_ahead_default``. Trades at
  the order's price by the opposite aggressor consume the queue first; only the excess fills the
  order. A trade *through* the price means the level was swept: the order fills. Fills are partial,
  capped by the traded volume. A shrinking book level shrinks the queue ahead (cancels assumed ahead).
* Market orders (and the marketable part of limits) walk the recorded opposite book level by level
  when it has data, else fill at the last trade plus ``slippage_ticks`` against the order.
* With an order-level stream (``L3Delta``: B3 order messages, the recorded ProfitDLL offer book) the
  queue ahead is exact: the orders at the level with an earlier priority time than the order's
  arrival; cancels behind it do not move it.
* Latency: ``latency_ns`` from send to venue, ``ack_latency_ns`` from venue back to the engine.
* Fees: B3 exchange fees and brokerage from a ``FeeSchedule``; ``fee_mode`` picks day-trade rates,
  swing rates, or ``auto`` (the part of a fill that closes a position opened the same session pays the
  day-trade rate, the rest the swing rate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, Protocol

from tradingsystem.backtest.costs import FeeMode, FeeModel
from tradingsystem.backtest.l3book import L3Book, L3Delta
from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderEventKind, OrderType, TimeInForce
from tradingsystem.domain.sessions import phase_at
from tradingsystem.ports.protocols import Clock, ExecutionSink

__all__ = ["BookSource", "QueueVenue", "QueueVenueConfig", "VenueParams"]

K = OrderEventKind
_OFFSET_NS = 3 * 3600 * 10**9  # B3 local time is UTC-3
_DAY_NS = 86_400 * 10**9
_ZERO = Decimal(0)
_K_ACCEPTED, _K_FILLED, _T_MARKET = K.ACCEPTED, K.FILLED, OrderType.MARKET


class BookSource(Protocol):
    """Recorded books as the venue reads them (the engine cache): ``book(symbol).bids/.asks``."""

    def book(self, symbol: str) -> _BookLike: ...


class _BookLike(Protocol):
    bids: dict[int, int]
    asks: dict[int, int]


class Tape(Protocol):
    def last_price(self, symbol: str) -> int | None: ...

    def watch(self, symbol: str, handler: Callable[[TradeTick], None]) -> None: ...

    def unwatch(self, symbol: str, handler: Callable[[TradeTick], None]) -> None: ...


@dataclass(frozen=True)
class QueueVenueConfig:
    latency_ns: int = 0
    ack_latency_ns: int = 0
    slippage_ticks: int = 0
    queue_ahead_default: int = 0
    """Volume assumed ahead of a new resting order when there is no book data."""
    count_unknown_aggressor: bool = True
    """Trades without an aggressor flag at the order's price consume its queue."""
    fee_mode: FeeMode = "day_trade"
    """How fees are charged when the venue is given a ``FeeSchedule`` (see ``backtest.costs``)."""
    queue_factor: float = 1.0
    """Share of the recorded level assumed ahead of a new resting order (1: the back of the queue)."""
    calibrated: Mapping[tuple[str, int], VenueParams] = field(default_factory=dict)
    """Per (symbol, session phase) parameters from ``tradingsystem calibrate``; the fields above elsewhere."""

    def params(self, symbol: str, phase: int) -> VenueParams:
        got = self.calibrated.get((symbol, phase)) if self.calibrated else None
        return got or VenueParams(self.latency_ns, self.ack_latency_ns, self.slippage_ticks, self.queue_factor)


class VenueParams(NamedTuple):
    latency_ns: int
    ack_latency_ns: int
    slippage_ticks: int
    queue_factor: float


class _Rest:
    __slots__ = ("ahead", "cmd", "day", "joined", "leaves", "triggered")

    def __init__(self, cmd: SubmitOrder, day: int) -> None:
        self.cmd = cmd
        self.leaves = cmd.quantity
        self.ahead = 0
        self.joined = 0  # when it joined its queue (the priority time it holds)
        self.triggered = cmd.order_type not in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
        self.day = day


class QueueVenue:
    """Implements ``ports.ExecutionClient`` against the tape (``kernel.data``) and books (``kernel.cache``)."""

    def __init__(self, instruments: dict[str, Instrument], clock: Clock, tape: Tape,
                 config: QueueVenueConfig | None = None, books: BookSource | None = None,
                 fees: FeeSchedule | None = None) -> None:
        self._instruments = instruments
        self._clock = clock
        self._tape = tape
        self._books = books
        self._cfg = config or QueueVenueConfig()
        self._fee_model = FeeModel(fees, self._cfg.fee_mode) if fees is not None else None
        self._base = self._cfg.params("", 0)
        self._sink: ExecutionSink | None = None
        self._resting: dict[str, dict[str, _Rest]] = {}
        self._l3: dict[str, L3Book] = {}
        self._fill_id = 0
        self.fills = 0

    def connect(self, sink: ExecutionSink) -> None:
        self._sink = sink

    # --- plumbing ------------------------------------------------------------------------------
    def _params(self, symbol: str, ts: int) -> VenueParams:
        cfg = self._cfg
        if not cfg.calibrated:
            return self._base
        inst = self._instruments.get(symbol)
        return cfg.params(symbol, int(phase_at(inst.asset_class, ts))) if inst is not None else self._base

    def _emit(self, event: OrderEvent) -> None:
        if self._sink is None:
            return
        lat = (self._params(event.symbol, event.ts_event) if self._cfg.calibrated else self._base).ack_latency_ns
        if lat > 0:
            sink = self._sink
            self._clock.schedule(event.ts_event + lat, lambda ts: sink.on_order_event(event))
        else:
            self._sink.on_order_event(event)

    def _later(self, fn: Callable[[int, object], None], arg: object) -> None:
        if self._cfg.calibrated:
            symbol = getattr(arg, "symbol", None)
            if symbol is None:  # cancel/modify: the symbol of the working order
                found = self._find(arg.order_id)  # type: ignore[attr-defined]
                symbol = found[1].cmd.symbol if found else ""
            lat = self._params(symbol or "", self._clock.now()).latency_ns
        else:
            lat = self._base.latency_ns
        if lat <= 0:
            fn(self._clock.now(), arg)
        else:
            self._clock.schedule(self._clock.now() + lat, lambda ts: fn(ts, arg))

    def submit(self, command: SubmitOrder) -> None:
        self._later(self._arrive, command)  # type: ignore[arg-type]

    def cancel(self, command: CancelOrder) -> None:
        self._later(self._cancel, command)  # type: ignore[arg-type]

    def modify(self, command: ModifyOrder) -> None:
        self._later(self._modify, command)  # type: ignore[arg-type]

    def _levels(self, symbol: str, side: int) -> dict[int, int] | None:
        """Opposite-side levels of the recorded book for an order of ``side``, None when there are none."""
        if self._books is None:
            return None
        book = self._books.book(symbol)
        levels = book.asks if side == 1 else book.bids
        return levels or None  # an empty side falls back to the last trade

    def _fill(self, ts: int, cmd: SubmitOrder, qty: int, price: int, liquidity: int) -> None:
        self._fill_id += 1
        self.fills += 1
        model = self._fee_model
        fee = model.fee(self._instruments[cmd.symbol], cmd.side, qty, price, ts) if model else _ZERO
        self._emit(OrderEvent(cmd.order_id, _K_FILLED, ts, cmd.symbol, qty, price, self._fill_id, liquidity,
                              fee=fee))

    # --- arrival -------------------------------------------------------------------------------
    def _arrive(self, ts: int, cmd: SubmitOrder) -> None:
        inst = self._instruments.get(cmd.symbol)
        if inst is None:
            self._emit(OrderEvent(cmd.order_id, K.REJECTED, ts, cmd.symbol, reason="unknown instrument"))
            return
        self._emit(OrderEvent(cmd.order_id, _K_ACCEPTED, ts, cmd.symbol, venue_order_id=cmd.order_id))
        otype = cmd.order_type
        if otype == _T_MARKET:
            left = self._take(ts, cmd, cmd.quantity, None, inst)
            if left:
                self._emit(OrderEvent(cmd.order_id, K.CANCELLED, ts, cmd.symbol, reason="no price to fill against"))
            return
        rest = _Rest(cmd, (ts - _OFFSET_NS) // _DAY_NS)
        if not rest.triggered:
            last = self._tape.last_price(cmd.symbol)
            if last is not None and self._stop_hit(cmd, last):
                rest.triggered = True
                self._emit(OrderEvent(cmd.order_id, K.TRIGGERED, ts, cmd.symbol))
                if otype == OrderType.STOP_MARKET:
                    self._take(ts, cmd, cmd.quantity, None, inst)
                    return
            else:
                self._park(cmd.symbol, rest)
                return
        self._limit_arrives(ts, rest, inst)

    def _limit_arrives(self, ts: int, rest: _Rest, inst: Instrument) -> None:
        cmd = rest.cmd
        tif = cmd.tif
        if tif == TimeInForce.FOK and self._available(cmd) < cmd.quantity:
            self._emit(OrderEvent(cmd.order_id, K.CANCELLED, ts, cmd.symbol, reason="FOK not fully fillable"))
            return
        left = self._take(ts, cmd, rest.leaves, cmd.price, inst)
        rest.leaves = left
        if not left:
            return
        if tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._emit(OrderEvent(cmd.order_id, K.CANCELLED, ts, cmd.symbol, reason="IOC rest cancelled"))
            return
        rest.ahead = self._queue_at(cmd.symbol, cmd.side, cmd.price)
        rest.joined = ts
        self._park(cmd.symbol, rest)

    def restore(self, cmd: SubmitOrder, leaves: int) -> None:
        """Put back an order that was working before a restart (a journal's state): ``leaves`` left,
        at the back of its queue now."""
        rest = _Rest(cmd, (self._clock.now() - _OFFSET_NS) // _DAY_NS)
        rest.leaves = leaves
        rest.triggered = True
        rest.ahead = self._queue_at(cmd.symbol, cmd.side, cmd.price)
        rest.joined = self._clock.now()
        self._park(cmd.symbol, rest)

    def _park(self, symbol: str, rest: _Rest) -> None:
        book = self._resting.get(symbol)
        if book is None:
            book = self._resting[symbol] = {}
        if not book:
            self._tape.watch(symbol, self._on_trade)
        book[rest.cmd.order_id] = rest

    def _queue_at(self, symbol: str, side: int, price: int) -> int:
        if self._books is not None:
            book = self._books.book(symbol)
            if book.bids or book.asks:
                level = (book.bids if side == 1 else book.asks).get(price, 0)
                factor = self._params(symbol, self._clock.now()).queue_factor
                return level if factor >= 1 else int(level * factor)
        return self._cfg.queue_ahead_default

    def _available(self, cmd: SubmitOrder) -> int:
        levels = self._levels(cmd.symbol, cmd.side)
        if levels is None:
            last = self._tape.last_price(cmd.symbol)
            ok = last is not None and (last <= cmd.price if cmd.side == 1 else last >= cmd.price)
            return cmd.quantity if ok else 0
        if cmd.side == 1:
            return sum(q for p, q in levels.items() if p <= cmd.price)
        return sum(q for p, q in levels.items() if p >= cmd.price)

    def _take(self, ts: int, cmd: SubmitOrder, qty: int, limit: int | None, inst: Instrument) -> int:
        """Fill up to ``qty`` as taker (walking the book, else at the last trade); return what is left."""
        buy = cmd.side == 1
        levels = self._levels(cmd.symbol, cmd.side)
        if levels is None:
            last = self._tape.last_price(cmd.symbol)
            if last is None:
                return qty
            if limit is None:
                params = self._params(cmd.symbol, ts) if self._cfg.calibrated else self._base
                slip = params.slippage_ticks * inst.tick
                self._fill(ts, cmd, qty, last + slip if buy else max(inst.tick, last - slip), 2)
                return 0
            if (last <= limit) if buy else (last >= limit):
                self._fill(ts, cmd, qty, last, 2)
                return 0
            return qty
        worst = 0
        for price in sorted(levels, reverse=not buy):
            if limit is not None and (price > limit if buy else price < limit):
                break
            take = min(qty, levels[price])
            if take > 0:
                self._fill(ts, cmd, take, price, 2)
                qty -= take
                worst = price
            if not qty:
                return 0
        if limit is None and qty and worst:
            slip = self._params(cmd.symbol, ts).slippage_ticks * inst.tick
            self._fill(ts, cmd, qty, worst + slip if buy else max(inst.tick, worst - slip), 2)
            return 0
        return qty

    @staticmethod
    def _stop_hit(cmd: SubmitOrder, price: int) -> bool:
        return price >= cmd.trigger_price if cmd.side == 1 else price <= cmd.trigger_price

    # --- cancel / modify ------------------------------------------------------------------------
    def _find(self, order_id: str) -> tuple[dict[str, _Rest], _Rest] | None:
        for book in self._resting.values():
            rest = book.get(order_id)
            if rest is not None:
                return book, rest
        return None

    def _cancel(self, ts: int, cmd: CancelOrder) -> None:
        found = self._find(cmd.order_id)
        if found is None:
            self._emit(OrderEvent(cmd.order_id, K.CANCEL_REJECTED, ts, reason="order not working"))
            return
        book, rest = found
        del book[cmd.order_id]
        self._emit(OrderEvent(cmd.order_id, K.CANCELLED, ts, rest.cmd.symbol))

    def _modify(self, ts: int, cmd: ModifyOrder) -> None:
        found = self._find(cmd.order_id)
        if found is None:
            self._emit(OrderEvent(cmd.order_id, K.MODIFY_REJECTED, ts, reason="order not working"))
            return
        _, rest = found
        c = rest.cmd
        qty = cmd.quantity or c.quantity
        filled = c.quantity - rest.leaves
        if qty <= filled:
            self._emit(OrderEvent(cmd.order_id, K.MODIFY_REJECTED, ts, c.symbol, reason="quantity below filled"))
            return
        price = cmd.price or c.price
        rest.cmd = SubmitOrder(c.order_id, c.symbol, c.side, c.order_type, qty, price,
                               cmd.trigger_price or c.trigger_price, c.tif, c.strategy_id, c.ts_init)
        rest.leaves = qty - filled
        if price != c.price or qty > c.quantity:  # B3: a price change or a larger quantity loses priority
            rest.ahead = self._queue_at(c.symbol, c.side, price)
            rest.joined = ts
        self._emit(OrderEvent(cmd.order_id, K.UPDATED, ts, c.symbol, quantity=qty, price=cmd.price,
                              trigger_price=cmd.trigger_price))

    # --- the tape -------------------------------------------------------------------------------
    def _on_trade(self, tick: TradeTick) -> None:
        symbol = tick.symbol
        book = self._resting.get(symbol)
        if book:
            self._match(tick, book)
        if not book:
            self._tape.unwatch(symbol, self._on_trade)

    def _match(self, tick: TradeTick, book: dict[str, _Rest]) -> None:
        px, ts, size = tick.price, tick.ts_event, tick.size
        day = (ts - _OFFSET_NS) // _DAY_NS
        inst = self._instruments[tick.symbol]
        count_unknown = self._cfg.count_unknown_aggressor
        for oid, rest in list(book.items()):
            cmd = rest.cmd
            if rest.day < day and cmd.tif == TimeInForce.DAY:
                del book[oid]
                self._emit(OrderEvent(oid, K.EXPIRED, ts, cmd.symbol))
                continue
            if not rest.triggered:
                if not self._stop_hit(cmd, px):
                    continue
                rest.triggered = True
                self._emit(OrderEvent(oid, K.TRIGGERED, ts, cmd.symbol))
                del book[oid]
                if cmd.order_type == OrderType.STOP_MARKET:
                    self._take(ts, cmd, rest.leaves, None, inst)
                else:
                    self._limit_arrives(ts, rest, inst)
                continue
            buy = cmd.side == 1
            limit = cmd.price
            if (px < limit) if buy else (px > limit):
                qty = min(rest.leaves, size)  # the level was swept: the queue ahead is gone
                rest.ahead = 0
            elif px == limit and (tick.aggressor == (2 if buy else 1) or (count_unknown and tick.aggressor == 0)):
                if rest.ahead >= size:
                    rest.ahead -= size
                    continue
                qty = min(rest.leaves, size - rest.ahead)
                rest.ahead = 0
            else:
                continue
            rest.leaves -= qty
            if rest.leaves <= 0:
                del book[oid]
            self._fill(ts, cmd, qty, limit, 1)

    def on_book_delta(self, delta: BookDelta) -> None:
        """Subscribe for symbols with book data: a shrinking level shrinks the queue ahead.

        With an order-level stream (``L3Delta``) the venue keeps the L3 book and the queue ahead of a
        resting order is exact: the orders at its level with an earlier priority time than its arrival.
        """
        l3 = None
        if type(delta) is L3Delta:
            l3 = self._l3.get(delta.symbol)
            if l3 is None:
                l3 = self._l3[delta.symbol] = L3Book()
            if delta.order_qty > 0:
                l3.put(delta.order_id, delta.side, delta.price, delta.order_qty, delta.priority)
            else:
                o = l3.orders.get(delta.order_id)
                if o is not None and o.side == delta.side and o.price == delta.price:
                    l3.remove(delta.order_id)
        book = self._resting.get(delta.symbol)
        if not book:
            return
        size = 0 if delta.action == 1 else delta.size
        for rest in book.values():
            c = rest.cmd
            if c.price == delta.price and c.side == delta.side:
                if l3 is not None:
                    rest.ahead = min(rest.ahead, l3.ahead(c.side, c.price, rest.joined))
                elif rest.ahead > size:
                    rest.ahead = size

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None:
        pass

    def on_bar(self, bar: Bar) -> None:
        pass

    def resting(self, symbol: str | None = None) -> list[tuple[str, int, int]]:
        """(order id, leaves, volume ahead) of resting orders, for tests and reports."""
        return [(oid, r.leaves, r.ahead) for s, b in sorted(self._resting.items()) if symbol in (None, s)
                for oid, r in b.items()]
