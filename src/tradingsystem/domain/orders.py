"""Orders: types, time in force, and the state table that every order event is applied through."""

from __future__ import annotations

from enum import IntEnum

from tradingsystem.domain.errors import InvalidTransition


class Side(IntEnum):
    BUY = 1
    SELL = 2

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(IntEnum):
    MARKET = 1
    LIMIT = 2
    STOP_MARKET = 3
    STOP_LIMIT = 4


class TimeInForce(IntEnum):
    DAY = 1
    IOC = 2
    FOK = 3
    GTC = 4


class OrderStatus(IntEnum):
    INITIALIZED = 0
    SUBMITTED = 1
    ACCEPTED = 2
    REJECTED = 3
    PARTIALLY_FILLED = 4
    FILLED = 5
    CANCELLED = 6
    EXPIRED = 7
    PENDING_UPDATE = 8
    PENDING_CANCEL = 9
    TRIGGERED = 10


class OrderEventKind(IntEnum):
    SUBMITTED = 1
    ACCEPTED = 2
    REJECTED = 3
    FILLED = 4  # a fill, partial or complete
    CANCELLED = 5
    EXPIRED = 6
    PENDING_UPDATE = 7
    PENDING_CANCEL = 8
    UPDATED = 9
    MODIFY_REJECTED = 10
    CANCEL_REJECTED = 11
    TRIGGERED = 12
    DENIED = 13  # refused by our own risk engine before reaching the venue


S, E = OrderStatus, OrderEventKind
_OPEN = (S.ACCEPTED, S.PARTIALLY_FILLED, S.TRIGGERED)
_PENDING = (S.PENDING_UPDATE, S.PENDING_CANCEL)

TRANSITIONS: dict[tuple[OrderStatus, OrderEventKind], OrderStatus] = {
    (S.INITIALIZED, E.SUBMITTED): S.SUBMITTED,
    (S.INITIALIZED, E.DENIED): S.REJECTED,
    (S.INITIALIZED, E.REJECTED): S.REJECTED,
    (S.SUBMITTED, E.ACCEPTED): S.ACCEPTED,
    (S.SUBMITTED, E.REJECTED): S.REJECTED,
    (S.SUBMITTED, E.CANCELLED): S.CANCELLED,
    (S.SUBMITTED, E.EXPIRED): S.EXPIRED,
    (S.SUBMITTED, E.FILLED): S.FILLED,  # resolved to PARTIALLY_FILLED by quantity
    (S.SUBMITTED, E.PENDING_CANCEL): S.PENDING_CANCEL,
}
for _s in _OPEN:
    TRANSITIONS.update(
        {
            (_s, E.FILLED): S.FILLED,
            (_s, E.CANCELLED): S.CANCELLED,
            (_s, E.EXPIRED): S.EXPIRED,
            (_s, E.PENDING_UPDATE): S.PENDING_UPDATE,
            (_s, E.PENDING_CANCEL): S.PENDING_CANCEL,
            (_s, E.UPDATED): _s,
            (_s, E.TRIGGERED): S.TRIGGERED,
            (_s, E.MODIFY_REJECTED): _s,
            (_s, E.CANCEL_REJECTED): _s,
        }
    )
TRANSITIONS[(S.PENDING_UPDATE, E.PENDING_CANCEL)] = S.PENDING_CANCEL
for _s in _PENDING:
    TRANSITIONS.update(
        {
            (_s, E.FILLED): S.FILLED,
            (_s, E.CANCELLED): S.CANCELLED,
            (_s, E.EXPIRED): S.EXPIRED,
            (_s, E.UPDATED): S.ACCEPTED,
            (_s, E.MODIFY_REJECTED): S.ACCEPTED,
            (_s, E.CANCEL_REJECTED): S.ACCEPTED,
            (_s, E.ACCEPTED): S.ACCEPTED,
            (_s, E.TRIGGERED): S.TRIGGERED,
        }
    )

CLOSED = frozenset({S.REJECTED, S.FILLED, S.CANCELLED, S.EXPIRED})

# The same table as a 2-D list indexed by (status, kind): Enum hashing is slow on the hot path.
_TABLE: list[list[OrderStatus | None]] = [[None] * (max(E) + 1) for _ in range(max(S) + 1)]
for (_st, _kd), _nx in TRANSITIONS.items():
    _TABLE[_st][_kd] = _nx
_IS_CLOSED = [st in CLOSED for st in sorted(S)]


_S_ACCEPTED = OrderStatus.ACCEPTED
_S_INITIALIZED = OrderStatus.INITIALIZED
_S_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED


class Order:
    """A mutable order whose status changes only through :meth:`apply`."""

    __slots__ = (
        "filled_cost",
        "filled_qty",
        "order_id",
        "order_type",
        "price",
        "quantity",
        "reason",
        "side",
        "status",
        "strategy_id",
        "symbol",
        "tags",
        "tif",
        "trigger_price",
        "ts_init",
        "ts_last",
        "venue_order_id",
    )

    def __init__(
        self,
        order_id: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        quantity: int,
        price: int = 0,
        trigger_price: int = 0,
        tif: TimeInForce = TimeInForce.DAY,
        strategy_id: str = "manual",
        ts_init: int = 0,
        tags: tuple[str, ...] = (),
    ) -> None:
        self.order_id = order_id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.quantity = quantity
        self.price = price
        self.trigger_price = trigger_price
        self.tif = tif
        self.strategy_id = strategy_id
        self.status = _S_INITIALIZED
        self.filled_qty = 0
        self.filled_cost = 0  # sum of raw price * quantity over fills
        self.venue_order_id = ""
        self.ts_init = ts_init
        self.ts_last = ts_init
        self.reason = ""
        self.tags = tags

    @property
    def leaves_qty(self) -> int:
        return self.quantity - self.filled_qty

    @property
    def is_closed(self) -> bool:
        return _IS_CLOSED[self.status]

    @property
    def is_open(self) -> bool:
        return not self.is_closed

    def can_apply(self, kind: OrderEventKind) -> bool:
        return _TABLE[self.status][kind] is not None

    def apply(self, kind: OrderEventKind, ts: int, fill_qty: int = 0, fill_price: int = 0) -> OrderStatus:
        """Move to the next state; raise InvalidTransition if the event does not apply."""
        nxt = _TABLE[self.status][kind]
        if nxt is None:
            raise InvalidTransition(f"order {self.order_id}: {kind.name} does not apply to {self.status.name}")
        if kind == 4:  # FILLED
            if fill_qty <= 0 or fill_qty > self.leaves_qty:
                raise InvalidTransition(
                    f"order {self.order_id}: fill of {fill_qty} exceeds leaves {self.leaves_qty}"
                )
            self.filled_qty += fill_qty
            self.filled_cost += fill_qty * fill_price
            if self.filled_qty < self.quantity:
                nxt = _S_PARTIALLY_FILLED
        elif nxt is _S_ACCEPTED and self.filled_qty:
            nxt = _S_PARTIALLY_FILLED
        self.status = nxt
        self.ts_last = ts
        return nxt

    def avg_fill_price(self) -> float:
        return self.filled_cost / self.filled_qty if self.filled_qty else 0.0

    def __repr__(self) -> str:
        return (
            f"Order({self.order_id} {self.side.name} {self.quantity} {self.symbol} "
            f"{self.order_type.name} px={self.price} {self.status.name} filled={self.filled_qty})"
        )
