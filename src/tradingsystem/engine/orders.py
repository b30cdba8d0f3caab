"""Order manager: creates orders, passes them through risk, routes them, applies their events.

Every order has an owner, its ``strategy_id``: a registered strategy, ``manual`` (or ``manual:<channel>``)
for a person's order, ``risk`` for the flattener. A strategy's orders on an instrument a person has taken
(``paused``) are refused; a manual order that is sent calls ``on_manual`` (the kernel pauses the strategies).
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec.structs import replace

from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.errors import InvalidTransition
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus, OrderType, Side, TimeInForce
from tradingsystem.engine.cache import Cache
from tradingsystem.engine.portfolio import Portfolio
from tradingsystem.engine.risk import RiskEngine
from tradingsystem.ports.protocols import Clock, ExecutionClient

_K_CANCELLED = OrderEventKind.CANCELLED
_K_DENIED = OrderEventKind.DENIED
_K_EXPIRED = OrderEventKind.EXPIRED
_K_PENDING_CANCEL = OrderEventKind.PENDING_CANCEL
_K_PENDING_UPDATE = OrderEventKind.PENDING_UPDATE
_K_MODIFY_REJECTED = OrderEventKind.MODIFY_REJECTED
_K_REJECTED = OrderEventKind.REJECTED
_K_SUBMITTED = OrderEventKind.SUBMITTED
_K_UPDATED = OrderEventKind.UPDATED
_SIDE_BUY = Side.BUY
_S_ACCEPTED = OrderStatus.ACCEPTED
_S_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_S_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
_S_PENDING_UPDATE = OrderStatus.PENDING_UPDATE
_T_MARKET = OrderType.MARKET
_UPDATABLE = frozenset({_S_PENDING_UPDATE, _S_ACCEPTED, _S_PARTIALLY_FILLED, _S_PENDING_CANCEL})

EventHandler = Callable[[Order, OrderEvent], None]
ManualHook = Callable[[Order], None]
_FILLED = OrderEventKind.FILLED
_KINDS = [OrderEventKind(k) if k in OrderEventKind._value2member_map_ else None for k in range(max(OrderEventKind) + 1)]
_CLOSED_KINDS = frozenset(
    {_K_REJECTED, _K_CANCELLED, _K_EXPIRED, _K_DENIED}
)
_N_KINDS = len(_KINDS)
_CLOSING = [k in _CLOSED_KINDS for k in range(len(_KINDS))]  # indexed by kind: Enum hashing is slow


class OrderManager:
    """Implements ``ports.ExecutionSink``. The only door to the execution client."""

    def __init__(self, cache: Cache, portfolio: Portfolio, risk: RiskEngine, clock: Clock,
                 execution: ExecutionClient | None = None, id_prefix: str = "O") -> None:
        self.id_prefix = id_prefix
        self._cache = cache
        self._portfolio = portfolio
        self._risk = risk
        self._clock = clock
        self._execution = execution
        self._handlers: dict[str, EventHandler] = {}
        self._listeners: list[EventHandler] = []
        self._next_id = 0
        self._pending_buy: dict[str, int] = {}
        self._pending_sell: dict[str, int] = {}
        self._modify_extra: dict[str, int] = {}  # order id of a modify in flight -> quantity it may add
        self.submitted = 0
        self.denied = 0
        self.fills = 0
        self.bad_events = 0
        self.listener_errors = 0
        self.last_error = ""
        self.paused: dict[str, str] = {}  # symbol -> why: strategies may not trade it (the guard's dict)
        self.paused_refused = 0
        self.on_manual: ManualHook | None = None

    def attach(self, execution: ExecutionClient) -> None:
        self._execution = execution

    def register(self, strategy_id: str, handler: EventHandler) -> None:
        """Order events of ``strategy_id``'s orders go to ``handler``."""
        self._handlers[strategy_id] = handler

    def add_listener(self, handler: EventHandler) -> None:
        """A listener sees every order event (stores, dashboards, alerts)."""
        self._listeners.append(handler)

    def is_strategy(self, owner: str) -> bool:
        """Whether ``owner`` is a registered strategy (not a person, the flattener or a roll)."""
        return owner in self._handlers

    def _paused_reason(self, order: Order) -> str | None:
        why = self.paused.get(order.symbol)
        if why is None or order.strategy_id not in self._handlers:
            return None
        return (f"strategies paused on {order.symbol}: {why}; "
                f"`tradingsystem strategies resume {order.symbol}` hands it back")

    def track_pending(self, order: Order) -> None:
        """Count a restored working order's open quantity."""
        self._add_pending(order, order.leaves_qty)

    def reserve_ids(self, top: int) -> None:
        """New order ids continue after ``top`` (after a restart)."""
        self._next_id = max(self._next_id, top)

    def pending(self, symbol: str, sign: int) -> int:
        """Signed open quantity of working orders on one side."""
        return self._pending_buy.get(symbol, 0) if sign > 0 else -self._pending_sell.get(symbol, 0)

    def pending_live(self, symbol: str, sign: int) -> int:
        """``pending`` less the orders already asked to cancel (what will remain once the cancels land)."""
        going = sum(o.leaves_qty for o in self._cache.open_orders.values()
                    if o.symbol == symbol and o.status is _S_PENDING_CANCEL and (o.side is _SIDE_BUY) is (sign > 0))
        return self.pending(symbol, sign) - (going if sign > 0 else -going)

    # --- commands ------------------------------------------------------------------------------
    def new_order(self, symbol: str, side: Side, quantity: int, order_type: OrderType = _T_MARKET,
                  price: int = 0, trigger_price: int = 0, tif: TimeInForce = TimeInForce.DAY,
                  strategy_id: str = "manual", tags: tuple[str, ...] = ()) -> Order:
        self._next_id += 1
        return Order(f"{self.id_prefix}-{self._next_id}", symbol, side, order_type, quantity, price, trigger_price, tif,
                     strategy_id, self._clock.now(), tags)

    def submit(self, order: Order, reduce_only: bool = False) -> Order:
        """Check the order against risk and send it; a denial comes back as a DENIED event.

        ``reduce_only`` marks the kill switch's flatten orders, the only ones a HALTED state lets through.
        """
        ts = self._clock.now()
        reason = self._paused_reason(order) if self.paused else None
        if reason is not None:
            self.paused_refused += 1
        else:
            reason = self._risk.check(order, ts, reduce_only)
        if reason is not None:
            self.denied += 1
            order.reason = reason
            order.apply(_K_DENIED, ts)
            self._cache.closed_orders.append(order)
            self._dispatch(order, OrderEvent(order.order_id, _K_DENIED, ts, order.symbol,
                                             reason=reason))
            return order
        if self.on_manual is not None and order.strategy_id.startswith("manual"):
            self.on_manual(order)  # strategies leave the instrument before the person's order goes out
        order.apply(_K_SUBMITTED, ts)
        self._cache.add_order(order)
        book = self._pending_buy if order.side is _SIDE_BUY else self._pending_sell
        book[order.symbol] = book.get(order.symbol, 0) + order.quantity
        self.submitted += 1
        if self._execution is None:
            raise RuntimeError("no execution client attached")
        self._execution.submit(SubmitOrder(order.order_id, order.symbol, int(order.side), int(order.order_type),
                                           order.quantity, order.price, order.trigger_price, int(order.tif),
                                           order.strategy_id, ts))
        return order

    def cancel(self, order_id: str) -> bool:
        """Ask to cancel; idempotent (False if the order is unknown or already closed)."""
        order = self._cache.order(order_id)
        if order is None or not order.can_apply(_K_PENDING_CANCEL):
            return False
        if self._execution is None:
            raise RuntimeError("no execution client attached")
        order.apply(_K_PENDING_CANCEL, self._clock.now())
        self._execution.cancel(CancelOrder(order_id, self._clock.now()))
        return True

    def modify(self, order_id: str, quantity: int = 0, price: int = 0, trigger_price: int = 0) -> bool:
        """Ask to change a working order; it passes the same risk checks as a new order (a denial comes back as
        MODIFY_REJECTED with the reason). False if not sent."""
        order = self._cache.order(order_id)
        if order is None or not order.can_apply(_K_PENDING_UPDATE) or order_id in self._modify_extra:
            return False  # unknown, closed, not yet acknowledged, or a modify already in flight
        if self._execution is None:
            raise RuntimeError("no execution client attached")
        ts = self._clock.now()
        probe = Order(order.order_id, order.symbol, order.side, order.order_type, quantity or order.quantity,
                      price or order.price, trigger_price or order.trigger_price, order.tif, order.strategy_id,
                      ts, order.tags)
        probe.filled_qty = order.filled_qty
        reason = self._paused_reason(order) if self.paused else None
        self._add_pending(order, -order.leaves_qty)  # the check sees the order as it would be, not twice
        try:
            reason = reason or self._risk.check(probe, ts, modify=True)
        finally:
            self._add_pending(order, order.leaves_qty)
        if reason is not None:
            self.denied += 1
            self._dispatch(order, OrderEvent(order.order_id, _K_MODIFY_REJECTED, ts, order.symbol, reason=reason))
            return False
        order.apply(_K_PENDING_UPDATE, ts)
        extra = max(probe.leaves_qty - order.leaves_qty, 0)
        self._modify_extra[order_id] = extra  # until the venue answers either size may be working: count the larger
        self._add_pending(order, extra)
        self._execution.modify(ModifyOrder(order_id, quantity, price, trigger_price, ts))
        return True

    def cancel_all(self, symbol: str | None = None, strategy_id: str | None = None) -> int:
        ids = [o.order_id for o in list(self._cache.open_orders.values())
               if (symbol is None or o.symbol == symbol) and (strategy_id is None or o.strategy_id == strategy_id)]
        return sum(self.cancel(i) for i in ids)

    # --- ExecutionSink -------------------------------------------------------------------------
    def on_order_event(self, event: OrderEvent) -> None:
        order = self._cache._order_index.get(event.order_id)  # Cache.order without the call
        if order is None:
            self.bad_events += 1
            self.last_error = f"event for unknown order {event.order_id}"
            return
        kind = _KINDS[event.kind] if 0 <= event.kind < _N_KINDS else None
        if kind is None:
            self.bad_events += 1
            self.last_error = f"order {event.order_id}: unknown event kind {event.kind}"
            return
        if self._modify_extra and (kind is _K_UPDATED or kind is _K_MODIFY_REJECTED or _CLOSING[kind]):
            self._add_pending(order, -self._modify_extra.pop(order.order_id, 0))
        if kind is _K_UPDATED and order.status in _UPDATABLE:
            self._add_pending(order, -order.leaves_qty)
            if event.quantity:
                order.quantity = event.quantity
            if event.price:
                order.price = event.price
            if event.trigger_price:
                order.trigger_price = event.trigger_price
            self._add_pending(order, order.leaves_qty)
        try:
            order.apply(kind, event.ts_event, event.fill_qty if kind is _FILLED else 0, event.fill_price)
        except InvalidTransition as exc:
            self.bad_events += 1
            self.last_error = str(exc)
            return
        if event.venue_order_id:
            order.venue_order_id = event.venue_order_id
        if kind is _FILLED:
            self.fills += 1
            qty = event.fill_qty
            symbol = order.symbol
            side = order.side
            book = self._pending_buy if side is _SIDE_BUY else self._pending_sell
            book[symbol] = book.get(symbol, 0) - qty
            sign = 1 if side == 1 else -1
            fee = self._portfolio.apply_fill(symbol, order.strategy_id, sign, qty, event.fill_price,
                                             event.fee if event.fee else None)
            if fee != event.fee:
                event = replace(event, fee=fee) if event.symbol else replace(event, fee=fee, symbol=symbol)
        elif _CLOSING[kind]:
            self._add_pending(order, -order.leaves_qty)
            order.reason = event.reason or order.reason
        if order.is_closed:
            if self._modify_extra:
                self._add_pending(order, -self._modify_extra.pop(order.order_id, 0))
            self._cache.close_order(order)
        self._dispatch(order, event)

    def _add_pending(self, order: Order, qty: int) -> None:
        book = self._pending_buy if order.side is _SIDE_BUY else self._pending_sell
        book[order.symbol] = book.get(order.symbol, 0) + qty

    def _dispatch(self, order: Order, event: OrderEvent) -> None:
        """Every listener, then the order's strategy; one that raises is counted and the others still run."""
        for listener in self._listeners:
            try:
                listener(order, event)
            except Exception as exc:  # a broken store, dashboard or alert must never stop the engine
                self._listener_failed(listener, exc)
        handler = self._handlers.get(order.strategy_id)
        if handler is not None:
            try:
                handler(order, event)
            except Exception as exc:
                self._listener_failed(handler, exc)

    def _listener_failed(self, listener: EventHandler, exc: Exception) -> None:
        self.listener_errors += 1
        self.last_error = f"order-event listener {getattr(listener, '__qualname__', listener)!s} failed: {exc!r}"

