"""TradingSystem: automated trading on B3 with one engine for backtest and live."""

__all__ = ["__version__"]
__version__ = "0.1.0"
