"""Strategies that ship with the project (templates users copy and adapt)."""

from tradingsystem.strategies.donchian import DonchianBreakout, DonchianConfig
from tradingsystem.strategies.ema_cross import EmaCross, EmaCrossConfig
from tradingsystem.strategies.ml_signal import MlSignalConfig, MlSignalFollower
from tradingsystem.strategies.orderflow import OrderFlowConfig, OrderFlowScalper
from tradingsystem.strategies.signals import ema_cross_targets
from tradingsystem.strategies.targets import TargetStrategy
from tradingsystem.strategies.zscore import ZScoreConfig, ZScoreReversion

__all__ = [
    "DonchianBreakout",
    "DonchianConfig",
    "EmaCross",
    "EmaCrossConfig",
    "MlSignalConfig",
    "MlSignalFollower",
    "OrderFlowConfig",
    "OrderFlowScalper",
    "TargetStrategy",
    "ZScoreConfig",
    "ZScoreReversion",
    "ema_cross_targets",
]
