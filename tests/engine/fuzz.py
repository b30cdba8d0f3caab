"""A seeded random trading session used by the property tests: orders, cancels, modifies, OCO brackets,
trailing stops, kill switches and partial fills against a moving tape, with every invariant checked."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

from tests.engine.helpers import kernel, ticks
from tradingsystem.domain.commands import SubmitOrder
from tradingsystem.domain.orders import OrderType, Side, TimeInForce
from tradingsystem.engine.risk import RiskConfig, TradingState
from tradingsystem.engine.strategy import Strategy

SYMBOL = "WINZ26"


@dataclass
class Outcome:
    violations: list[str] = field(default_factory=list)
    orders: int = 0
    fills: int = 0


class Chaos(Strategy):
    def __init__(self, rng: random.Random) -> None:
        super().__init__("chaos", [SYMBOL])
        self.rng = rng

    def on_trade(self, tick):
        rng, k = self.rng, self.kernel
        last = tick.price
        for _ in range(rng.randint(0, 3)):
            r = rng.random()
            side = rng.choice((Side.BUY, Side.SELL))
            qty = rng.randint(1, 14)
            if r < 0.30:
                self.submit(SYMBOL, side, qty)
            elif r < 0.55:
                off = rng.randint(-4, 4) * 5 + (2 if rng.random() < 0.05 else 0)
                tif = rng.choice((TimeInForce.DAY, TimeInForce.DAY, TimeInForce.IOC))
                self.submit(SYMBOL, side, qty, OrderType.LIMIT, last + off, tif=tif)
            elif r < 0.65:
                opens = self.cache.open_orders()
                if opens:
                    self.cancel(rng.choice(opens).order_id)
            elif r < 0.72:
                opens = [o for o in self.cache.open_orders() if o.order_type is OrderType.LIMIT]
                if opens:
                    o = rng.choice(opens)
                    k.orders.modify(o.order_id, quantity=max(o.filled_qty + 1, o.quantity - 1))
            elif r < 0.82:
                entry = k.orders.new_order(SYMBOL, side, qty, OrderType.LIMIT, last - side.sign * 5,
                                           strategy_id=self.strategy_id)
                k.emulator.bracket(entry, take_profit=last + side.sign * 30, stop=last - side.sign * 30)
            elif r < 0.86:
                pos = self.portfolio.quantity(SYMBOL)
                if pos:
                    k.emulator.trailing_stop(SYMBOL, Side.SELL if pos > 0 else Side.BUY, abs(pos), 20, self.strategy_id)
            elif r < 0.88:
                k.guard.kill("fuzz", flatten=rng.random() < 0.5)
            elif r < 0.92 and k.guard.kill_switch:
                k.guard.reset("fuzz")
            elif r < 0.94:
                k.orders.submit(k.orders.new_order(SYMBOL, side, qty, strategy_id="manual"))


def run_session(seed: int, n_ticks: int = 40) -> Outcome:
    rng = random.Random(seed)
    max_pos, max_qty = rng.randint(3, 20), rng.randint(2, 10)
    prices, p = [], 125_000
    for _ in range(n_ticks):
        p += rng.choice((-10, -5, 0, 5, 10))
        prices.append(p)
    events = ticks(SYMBOL, prices, gap_ns=rng.choice((1, 2, 5)) * 1_000_000)
    events = [type(e)(e.symbol, e.price, rng.randint(1, 6), e.aggressor, e.trade_id, e.ts_event, e.ts_init)
              for e in events]
    k, venue = kernel(events, latency_ns=rng.choice((0, 1_000_000, 3_000_000)),
                      risk=RiskConfig(max_order_qty=max_qty, max_position=max_pos), cap_by_trade_size=True)
    out = Outcome()
    sent: list[SubmitOrder] = []
    original_submit = venue.submit

    def spy(cmd: SubmitOrder) -> None:
        sent.append(cmd)
        order = k.cache.order(cmd.order_id)
        if cmd.quantity > max_qty:
            out.violations.append(f"{cmd.order_id} qty {cmd.quantity} > {max_qty}")
        if k.risk.state is TradingState.HALTED and not (order and "flatten" in order.tags):
            out.violations.append(f"{cmd.order_id} sent while HALTED")
        original_submit(cmd)

    venue.submit = spy  # type: ignore[method-assign]
    signed = 0
    cash = 0

    def on_event(order, event):
        nonlocal signed, cash
        if event.kind == 4:
            s = 1 if order.side == Side.BUY else -1
            signed += s * event.fill_qty
            cash -= s * event.fill_qty * event.fill_price
            out.fills += 1
            pos = k.portfolio.quantity(SYMBOL)
            if abs(pos) > max_pos:
                out.violations.append(f"position {pos} beyond ±{max_pos}")
            if pos != signed:
                out.violations.append(f"position {pos} != sum of fills {signed}")

    k.orders.add_listener(on_event)
    groups = []
    original_oco = k.emulator.oco

    def track(*a, **kw):
        g = original_oco(*a, **kw)
        groups.append(g)
        return g

    k.emulator.oco = track  # type: ignore[method-assign]
    k.add_strategy(Chaos(rng))
    k.run()
    out.orders = len(sent)
    for g in groups:
        if g.filled > g.quantity:
            out.violations.append(f"OCO {g.group_id} filled {g.filled} of {g.quantity}")
    pos = k.portfolio.positions.get(SYMBOL)
    if pos is not None:
        mark = k.cache.last_trade[SYMBOL].price
        total = Fraction(pos.realized_raw) + Fraction(pos.unrealized_raw(mark))
        if total != cash + pos.quantity * mark:
            out.violations.append(f"P&L {total} != cash {cash} + marked position")
        for o in list(k.cache.open_orders.values()) + list(k.cache.closed_orders):
            if o.filled_qty > o.quantity:
                out.violations.append(f"{o.order_id} overfilled")
    return out
