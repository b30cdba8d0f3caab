"""EMA cross: always in the market with ``quantity`` lots, reversing on each cross with market orders."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.events import TradeTick
from tradingsystem.domain.orders import Order, OrderStatus, Side
from tradingsystem.engine.strategy import Strategy

_SIDE_BUY = Side.BUY
_SIDE_SELL = Side.SELL
_S_FILLED = OrderStatus.FILLED


class EmaCrossConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = "WINFUT"
    fast: int = Field(default=10, gt=0)
    slow: int = Field(default=30, gt=1)
    quantity: int = Field(default=1, gt=0)


class EmaCross(Strategy):
    """Long when EMA(fast) > EMA(slow), short when below; one working order at a time."""

    def __init__(self, config: EmaCrossConfig, strategy_id: str = "ema_cross") -> None:
        if config.fast >= config.slow:
            raise ValueError("fast period must be shorter than slow period")
        super().__init__(strategy_id, [config.symbol])
        self.symbol = config.symbol
        self.qty = config.quantity
        self._af = 2.0 / (config.fast + 1)
        self._as = 2.0 / (config.slow + 1)
        self._bf, self._bs = 1.0 - self._af, 1.0 - self._as  # EMA as a*x + (1-a)*prev: lfilter's own ops
        self._warmup = config.slow
        self.fast = 0.0
        self.slow = 0.0
        self._n = 0
        self._target = 0
        self._working = False
        self.crosses = 0

    def on_trade(self, tick: TradeTick) -> None:
        p = tick.price
        n = self._n
        if n < self._warmup:  # the count stops at the warm-up: after it, nothing but the EMAs on each trade
            if n == 0:
                self.fast = self.slow = float(p)
            else:
                self.fast = self._af * p + self._bf * self.fast
                self.slow = self._as * p + self._bs * self.slow
            self._n = n + 1
            return
        fast = self.fast = self._af * p + self._bf * self.fast
        slow = self.slow = self._as * p + self._bs * self.slow
        if fast == slow:
            return
        target = self.qty if fast > slow else -self.qty
        if target != self._target:
            self._target = target
            self.crosses += 1
            if not self._working:
                self._rebalance()

    def _rebalance(self) -> None:
        delta = self._target - self.portfolio.quantity(self.symbol)
        if delta:
            self._working = True
            self.submit(self.symbol, _SIDE_BUY if delta > 0 else _SIDE_SELL, abs(delta))

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if order.is_closed:
            self._working = False
            if order.status is _S_FILLED:
                self._rebalance()  # the target may have flipped while the order was working
