"""The kernel end to end on replayed ticks: strategy -> risk -> venue -> order manager -> portfolio."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import T0, kernel, ticks
from tradingsystem.domain.orders import OrderStatus, OrderType, Side
from tradingsystem.engine.clock import SimulatedClock
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.strategy import Strategy
from tradingsystem.strategies.ema_cross import EmaCross, EmaCrossConfig


class Scripted(Strategy):
    """Sends the order given for a tick index."""

    def __init__(self, script: dict[int, tuple[Side, int]], symbol: str = "WINZ26") -> None:
        super().__init__("scripted", [symbol])
        self.script, self.n, self.events = script, 0, []

    def on_trade(self, tick):
        action = self.script.get(self.n)
        self.n += 1
        if action:
            self.submit(tick.symbol, action[0], action[1])

    def on_order_event(self, order, event):
        self.events.append((order.order_id, event.kind, event.reason))


def test_market_orders_fill_at_last_trade_with_fees():
    k, _ = kernel(ticks("WINZ26", [125_000, 125_050, 125_100, 125_200]))
    k.add_strategy(Scripted({0: (Side.BUY, 2), 2: (Side.SELL, 2)}))
    k.run()
    s = k.summary()
    assert s["fills"] == 2 and s["positions"] == {"WINZ26": 0}
    assert s["realized_pnl_brl"] == "40.00"  # 100 points x R$0.20 x 2 contracts
    assert s["fees_brl"] == "1.02"  # 2 fills x 2 x R$0.2561 (B3 first tier, day trade)
    assert Decimal(s["net_pnl_brl"]) == Decimal("38.98")


def test_latency_delays_fill_to_the_next_tick():
    k, _ = kernel(ticks("WINZ26", [125_000, 125_050, 125_100], gap_ns=10_000_000), latency_ns=5_000_000)
    k.add_strategy(Scripted({0: (Side.BUY, 1)}))
    k.run()
    pos = k.portfolio.positions["WINZ26"]
    assert pos.quantity == 1 and pos.avg_price == 125_000  # filled at the last price when the order arrived


def test_ema_cross_is_deterministic_and_always_in_market():
    import random

    rng = random.Random(3)
    prices, p = [], 125_000
    for _ in range(5000):
        p += rng.choice((-5, 0, 5))
        prices.append(p)
    results = []
    for _ in range(2):
        k, _ = kernel(ticks("WINZ26", prices))
        k.add_strategy(EmaCross(EmaCrossConfig(symbol="WINZ26", fast=10, slow=30)))
        k.run()
        results.append(k.summary())
    a, b = results
    a.pop("wall_seconds"), b.pop("wall_seconds")
    assert a == b
    assert a["orders_submitted"] > 10 and abs(a["positions"]["WINZ26"]) == 1


def test_denials_have_reasons_and_change_nothing():
    k, _ = kernel(ticks("WINZ26", [125_000, 125_005, 125_010]), risk=RiskConfig(max_order_qty=5, max_position=8))
    strat = Scripted({})
    k.add_strategy(strat)
    k.run()
    om = k.orders
    cases = [
        dict(symbol="XXXX11", side=Side.BUY, quantity=1),
        dict(symbol="WINZ26", side=Side.BUY, quantity=6),
        dict(symbol="WINZ26", side=Side.BUY, quantity=1, order_type=OrderType.LIMIT, price=125_002),
    ]
    for c in cases:
        o = om.submit(om.new_order(**c, strategy_id="scripted"))
        assert o.status is OrderStatus.REJECTED and o.reason
    reasons = [e[2] for e in strat.events]
    assert "unknown instrument" in reasons[0]
    assert "exceeds the limit 5" in reasons[1]
    assert "tick grid" in reasons[2]
    assert k.risk.denials == 3 and k.portfolio.positions == {}


def test_order_outside_session_is_denied():
    night = T0 + 12 * 3600 * 10**9  # 22:00 local
    k, _ = kernel(ticks("WINZ26", [125_000], start=night))
    k.add_strategy(Scripted({0: (Side.BUY, 1)}))
    k.run()
    assert k.risk.denials == 1 and k.orders.fills == 0


def test_closed_contract_is_denied():
    k, _ = kernel(ticks("WINV26", [125_000]), symbols=("WINV26",))  # expired 2026-10-14
    k.add_strategy(Scripted({0: (Side.BUY, 1)}, symbol="WINV26"))
    k.run()
    assert k.risk.denials == 1 and "contract closed" in k.risk.audit[-1].value + str(k.cache.closed_orders[-1].reason)


def test_out_of_order_and_unknown_ticks_are_counted_not_applied():
    evs = ticks("WINZ26", [125_000, 125_005])
    evs = [evs[1], evs[0]]
    k, _ = kernel(evs + ticks("ZZZZ3", [100], start=evs[0].ts_event + 1))
    k.run()
    assert k.data.out_of_order == 1 and k.data.rejected_unknown == 1
    assert k.cache.last_trade["WINZ26"].price == 125_005


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 12)), min_size=1, max_size=40),
       st.integers(0, 3_000_000))
def test_position_limit_never_exceeded(orders, latency):
    script = {i: o for i, o in enumerate(orders)}
    k, _ = kernel(ticks("WINZ26", [125_000 + 5 * (i % 7) for i in range(len(orders) + 5)]),
                  latency_ns=latency, risk=RiskConfig(max_order_qty=10, max_position=15))
    strat = Scripted(script)
    max_seen = 0

    def watch(order, event):
        nonlocal max_seen
        max_seen = max(max_seen, abs(k.portfolio.quantity("WINZ26")))

    k.orders.add_listener(watch)
    k.add_strategy(strat)
    k.run()
    assert max_seen <= 15
    pos = k.portfolio.positions.get("WINZ26")
    if pos:
        assert pos.quantity == pos.bought - pos.sold


def test_simulated_clock_fires_timers_in_order():
    clock = SimulatedClock(0)
    fired = []
    clock.schedule(30, lambda ts: fired.append(("b", ts)))
    clock.schedule(10, lambda ts: fired.append(("a", ts)))
    clock.schedule(30, lambda ts: fired.append(("c", ts)))
    clock.advance_to(25)
    assert fired == [("a", 10)] and clock.now() == 25
    clock.advance_to(40)
    assert fired == [("a", 10), ("b", 30), ("c", 30)] and clock.now() == 40


def test_tape_mode_and_sink_mode_venues_agree():
    import random

    rng = random.Random(11)
    prices, p = [], 125_000
    for _ in range(3000):
        p += rng.choice((-5, 0, 5))
        prices.append(p)
    out = []
    for as_sink in (False, True):
        k, _ = kernel(ticks("WINZ26", prices), latency_ns=2_000_000, as_sink=as_sink)
        k.add_strategy(EmaCross(EmaCrossConfig(symbol="WINZ26", fast=5, slow=20)))
        k.run()
        s = k.summary()
        s.pop("wall_seconds")
        out.append(s)
    assert out[0] == out[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(1, 5), st.integers(-40, 40)),
                         max_size=6), min_size=1, max_size=5),
       st.lists(st.integers(-40, 40), min_size=5, max_size=5))
def test_daily_ajustes_add_up_to_pnl(days, settles):
    """Sum of ajustes = realised + unrealised P&L marked at the last settlement price, exactly."""
    from tradingsystem.domain import b3
    from tradingsystem.domain.fees import FeeSchedule
    from tradingsystem.engine.cache import Cache
    from tradingsystem.engine.portfolio import Portfolio

    inst = b3.future("WINZ26", lambda d: d.weekday() < 5)
    pf = Portfolio(Cache({inst.symbol: inst}), fees=FeeSchedule())
    total = Decimal(0)
    last = 125_000
    for i, fills in enumerate(days):
        for sign, qty, off in fills:
            pf.apply_fill(inst.symbol, "s", sign, qty, 125_000 + 5 * off, Decimal(0))
        last = 125_000 + 5 * settles[i]
        total += sum(a.amount_brl for a in pf.settle(f"d{i}", {inst.symbol: last}))
    pos = pf.positions.get(inst.symbol)
    expected = (pos.realized_brl() + pos.unrealized_brl(last)) if pos else Decimal(0)
    assert total == expected


def test_periodic_timers_skip_or_replay_quiet_spells():
    for catch_up, expected in ((0, [10, 20, 30, 1000, 1010]), (100, list(range(10, 1011, 10)))):
        clock = SimulatedClock(0)
        fired = []
        clock.every(10, fired.append, catch_up=catch_up)
        clock.advance_to(25)
        clock.advance_to(1000)  # a gap of 97 intervals
        clock.advance_to(1015)
        assert fired == expected, catch_up
