"""Replay feeds over columnar history: trades, book deltas and bars of many instruments, merged in time.

The runtime reads the catalog (or a file) into numpy columns and hands them here; this layer never
touches storage. Every source yields domain events in its own time order; :class:`MergedFeed`
interleaves them by ``ts_event`` (ties keep source order: book before trades before bars when the
sources are listed that way) and drives the kernel's data engine, with the same fast ``drain`` path as
``TickReplayFeed``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np

from tradingsystem.backtest.replay import TickReplayFeed
from tradingsystem.domain.events import Aggressor, Bar, BookDelta, TradeTick

__all__ = [
    "MergedFeed",
    "bar_events",
    "book_events",
    "roll_days",
    "session_filter",
    "trade_events",
]

Event = TradeTick | BookDelta | Bar
_OFFSET_NS = 3 * 3600 * 10**9
_DAY_NS = 86_400 * 10**9
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_SNAPSHOT = 2  # the catalog's action of a stored snapshot row


def _col(cols: dict[str, Any], name: str, n: int, default: int = 0) -> list[int]:
    values = cols.get(name)
    if values is None:
        return [default] * n
    return np.asarray(values, dtype=np.int64).tolist()  # type: ignore[no-any-return]


def trade_events(symbol: str, cols: dict[str, Any]) -> Iterator[TradeTick]:
    """TradeTicks from columns ``ts_event, price, size`` (+ ``aggressor, trade_id, ts_init, buyer, seller``)."""
    ts = _col(cols, "ts_event", 0)
    n = len(ts)
    price, size = _col(cols, "price", n), _col(cols, "size", n)
    aggr, tid = _col(cols, "aggressor", n), _col(cols, "trade_id", n)
    ts_init = _col(cols, "ts_init", n) if cols.get("ts_init") is not None else ts
    buyer, seller = _col(cols, "buyer", n), _col(cols, "seller", n)
    for i in range(n):
        yield TradeTick(symbol, price[i], size[i], aggr[i], tid[i] or i + 1, ts[i], ts_init[i], buyer[i], seller[i])


def book_events(symbol: str, cols: dict[str, Any]) -> Iterator[BookDelta]:
    """BookDeltas from columns ``ts_event, side, price, size, action`` (+ optional ``sequence, orders``).

    Rows with action 2 (a stored snapshot, one row per level) replace the book: levels the snapshot
    does not list are deleted first, so the replayed book equals the recorded one.
    """
    ts = _col(cols, "ts_event", 0)
    n = len(ts)
    side, price, size, action = (_col(cols, c, n) for c in ("side", "price", "size", "action"))
    seq, orders = _col(cols, "sequence", n), _col(cols, "orders", n)
    live: tuple[set[int], set[int]] = (set(), set())
    i = 0
    while i < n:
        if action[i] != _SNAPSHOT:
            levels = live[side[i] - 1]
            if size[i] > 0 and action[i] != 1:
                levels.add(price[i])
            else:
                levels.discard(price[i])
            yield BookDelta(symbol, side[i], price[i], size[i], action[i], seq[i] or i + 1, ts[i], ts[i], orders[i])
            i += 1
            continue
        j = i
        while j < n and action[j] == _SNAPSHOT and seq[j] == seq[i] and ts[j] == ts[i]:
            j += 1
        listed = ({price[k] for k in range(i, j) if side[k] == 1}, {price[k] for k in range(i, j) if side[k] == 2})
        for s in (1, 2):
            for p in sorted(live[s - 1] - listed[s - 1]):
                yield BookDelta(symbol, s, p, 0, 1, seq[i] or i + 1, ts[i], ts[i], 0)
        for k in range(i, j):
            yield BookDelta(symbol, side[k], price[k], size[k], 0, seq[k] or k + 1, ts[k], ts[k], orders[k])
        live = (set(listed[0]), set(listed[1]))
        i = j


def bar_events(symbol: str, timeframe: str, cols: dict[str, Any], close_as_trade: bool = True) -> Iterator[Event]:
    """Bars from columns ``ts_open, ts_event, open, high, low, close, volume`` (+ ``trades``).

    With ``close_as_trade`` each bar is preceded by a synthetic trade at its close (size = the bar's
    volume, no aggressor) stamped at the bar's end, so tick strategies and the venue's tape see bars
    as one print each: orders sent on a bar fill at that bar's close (plus slippage) at the earliest.
    """
    ts = _col(cols, "ts_event", 0)
    n = len(ts)
    ts_open = _col(cols, "ts_open", n)
    o, h, lo, c, v = (_col(cols, k, n) for k in ("open", "high", "low", "close", "volume"))
    trades = _col(cols, "trades", n)
    none = int(Aggressor.NONE)
    for i in range(n):
        if close_as_trade:
            yield TradeTick(symbol, c[i], max(1, v[i]), none, i + 1, ts[i], ts[i])
        yield Bar(symbol, timeframe, o[i], h[i], lo[i], c[i], v[i], trades[i], ts_open[i], ts[i], ts[i])


def session_day(ts: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + (ts - _OFFSET_NS) // _DAY_NS)


def session_filter(events: Iterable[Event], is_session: Callable[[date], bool]) -> Iterator[Event]:
    """Drop events on days that are not B3 sessions (holidays, weekends) by the given calendar."""
    cached: dict[int, bool] = {}
    for ev in events:
        key = (ev.ts_event - _OFFSET_NS) // _DAY_NS
        ok = cached.get(key)
        if ok is None:
            ok = cached[key] = is_session(date.fromordinal(_EPOCH_ORDINAL + key))
        if ok:
            yield ev


def roll_days(days: Sequence[date], contract_of: Callable[[date], str]) -> dict[date, str]:
    """Which contract a generic symbol (``WINFUT``) trades on each session day.

    ``contract_of`` is the roll rule, e.g. ``lambda d: b3.current_contract("WIN", d, is_session, 2)``.
    The runtime reads, for each day, only the data of that day's contract.
    """
    return {d: contract_of(d) for d in days}


class MergedFeed(TickReplayFeed):
    """``ports.MarketDataFeed`` over several time-ordered sources, merged by ``ts_event``."""

    def __init__(self, sources: Sequence[Iterable[Event]]) -> None:
        iters = [iter(s) for s in sources]
        if len(iters) == 1:
            merged: Iterator[Event] = iters[0]
        else:
            merged = heapq.merge(*iters, key=_ts)
        super().__init__(merged)  # type: ignore[arg-type]
        self.bars = 0

    def _other(self, event: Any) -> None:
        """A bar or a book delta, in the data engine's replay loop."""
        if type(event) is Bar:
            self.bars += 1
            self._sink.on_bar(event)  # type: ignore[union-attr]
        else:
            self._sink.on_book_delta(event)  # type: ignore[union-attr]

    def step(self) -> None:
        event: Any = self._next
        if type(event) is Bar:
            if self._sink is None:
                return
            self._next = next(self._it, None)
            self.delivered += 1
            self.bars += 1
            self._sink.on_bar(event)
            return
        super().step()

    def drain(self, until_ts: int, clock: object, budget: int) -> int:
        """Fast path (see ``TickReplayFeed.drain``), with bars."""
        sink = self._sink
        if sink is None:
            return 0
        fast = getattr(sink, "replay", None)  # the data engine runs the loop itself, on_trade inlined
        if fast is not None:
            n, self._next = fast(self._next, self._it, until_ts, clock, budget, self._other)
            self.delivered += n
            return n  # type: ignore[no-any-return]
        on_trade, on_delta, on_bar = sink.on_trade, sink.on_book_delta, sink.on_bar
        advance = clock.advance_to  # type: ignore[attr-defined]
        next_timer = clock.next_timer  # type: ignore[attr-defined]
        it = self._it
        event: Any = self._next
        n = 0
        trade, bar = TradeTick, Bar
        due = next_timer()
        while event is not None and n < budget:
            ts = event.ts_event
            if ts > until_ts:
                break
            if due is not None and due <= ts:
                advance(ts)
                due = next_timer()
            else:
                clock._now = ts  # type: ignore[attr-defined]
            self._next = next(it, None)
            n += 1
            kind = type(event)
            if kind is trade:
                on_trade(event)
            elif kind is bar:
                self.bars += 1
                on_bar(event)
            else:
                on_delta(event)
            due = next_timer()  # handlers may have scheduled an earlier timer (an order's arrival)
            event = self._next
        self.delivered += n
        return n


def _ts(event: Event) -> int:
    return event.ts_event
