"""Z-score mean reversion: short when the price is ``entry_z`` standard deviations above its rolling
mean over ``window`` prices, long when as far below, flat again once |z| < ``exit_z``.

Rolling sums over a fixed window (O(1) per event). Works on trades or bar closes.
"""

from __future__ import annotations

import math
from collections import deque

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.events import TradeTick
from tradingsystem.strategies.targets import TargetStrategy

__all__ = ["ZScoreConfig", "ZScoreReversion"]


class ZScoreConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = "WINFUT"
    window: int = Field(default=50, gt=2)
    entry_z: float = Field(default=2.0, gt=0)
    exit_z: float = Field(default=0.5, ge=0)
    quantity: int = Field(default=1, gt=0)


class ZScoreReversion(TargetStrategy):
    def __init__(self, config: ZScoreConfig, strategy_id: str = "zscore") -> None:
        if config.exit_z >= config.entry_z:
            raise ValueError("exit_z must be below entry_z")
        super().__init__(strategy_id, config.symbol)
        self.cfg = config
        self._win: deque[int] = deque()
        self._sum = 0
        self._sq = 0
        self.z = 0.0

    def on_trade(self, tick: TradeTick) -> None:
        p = tick.price
        win = self._win
        win.append(p)
        self._sum += p
        self._sq += p * p
        if len(win) > self.cfg.window:
            old = win.popleft()
            self._sum -= old
            self._sq -= old * old
        n = len(win)
        if n < self.cfg.window:
            return
        var = (self._sq * n - self._sum * self._sum) / (n * n)  # exact integer sums, one division
        if var <= 0:
            return
        z = self.z = (p - self._sum / n) / math.sqrt(var)
        cfg = self.cfg
        if z >= cfg.entry_z:
            self.set_target(-cfg.quantity)
        elif z <= -cfg.entry_z:
            self.set_target(cfg.quantity)
        elif abs(z) < cfg.exit_z:
            self.set_target(0)
