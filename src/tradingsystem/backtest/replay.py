"""Replay feeds: recorded or synthetic market data delivered in timestamp order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tradingsystem.domain.events import BookDelta, TradeTick
from tradingsystem.ports.protocols import DataSink


class TickReplayFeed:
    """A ``MarketDataFeed`` over an iterable of trade ticks (and book deltas) already in time order."""

    def __init__(self, events: Iterable[TradeTick | BookDelta]) -> None:
        self._it: Iterator[TradeTick | BookDelta] = iter(events)
        self._next: TradeTick | BookDelta | None = next(self._it, None)
        self._sink: DataSink | None = None
        self._symbols: set[str] | None = None
        self.delivered = 0

    def connect(self, sink: DataSink) -> None:
        self._sink = sink

    def subscribe(self, symbols: Iterable[str]) -> None:
        self._symbols = set(symbols)

    def next_ts(self) -> int | None:
        nxt = self._next
        return nxt.ts_event if nxt is not None else None

    def step(self) -> None:
        event = self._next
        if event is None or self._sink is None:
            return
        self._next = next(self._it, None)
        self.delivered += 1
        if type(event) is TradeTick:
            self._sink.on_trade(event)
        else:
            self._sink.on_book_delta(event)  # type: ignore[arg-type]

    def drain(self, until_ts: int, clock: object, budget: int) -> int:
        """Fast path for runs at full speed: deliver events up to ``until_ts`` in one loop.

        Same semantics as the kernel's ``next_ts``/``advance_to``/``step`` loop, without the three
        calls per event. Returns the number of events delivered.
        """
        sink = self._sink
        if sink is None:
            return 0
        fast = getattr(sink, "replay", None)  # the data engine runs the loop itself, on_trade inlined
        if fast is not None:
            n, self._next = fast(self._next, self._it, until_ts, clock, budget, sink.on_book_delta)
            self.delivered += n
            return n  # type: ignore[no-any-return]
        on_trade, on_delta = sink.on_trade, sink.on_book_delta
        advance = clock.advance_to  # type: ignore[attr-defined]
        timers = clock._timers  # type: ignore[attr-defined]  # the heap itself: no call per event
        it = self._it
        event = self._next
        n = 0
        trade = TradeTick
        while event is not None and n < budget:
            ts = event.ts_event
            if ts > until_ts:
                break
            if timers and timers[0][0] <= ts:  # re-read each time: handlers may schedule earlier timers
                advance(ts)
            else:
                clock._now = ts  # type: ignore[attr-defined]
            self._next = next(it, None)
            n += 1
            if type(event) is trade:
                on_trade(event)
            else:
                on_delta(event)  # type: ignore[arg-type]
            event = self._next
        self.delivered += n
        return n

    def close(self) -> None:
        self._next = None
