"""A venue for trade-tick replays: fills against the tape with latency and B3 fees.

Market orders fill at the last trade price (plus ``slippage_ticks`` against the order). Limit
orders rest and fill when a trade prints through their price; stops trigger on a trade at or
through the trigger. This is the simple fill model; queue position and book walks build on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderEventKind, OrderType, TimeInForce
from tradingsystem.ports.protocols import Clock, ExecutionSink

K = OrderEventKind
_K_ACCEPTED = K.ACCEPTED
_K_CANCELLED = K.CANCELLED
_K_CANCEL_REJECTED = K.CANCEL_REJECTED
_K_EXPIRED = K.EXPIRED
_K_FILLED = K.FILLED
_K_MODIFY_REJECTED = K.MODIFY_REJECTED
_K_REJECTED = K.REJECTED
_K_TRIGGERED = K.TRIGGERED
_K_UPDATED = K.UPDATED
_T_MARKET = OrderType.MARKET
_T_STOP_LIMIT = OrderType.STOP_LIMIT
_T_STOP_MARKET = OrderType.STOP_MARKET



class Tape(Protocol):
    """The trade tape as the venue sees it (the data engine provides it)."""

    def last_price(self, symbol: str) -> int | None: ...

    def watch(self, symbol: str, handler: Callable[[TradeTick], None]) -> None: ...

    def unwatch(self, symbol: str, handler: Callable[[TradeTick], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class TickVenueConfig:
    latency_ns: int = 1_000_000
    slippage_ticks: int = 0
    cap_by_trade_size: bool = False
    """Resting limit orders fill at most the size of the trade that crossed them (partial fills)."""


class _Resting:
    __slots__ = ("cmd", "leaves", "triggered")

    def __init__(self, cmd: SubmitOrder) -> None:
        self.cmd = cmd
        self.leaves = cmd.quantity
        self.triggered = False


class TickVenue:
    """Implements ``ports.ExecutionClient``.

    With a ``tape`` it reads last prices from it and watches only symbols with resting orders;
    without one, add it to the kernel as a data sink so it sees every trade.
    """

    def __init__(self, instruments: dict[str, Instrument], clock: Clock,
                 config: TickVenueConfig | None = None, tape: Tape | None = None) -> None:
        self._tape = tape
        self._instruments = instruments
        self._clock = clock
        self._cfg = config or TickVenueConfig()
        self._sink: ExecutionSink | None = None
        self._last: dict[str, int] = {}
        self._resting: dict[str, dict[str, _Resting]] = {}
        self._fill_id = 0

    def connect(self, sink: ExecutionSink) -> None:
        self._sink = sink

    def _emit(self, event: OrderEvent) -> None:
        if self._sink is not None:
            self._sink.on_order_event(event)

    def _later(self, fn: object, *args: object) -> None:
        lat = self._cfg.latency_ns
        if lat <= 0:
            fn(self._clock.now(), *args)  # type: ignore[operator]
        else:
            self._clock.schedule(self._clock.now() + lat, lambda ts: fn(ts, *args))  # type: ignore[operator]

    # --- ExecutionClient -----------------------------------------------------------------------
    def submit(self, command: SubmitOrder) -> None:
        self._later(self._arrive, command)

    def cancel(self, command: CancelOrder) -> None:
        self._later(self._cancel, command)

    def modify(self, command: ModifyOrder) -> None:
        self._later(self._modify, command)

    def _arrive(self, ts: int, cmd: SubmitOrder) -> None:
        inst = self._instruments.get(cmd.symbol)
        if inst is None:
            self._emit(OrderEvent(cmd.order_id, _K_REJECTED, ts, cmd.symbol, reason="unknown instrument"))
            return
        oid, symbol = cmd.order_id, cmd.symbol
        self._emit(OrderEvent(oid, _K_ACCEPTED, ts, symbol, 0, 0, 0, 0, "", oid))
        if cmd.order_type == _T_MARKET:
            tape = self._tape
            last = tape.last_price(symbol) if tape is not None else self._last.get(symbol)
            if last is None:
                self._emit(OrderEvent(oid, _K_CANCELLED, ts, symbol, reason="no trade to fill against"))
                return
            slip = self._cfg.slippage_ticks
            if slip:
                last += slip * inst.tick * (1 if cmd.side == 1 else -1)
            self._fill_id += 1
            self._emit(OrderEvent(oid, _K_FILLED, ts, symbol, cmd.quantity, last, self._fill_id, 2))
            return
        rest = _Resting(cmd)
        if cmd.tif in (TimeInForce.IOC, TimeInForce.FOK):
            last = self._last_price(cmd.symbol)
            if last is not None and (last <= cmd.price if cmd.side == 1 else last >= cmd.price):
                self._fill(ts, cmd, cmd.quantity, cmd.price, 2)
            else:
                self._emit(OrderEvent(cmd.order_id, _K_CANCELLED, ts, cmd.symbol, reason="IOC/FOK not marketable"))
            return
        book = self._resting.setdefault(cmd.symbol, {})
        if not book and self._tape is not None:
            self._tape.watch(cmd.symbol, self._on_watched)
        book[cmd.order_id] = rest

    def _last_price(self, symbol: str) -> int | None:
        if self._tape is not None:
            return self._tape.last_price(symbol)
        return self._last.get(symbol)

    def _on_watched(self, tick: TradeTick) -> None:
        book = self._resting.get(tick.symbol)
        if book:
            self._match(tick, book)
        if not book and self._tape is not None:
            self._tape.unwatch(tick.symbol, self._on_watched)

    def _cancel(self, ts: int, cmd: CancelOrder) -> None:
        for book in self._resting.values():
            if book.pop(cmd.order_id, None) is not None:
                self._emit(OrderEvent(cmd.order_id, _K_CANCELLED, ts))
                return
        self._emit(OrderEvent(cmd.order_id, _K_CANCEL_REJECTED, ts, reason="order not working"))

    def _modify(self, ts: int, cmd: ModifyOrder) -> None:
        for book in self._resting.values():
            rest = book.get(cmd.order_id)
            if rest is not None:
                c = rest.cmd
                qty = cmd.quantity or c.quantity
                rest.cmd = SubmitOrder(c.order_id, c.symbol, c.side, c.order_type, qty, cmd.price or c.price,
                                       cmd.trigger_price or c.trigger_price, c.tif, c.strategy_id, c.ts_init)
                rest.leaves = qty - (c.quantity - rest.leaves)
                self._emit(OrderEvent(cmd.order_id, _K_UPDATED, ts, c.symbol, quantity=qty,
                                      price=cmd.price, trigger_price=cmd.trigger_price))
                return
        self._emit(OrderEvent(cmd.order_id, _K_MODIFY_REJECTED, ts, reason="order not working"))

    @staticmethod
    def _crosses(cmd: SubmitOrder, price: int) -> bool:
        return price < cmd.price if cmd.side == 1 else price > cmd.price

    def _fill(self, ts: int, cmd: SubmitOrder, qty: int, price: int, liquidity: int) -> None:
        self._fill_id += 1
        self._emit(OrderEvent(cmd.order_id, _K_FILLED, ts, cmd.symbol, qty, price, self._fill_id, liquidity))

    # --- data sink: watch the tape -------------------------------------------------------------
    def on_trade(self, tick: TradeTick) -> None:
        self._last[tick.symbol] = tick.price
        book = self._resting.get(tick.symbol)
        if book:
            self._match(tick, book)

    def _match(self, tick: TradeTick, book: dict[str, _Resting]) -> None:
        px, ts = tick.price, tick.ts_event
        for oid, rest in list(book.items()):
            if book.get(oid) is not rest:
                continue  # cancelled or filled by an event this loop emitted (a kill's cancel_all)
            cmd = rest.cmd
            if cmd.order_type in (_T_STOP_MARKET, _T_STOP_LIMIT) and not rest.triggered:
                hit = px >= cmd.trigger_price if cmd.side == 1 else px <= cmd.trigger_price
                if not hit:
                    continue
                rest.triggered = True
                self._emit(OrderEvent(oid, _K_TRIGGERED, ts, cmd.symbol))
                if book.get(oid) is not rest:
                    continue
                if cmd.order_type == _T_STOP_MARKET:
                    book.pop(oid, None)
                    self._fill(ts, cmd, rest.leaves, px, 2)
                    continue
            if self._crosses(cmd, px):
                qty = min(rest.leaves, tick.size) if self._cfg.cap_by_trade_size else rest.leaves
                rest.leaves -= qty
                if rest.leaves <= 0:
                    book.pop(oid, None)
                self._fill(ts, cmd, qty, cmd.price, 1)

    def on_book_delta(self, delta: BookDelta) -> None:
        pass

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None:
        pass

    def on_bar(self, bar: Bar) -> None:
        self._last[bar.symbol] = bar.close

    def expire_day(self, ts: int, symbols: Iterable[str] | None = None) -> None:
        """Expire DAY orders at the session's end."""
        for symbol, book in list(self._resting.items()):
            if symbols is not None and symbol not in symbols:
                continue
            for oid, rest in list(book.items()):
                if rest.cmd.tif == TimeInForce.DAY and book.pop(oid, None) is rest:
                    self._emit(OrderEvent(oid, _K_EXPIRED, ts, symbol))
