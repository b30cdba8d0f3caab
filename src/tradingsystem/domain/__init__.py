"""Domain model: instruments and B3 rules, exact prices, events, commands, orders, positions."""

from tradingsystem.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    ModifyOrder,
    OrderEvent,
    SubmitOrder,
)
from tradingsystem.domain.errors import (
    HaltRequired,
    InvalidRequest,
    InvalidTransition,
    OffGrid,
    RetryLater,
    TradingSystemError,
    UnknownInstrument,
)
from tradingsystem.domain.events import Aggressor, Bar, BookAction, BookDelta, BookSnapshot, Quote, TradeTick
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import AssetClass, Instrument, cents
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus, OrderType, Side, TimeInForce
from tradingsystem.domain.positions import Position

__all__ = [
    "Aggressor", "AssetClass", "Bar", "BookAction", "BookDelta", "BookSnapshot", "CancelAllOrders",
    "CancelOrder", "FeeSchedule", "HaltRequired", "Instrument", "InvalidRequest", "InvalidTransition",
    "ModifyOrder", "OffGrid", "Order", "OrderEvent", "OrderEventKind", "OrderStatus", "OrderType",
    "Position", "Quote", "RetryLater", "Side", "SubmitOrder", "TimeInForce", "TradeTick",
    "TradingSystemError", "UnknownInstrument", "cents",
]
