"""Kill with flatten reaches flat whatever the venue latency (0-50 ms per message, so acks arrive in any
order), partial fills during the cancels and working orders on both sides.

The seeded sweep runs TS_FLATTEN_SEQUENCES sequences (default 20,000, about 25 s; CI may set fewer); hypothesis
explores TS_PROPERTY_EXAMPLES more and shrinks a failure to its smallest sequence."""

from __future__ import annotations

import os
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import kernel, ticks
from tradingsystem.backtest.tick_venue import TickVenue
from tradingsystem.domain.orders import OrderType, Side
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.strategy import Strategy

SEQUENCES = int(os.environ.get("TS_FLATTEN_SEQUENCES", "20000"))
EXAMPLES = int(os.environ.get("TS_PROPERTY_EXAMPLES", "200"))
SYMBOL = "WINZ26"
MS = 1_000_000


class _JitterVenue(TickVenue):
    """The tick venue with a random latency per message: acks, fills and cancels of different orders race
    each other; messages about one order keep their order, as on one broker session."""

    rng: random.Random
    max_latency_ns: int
    due: dict[str, int]

    def _later(self, fn, *args):  # type: ignore[no-untyped-def]
        now = self._clock.now()
        at = max(now + self.rng.randint(0, self.max_latency_ns), self.due.get(args[0].order_id, 0))
        self.due[args[0].order_id] = at
        if at == now:
            fn(now, *args)
        else:
            self._clock.schedule(at, lambda ts: fn(ts, *args))


class _Trader(Strategy):
    def __init__(self, rng: random.Random, kill_at: int) -> None:
        super().__init__("t", [SYMBOL])
        self.rng, self.kill_at, self.n = rng, kill_at, 0
        self.flatten_sent = 0

    def on_trade(self, tick):  # type: ignore[no-untyped-def]
        rng, n = self.rng, self.n
        self.n += 1
        if n == self.kill_at:
            self.flatten_sent = self.kernel.guard.kill("property", flatten=True)["flatten_orders"]
            return
        if n > self.kill_at:
            return
        for _ in range(rng.randint(0, 3)):
            side = rng.choice((Side.BUY, Side.SELL))
            qty = rng.randint(1, 6)
            r = rng.random()
            if r < 0.3:
                self.submit(SYMBOL, side, qty)
            elif r < 0.9:
                self.submit(SYMBOL, side, qty, OrderType.LIMIT, tick.price - side.sign * 5 * rng.randint(-2, 3))
            else:
                opens = self.cache.open_orders()
                if opens:
                    o = rng.choice(opens)
                    self.kernel.orders.modify(o.order_id, quantity=o.quantity + 1)


def flatten_sequence(seed: int) -> tuple[int, int, int]:
    """One random sequence; returns (position, working orders, flatten orders sent at the kill) after the kill
    and every ack."""
    rng = random.Random(seed)
    prices, p = [], 125_000
    for _ in range(rng.randint(8, 30)):
        p += rng.choice((-10, -5, 0, 5, 10))
        prices.append(p)
    events = ticks(SYMBOL, prices, gap_ns=rng.choice((1, 3, 10)) * MS)
    events = [type(e)(e.symbol, e.price, rng.randint(1, 4), e.aggressor, e.trade_id, e.ts_event, e.ts_init)
              for e in events]
    max_pos = rng.randint(2, 30)
    k, venue = kernel(events, risk=RiskConfig(max_order_qty=rng.randint(2, 10), max_position=max_pos),
                      cap_by_trade_size=True)
    venue.__class__ = _JitterVenue
    venue.rng, venue.max_latency_ns, venue.due = rng, rng.choice((0, 1, 5, 20, 50)) * MS, {}  # type: ignore[attr-defined]
    trader = _Trader(rng, rng.randint(1, len(events) - 1))
    k.add_strategy(trader)
    k.run(until_ts=events[-1].ts_event + 10 * 50 * MS)  # every message still in flight lands
    return k.portfolio.quantity(SYMBOL), len(k.cache.open_orders), trader.flatten_sent


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_kill_with_flatten_always_reaches_flat(seed):
    position, working, _ = flatten_sequence(seed)
    assert (position, working) == (0, 0)


def test_seeded_sweep_of_kills_reaches_flat():
    flattened = 0
    for seed in range(SEQUENCES):
        position, working, sent = flatten_sequence(seed)
        assert (position, working) == (0, 0), seed
        flattened += sent > 0
    assert flattened > SEQUENCES // 4  # most kills find a position to close


def test_flatten_sends_even_while_closing_orders_wait_for_their_cancel():
    """The reported case: 1 ms latency, a resting closing order pending cancel, position 2 under HALTED."""
    events = ticks(SYMBOL, [125_000, 125_000, 124_990, 125_000, 125_000, 125_000, 125_010, 125_000])
    k, _ = kernel(events, latency_ns=MS, risk=RiskConfig(max_order_qty=10, max_position=10))
    sent: dict[str, int] = {}

    class S(Strategy):
        n = 0

        def on_trade(self, tick):  # type: ignore[no-untyped-def]
            self.n += 1
            if self.n == 1:
                self.submit(SYMBOL, Side.BUY, 2)
            elif self.n == 4:
                self.submit(SYMBOL, Side.SELL, 2, OrderType.LIMIT, tick.price + 50)  # a resting take-profit
            elif self.n == 6:
                sent.update(self.kernel.guard.kill("test", flatten=True))

    k.add_strategy(S("s", [SYMBOL]))
    k.run(until_ts=events[-1].ts_event + 10 * MS)
    assert sent["flatten_orders"] == 1
    assert k.portfolio.quantity(SYMBOL) == 0 and not k.cache.open_orders
    assert k.risk.state.value == "HALTED"
