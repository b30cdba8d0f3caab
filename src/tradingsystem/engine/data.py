"""Data engine: receives market data from feeds, updates the cache and fans out to subscribers.

The per-tick path is a dict look-up and a loop over a tuple of handlers: no allocation, no I/O.
Sinks that persist data (the recorder) subscribe as ``sinks`` and must only enqueue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from tradingsystem.domain.errors import UnknownInstrument
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick
from tradingsystem.engine.cache import Cache
from tradingsystem.engine.clock import SimulatedClock

TradeHandler = Callable[[TradeTick], None]
BookHandler = Callable[[BookDelta], None]
BarHandler = Callable[[Bar], None]


class Sink(Protocol):
    def on_trade(self, tick: TradeTick) -> None: ...

    def on_book_delta(self, delta: BookDelta) -> None: ...

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None: ...

    def on_bar(self, bar: Bar) -> None: ...


class DataEngine:
    """Implements ``ports.DataSink``. Unknown symbols and out-of-order ticks are counted, not fatal."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._last = cache.last_trade
        self._trade_handlers: dict[str, tuple[TradeHandler, ...]] = {}
        self._book_handlers: dict[str, tuple[BookHandler, ...]] = {}
        self._bar_handlers: dict[str, tuple[BarHandler, ...]] = {}
        self._sinks: list[Sink] = []
        self._trade_dispatch: dict[str, tuple[TradeHandler, ...]] = {}
        self._watchers: dict[str, tuple[TradeHandler, ...]] = {}
        self.trades_seen = 0
        self.book_events = 0
        self.bars_seen = 0
        self.rejected_unknown = 0
        self.out_of_order = 0
        self.corrections = 0
        self.last_error = ""
        self.handler_errors = 0
        self._rebuild()

    # --- subscriptions -------------------------------------------------------------------------
    def subscribe_trades(self, symbol: str, handler: TradeHandler) -> None:
        self._check(symbol)
        self._trade_handlers[symbol] = (*self._trade_handlers.get(symbol, ()), handler)
        self._rebuild()

    def subscribe_book(self, symbol: str, handler: BookHandler) -> None:
        self._check(symbol)
        self._book_handlers[symbol] = (*self._book_handlers.get(symbol, ()), handler)

    def subscribe_bars(self, symbol: str, handler: BarHandler) -> None:
        self._check(symbol)
        self._bar_handlers[symbol] = (*self._bar_handlers.get(symbol, ()), handler)

    def add_sink(self, sink: Sink) -> None:
        """A sink sees every event of every instrument (recorders, venues, bridges, dashboards)."""
        self._sinks.append(sink)
        self._rebuild()

    def _rebuild(self) -> None:
        """One tuple of trade callbacks per symbol: sinks first, then subscribers."""
        sinks = tuple(s.on_trade for s in self._sinks)
        self._trade_dispatch = {
            sym: sinks + self._watchers.get(sym, ()) + self._trade_handlers.get(sym, ())
            for sym in self._cache.instruments
        }

    def unsubscribe_trades(self, symbol: str, handler: TradeHandler) -> None:
        self._trade_handlers[symbol] = tuple(h for h in self._trade_handlers.get(symbol, ()) if h != handler)
        self._rebuild()

    def unsubscribe_book(self, symbol: str, handler: BookHandler) -> None:
        self._book_handlers[symbol] = tuple(h for h in self._book_handlers.get(symbol, ()) if h != handler)

    def unsubscribe_bars(self, symbol: str, handler: BarHandler) -> None:
        self._bar_handlers[symbol] = tuple(h for h in self._bar_handlers.get(symbol, ()) if h != handler)

    # --- the tape, as venues in backtests see it ------------------------------------------------
    def last_price(self, symbol: str) -> int | None:
        tick = self._last.get(symbol)
        return tick.price if tick is not None else None

    def watch(self, symbol: str, handler: TradeHandler) -> None:
        """Call ``handler`` before strategies on each trade of ``symbol`` until ``unwatch``."""
        self._check(symbol)
        self._watchers[symbol] = (*self._watchers.get(symbol, ()), handler)
        self._rebuild()

    def unwatch(self, symbol: str, handler: TradeHandler) -> None:
        self._watchers[symbol] = tuple(h for h in self._watchers.get(symbol, ()) if h != handler)
        self._rebuild()

    def _check(self, symbol: str) -> None:
        if symbol not in self._cache.instruments:
            raise UnknownInstrument(f"cannot subscribe to unknown instrument {symbol!r}")

    # --- DataSink ------------------------------------------------------------------------------
    def on_trade(self, tick: TradeTick) -> None:
        symbol = tick.symbol
        last = self._last
        prev = last.get(symbol)
        if prev is None or tick.ts_event < prev.ts_event:
            if not self._admit(tick, prev):
                return
        last[symbol] = tick
        self.trades_seen += 1
        for handler in self._trade_dispatch[symbol]:
            try:
                handler(tick)
            except Exception as exc:  # one failing strategy or sink never stops the others or the engine
                self._handler_failed(symbol, handler, exc)

    def _handler_failed(self, symbol: str, handler: TradeHandler, exc: Exception) -> None:
        self.handler_errors += 1
        self.last_error = f"{symbol}: trade handler {getattr(handler, '__qualname__', handler)!s} failed: {exc!r}"

    def replay(self, event: Any, it: Iterator[Any], until_ts: int, clock: SimulatedClock, budget: int,
               other: Callable[[Any], None]) -> tuple[int, Any]:
        """A replay feed's fast path: deliver ``event`` and what follows it from ``it`` up to ``until_ts`` or
        ``budget`` events, each as ``advance_to`` then ``on_trade`` (anything not a trade goes to ``other``),
        in one loop with ``on_trade`` inlined. Returns (events delivered, the first event not delivered)."""
        if event is None or budget <= 0 or event.ts_event > until_ts:
            return 0, event
        last = self._last
        trade = TradeTick
        advance = clock.advance_to
        timers = clock._timers  # the heap itself: no call per event
        ts = event.ts_event
        if timers and timers[0][0] <= ts:
            advance(ts)
        else:
            clock._now = ts
        n = 0
        # Each pass: the next event is fetched, then the current one delivered, then the next one checked and its
        # time set (the order of the plain loop: check, advance, fetch, deliver).
        for nxt in it:
            n += 1
            if type(event) is trade:
                symbol = event.symbol
                prev = last.get(symbol)
                if (prev is not None and ts >= prev.ts_event) or self._admit(event, prev):
                    last[symbol] = event
                    self.trades_seen += 1
                    for handler in self._trade_dispatch[symbol]:
                        try:
                            handler(event)
                        except Exception as exc:
                            self._handler_failed(symbol, handler, exc)
            else:
                other(event)
            event = nxt
            ts = event.ts_event
            if ts > until_ts or n >= budget:
                return n, event
            if timers and timers[0][0] <= ts:  # re-read each time: handlers may schedule earlier timers
                advance(ts)
            else:
                clock._now = ts
        if type(event) is trade:  # the last one
            self.on_trade(event)
        else:
            other(event)
        return n + 1, None

    def _admit(self, tick: TradeTick, prev: TradeTick | None) -> bool:
        if prev is None:
            if tick.symbol in self._cache.instruments:
                return True
            self.rejected_unknown += 1
            self.last_error = f"trade for unknown instrument {tick.symbol!r} ignored"
            return False
        self.out_of_order += 1
        self.last_error = f"{tick.symbol}: out-of-order trade {tick.trade_id} ignored"
        return False

    def on_trade_correction(self, tick: TradeTick) -> None:
        """An exchange correction of a trade already seen: kept by sinks that record (the cache keeps
        the last trade as it was; strategies are not called again)."""
        if tick.symbol not in self._cache.instruments:
            self.rejected_unknown += 1
            return
        self.corrections += 1
        for sink in self._sinks:
            correct = getattr(sink, "on_trade_correction", None)
            if correct is not None:
                correct(tick)

    def on_book_delta(self, delta: BookDelta) -> None:
        symbol = delta.symbol
        if symbol not in self._cache.instruments:
            self.rejected_unknown += 1
            return
        self._cache.book(symbol).apply(delta)
        self.book_events += 1
        for sink in self._sinks:
            sink.on_book_delta(delta)
        for handler in self._book_handlers.get(symbol, ()):
            handler(delta)

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None:
        symbol = snapshot.symbol
        if symbol not in self._cache.instruments:
            self.rejected_unknown += 1
            return
        book = self._cache.book(symbol)
        book.bids = dict(snapshot.bids)
        book.asks = dict(snapshot.asks)
        book.sequence = snapshot.sequence
        self.book_events += 1
        for sink in self._sinks:
            sink.on_book_snapshot(snapshot)

    def on_bar(self, bar: Bar) -> None:
        if bar.symbol not in self._cache.instruments:
            self.rejected_unknown += 1
            return
        self.bars_seen += 1
        for sink in self._sinks:
            sink.on_bar(bar)
        for handler in self._bar_handlers.get(bar.symbol, ()):
            handler(bar)

    def stats(self) -> dict[str, Any]:
        return {
            "trades_seen": self.trades_seen,
            "book_events": self.book_events,
            "bars_seen": self.bars_seen,
            "rejected_unknown": self.rejected_unknown,
            "out_of_order": self.out_of_order,
        }
