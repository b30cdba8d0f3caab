"""Price-time-priority matching engine for one instrument, with call auctions.

Orders are kept per price level in FIFO queues; price levels are published as ``BookDelta``
(side 1 bid, 2 ask; ``size`` the new level total; SET or DELETE; a per-instrument ``sequence``),
coalesced so each operation emits one delta per level it touched.

Rules (B3 flavour):
- Order types MARKET, LIMIT, STOP_MARKET, STOP_LIMIT; TIF DAY, IOC, FOK, GTC.
- A MARKET order sweeps the opposite side; an unfilled rest of a DAY/GTC market order rests as a limit
  at its last executed price (B3 rule); if nothing traded at all it is cancelled ("no liquidity").
  IOC/FOK market orders cancel the rest.
- Stops trigger when the last trade reaches the trigger (buy: last >= trigger, sell: last <= trigger);
  a stop whose trigger is already reached on arrival is rejected. A buy stop-limit needs
  limit >= trigger, a sell one limit <= trigger. Stops, market, IOC and FOK orders are not accepted
  during call auctions.
- Modify: a price change or a quantity increase loses priority (the order re-enters as if new and may
  trade); a quantity cut keeps priority. ``quantity`` in a modify is the new total (filled included).
- Call auctions (``Phase.OPENING_CALL``/``CLOSING_CALL``): orders accumulate without matching (the book
  may be crossed meanwhile); leaving the call uncrosses at the price maximising executed quantity
  (ties: least imbalance, then nearest the last price, then the lower price). After an uncross or any
  continuous operation the book is never crossed.
- Phase CLOSED: new orders and modifies are rejected; cancels are accepted. ``CANCEL_ONLY`` likewise.
  Leaving a session (``set_phase(CLOSED)``) expires DAY orders; GTC orders stay.

Reports for orders submitted with ``own=True`` go to ``on_report``; agents' orders report nothing.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable

from tradingsystem.backtest.matching_rules import (
    BUY,
    DAY,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP_LIMIT,
    STOP_MARKET,
    validate_modify,
    validate_new,
)
from tradingsystem.domain.events import BookDelta, TradeTick
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderEventKind
from tradingsystem.domain.sessions import Phase

MAKER, TAKER = 1, 2

__all__ = [
    "BUY", "DAY", "FOK", "GTC", "IOC", "LIMIT", "MAKER", "MARKET", "SELL", "STOP_LIMIT", "STOP_MARKET", "TAKER",
    "Level", "MatchingEngine", "ReportFn", "RestingOrder",
]

_K_ACCEPTED = int(OrderEventKind.ACCEPTED)
_K_REJECTED = int(OrderEventKind.REJECTED)
_K_FILLED = int(OrderEventKind.FILLED)
_K_CANCELLED = int(OrderEventKind.CANCELLED)
_K_EXPIRED = int(OrderEventKind.EXPIRED)
_K_UPDATED = int(OrderEventKind.UPDATED)
_K_MODIFY_REJECTED = int(OrderEventKind.MODIFY_REJECTED)
_K_CANCEL_REJECTED = int(OrderEventKind.CANCEL_REJECTED)
_K_TRIGGERED = int(OrderEventKind.TRIGGERED)

_CONTINUOUS = Phase.CONTINUOUS
_AUCTIONS = (Phase.OPENING_CALL, Phase.CLOSING_CALL)


class RestingOrder:
    """An order inside the engine. ``qty`` is what is left, ``quantity`` the total, ``live`` while working."""

    __slots__ = (
        "broker", "filled", "live", "oid", "otype", "own", "price", "qty", "quantity", "reason", "ref",
        "side", "tif", "trigger", "ts",
    )

    def __init__(
        self, oid: int, side: int, otype: int, quantity: int, price: int, trigger: int, tif: int,
        broker: int, own: bool, ref: object, ts: int,
    ) -> None:
        self.oid = oid
        self.side = side
        self.otype = otype
        self.quantity = quantity
        self.qty = quantity
        self.filled = 0
        self.price = price
        self.trigger = trigger
        self.tif = tif
        self.broker = broker
        self.own = own
        self.ref = ref
        self.ts = ts
        self.live = False
        self.reason = ""

    def __repr__(self) -> str:
        return (f"RestingOrder({self.oid} side={self.side} type={self.otype} px={self.price} "
                f"qty={self.qty}/{self.quantity} live={self.live})")


class Level:
    """One price level: FIFO queue of orders and their total quantity."""

    __slots__ = ("orders", "price", "total")

    def __init__(self, price: int) -> None:
        self.price = price
        self.total = 0
        self.orders: deque[RestingOrder] = deque()


ReportFn = Callable[[RestingOrder, int, int, int, int, int, int, str], None]
"""(order, kind, ts, fill_qty, fill_price, trade_id, liquidity, reason)"""


def _no_report(order: RestingOrder, kind: int, ts: int, qty: int, price: int, tid: int, liq: int,
               reason: str) -> None:
    return None


def _drop(_: object) -> None:
    return None


class MatchingEngine:
    """The book and matching rules of one instrument."""

    def __init__(
        self,
        instrument: Instrument,
        on_trade: Callable[[TradeTick], None] = _drop,
        on_delta: Callable[[BookDelta], None] = _drop,
        on_report: ReportFn = _no_report,
        phase: Phase = Phase.CONTINUOUS,
        publish_book: bool = True,
    ) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.tick = instrument.tick
        self.lot = instrument.lot
        self.on_trade = on_trade
        self.on_delta = on_delta
        self.on_report = on_report
        self.publish_book = publish_book
        self.phase = phase
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_prices: list[int] = []  # ascending; best bid is the last
        self.ask_prices: list[int] = []  # ascending; best ask is the first
        self.stops: list[RestingOrder] = []
        self.last_price = 0
        self.trade_count = 0
        self.volume = 0
        self.sequence = 0
        self._next_oid = 0
        self._touched_bid: dict[int, None] = {}
        self._touched_ask: dict[int, None] = {}
        self._traded = False

    # ----------------------------------------------------------------- queries
    @property
    def best_bid(self) -> int:
        return self.bid_prices[-1] if self.bid_prices else 0

    @property
    def best_ask(self) -> int:
        return self.ask_prices[0] if self.ask_prices else 0

    def is_crossed(self) -> bool:
        return bool(self.bid_prices and self.ask_prices and self.bid_prices[-1] >= self.ask_prices[0])

    def depth(self, levels: int = 10) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``levels`` of each side, best first, as (price, size)."""
        bids = [(p, self.bids[p].total) for p in reversed(self.bid_prices[-levels:])]
        asks = [(p, self.asks[p].total) for p in self.ask_prices[:levels]]
        return bids, asks

    def level_size(self, side: int, price: int) -> int:
        lvl = (self.bids if side == BUY else self.asks).get(price)
        return lvl.total if lvl else 0

    def working_orders(self) -> list[RestingOrder]:
        """Every live order (book and untriggered stops), in book order."""
        out: list[RestingOrder] = []
        for p in reversed(self.bid_prices):
            out.extend(self.bids[p].orders)
        for p in self.ask_prices:
            out.extend(self.asks[p].orders)
        out.extend(self.stops)
        return out

    # ----------------------------------------------------------------- commands
    def submit(
        self, side: int, otype: int, quantity: int, price: int = 0, trigger: int = 0, tif: int = DAY,
        broker: int = 0, ts: int = 0, ref: object = None, own: bool = False,
    ) -> RestingOrder:
        """Enter an order. Returns it; if rejected, ``live`` is False and ``reason`` says why."""
        self._next_oid += 1
        order = RestingOrder(self._next_oid, side, otype, quantity, price, trigger, tif, broker, own, ref, ts)
        reason = validate_new(self, order)
        if reason:
            order.reason = reason
            if own:
                self.on_report(order, _K_REJECTED, ts, 0, 0, 0, 0, reason)
            return order
        if own:
            self.on_report(order, _K_ACCEPTED, ts, 0, 0, 0, 0, "")
        if otype in (STOP_MARKET, STOP_LIMIT):
            order.live = True
            self.stops.append(order)
            return order
        if self.phase is _CONTINUOUS:
            self._execute(order, ts)
            if self._traded and self.stops:
                self._check_stops(ts)
        else:
            self._rest(order)
        self._flush(ts)
        return order

    def modify(self, order: RestingOrder, quantity: int = 0, price: int = 0, trigger: int = 0,
               ts: int = 0) -> str:
        """Change a working order; returns "" or the reason it was refused (nothing changes then)."""
        reason = validate_modify(self, order, quantity, price, trigger)
        if reason:
            if order.own:
                self.on_report(order, _K_MODIFY_REJECTED, ts, 0, 0, 0, 0, reason)
            return reason
        new_total = quantity or order.quantity
        new_price = price or order.price
        new_trigger = trigger or order.trigger
        new_leaves = new_total - order.filled
        if order.otype == STOP_MARKET or order.otype == STOP_LIMIT:
            order.quantity, order.qty, order.price, order.trigger = new_total, new_leaves, new_price, new_trigger
            if order.own:
                self.on_report(order, _K_UPDATED, ts, 0, 0, 0, 0, "")
            return ""
        if new_price == order.price and new_leaves <= order.qty:
            lvl = (self.bids if order.side == BUY else self.asks)[order.price]
            lvl.total -= order.qty - new_leaves
            order.quantity, order.qty = new_total, new_leaves
            self._touch(order.side, order.price)
            if order.own:
                self.on_report(order, _K_UPDATED, ts, 0, 0, 0, 0, "")
            self._flush(ts)
            return ""
        self._unlink(order)
        order.quantity, order.qty, order.price, order.ts = new_total, new_leaves, new_price, ts
        if order.otype == MARKET:
            order.otype = LIMIT  # a rested market rest re-priced is a plain limit
        if order.own:
            self.on_report(order, _K_UPDATED, ts, 0, 0, 0, 0, "")
        if self.phase is _CONTINUOUS:
            self._execute(order, ts)
            if self._traded and self.stops:
                self._check_stops(ts)
        else:
            self._rest(order)
        self._flush(ts)
        return ""

    def cancel(self, order: RestingOrder, ts: int = 0, reason: str = "") -> str:
        """Pull a working order; returns "" or why not (a CANCEL_REJECTED for own orders)."""
        if not order.live:
            why = "order is not working (already filled, cancelled or expired)"
            if order.own:
                self.on_report(order, _K_CANCEL_REJECTED, ts, 0, 0, 0, 0, why)
            return why
        self._unlink(order)
        if order.own:
            self.on_report(order, _K_CANCELLED, ts, 0, 0, 0, 0, reason)
        self._flush(ts)
        return ""

    def set_phase(self, phase: Phase, ts: int) -> None:
        """Move to ``phase``: leaving a call uncrosses; entering CLOSED expires DAY orders."""
        old = self.phase
        if old == phase:
            return
        self.phase = phase
        if old in _AUCTIONS and phase not in _AUCTIONS:
            self._uncross(ts)
            if phase is _CONTINUOUS and self._traded and self.stops:
                self._check_stops(ts)
        if phase == Phase.CLOSED:
            self.expire(ts)
        self._flush(ts)

    def expire(self, ts: int, keep_gtc: bool = True) -> None:
        """End of session: pull every DAY order (all orders if ``keep_gtc`` is False)."""
        for order in self.working_orders():
            if keep_gtc and order.tif == GTC:
                continue
            self._unlink(order)
            if order.own:
                self.on_report(order, _K_EXPIRED, ts, 0, 0, 0, 0, "end of session")
        self._flush(ts)

    # ----------------------------------------------------------------- book internals
    def _touch(self, side: int, price: int) -> None:
        if side == BUY:
            self._touched_bid[price] = None
        else:
            self._touched_ask[price] = None

    def _rest(self, o: RestingOrder) -> None:
        price = o.price
        if o.side == BUY:
            lvl = self.bids.get(price)
            if lvl is None:
                lvl = self.bids[price] = Level(price)
                insort(self.bid_prices, price)
            self._touched_bid[price] = None
        else:
            lvl = self.asks.get(price)
            if lvl is None:
                lvl = self.asks[price] = Level(price)
                insort(self.ask_prices, price)
            self._touched_ask[price] = None
        lvl.orders.append(o)
        lvl.total += o.qty
        o.live = True

    def _unlink(self, o: RestingOrder) -> None:
        """Take a live order out of the book or the stop list."""
        o.live = False
        if o.otype == STOP_MARKET or o.otype == STOP_LIMIT:
            self.stops.remove(o)
            return
        price = o.price
        if o.side == BUY:
            book, prices, touched = self.bids, self.bid_prices, self._touched_bid
        else:
            book, prices, touched = self.asks, self.ask_prices, self._touched_ask
        lvl = book[price]
        lvl.orders.remove(o)
        lvl.total -= o.qty
        touched[price] = None
        if not lvl.orders:
            del book[price]
            del prices[bisect_left(prices, price)]

    def _flush(self, ts: int) -> None:
        """Publish one delta per touched level."""
        tb, ta = self._touched_bid, self._touched_ask
        if not (tb or ta):
            return
        if self.publish_book:
            emit, sym, seq = self.on_delta, self.symbol, self.sequence
            for side, touched, book in ((BUY, tb, self.bids), (SELL, ta, self.asks)):
                for price in touched:
                    lvl = book.get(price)
                    seq += 1
                    if lvl is None:
                        emit(BookDelta(sym, side, price, 0, 1, seq, ts, ts, 0))
                    else:
                        emit(BookDelta(sym, side, price, lvl.total, 0, seq, ts, ts, len(lvl.orders)))
            self.sequence = seq
        tb.clear()
        ta.clear()

    # ----------------------------------------------------------------- continuous matching
    def _fillable(self, o: RestingOrder) -> int:
        """Quantity available to ``o`` right now within its limit (for FOK)."""
        need, got = o.qty, 0
        if o.side == BUY:
            for p in self.ask_prices:
                if o.otype == LIMIT and p > o.price:
                    break
                got += self.asks[p].total
                if got >= need:
                    break
        else:
            for p in reversed(self.bid_prices):
                if o.otype == LIMIT and p < o.price:
                    break
                got += self.bids[p].total
                if got >= need:
                    break
        return got

    def _execute(self, o: RestingOrder, ts: int) -> None:
        """Match an incoming order in continuous trading, then rest, cancel or expire what is left."""
        self._traded = False
        if o.tif == FOK and self._fillable(o) < o.qty:
            if o.own:
                self.on_report(o, _K_CANCELLED, ts, 0, 0, 0, 0, "FOK: not fully fillable at once")
            return
        self._match(o, ts)
        if o.qty == 0:
            return
        if o.tif == IOC or o.tif == FOK:
            if o.own:
                self.on_report(o, _K_CANCELLED, ts, 0, 0, 0, 0, "IOC: unfilled rest cancelled")
            return
        if o.otype == MARKET:
            if not o.filled:
                if o.own:
                    self.on_report(o, _K_CANCELLED, ts, 0, 0, 0, 0, "market order: no liquidity")
                return
            o.price = self.last_price  # B3: the rest of a market order rests at its last price
            self._rest(o)
            if o.own:
                self.on_report(o, _K_UPDATED, ts, 0, 0, 0, 0, "market order rest now rests at its last price")
            return
        self._rest(o)

    def _match(self, o: RestingOrder, ts: int) -> None:
        buy = o.side == BUY
        if buy:
            book, prices, touched = self.asks, self.ask_prices, self._touched_ask
        else:
            book, prices, touched = self.bids, self.bid_prices, self._touched_bid
        limit = o.price if o.otype == LIMIT else 0
        report, emit, sym = self.on_report, self.on_trade, self.symbol
        qty = o.qty
        aggressor = BUY if buy else SELL
        tid = self.trade_count
        px = 0
        while qty and prices:
            px = prices[0] if buy else prices[-1]
            if limit and (px > limit if buy else px < limit):
                break
            lvl = book[px]
            queue = lvl.orders
            touched[px] = None
            while qty and queue:
                r = queue[0]
                f = r.qty if r.qty < qty else qty
                qty -= f
                r.qty -= f
                r.filled += f
                lvl.total -= f
                tid += 1
                if buy:
                    emit(TradeTick(sym, px, f, aggressor, tid, ts, ts, o.broker, r.broker))
                else:
                    emit(TradeTick(sym, px, f, aggressor, tid, ts, ts, r.broker, o.broker))
                if r.qty == 0:
                    queue.popleft()
                    r.live = False
                if r.own:
                    report(r, _K_FILLED, ts, f, px, tid, MAKER, "")
                o.filled += f
                if o.own:
                    o.qty = qty
                    report(o, _K_FILLED, ts, f, px, tid, TAKER, "")
                self.volume += f
            if not queue:
                del book[px]
                if buy:
                    del prices[0]
                else:
                    prices.pop()
        o.qty = qty
        if tid != self.trade_count:
            self.trade_count = tid
            self.last_price = px
            self._traded = True

    def _check_stops(self, ts: int) -> None:
        """Trigger stops reached by the last trade, in arrival order, until none is left to fire."""
        while self.stops:
            last = self.last_price
            fired = None
            for s in self.stops:
                if (s.side == BUY and last >= s.trigger) or (s.side == SELL and last <= s.trigger):
                    fired = s
                    break
            if fired is None:
                return
            self.stops.remove(fired)
            fired.live = False
            fired.otype = MARKET if fired.otype == STOP_MARKET else LIMIT
            if fired.own:
                self.on_report(fired, _K_TRIGGERED, ts, 0, 0, 0, 0, "")
            self._execute(fired, ts)

    # ----------------------------------------------------------------- call auction
    def auction_price(self) -> tuple[int, int]:
        """(price, executable quantity) of an uncross now; (0, 0) if nothing crosses.

        The price maximises executed quantity; ties go to the least imbalance, then the price
        nearest the last trade, then the lower price.
        """
        bid_prices, ask_prices = self.bid_prices, self.ask_prices
        if not (bid_prices and ask_prices) or bid_prices[-1] < ask_prices[0]:
            return 0, 0
        lo, hi = ask_prices[0], bid_prices[-1]
        cands = sorted({p for p in bid_prices if p >= lo} | {p for p in ask_prices if p <= hi})
        buy_at: dict[int, int] = {}  # bid volume at or above p
        acc, bi = 0, len(bid_prices) - 1
        for p in reversed(cands):
            while bi >= 0 and bid_prices[bi] >= p:
                acc += self.bids[bid_prices[bi]].total
                bi -= 1
            buy_at[p] = acc
        best_key: tuple[int, int, int, int] | None = None
        best = (0, 0)
        acc, ai, ref = 0, 0, self.last_price  # acc: ask volume at or below p
        for p in cands:
            while ai < len(ask_prices) and ask_prices[ai] <= p:
                acc += self.asks[ask_prices[ai]].total
                ai += 1
            buy = buy_at[p]
            ex = buy if buy < acc else acc
            key = (-ex, abs(buy - acc), abs(p - ref) if ref else 0, p)
            if best_key is None or key < best_key:
                best_key, best = key, (p, ex)
        return best

    def _uncross(self, ts: int) -> None:
        price, qty = self.auction_price()
        if not qty:
            return
        report, emit, sym = self.on_report, self.on_trade, self.symbol
        tid = self.trade_count
        bids, asks = self.bids, self.asks
        while qty:
            bp, ap = self.bid_prices[-1], self.ask_prices[0]
            blvl, alvl = bids[bp], asks[ap]
            b, a = blvl.orders[0], alvl.orders[0]
            f = min(b.qty, a.qty, qty)
            qty -= f
            for r, lvl in ((b, blvl), (a, alvl)):
                r.qty -= f
                r.filled += f
                lvl.total -= f
            tid += 1
            emit(TradeTick(sym, price, f, 0, tid, ts, ts, b.broker, a.broker))
            self.volume += f
            for r, lvl, prices, book, touched in ((b, blvl, self.bid_prices, bids, self._touched_bid),
                                                  (a, alvl, self.ask_prices, asks, self._touched_ask)):
                touched[lvl.price] = None
                if r.qty == 0:
                    lvl.orders.popleft()
                    r.live = False
                    if not lvl.orders:
                        del book[lvl.price]
                        del prices[bisect_left(prices, lvl.price)]
                if r.own:
                    report(r, _K_FILLED, ts, f, price, tid, MAKER, "")
        self.trade_count = tid
        self.last_price = price
        self._traded = True
