"""ProfitDLL market-data feed: implements ``ports.MarketDataFeed`` on the engine thread.

``next_ts`` drains the session's hand-off queue (what the DLL thread copied) into domain events and
returns the next one's time (None when nothing is waiting); ``step`` delivers one event to the sink.
Reconnection (market-data state 0 then 4) resubscribes every ticker and backfills each one from
``GetHistoryTrades``; so does a queue overflow for the symbols that lost trades. While a symbol is
backfilling its live trades are held, then merged after the history by trade number, so the stream
that reaches the sink has no hole and no duplicate.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, NamedTuple

from tradingsystem.adapters.profitdll.convert import LocalTime, dll_date, price_to_raw, today_b3
from tradingsystem.adapters.profitdll.errors import ProfitDLLError
from tradingsystem.adapters.profitdll.handoff import GAP
from tradingsystem.adapters.profitdll.session import (
    K_DEPTH,
    K_HEALTH,
    K_HIST,
    K_OFFER,
    K_PROGRESS,
    K_STATE,
    STATE_ACTIVATION,
    STATE_LOGIN,
    STATE_MARKET,
    ProfitSession,
)
from tradingsystem.adapters.profitdll.structs import (
    OB_LAST_PACKET,
    OFFER_ENTRY_V2,
    OFFER_HEADER,
    OFFER_TRAILER,
)
from tradingsystem.backtest.l3book import L3Delta
from tradingsystem.domain.b3 import instrument, resolve_generic
from tradingsystem.domain.events import BookAction, BookDelta, TradeTick
from tradingsystem.domain.instruments import Instrument
from tradingsystem.ports.protocols import DataSink

__all__ = ["Offer", "ProfitDLLFeed", "exchange_of", "session_predicate"]

log = logging.getLogger(__name__)

IsSession = Callable[[date], bool]
_AGGRESSOR = {2: 1, 3: 2}  # TradeType 2 buyer-aggressor, 3 seller-aggressor; others none


def exchange_of(inst: Instrument) -> str:
    """B3 segment letter the DLL wants: F (BMF) for futures, B (Bovespa) for stocks."""
    return "F" if inst.is_future else "B"


def session_predicate(calendar: Any) -> IsSession:
    """Accept an ``is_session`` callable or an object with ``is_session`` (a SessionCalendar)."""
    fn = getattr(calendar, "is_session", calendar)
    if not callable(fn):
        raise TypeError("need an is_session(date) callable or a calendar with is_session")
    return fn  # type: ignore[no-any-return]


class Correction(NamedTuple):
    """An edited trade (the DLL's ``bEdit``), delivered to sinks that keep corrections."""

    tick: TradeTick

    @property
    def ts_event(self) -> int:
        return self.tick.ts_event


class Offer(NamedTuple):
    """One resting order of the offer book; ``price`` in raw units on the instrument's grid."""

    offer_id: int
    price: int
    qty: int
    agent: int


class _Symbol:
    __slots__ = ("backfilling", "book", "exchange", "held", "hist", "inst", "last_id", "last_ts", "levels", "mult",
                 "offers", "pending", "prios", "rebackfill", "seq", "symbol", "tick")

    def __init__(self, symbol: str, inst: Instrument) -> None:
        self.symbol = symbol
        self.inst = inst
        self.exchange = exchange_of(inst)
        self.mult = 10**inst.scale
        self.tick = inst.tick
        self.last_id = 0
        self.last_ts = 0
        self.backfilling = False
        self.rebackfill = False
        self.held: list[tuple[Any, ...]] = []
        self.hist: list[TradeTick] = []
        self.book: tuple[list[int], list[int]] = ([], [])
        self.seq = 0
        # offer book (order level): DLL list order per side (0 buy, 1 sell); position p is index len - p - 1
        self.offers: tuple[list[Offer], list[Offer]] = ([], [])
        self.prios: tuple[list[int], list[int]] = ([], [])  # each offer's priority time, index for index
        self.levels: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})  # price -> [size, orders]
        self.pending: list[list[Offer] | None] = [None, None]  # full book arriving in several packets


