"""Restart reconciliation with a broker that lists its orders and positions (ProfitDLL).

After the state store is replayed, the broker's word wins: orders it lists are matched to ours (by the
venue order id, else an unacknowledged order of the same symbol, side and size), the fills it made while
we were down are applied to our orders, orders it never had are closed here (never resent), and orders
placed elsewhere (the broker's screen), working or filled, are adopted with their fills (owner ``broker``) so
cancel-all and kill see them and P&L counts them. Last, each position is
compared with the broker's; a difference is adopted as a fill of an order owned by ``broker`` (stored like
any fill, so the next restart agrees) and reported as a mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus, OrderType, Side
from tradingsystem.engine.kernel import Kernel

BROKER = "broker"  # the owner of orders and positions adopted from the broker
_K = OrderEventKind
_ENDED = {"filled": _K.FILLED, "cancelled": _K.CANCELLED, "rejected": _K.REJECTED, "expired": _K.EXPIRED}


class BrokerOrder(Protocol):
    """One order as the broker lists it; prices in raw units, ``state`` one of open, filled, cancelled,
    rejected, expired."""

    @property
    def order_id(self) -> str: ...  # the adapter's id for an order it does not know ("profit-<local id>")
    @property
    def venue_order_id(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def quantity(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def avg_price(self) -> int: ...
    @property
    def state(self) -> str: ...


@runtime_checkable
class BrokerState(Protocol):
    """What a broker session says at start: every order of the day, and the open positions."""

    def broker_orders(self) -> Sequence[BrokerOrder]: ...

    def broker_positions(self) -> dict[str, tuple[int, int]]:
        """symbol -> (signed quantity, average price in raw units)."""
        ...

    def adopt(self, order_id: str, broker_order_id: str) -> None:
        """Route later commands and reports of the broker's order under our ``order_id``."""
        ...

    def instrument(self, symbol: str) -> Instrument: ...


@dataclass
class BrokerReport:
    listed: int = 0
    matched: int = 0
    fills_recovered: int = 0
    orders_lost: list[str] = field(default_factory=list)
    orders_adopted: list[str] = field(default_factory=list)
    positions_adopted: dict[str, int] = field(default_factory=dict)
    broker_positions: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)


def reconcile_broker(kernel: Kernel, broker: BrokerState, listed: Sequence[BrokerOrder], orders: dict[str, Order]
                     ) -> BrokerReport:
    """Bring the restored ``orders`` (every order of the store, by id) and positions in line with ``broker``,
    which ``listed`` (its orders, read once) came from."""
    report = BrokerReport(listed=len(listed))
    # An open order wins over a closed one with the same venue id (an order adopted after we closed ours);
    # what they filled together is what the store knows of the broker's order.
    by_venue: dict[str, Order] = {}
    known: dict[str, tuple[int, int]] = {}
    for o in sorted(orders.values(), key=lambda o: o.is_open):
        if o.venue_order_id:
            by_venue[o.venue_order_id] = o
            q, c = known.get(o.venue_order_id, (0, 0))
            known[o.venue_order_id] = (q + o.filled_qty, c + o.filled_cost)
    unacked = [o for o in kernel.cache.open_orders.values() if o.status is OrderStatus.SUBMITTED
               and not o.venue_order_id]
    seen: set[str] = set()
    for b in listed:
        ours = by_venue.get(b.venue_order_id) or _take_unacked(unacked, b)
        got = known.get(b.venue_order_id, (0, 0)) if ours is not None and ours.venue_order_id else \
            (ours.filled_qty, ours.filled_cost) if ours is not None else (0, 0)
        # Unknown here, or closed here yet working (or filled further) there: the broker's, from here on.
        if ours is None or (ours.is_closed and (b.state == "open" or b.filled > got[0])):
            if b.state == "open" or b.filled > got[0]:
                _adopt_order(kernel, broker, b, got, report)
            continue
        seen.add(ours.order_id)
        report.matched += 1
        if b.state == "open":
            broker.adopt(ours.order_id, b.order_id)
        _catch_up(kernel, ours, b, got, report)
    for o in list(kernel.cache.open_orders.values()):
        if o.order_id in seen or o.order_id in report.orders_adopted:
            continue
        # Not at the broker: it never arrived, or it ended while we were down. Close it here; never resend.
        kind = _K.REJECTED if o.status is OrderStatus.SUBMITTED else _K.CANCELLED
        if kind is _K.CANCELLED:
            report.mismatches.append(f"order {o.order_id} was working and the broker does not list it")
        _event(kernel, o, kind, reason="not at the broker after restart")
        report.orders_lost.append(o.order_id)
    _positions(kernel, broker, report)
    return report


def _take_unacked(unacked: list[Order], b: BrokerOrder) -> Order | None:
    """An order we sent but never heard of (the process died before the ack): same symbol, side and size."""
    for o in unacked:
        if o.symbol == b.symbol and o.side == b.side and o.quantity == b.quantity and \
                (o.order_type is OrderType.MARKET or o.price == b.price):
            unacked.remove(o)
            return o
    return None


