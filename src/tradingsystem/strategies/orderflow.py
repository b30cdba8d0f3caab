"""Order-flow scalper: enters with the aggressor flow, exits with a resting take-profit limit or a stop.

Over the last ``window`` trades it sums buyer-aggressor minus seller-aggressor volume. When flat and the
imbalance ratio passes ``imbalance`` it buys (or sells) ``quantity`` at market, then rests a limit
``take_profit_ticks`` away (which waits its turn in the queue under the queue-aware venue) and watches
a ``stop_ticks`` stop on the tape (market exit, take-profit cancelled). Needs aggressor flags.
"""

from __future__ import annotations

from collections import deque

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.events import TradeTick
from tradingsystem.domain.orders import Order, OrderStatus, OrderType, Side
from tradingsystem.engine.strategy import Strategy

__all__ = ["OrderFlowConfig", "OrderFlowScalper"]


class OrderFlowConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = "WINFUT"
    window: int = Field(default=50, gt=1)
    imbalance: float = Field(default=0.6, gt=0, le=1)
    take_profit_ticks: int = Field(default=4, gt=0)
    stop_ticks: int = Field(default=4, gt=0)
    quantity: int = Field(default=1, gt=0)


class OrderFlowScalper(Strategy):
    def __init__(self, config: OrderFlowConfig, strategy_id: str = "orderflow") -> None:
        super().__init__(strategy_id, [config.symbol])
        self.cfg = config
        self.symbol = config.symbol
        self._flow: deque[int] = deque()
        self._net = 0
        self._gross = 0
        self._state = "flat"  # flat -> entering -> in -> (exiting) -> flat
        self._exit: Order | None = None
        self._stop = 0
        self._side = 0
        self.entries = 0
        self.stops = 0

    def on_trade(self, tick: TradeTick) -> None:
        signed = tick.size if tick.aggressor == 1 else -tick.size if tick.aggressor == 2 else 0
        flow = self._flow
        flow.append(signed)
        self._net += signed
        self._gross += abs(signed)
        if len(flow) > self.cfg.window:
            old = flow.popleft()
            self._net -= old
            self._gross -= abs(old)
        state = self._state
        if state == "in":
            if (tick.price <= self._stop) if self._side > 0 else (tick.price >= self._stop):
                self.stops += 1
                self._state = "exiting"
                if self._exit is not None:
                    self.cancel(self._exit.order_id)
                    self._exit = None
                pos = self.portfolio.quantity(self.symbol)
                if pos:
                    self.submit(self.symbol, Side.SELL if pos > 0 else Side.BUY, abs(pos))
                else:
                    self._state = "flat"
            return
        if state != "flat" or len(flow) < self.cfg.window or not self._gross:
            return
        ratio = self._net / self._gross
        if abs(ratio) >= self.cfg.imbalance:
            self._side = 1 if ratio > 0 else -1
            self.entries += 1
            self._state = "entering"
            self.submit(self.symbol, Side.BUY if ratio > 0 else Side.SELL, self.cfg.quantity)

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if not order.is_closed:
            return
        state = self._state
        if order.order_type is OrderType.MARKET:
            if state == "entering":
                if order.status is not OrderStatus.FILLED:
                    self._state = "flat"
                    return
                inst = self.cache.instrument(self.symbol)
                entry = inst.round_to_tick(order.filled_cost // order.filled_qty)
                self._stop = entry - self.cfg.stop_ticks * inst.tick * self._side
                self._state = "in"
                self._exit = self.submit(self.symbol, Side.SELL if self._side > 0 else Side.BUY, order.filled_qty,
                                         OrderType.LIMIT, entry + self.cfg.take_profit_ticks * inst.tick * self._side)
            elif state == "exiting" and self.portfolio.quantity(self.symbol) == 0:
                self._state = "flat"
        elif order is self._exit and order.status is OrderStatus.FILLED:
            self._exit = None
            self._state = "flat"
