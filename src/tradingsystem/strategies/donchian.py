"""Donchian breakout: long when a price breaks above the highest of the last ``lookback`` prices,
short when it breaks below the lowest; always in the market after the first breakout.

Works on trades, or on bars replayed as close prints (``bar_events(close_as_trade=True)``).
Copy it and change the entry/exit rules; the channel uses monotonic deques (O(1) per event).
"""

from __future__ import annotations

from collections import deque

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.events import TradeTick
from tradingsystem.strategies.targets import TargetStrategy

__all__ = ["DonchianBreakout", "DonchianConfig"]


class DonchianConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = "WINFUT"
    lookback: int = Field(default=20, gt=1)
    quantity: int = Field(default=1, gt=0)


class DonchianBreakout(TargetStrategy):
    def __init__(self, config: DonchianConfig, strategy_id: str = "donchian") -> None:
        super().__init__(strategy_id, config.symbol)
        self.n = config.lookback
        self.qty = config.quantity
        self._i = 0
        self._hi: deque[tuple[int, int]] = deque()  # (index, price), prices decreasing
        self._lo: deque[tuple[int, int]] = deque()  # prices increasing

    def on_trade(self, tick: TradeTick) -> None:
        p, i, n = tick.price, self._i, self.n
        hi, lo = self._hi, self._lo
        if i >= n:
            if p > hi[0][1]:
                self.set_target(self.qty)
            elif p < lo[0][1]:
                self.set_target(-self.qty)
        while hi and hi[-1][1] <= p:
            hi.pop()
        hi.append((i, p))
        while lo and lo[-1][1] >= p:
            lo.pop()
        lo.append((i, p))
        if hi[0][0] <= i - n:
            hi.popleft()
        if lo[0][0] <= i - n:
            lo.popleft()
        self._i = i + 1
