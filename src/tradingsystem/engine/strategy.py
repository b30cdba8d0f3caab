"""Strategy base class: callbacks for market data and order events, helpers to trade.

A strategy sees read-only views of the cache and portfolio and gets time from the clock; every
order it sends passes the risk engine. The same strategy runs in backtests and live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.events import Bar, BookDelta, TradeTick
from tradingsystem.domain.orders import Order, OrderType, Side, TimeInForce
from tradingsystem.engine.cache import CacheView
from tradingsystem.engine.portfolio import PortfolioView

if TYPE_CHECKING:
    from tradingsystem.engine.kernel import Kernel


class Strategy:
    """Override the ``on_*`` methods you need. ``subscriptions`` lists the symbols to receive."""

    def __init__(self, strategy_id: str, symbols: list[str]) -> None:
        self.strategy_id = strategy_id
        self.symbols = list(symbols)
        self.cache: CacheView
        self.portfolio: PortfolioView
        self._kernel: Kernel | None = None

    # --- wiring (called by the kernel) ---------------------------------------------------------
    def bind(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self.cache = CacheView(kernel.cache)
        self.portfolio = PortfolioView(kernel.portfolio)

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None:
            raise RuntimeError(f"strategy {self.strategy_id} is not bound to a kernel")
        return self._kernel

    def now(self) -> int:
        return self.kernel.clock.now()

    # --- callbacks -----------------------------------------------------------------------------
    def on_start(self) -> None:
        """Called once before the first event."""

    def on_trade(self, tick: TradeTick) -> None:
        """Called for each trade of a subscribed symbol."""

    def on_book(self, delta: BookDelta) -> None:
        """Called for each book change of a subscribed symbol (only if ``wants_book``)."""

    def on_bar(self, bar: Bar) -> None:
        """Called for each bar of a subscribed symbol."""

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        """Called for every event of this strategy's orders (denials included)."""

    def on_stop(self) -> None:
        """Called once when the kernel stops."""

    wants_book = False

    # --- actions -------------------------------------------------------------------------------
    def submit(self, symbol: str, side: Side, quantity: int, order_type: OrderType = OrderType.MARKET,
               price: int = 0, trigger_price: int = 0, tif: TimeInForce = TimeInForce.DAY) -> Order:
        om = self.kernel.orders
        order = om.new_order(symbol, side, quantity, order_type, price, trigger_price, tif, self.strategy_id)
        return om.submit(order)

    def buy(self, symbol: str, quantity: int) -> Order:
        return self.submit(symbol, Side.BUY, quantity)

    def sell(self, symbol: str, quantity: int) -> Order:
        return self.submit(symbol, Side.SELL, quantity)

    def buy_limit(self, symbol: str, quantity: int, price: int, tif: TimeInForce = TimeInForce.DAY) -> Order:
        return self.submit(symbol, Side.BUY, quantity, OrderType.LIMIT, price, tif=tif)

    def sell_limit(self, symbol: str, quantity: int, price: int, tif: TimeInForce = TimeInForce.DAY) -> Order:
        return self.submit(symbol, Side.SELL, quantity, OrderType.LIMIT, price, tif=tif)

    def cancel(self, order_id: str) -> bool:
        return self.kernel.orders.cancel(order_id)

    def cancel_all(self, symbol: str | None = None) -> int:
        return self.kernel.orders.cancel_all(symbol, self.strategy_id)

    def set_timer(self, ts: int, callback: Callable[[int], None]) -> None:
        """Call ``callback(ts)`` at event time ``ts``."""
        self.kernel.clock.schedule(ts, callback)
