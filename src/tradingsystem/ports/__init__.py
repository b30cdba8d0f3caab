"""Ports: the small protocols that adapters implement and the engine depends on."""

from tradingsystem.ports.notify import ChannelError, Notification, Notifier, TradingControl
from tradingsystem.ports.protocols import (
    Clock,
    DataSink,
    ExecutionClient,
    ExecutionSink,
    MarketDataFeed,
    SessionCalendar,
    StateStore,
    TickStore,
)

__all__ = [
    "ChannelError",
    "Clock",
    "DataSink",
    "ExecutionClient",
    "ExecutionSink",
    "MarketDataFeed",
    "Notification",
    "Notifier",
    "SessionCalendar",
    "StateStore",
    "TickStore",
    "TradingControl",
]
