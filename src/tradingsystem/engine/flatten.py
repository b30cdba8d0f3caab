"""Flatten until flat: the kill switch's closing orders, kept right whatever the venue does meanwhile.

A flatten request makes a symbol a *target*. On the request and after every order event of that
symbol, the controller recomputes what is needed from what will remain once the cancels land:
``|position| - open closing orders not pending cancel``. If a cancel is refused because the order
filled, or a pending-cancel order fills, the position moves and the next event sends the difference
(the other way if the race overshot). A target ends once the symbol is flat with nothing working.
"""

from __future__ import annotations

from collections.abc import Callable

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.orders import Order, OrderStatus, OrderType, Side
from tradingsystem.engine.cache import Cache
from tradingsystem.engine.orders import OrderManager

_S_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
MAX_ROUNDS = 50
"""Flatten orders one target may send before it gives up and alerts (a venue that cancels every one)."""
MAX_CANCELS = 3
"""Cancels asked of one order while flattening (a venue that refuses them)."""


class Flattener:
    """Owns the flatten targets.

    ``position`` reads the portfolio, ``limits(symbol)`` gives (largest order, max position), ``halted`` says
    whether the kill switch is engaged (then the symbol's other orders are cancelled too), ``alert`` reports.
    """

    def __init__(self, orders: OrderManager, cache: Cache, position: Callable[[str], int],
                 limits: Callable[[str], tuple[int, int]], halted: Callable[[], bool],
                 alert: Callable[[str, str], None]) -> None:
        self._orders = orders
        self._cache = cache
        self._position = position
        self._limits = limits
        self._halted = halted
        self._alert = alert
        self.targets: dict[str, str] = {}  # symbol -> reason
        self._rounds: dict[str, int] = {}
        self._cancels: dict[str, int] = {}  # order id -> cancels asked (a venue may refuse one)
        self._busy = False
        orders.add_listener(self.on_order_event)

    def request(self, symbols: list[str], reason: str) -> int:
        """Make ``symbols`` targets and send what is needed now; returns the orders sent."""
        sent = 0
        for sym in symbols:
            if self._position(sym) or any(o.symbol == sym for o in self._cache.open_orders.values()):
                self.targets[sym] = reason
                self._rounds.setdefault(sym, 0)
                sent += self._step(sym)
        return sent

    def clear(self) -> None:
        """Stop flattening (a person reset the risk state and trades again)."""
        self.targets.clear()
        self._rounds.clear()
        self._cancels.clear()

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if order.symbol in self.targets and not self._busy:
            self._step(order.symbol)

    def _step(self, sym: str) -> int:
        """Bring ``sym``'s closing orders in line with its position.

        Closing orders pending cancel are assumed cancelled, unless all of them filling as well would take the
        position past its limit on the other side: then only that much is sent now, the rest when they land.
        """
        reason = self.targets[sym]
        max_chunk, max_pos = self._limits(sym)
        self._busy = True  # a venue without latency answers inside submit: the loop below sees its effect
        sent = 0
        try:
            for _ in range(8):
                opens = [o for o in self._cache.open_orders.values() if o.symbol == sym]
                if self._halted():
                    for o in opens:
                        asked = self._cancels.get(o.order_id, 0)
                        if "flatten" not in o.tags and o.status is not _S_PENDING_CANCEL and asked < MAX_CANCELS:
                            self._cancels[o.order_id] = asked + 1
                            self._orders.cancel(o.order_id)
                pos = self._position(sym)
                if pos == 0 and not opens:
                    del self.targets[sym]
                    self._rounds.pop(sym, None)
                    if not self.targets:
                        self._cancels.clear()
                    return sent
                side = Side.SELL if pos > 0 else Side.BUY
                live = going = 0
                for o in opens:
                    if o.side is side:
                        if o.status is _S_PENDING_CANCEL:
                            going += o.leaves_qty
                        else:
                            live += o.leaves_qty
                need = min(abs(pos) - live, max_pos + abs(pos) - live - going)
                if need <= 0:
                    return sent
                if self._rounds[sym] >= MAX_ROUNDS:
                    del self.targets[sym]
                    self._alert(sym, f"flatten of {sym} gave up after {MAX_ROUNDS} orders; position {pos}")
                    return sent
                self._rounds[sym] += 1
                chunk = min(need, max_chunk)
                order = self._orders.new_order(sym, side, chunk, OrderType.MARKET, strategy_id="risk",
                                               tags=("flatten",))
                order.reason = reason
                self._orders.submit(order, reduce_only=True)
                if order.status is OrderStatus.REJECTED:  # denied by risk: the next event retries
                    return sent
                sent += 1
            return sent
        finally:
            self._busy = False
