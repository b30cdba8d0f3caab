"""backtest layer: replay feeds, fill models (simple and queue-aware), reports, validation and sweeps."""

from tradingsystem.backtest.costs import FeeModel
from tradingsystem.backtest.feeds import MergedFeed, bar_events, book_events, session_filter, trade_events
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig
from tradingsystem.backtest.results import BacktestResult, metrics, round_trips, run_kernel
from tradingsystem.backtest.vectorized import vector_backtest

__all__ = [
    "BacktestResult",
    "FeeModel",
    "MergedFeed",
    "QueueVenue",
    "QueueVenueConfig",
    "bar_events",
    "book_events",
    "metrics",
    "round_trips",
    "run_kernel",
    "session_filter",
    "trade_events",
    "vector_backtest",
]
