"""Strategies that ship with the project (templates users copy and adapt)."""

from tradingsystem.strategies.ema_cross import EmaCross, EmaCrossConfig

__all__ = ["EmaCross", "EmaCrossConfig"]
