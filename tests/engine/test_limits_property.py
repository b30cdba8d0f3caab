"""No sequence of orders and modifies (resting or not, manual or strategy, in any trading state) takes gross
exposure, position or working quantity beyond its limit, or sends an order larger than allowed.

At a constant mark the worst case of working orders is what exposure can become, so it is checked after every
event. TS_PROPERTY_EXAMPLES sets the hypothesis examples (default 200)."""

from __future__ import annotations

import os
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import kernel, ticks
from tradingsystem.domain.commands import ModifyOrder, SubmitOrder
from tradingsystem.domain.orders import OrderType, Side
from tradingsystem.engine.risk import RiskConfig, TradingState
from tradingsystem.engine.strategy import Strategy

EXAMPLES = int(os.environ.get("TS_PROPERTY_EXAMPLES", "200"))
SYMBOL = "WINZ26"
PRICE = 125_000
ONE_LOT_BRL = Decimal(PRICE) / 5  # WIN: R$ 0.20 per point


class _Chaos(Strategy):
    def __init__(self, rng: random.Random) -> None:
        super().__init__("chaos", [SYMBOL])
        self.rng = rng

    def on_trade(self, tick):  # type: ignore[no-untyped-def]
        rng, k = self.rng, self.kernel
        for _ in range(rng.randint(0, 4)):
            side = rng.choice((Side.BUY, Side.SELL))
            qty = rng.randint(1, 12)
            owner = rng.choice((self.strategy_id, "manual"))
            r = rng.random()
            if r < 0.25:
                k.orders.submit(k.orders.new_order(SYMBOL, side, qty, strategy_id=owner))
            elif r < 0.6:
                px = PRICE - side.sign * 5 * rng.randint(-1, 6)
                k.orders.submit(k.orders.new_order(SYMBOL, side, qty, OrderType.LIMIT, px, strategy_id=owner))
            elif r < 0.85:
                opens = [o for o in k.cache.open_orders.values() if o.order_type is OrderType.LIMIT]
                if opens:
                    o = rng.choice(opens)
                    price = o.price + rng.choice((0, 0, -5, 5, 10))
                    k.orders.modify(o.order_id, quantity=rng.randint(1, 15), price=price)
            elif r < 0.9:
                opens = list(k.cache.open_orders.values())
                if opens:
                    k.orders.cancel(rng.choice(opens).order_id)
            elif r < 0.95:
                k.risk.set_state(rng.choice(list(TradingState)), "property")
            else:  # junk a user could type: nothing may crash
                junk = rng.choice((0, -3, 10**9, 2**70))
                k.orders.submit(k.orders.new_order(SYMBOL, side, junk, OrderType.LIMIT, PRICE + rng.choice((1, 3))))


def limits_sequence(seed: int) -> list[str]:
    rng = random.Random(seed)
    max_qty, max_pos = rng.randint(2, 10), rng.randint(3, 20)
    max_gross = ONE_LOT_BRL * rng.randint(2, 15)
    risk = RiskConfig(max_order_qty=max_qty, max_position=max_pos, max_gross_exposure_brl=max_gross)
    events = ticks(SYMBOL, [PRICE] * rng.randint(10, 40), gap_ns=rng.choice((1, 3)) * 1_000_000)
    events = [type(e)(e.symbol, e.price, rng.randint(1, 5), rng.choice((1, 2)), e.trade_id, e.ts_event, e.ts_init)
              for e in events]
    k, venue = kernel(events, latency_ns=rng.choice((0, 1_000_000, 2_000_000)), risk=risk, cap_by_trade_size=True)
    violations: list[str] = []
    submit, modify = venue.submit, venue.modify

    def spy_submit(cmd: SubmitOrder) -> None:
        if cmd.quantity > max_qty:
            violations.append(f"{cmd.order_id} sent with {cmd.quantity} > {max_qty}")
        submit(cmd)

    def spy_modify(cmd: ModifyOrder) -> None:
        if cmd.quantity > max_qty:
            violations.append(f"{cmd.order_id} modified to {cmd.quantity} > {max_qty}")
        modify(cmd)

    venue.submit, venue.modify = spy_submit, spy_modify  # type: ignore[method-assign]

    def check(order, event):  # type: ignore[no-untyped-def]
        (lo, hi) = k.worst_positions().get(SYMBOL, (0, 0))
        if max(-lo, hi) > max_pos:
            violations.append(f"working orders can reach {lo}..{hi}, beyond ±{max_pos}")
        if ONE_LOT_BRL * max(-lo, hi) > max_gross:
            violations.append(f"worst-case exposure {ONE_LOT_BRL * max(-lo, hi)} beyond {max_gross}")

    k.orders.add_listener(check)
    k.add_strategy(_Chaos(rng))
    k.run(until_ts=events[-1].ts_event + 50_000_000)
    return violations


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_no_sequence_breaks_a_limit(seed):
    assert limits_sequence(seed) == []
