"""A base for template strategies that think in target positions: set a target, the base trades to it.

One market order works at a time; when it closes the base trades again if the target moved meanwhile
(the same rule as ``EmaCross``).
"""

from __future__ import annotations

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.orders import Order, OrderStatus, Side
from tradingsystem.engine.strategy import Strategy

__all__ = ["TargetStrategy"]


class TargetStrategy(Strategy):
    def __init__(self, strategy_id: str, symbol: str) -> None:
        super().__init__(strategy_id, [symbol])
        self.symbol = symbol
        self.target = 0
        self._working = False
        self.changes = 0

    def set_target(self, target: int) -> None:
        if target != self.target:
            self.target = target
            self.changes += 1
            if not self._working:
                self._rebalance()

    def _rebalance(self) -> None:
        delta = self.target - self.portfolio.quantity(self.symbol)
        if delta:
            self._working = True
            self.submit(self.symbol, Side.BUY if delta > 0 else Side.SELL, abs(delta))

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if order.is_closed and order.order_type == 1:
            self._working = False
            if order.status is OrderStatus.FILLED:
                self._rebalance()