class ProfitDLLFeed:
    """Live trades (and an optional book: price depth or the order-level offer book) as domain events."""

    def __init__(self, session: ProfitSession, calendar: Any, book: str | None = None) -> None:
        """``book``: "price_depth", "offer_book" or None; default from the config (``book_depth``/``book_source``)."""
        if book is None and session.config.book_depth:
            book = session.config.book_source
        if book not in (None, "price_depth", "offer_book"):
            raise ValueError(f"book must be 'price_depth', 'offer_book' or None, not {book!r}")
        if book is not None and not session.dll.has(book):
            log.warning("ProfitDLL book %s disabled: the DLL lacks its exports (trades only)", book)
            book = None
        self.book_source = book
        self._edit_delta = session.config.offer_edit == "delta"
        self.offer_errors: deque[tuple[str, str]] = deque(maxlen=256)  # (symbol, why) of malformed offer events
        self.session = session
        self._is_session = session_predicate(calendar)
        self._sink: DataSink | None = None
        self._syms: dict[str, _Symbol] = {}
        self._ready: deque[TradeTick | BookDelta | Correction] = deque()
        self._time = LocalTime()
        self._md_state = -1
        self._lost = False
        self._failed = False  # a login or activation failure arrived: raised by next_ts once what came before is out
        self._consumed = 0  # live trades taken so far (the index the other events are stamped against)
        self._leftover: list[tuple[Any, ...]] = []  # live trades drained but not taken (after a failure)
        self._by_id: dict[int, _Symbol] = {}  # C ring ticker id -> subscribed symbol
        self._drops_seen = 0
        self._drops_by_symbol: dict[str, int] = {}
        self.counters = {
            "trades": 0, "book_deltas": 0, "duplicates": 0, "edits": 0, "bad_prices": 0, "unknown_symbol": 0,
            "backfills": 0, "backfill_failures": 0, "backfilled": 0, "disconnects": 0, "reconnects": 0,
            "slow_warnings": 0, "frozen": 0, "offer_events": 0, "offer_malformed": 0, "offer_full_books": 0,
            "offer_book_gaps": 0,
        }

    # --- MarketDataFeed -----------------------------------------------------------------------
    def connect(self, sink: DataSink) -> None:
        self._sink = sink
        self._on_trade = sink.on_trade
        self._on_book = sink.on_book_delta
        self.session.start()

    def subscribe(self, symbols: Iterable[str]) -> None:
        for name in symbols:
            sym = self._resolve(name)
            if sym.symbol in self._syms:
                continue
            self._syms[sym.symbol] = sym
            self._subscribe(sym)

    def next_ts(self) -> int | None:
        session = self.session
        if session.orders and session.order_pump is not None:
            session.order_pump()  # order events first: they reach the order manager on this thread
        ready = self._ready
        if not ready:
            if self._failed:
                session.raise_failure()
            self._pump()
            if not ready:
                return None
        return ready[0].ts_event

    def step(self) -> None:
        ready = self._ready
        if not ready:
            self._pump()
            if not ready:
                return
        if self._sink is None:
            return
        ev = ready.popleft()
        if type(ev) is TradeTick:
            self._on_trade(ev)
        elif type(ev) is Correction:
            correct = getattr(self._sink, "on_trade_correction", None)
            if correct is not None:
                correct(ev.tick)
        else:
            self._on_book(ev)  # type: ignore[arg-type]

    def _correct(self, sym: _Symbol, r: tuple[Any, ...]) -> None:
        """An exchange correction (``bEdit``) of a trade already delivered: hand it on as a correction."""
        tick = self._convert(sym, r)
        if tick is not None:
            self._ready.append(Correction(tick))

    def close(self) -> None:
        self.session.close()

    # --- extras -------------------------------------------------------------------------------
    def wait(self, timeout_s: float) -> bool:
        """Block (GIL released) until the DLL thread queues something or ``timeout_s`` passes."""
        session = self.session
        if self._ready or self._leftover or session.depth() or session.orders:
            return True
        session.wake.clear()
        session.waiting = True
        try:
            if session.depth() or session.orders:
                return True
            return session.wake.wait(timeout_s) or bool(session.depth()) or bool(session.orders)
        finally:
            session.waiting = False

    def stats(self) -> dict[str, int]:
        """Queue depth, maximum depth, overflow and conversion counters (never silent)."""
        if self.session.trades.dropped() != self._drops_seen:
            self._trade_drops()
        out = dict(self.session.stats())
        out.update(self.counters)
        out["ready"] = len(self._ready)
        out["backfilling"] = sum(1 for s in self._syms.values() if s.backfilling)
        return out

    def offer_book(self, symbol: str) -> tuple[list[Offer], list[Offer]]:
        """The order-level book as (bids, asks); element k of a side is the offer at DLL position k.

        Positions count from the end of the DLL's list (index = size - pos - 1), so position 0 is the
        list's last entry. Copies: safe to keep.
        """
        sym = self._syms.get(symbol)
        if sym is None:
            raise KeyError(symbol)
        return sym.offers[0][::-1], sym.offers[1][::-1]

    @property
    def symbols(self) -> list[str]:
        return list(self._syms)

    # --- internals ----------------------------------------------------------------------------
    def _resolve(self, name: str) -> _Symbol:
        code = resolve_generic(name, today_b3(), self._is_session) if name.endswith("FUT") else name
        return _Symbol(code, instrument(code, self._is_session))

    def _subscribe(self, sym: _Symbol) -> None:
        dll = self.session.dll
        dll.subscribe_ticker(sym.symbol, sym.exchange)
        if self.book_source == "price_depth":
            dll.subscribe_price_depth(sym.symbol, sym.exchange)
        elif self.book_source == "offer_book":
            dll.subscribe_offer_book(sym.symbol, sym.exchange)

    def _pump(self) -> None:
        """Live trades (C ring or callback queue) and the other events, in the order the DLL sent them."""
        session = self.session
        depth = session.depth()
        if depth > session.max_depth:
            session.max_depth = depth
        if session.trades.dropped() != self._drops_seen:
            self._trade_drops()
        if session.overflow_symbols:
            self._overflowed()
        if session.book_lost:
            self._book_lost()
        if self._leftover:
            records, self._leftover = self._leftover, []
            self._take(records)
        if not self._failed:
            self._take(session.trades.drain())
        if not self._failed:
            self._others_upto(self._consumed)

    def _others_upto(self, index: int) -> int:
        """Handle the events queued before live trade ``index``; the index the next one waits for."""
        q = self.session.market
        while q and q[0][0] <= index:
            self._other(q.popleft()[1])
            if self._failed:
                return -1
        return q[0][0] if q else 1 << 62

    def _take(self, records: Iterable[tuple[Any, ...]]) -> None:
        """The hot path: ``RECORD`` tuples to ticks (the logic of ``_tick``, inlined)."""
        g = self._consumed  # index of the next live trade
        mark = self._others_upto(g)
        if mark < 0:
            self._leftover = list(records)
            return
        lookup = (self._syms if self.session.trades.keys_are_names else self._by_id).get
        ready_append = self._ready.append
        days = self._time._days
        day_ns = self._time.day_ns
        aggressor = _AGGRESSOR.get
        counters = self.counters
        trades = 0
        it = iter(records)
        for r in it:
            if mark <= g:
                mark = self._others_upto(g)
                if mark < 0:
                    self._leftover = [r, *it]
                    break
            g += 1
            sym = lookup(r[16])
            if sym is None:
                sym = self._sym_of(r[16])
                if sym is None:
                    counters["unknown_symbol"] += 1
                    continue
            if r[17] & GAP:  # trades of this symbol were dropped just before this one: fill the hole first
                self._begin_backfill(sym)
            if sym.backfilling:
                sym.held.append(r)
                continue
            (_v, y, mo, _dw, d, h, mi, sec, ms, number, price, qty, _vol, buyer, seller, ttype, _s, flags, ts_init) = r
            if number <= sym.last_id:
                if flags & 1:
                    counters["edits"] += 1
                    self._correct(sym, r)
                else:
                    counters["duplicates"] += 1
                continue
            try:
                raw = round(price * sym.mult)
            except (ValueError, OverflowError):
                raw = 0
            if raw <= 0 or raw % sym.tick:
                raw = price_to_raw(sym.inst, price) or 0
                if raw <= 0:
                    counters["bad_prices"] += 1
                    continue
            day = days.get((y, mo, d))
            if day is None:
                day = day_ns(y, mo, d)
            ts = day + ((h * 60 + mi) * 60 + sec) * 1_000_000_000 + ms * 1_000_000
            sym.last_id = number
            sym.last_ts = ts
            trades += 1
            ready_append(TradeTick(sym.symbol, raw, qty, aggressor(ttype, 0), number, ts, ts_init, buyer, seller))
        self._consumed = g
        counters["trades"] += trades

    def _sym_of(self, key: Any) -> _Symbol | None:
        """The subscribed symbol of a live trade's key (the C ring's ticker id, cached in ``_by_id``)."""
        name = self.session.trades.name(key)
        sym = self._syms.get(name) if name is not None else None
        if sym is not None:
            self._by_id[key] = sym
        return sym

    def _trade_drops(self) -> None:
        """Live trades dropped on a full queue: name their symbols for backfill (``_overflowed``)."""
        trades = self.session.trades
        self._drops_seen = trades.dropped()
        for name, n in trades.drops_by_symbol().items():
            if n > self._drops_by_symbol.get(name, 0):
                self._drops_by_symbol[name] = n
                self.session.overflow_symbols.add(name)

    def _other(self, item: tuple[Any, ...]) -> None:
        """Every market-data event but a live trade."""
        kind = item[0]
        syms = self._syms
        if kind == K_HIST:
            sym = syms.get(item[1])
            if sym is not None and sym.backfilling:
                tick = self._convert(sym, item[2])
                if tick is not None:
                    sym.hist.append(tick)
        elif kind == K_PROGRESS:
            if item[2] >= 100:
                sym = syms.get(item[1])
                if sym is not None and sym.backfilling:
                    self._finish_backfill(sym)
        elif kind == K_STATE:
            self._on_state(item[1], item[2])
        elif kind == K_DEPTH:
            self._on_depth(item)
        elif kind == K_OFFER:
            self._on_offer(item)
        elif kind == K_HEALTH:
            if item[1] == 1:
                self.counters["frozen"] += 1
                log.warning("ProfitDLL reports frozen health")

    def _convert(self, sym: _Symbol, r: tuple[Any, ...]) -> TradeTick | None:
        """A ``RECORD``-shaped tuple (C ring record, or what the ctypes callback queued) to a tick."""
        (_v, y, mo, _dow, d, h, mi, sec, ms, number, price, qty, _vol, buyer, seller, ttype, _s, _f, ts_init) = r
        try:
            raw = round(price * sym.mult)
        except (ValueError, OverflowError):  # NaN, infinities
            raw = 0
        if raw <= 0 or raw % sym.tick:
            raw = price_to_raw(sym.inst, price) or 0
            if raw <= 0:
                self.counters["bad_prices"] += 1
                return None
        ts = self._time.to_ns(y, mo, d, h, mi, sec, ms)
        return TradeTick(sym.symbol, raw, qty, _AGGRESSOR.get(ttype, 0), number, ts, ts_init, buyer, seller)

    def _tick(self, sym: _Symbol, r: tuple[Any, ...]) -> TradeTick | None:
        tick = self._convert(sym, r)
        if tick is None:
            return None
        if tick.trade_id <= sym.last_id:
            if r[17] & 1:
                self.counters["edits"] += 1
                self._ready.append(Correction(tick))
            else:
                self.counters["duplicates"] += 1
            return None
        sym.last_id = tick.trade_id
        sym.last_ts = tick.ts_event
        self.counters["trades"] += 1
        return tick

    # --- reconnection and backfill ------------------------------------------------------------
    def _on_state(self, state_type: int, result: int) -> None:
        if state_type in (STATE_LOGIN, STATE_ACTIVATION) and result != 0:
            self._failed = True  # e.g. ActivationInvalid after market data was connected: raised once drained
        if state_type != STATE_MARKET:
            return
        previous, self._md_state = self._md_state, result
        if result == 0 and previous != 0:
            self._lost = True
            self.counters["disconnects"] += 1
            log.warning("ProfitDLL market data disconnected")
        elif result == 6:
            self.counters["slow_warnings"] += 1
            log.warning("ProfitDLL market data state 6: the client is not draining callbacks fast enough")
        elif result == 4 and self._lost:
            self._lost = False
            self.counters["reconnects"] += 1
            log.warning("ProfitDLL market data reconnected: resubscribing %d symbols", len(self._syms))
            for sym in self._syms.values():
                try:
                    self._subscribe(sym)
                except ProfitDLLError:
                    log.exception("resubscribe %s failed", sym.symbol)
                self._begin_backfill(sym)

    def _overflowed(self) -> None:
        taken = set(self.session.overflow_symbols)
        self.session.overflow_symbols.difference_update(taken)
        log.warning("ProfitDLL hand-off queue overflowed (%d dropped so far); backfilling %s",
                    self.session.stats()["overflow"], sorted(taken))
        for name in taken:
            sym = self._syms.get(name)
            if sym is not None:
                self._begin_backfill(sym)

    def _begin_backfill(self, sym: _Symbol) -> None:
        if sym.backfilling:
            sym.rebackfill = True
            return
        dll = self.session.dll
        try:
            y, mo, d, h, mi, sec, _ms = dll.get_server_clock()
            end = f"{d:02d}/{mo:02d}/{y:04d} {h:02d}:{mi:02d}:{sec:02d}"
            if sym.last_ts:
                start = dll_date(sym.last_ts)
            else:
                now = self._time.to_ns(y, mo, d, h, mi, sec, 0)
                start = dll_date(now, -self.session.config.history_lookback_s)
            dll.get_history_trades(sym.symbol, sym.exchange, start, end)
        except ProfitDLLError as exc:
            self.counters["backfill_failures"] += 1
            log.error("backfill of %s could not start (%s): the gap stays open", sym.symbol, exc)
            return
        sym.backfilling = True
        sym.hist = []
        self.counters["backfills"] += 1

    def _finish_backfill(self, sym: _Symbol) -> None:
        """Merge the history; then the held live trades, unless more were lost meanwhile (``rebackfill``):
        then the next backfill starts where this history ended and the live trades stay held."""
        ready = self._ready
        before = self.counters["trades"]
        sym.hist.sort(key=lambda t: t.trade_id)
        for tick in sym.hist:
            if tick.trade_id > sym.last_id:
                sym.last_id = tick.trade_id
                sym.last_ts = tick.ts_event
                self.counters["trades"] += 1
                ready.append(tick)
        self.counters["backfilled"] += self.counters["trades"] - before
        sym.hist = []
        sym.backfilling = False
        if sym.rebackfill:
            sym.rebackfill = False
            self._begin_backfill(sym)
            if sym.backfilling:
                return
        held, sym.held = sym.held, []
        for item in held:
            live = self._tick(sym, item)
            if live is not None:
                ready.append(live)

    # --- price depth --------------------------------------------------------------------------
    def _on_depth(self, item: tuple[Any, ...]) -> None:
        _k, ticker, side, pos, update, levels, ts = item
        sym = self._syms.get(ticker)
        if sym is None or side not in (0, 1):
            return
        book = sym.book[side]
        dom_side = 1 if side == 0 else 2
        out: list[tuple[int, int, int, int]] = []  # price, size, orders, action
        SET, DEL = int(BookAction.SET), int(BookAction.DELETE)
        if update in (0, 3, 1) and levels:
            px = price_to_raw(sym.inst, levels[0][0])
            if px is None or pos < 0 or pos > len(book):
                self.counters["bad_prices"] += 1
                return
            if update == 1 and pos < len(book):
                book[pos] = px
            elif update != 1:
                book.insert(pos, px)
            out.append((px, int(levels[0][1]), int(levels[0][2]), SET))
        elif update == 2 and 0 <= pos < len(book):
            out.append((book.pop(pos), 0, 0, DEL))
        elif update == 8 and 0 <= pos <= len(book):
            out += [(px, 0, 0, DEL) for px in book[pos:]]
            del book[pos:]
        elif update == 4:
            new = [(price_to_raw(sym.inst, p), int(q), int(c)) for p, q, c in levels]
            keep = {p for p, _, _ in new}
            out += [(px, 0, 0, DEL) for px in book if px not in keep]
            book[:] = [p for p, _, _ in new if p is not None]
            out += [(p, q, c, SET) for p, q, c in new if p is not None]
        for px, size, orders, action in out:
            sym.seq += 1
            self.counters["book_deltas"] += 1
            self._ready.append(BookDelta(sym.symbol, dom_side, px, size, action, sym.seq, ts, ts, orders))

    # --- offer book (order level) -------------------------------------------------------------
    def _book_lost(self) -> None:
        taken = set(self.session.book_lost)
        self.session.book_lost.difference_update(taken)
        self.counters["offer_book_gaps"] += len(taken)
        log.warning("ProfitDLL offer-book events dropped on overflow for %s: the order-level book is out of step "
                    "until the next full book", sorted(taken))

    def _offer_bad(self, sym: _Symbol, why: str) -> None:
        self.counters["offer_malformed"] += 1
        self.offer_errors.append((sym.symbol, why))
        log.warning("ProfitDLL offer book %s: malformed event ignored (%s)", sym.symbol, why)

    def _on_offer(self, item: tuple[Any, ...]) -> None:
        _k, ticker, action, pos, side, qty, agent, offer_id, price, has, sell, buy, ts = item
        sym = self._syms.get(ticker)
        if sym is None:
            self.counters["unknown_symbol"] += 1
            return
        self.counters["offer_events"] += 1
        if action == 4:
            for sd, data in ((1, sell), (0, buy)):
                if data is not None:
                    self._offer_full(sym, sd, data, ts)
            return
        if side not in (0, 1):
            self._offer_bad(sym, f"action {action}: side {side}")
            return
        offers = sym.offers[side]
        n = len(offers)
        touched: list[tuple[Offer, int]] = []  # offers leaving the book, with their priority times
        added: list[tuple[Offer, int]] = []  # offers entering it
        if action == 0:  # add: lands at position pos, i.e. index n - pos
            px = price_to_raw(sym.inst, price)
            if not 0 <= pos <= n or px is None or qty <= 0:
                self._offer_bad(sym, f"add: pos {pos} of {n}, price {price!r}, qty {qty}")
                return
            new = Offer(offer_id, px, qty, agent)
            offers.insert(n - pos, new)
            sym.prios[side].insert(n - pos, 0)
            self._queue_at(sym, side, n - pos, ts, touched, added)
        elif action == 1:  # edit: only the fields the has-flags name; quantity a delta (default) or absolute
            has_price, has_qty, has_id, has_agent = has
            px = price_to_raw(sym.inst, price) if has_price else 0
            old = offers[n - pos - 1] if 0 <= pos < n else None
            new_qty = 0
            if old is not None:
                new_qty = old.qty if not has_qty else old.qty + qty if self._edit_delta else qty
            if old is None or px is None or new_qty <= 0:
                self._offer_bad(sym, f"edit: pos {pos} of {n}, price {price!r}, qty {qty}")
                return
            i = n - pos - 1
            new = Offer(offer_id if has_id else old.offer_id, px or old.price, new_qty,
                        agent if has_agent else old.agent)
            offers[i] = new
            touched.append((old, sym.prios[side][i]))
            if new.price == old.price:
                added.append((new, sym.prios[side][i]))
            else:
                self._queue_at(sym, side, i, ts, touched, added)
        elif action == 2:  # delete one
            if not 0 <= pos < n:
                self._offer_bad(sym, f"delete: pos {pos} of {n}")
                return
            touched.append((offers.pop(n - pos - 1), sym.prios[side].pop(n - pos - 1)))
        elif action == 3:  # delete from: the offer at pos and every one after it towards the list end
            if not 0 <= pos < n:
                self._offer_bad(sym, f"delete-from: pos {pos} of {n}")
                return
            i = n - pos - 1
            touched += zip(offers[i:], sym.prios[side][i:], strict=True)
            del offers[i:], sym.prios[side][i:]
        else:
            self._offer_bad(sym, f"action {action}")
            return
        self._offer_levels(sym, side, touched, added, ts)

    def _offer_full(self, sym: _Symbol, side: int, data: bytes, ts: int) -> None:
        """One side of a full book; the last packet (``OB_LAST_PACKET``) replaces the side."""
        if not data:
            sym.pending[side] = None
            self._offer_bad(sym, f"full book: array header does not match its size (side {side})")
            return
        count, size = OFFER_HEADER.unpack_from(data)
        (flags,) = OFFER_TRAILER.unpack_from(data, size - OFFER_TRAILER.size)
        part = sym.pending[side] or []
        at = OFFER_HEADER.size
        for _ in range(count):
            price, qty, agent, offer_id, _dlen, _date = OFFER_ENTRY_V2.unpack_from(data, at)
            at += OFFER_ENTRY_V2.size
            px = price_to_raw(sym.inst, price)
            if px is None or qty <= 0:
                self._offer_bad(sym, f"full book: offer {offer_id} price {price!r} qty {qty}")
                continue
            part.append(Offer(offer_id, px, qty, agent))
        if not flags & OB_LAST_PACKET:
            sym.pending[side] = part
            return
        sym.pending[side] = None
        self.counters["offer_full_books"] += 1
        old = list(zip(sym.offers[side], sym.prios[side], strict=True))
        kept = {(o.offer_id, o.price): p for o, p in old}
        prios = [0] * len(part)
        ahead: dict[int, int] = {}  # price -> priority of the last offer seen there, in queue order
        for i in range(len(part) - 1, -1, -1):  # from the list end: the front of each queue first
            o = part[i]
            p = kept.get((o.offer_id, o.price), ts - len(part))  # unknown: resting before the full book
            if o.price in ahead:
                p = max(p, ahead[o.price] + 1)
            prios[i] = ahead[o.price] = p
        sym.offers[side][:] = part
        sym.prios[side][:] = prios
        self._offer_levels(sym, side, old, list(zip(part, prios, strict=True)), ts)

    def _queue_at(self, sym: _Symbol, side: int, i: int, ts: int, touched: list[tuple[Offer, int]],
                  added: list[tuple[Offer, int]]) -> None:
        """Give the offer at index ``i`` its priority time and add it to ``added``. Queues follow DLL positions (of
        the offers at a price, the one at the lower position trades first): joining the back of its level, now;
        in front of or between offers at its price, next to them (those behind move back when there is no room,
        and are republished)."""
        offers, prios = sym.offers[side], sym.prios[side]
        o = offers[i]
        px = o.price
        ahead = behind = None
        level = sym.levels[side].get(px)
        if level:  # others at this price: the nearest on each side in the list
            lo = hi = i
            while lo > 0 and offers[lo - 1].price == px:
                lo -= 1
            while hi + 1 < len(offers) and offers[hi + 1].price == px:
                hi += 1
            if hi - lo == level[1]:  # all of them next to it (a list sorted by price, as the DLL's is)
                ahead, behind = (prios[i + 1] if hi > i else None), (prios[i - 1] if lo < i else None)
            else:
                ahead = next((prios[j] for j in range(i + 1, len(offers)) if offers[j].price == px), None)
                behind = next((prios[j] for j in range(i - 1, -1, -1) if offers[j].price == px), None)
        if ahead is None:
            p = ts if behind is None else min(ts, behind - 1)
        elif behind is None:
            p = max(ts, ahead + 1)
        else:
            p = max((ahead + behind) // 2, ahead + 1)
        prios[i] = last = p
        added.append((o, p))
        if behind is not None and behind <= p:  # no room: move the offers behind it back by what it takes
            for j in range(i - 1, -1, -1):
                if offers[j].price != px:
                    continue
                if prios[j] > last:
                    break
                touched.append((offers[j], prios[j]))
                prios[j] = last = last + 1
                added.append((offers[j], last))

    def _offer_levels(self, sym: _Symbol, side: int, removed: list[tuple[Offer, int]],
                      added: list[tuple[Offer, int]], ts: int) -> None:
        """Publish one ``L3Delta`` per offer that left, entered or changed, with its level's totals after the
        event; an offer that comes back unchanged (a full book) publishes nothing."""
        levels = sym.levels[side]
        same = {(o.offer_id, o.price): (o, p) for o, p in added}
        out: list[tuple[Offer, int, bool]] = []  # (offer, priority, entering)
        for o, p in removed:
            if same.get((o.offer_id, o.price)) == (o, p):
                del same[(o.offer_id, o.price)]  # unchanged
                continue
            lvl = levels[o.price]
            lvl[0] -= o.qty
            lvl[1] -= 1
            if (o.offer_id, o.price) not in same:  # left (else replaced in place below)
                out.append((o, p, False))
        for o, p in added:
            if same.get((o.offer_id, o.price)) != (o, p):
                continue
            lvl = levels.setdefault(o.price, [0, 0])
            lvl[0] += o.qty
            lvl[1] += 1
            out.append((o, p, True))
        dom_side = 1 if side == 0 else 2
        SET, DEL = int(BookAction.SET), int(BookAction.DELETE)
        ready = self._ready
        # offers leaving first (one that moves price leaves its old level before it joins the new one), then
        # best price first: bids high to low, asks low to high
        out.sort(key=lambda e: (e[2], -e[0].price if side == 0 else e[0].price))
        for o, p, entering in out:
            now = levels.get(o.price)
            if now is not None and now[1] <= 0:
                del levels[o.price]
                now = None
            size, orders, action = (now[0], now[1], SET) if now is not None else (0, 0, DEL)
            sym.seq += 1
            self.counters["book_deltas"] += 1
            ready.append(L3Delta(sym.symbol, dom_side, o.price, size, action, sym.seq, ts, ts, orders, o.offer_id,
                                 o.qty if entering else 0, p, o.agent))