def _event(kernel: Kernel, o: Order, kind: OrderEventKind, qty: int = 0, price: int = 0, reason: str = "",
           venue_order_id: str = "") -> None:
    kernel.orders.on_order_event(OrderEvent(o.order_id, int(kind), kernel.clock.now(), o.symbol, qty, price,
                                            reason=reason, venue_order_id=venue_order_id))


def _catch_up(kernel: Kernel, o: Order, b: BrokerOrder, got: tuple[int, int], report: BrokerReport) -> None:
    """Apply what the broker did with ``o`` while we were down (``got``: quantity and cost the store has)."""
    if o.is_closed:
        if b.filled < got[0]:
            report.mismatches.append(f"order {o.order_id}: the store has {got[0]} filled, the broker {b.filled}")
        return
    if o.status is OrderStatus.SUBMITTED:
        if b.state == "rejected" and not b.filled:
            _event(kernel, o, _K.REJECTED, reason="rejected at the broker while down", venue_order_id=b.venue_order_id)
            return
        _event(kernel, o, _K.ACCEPTED, venue_order_id=b.venue_order_id)
    delta = b.filled - got[0]
    if delta > 0:
        _event(kernel, o, _K.FILLED, delta, _fill_price(kernel, b, got, delta))
        report.fills_recovered += 1
    if o.is_closed:
        return
    ended = _ENDED.get(b.state)
    if ended is _K.REJECTED:  # after an acceptance here: it ended there, whatever the broker calls it
        ended = _K.CANCELLED
    if ended is not None and ended is not _K.FILLED:
        _event(kernel, o, ended, reason=f"{b.state} at the broker while down")


def _grid(inst: Instrument, amount: int, qty: int) -> int:
    """``amount / qty`` rounded to the nearest price on ``inst``'s grid."""
    return inst.round_to_tick((2 * amount + qty) // (2 * qty))


def _fill_price(kernel: Kernel, b: BrokerOrder, got: tuple[int, int], qty: int) -> int:
    """The price of the broker's fills beyond ``got`` (from its average price), on the grid."""
    inst = kernel.instruments[b.symbol]
    if b.avg_price:
        return _grid(inst, b.avg_price * b.filled - got[1], qty)
    last = kernel.cache.last_trade.get(b.symbol)
    return b.price or (last.price if last else inst.tick)


def _adopt_order(kernel: Kernel, broker: BrokerState, b: BrokerOrder, got: tuple[int, int],
                 report: BrokerReport) -> None:
    """An order placed elsewhere, working or filled: into the cache under the broker's id, owned by ``broker``,
    with the fills the store does not have (stored like any fill)."""
    ensure_instrument(kernel, broker, b.symbol)
    o = Order(b.order_id, b.symbol, b.side, OrderType.LIMIT if b.price else OrderType.MARKET, b.quantity, b.price,
              strategy_id=BROKER, ts_init=kernel.clock.now(), tags=("adopted",))
    o.status, o.venue_order_id = OrderStatus.ACCEPTED, b.venue_order_id
    kernel.cache.add_order(o)
    kernel.orders.track_pending(o)
    fills = b.filled - got[0]
    if fills > 0:
        _event(kernel, o, _K.FILLED, fills, _fill_price(kernel, b, got, fills))
    if b.state != "open" and not o.is_closed:
        _event(kernel, o, _K.CANCELLED, reason=f"{b.state} at the broker")
    report.orders_adopted.append(o.order_id)
    what = "works at the broker" if b.state == "open" else f"{b.state} at the broker, {b.filled} filled,"
    report.mismatches.append(f"order {b.venue_order_id or b.order_id} ({b.symbol} {b.side.name} {b.quantity}) {what} "
                             "and the store does not know it: adopted")


def ensure_instrument(kernel: Kernel, broker: BrokerState, symbol: str) -> None:
    """A symbol the node does not trade: known from now on (the cache, risk and flatten share the mapping).
    Its market data is not subscribed: the position is marked at its adoption price."""
    if symbol not in kernel.instruments:
        kernel.instruments[symbol] = broker.instrument(symbol)


def _positions(kernel: Kernel, broker: BrokerState, report: BrokerReport) -> None:
    held = broker.broker_positions()
    report.broker_positions = {s: q for s, (q, _) in sorted(held.items()) if q}
    for symbol in sorted(set(held) | set(kernel.portfolio.positions)):
        theirs, avg = held.get(symbol, (0, 0))
        diff = theirs - kernel.portfolio.quantity(symbol)
        if not diff:
            continue
        ensure_instrument(kernel, broker, symbol)
        inst = kernel.instruments[symbol]
        last = kernel.cache.last_trade.get(symbol)
        price = inst.round_to_tick(avg) if avg > 0 else last.price if last else inst.tick
        side = Side.BUY if diff > 0 else Side.SELL
        o = kernel.orders.new_order(symbol, side, abs(diff), OrderType.MARKET, strategy_id=BROKER, tags=("adopted",))
        o.status = OrderStatus.ACCEPTED
        kernel.cache.add_order(o)
        kernel.orders.track_pending(o)
        _event(kernel, o, _K.FILLED, abs(diff), price)
        report.positions_adopted[symbol] = diff
        report.mismatches.append(f"{symbol}: the store holds {theirs - diff}, the broker {theirs}: "
                                 f"{diff:+d} adopted at {inst.to_price(price)}")
