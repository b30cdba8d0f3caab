"""Orders emulated on our side: OCO pairs, brackets and trailing stops.

ProfitDLL has no OCO call, so the legs live here and watch the tape. When a leg's condition hits,
the emulator sends one child order for the group's remaining quantity (a take-profit leg as an IOC
limit at its price, a stop or trailing leg as a market order) and waits for it to finish before
sending another. Both legs share the remaining quantity, so a partial fill of one leg resizes its
sibling and a pair can never fill beyond its quantity. A bracket's entry order grows the protected
quantity as it fills; an entry that dies unfilled leaves no children behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.events import TradeTick
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus, OrderType, Side, TimeInForce
from tradingsystem.engine.orders import OrderManager

_FILLED = int(OrderEventKind.FILLED)
_DENIED = int(OrderEventKind.DENIED)


class Tape(Protocol):
    def watch(self, symbol: str, handler: Callable[[TradeTick], None]) -> None: ...

    def unwatch(self, symbol: str, handler: Callable[[TradeTick], None]) -> None: ...

    def last_price(self, symbol: str) -> int | None: ...


@dataclass
class OcoGroup:
    """Exit legs protecting ``quantity`` lots; ``side`` is the exit side."""

    group_id: str
    symbol: str
    side: Side
    quantity: int
    strategy_id: str
    take_profit: int = 0
    stop: int = 0
    trail: int = 0
    extreme: int = 0
    filled: int = 0
    parent_id: str = ""
    active_child: str = ""
    children: list[str] = field(default_factory=list)
    done: bool = False
    retry_after: int = 0

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled

    def trailing_trigger(self) -> int:
        return self.extreme - self.trail if self.side is Side.SELL else self.extreme + self.trail


class OrderEmulator:
    """Holds OCO groups and trailing stops; submits their children through the order manager."""

    def __init__(self, orders: OrderManager, tape: Tape) -> None:
        self._orders = orders
        self._tape = tape
        self.groups: dict[str, OcoGroup] = {}
        self._by_symbol: dict[str, dict[str, OcoGroup]] = {}
        self._by_child: dict[str, OcoGroup] = {}
        self._by_parent: dict[str, OcoGroup] = {}
        self._next = 0
        orders.add_listener(self.on_order_event)

    # --- creating groups -----------------------------------------------------------------------
    def oco(
        self,
        symbol: str,
        side: Side,
        quantity: int,
        take_profit: int = 0,
        stop: int = 0,
        trail: int = 0,
        strategy_id: str = "manual",
        parent_id: str = "",
    ) -> OcoGroup:
        """Exit legs for ``quantity`` lots: any of take-profit price, stop trigger, trailing distance."""
        if not (take_profit or stop or trail):
            raise ValueError("an OCO group needs a take-profit, a stop or a trailing distance")
        if quantity < 0 or (quantity == 0 and not parent_id):
            raise ValueError("an OCO group needs a positive quantity")
        self._next += 1
        group = OcoGroup(
            f"G-{self._next}", symbol, side, quantity, strategy_id, take_profit, stop, trail, parent_id=parent_id
        )
        if trail:
            group.extreme = self._tape.last_price(symbol) or 0
        self.groups[group.group_id] = group
        if not self._by_symbol.get(symbol):
            self._by_symbol[symbol] = {}
            self._tape.watch(symbol, self.on_trade)
        self._by_symbol[symbol][group.group_id] = group
        return group

    def trailing_stop(
        self, symbol: str, side: Side, quantity: int, trail: int, strategy_id: str = "manual"
    ) -> OcoGroup:
        return self.oco(symbol, side, quantity, trail=trail, strategy_id=strategy_id)

    def bracket(self, entry: Order, take_profit: int = 0, stop: int = 0, trail: int = 0) -> OcoGroup:
        """Submit ``entry``; exits protect whatever it fills."""
        group = self.oco(
            entry.symbol, entry.side.opposite, 0, take_profit, stop, trail, entry.strategy_id, parent_id=entry.order_id
        )
        self._by_parent[entry.order_id] = group
        self._orders.submit(entry)
        if entry.status is OrderStatus.REJECTED:
            self._finish(group)
        return group

    def cancel(self, group_id: str) -> bool:
        group = self.groups.get(group_id)
        if group is None or group.done:
            return False
        if group.active_child:
            self._orders.cancel(group.active_child)
        self._finish(group)
        return True

    def cancel_all(self, symbol: str | None = None) -> int:
        ids = [g.group_id for g in self.groups.values() if symbol is None or g.symbol == symbol]
        return sum(self.cancel(i) for i in ids)

    def _finish(self, group: OcoGroup) -> None:
        group.done = True
        self.groups.pop(group.group_id, None)
        per = self._by_symbol.get(group.symbol, {})
        per.pop(group.group_id, None)
        if not per and group.symbol in self._by_symbol:
            del self._by_symbol[group.symbol]
            self._tape.unwatch(group.symbol, self.on_trade)
        if group.parent_id:
            self._by_parent.pop(group.parent_id, None)

    # --- the tape ------------------------------------------------------------------------------
    def on_trade(self, tick: TradeTick) -> None:
        groups = self._by_symbol.get(tick.symbol)
        if not groups:
            return
        px = tick.price
        for group in list(groups.values()):
            if group.trail:
                if group.extreme == 0 or (group.side is Side.SELL and px > group.extreme) or (
                    group.side is Side.BUY and px < group.extreme
                ):
                    group.extreme = px
            if group.active_child or group.remaining <= 0 or tick.ts_event < group.retry_after:
                continue
            sell = group.side is Side.SELL
            if group.take_profit and (px >= group.take_profit if sell else px <= group.take_profit):
                self._send(group, OrderType.LIMIT, group.take_profit, TimeInForce.IOC, "take_profit")
            elif group.stop and (px <= group.stop if sell else px >= group.stop):
                self._send(group, OrderType.MARKET, 0, TimeInForce.DAY, "stop")
            elif group.trail and (px <= group.trailing_trigger() if sell else px >= group.trailing_trigger()):
                self._send(group, OrderType.MARKET, 0, TimeInForce.DAY, "trailing_stop")

    def _send(self, group: OcoGroup, otype: OrderType, price: int, tif: TimeInForce, leg: str) -> None:
        om = self._orders
        order = om.new_order(
            group.symbol,
            group.side,
            group.remaining,
            otype,
            price,
            0,
            tif,
            group.strategy_id,
            (f"group:{group.group_id}", f"leg:{leg}"),
        )
        group.active_child = order.order_id
        group.children.append(order.order_id)
        self._by_child[order.order_id] = group
        om.submit(order)

    # --- order events --------------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        oid = order.order_id
        parent_group = self._by_parent.get(oid)
        if parent_group is not None:
            if event.kind == _FILLED:  # protect what the entry filled
                parent_group.quantity += event.fill_qty
            if order.is_closed:
                self._by_parent.pop(oid, None)
                parent_group.parent_id = ""
                if parent_group.quantity == 0:
                    self._finish(parent_group)
            return
        group = self._by_child.get(oid)
        if group is None:
            return
        if event.kind == _FILLED:
            group.filled += event.fill_qty
        elif event.kind == _DENIED:
            group.retry_after = event.ts_event + 1_000_000_000  # retry a denied exit after a second
        if order.is_closed:
            self._by_child.pop(oid, None)
            if group.active_child == oid:
                group.active_child = ""
            if group.remaining <= 0 and not group.parent_id:
                self._finish(group)
