"""Ports: the small protocols that adapters implement and the engine depends on."""

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
    "Clock", "DataSink", "ExecutionClient", "ExecutionSink", "MarketDataFeed", "SessionCalendar",
    "StateStore", "TickStore",
]
