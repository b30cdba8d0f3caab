"""Commands (imperative) and order events (past tense). Immutable; timestamps in UTC ns."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class SubmitOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    symbol: str
    side: int
    order_type: int
    quantity: int
    price: int = 0
    trigger_price: int = 0
    tif: int = 1
    strategy_id: str = "manual"
    ts_init: int = 0


class ModifyOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    quantity: int = 0
    price: int = 0
    trigger_price: int = 0
    ts_init: int = 0


class CancelOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    ts_init: int = 0


class CancelAllOrders(msgspec.Struct, frozen=True, gc=False):
    symbol: str = ""
    ts_init: int = 0


class OrderEvent(msgspec.Struct, frozen=True, gc=False):
    """Something happened to an order. ``kind`` is an ``OrderEventKind``.

    Fills carry ``fill_qty``/``fill_price`` (raw units), ``trade_id`` and the ``liquidity`` side
    (1 maker, 2 taker). ``reason`` explains rejections and denials. UPDATED carries the order's new
    total ``quantity`` and ``price``/``trigger_price`` (0 = unchanged).
    """

    order_id: str
    kind: int
    ts_event: int
    symbol: str = ""
    fill_qty: int = 0
    fill_price: int = 0
    trade_id: int = 0
    liquidity: int = 0
    reason: str = ""
    venue_order_id: str = ""
    fee: Decimal = Decimal(0)
    quantity: int = 0
    price: int = 0
    trigger_price: int = 0
