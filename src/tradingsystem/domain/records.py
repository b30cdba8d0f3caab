"""Flat, serialisable records of engine state: what a state store persists and reloads.

Prices stay in raw units (ints); money is Decimal. Every record is immutable.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from tradingsystem.domain.orders import Order


class OrderRecord(msgspec.Struct, frozen=True):
    """An order's full state at one moment (upserted by ``order_id``)."""

    order_id: str
    symbol: str
    side: int
    order_type: int
    quantity: int
    price: int
    trigger_price: int
    tif: int
    strategy_id: str
    status: int
    filled_qty: int
    filled_cost: int
    venue_order_id: str
    ts_init: int
    ts_last: int
    reason: str = ""
    parent_id: str = ""
    group_id: str = ""
    ts_ack: int = 0  # when the engine received the venue's acknowledgement (0: not yet, or not kept)
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, order: Order, parent_id: str = "", group_id: str = "", ts_ack: int = 0) -> OrderRecord:
        return cls(order.order_id, order.symbol, int(order.side), int(order.order_type), order.quantity,
                   order.price, order.trigger_price, int(order.tif), order.strategy_id, int(order.status),
                   order.filled_qty, order.filled_cost, order.venue_order_id, order.ts_init, order.ts_last,
                   order.reason, parent_id, group_id, ts_ack, tuple(order.tags))


class FillRecord(msgspec.Struct, frozen=True):
    """One execution. ``fill_id`` is unique per venue (trade id, or order id + sequence)."""

    fill_id: str
    order_id: str
    symbol: str
    side: int
    quantity: int
    price: int
    fee: Decimal
    ts: int
    strategy_id: str
    liquidity: int = 0
    venue_order_id: str = ""


class RiskStateRecord(msgspec.Struct, frozen=True):
    """The risk engine's persistent state: trading state, kill switch, breakers, day anchors."""

    trading_state: str
    kill_switch: bool
    kill_reason: str
    ts: int
    breakers: dict[str, str] = {}
    day: str = ""
    day_start_equity_brl: Decimal = Decimal(0)
    peak_equity_brl: Decimal = Decimal(0)
    paused: dict[str, str] = {}
    """Instruments a person took from the strategies (symbol -> why and by whom), until resumed."""


class AuditRecord(msgspec.Struct, frozen=True):
    """One risk decision: which order, which rule, the value seen, the limit, the verdict."""

    ts: int
    order_id: str
    rule: str
    value: str
    limit: str
    passed: bool
    detail: str = ""


class ManualActionRecord(msgspec.Struct, frozen=True):
    """One action a person took (kill, reset, flatten, cancel...): who (the channel), what, when, the result."""

    ts: int
    channel: str
    action: str
    detail: str = ""
    result: str = ""
