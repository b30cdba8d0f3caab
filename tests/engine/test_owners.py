"""Manual trades and strategy trades have owners: a person's flatten or order on an instrument takes it from
the strategies (their orders there are refused, theirs working there cancelled) until a person resumes them;
the pause is alerted, shown in the snapshot and survives a restart."""

from __future__ import annotations

import os
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import T0, kernel, ticks
from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.domain.orders import Order, OrderStatus, OrderType, Side
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.state import StateKeeper, restore
from tradingsystem.engine.strategy import Strategy
from tradingsystem.ports.memory import MemoryStateStore

SYMBOL = "WINZ26"
MS = 1_000_000
EXAMPLES = int(os.environ.get("TS_PROPERTY_EXAMPLES", "300"))
RISK = RiskConfig(max_order_qty=10, max_position=20)


class Always(Strategy):
    """Trades to a target of +2 on every trade when flat: the kind that undid a manual flatten."""

    def __init__(self) -> None:
        super().__init__("trend", [SYMBOL])
        self.sent: list[Order] = []
        self.actions: dict[int, object] = {}
        self.n = 0

    def on_trade(self, tick):  # type: ignore[no-untyped-def]
        action = self.actions.get(self.n)
        self.n += 1
        if callable(action):
            action(self.kernel)
        delta = 2 - self.portfolio.quantity(SYMBOL)
        if delta and not self.cache.open_orders(SYMBOL, self.strategy_id):
            self.sent.append(self.submit(SYMBOL, Side.BUY if delta > 0 else Side.SELL, abs(delta)))


def _run(actions: dict[int, object], n: int = 12, latency_ns: int = MS):  # type: ignore[no-untyped-def]
    events = ticks(SYMBOL, [125_000 + 5 * (i % 3) for i in range(n)])
    k, _ = kernel(events, latency_ns=latency_ns, risk=RISK)
    s = Always()
    s.actions = actions
    k.add_strategy(s)
    k.run(until_ts=events[-1].ts_event + 100 * MS)
    return k, s


def test_a_manual_flatten_stays_flat_until_resumed():
    k, s = _run({4: lambda k: k.manual_flatten("cli", SYMBOL)})
    assert k.portfolio.quantity(SYMBOL) == 0
    refused = [o for o in s.sent if o.status is OrderStatus.REJECTED]
    assert refused and all("strategies paused on WINZ26: manual flatten by cli" in o.reason for o in refused)
    assert k.guard.paused == {SYMBOL: "manual flatten by cli"}
    assert k.summary()["paused"] == {SYMBOL: "manual flatten by cli"} and k.summary()["paused_refused"] == len(refused)
    assert [r["paused"] for r in k.snapshot()["instruments"]] == ["manual flatten by cli"]
    alerts = [a for a in k.alerts if a.kind == "strategies_paused"]
    assert len(alerts) == 1 and alerts[0].message.startswith("strategies paused on WINZ26 by cli")
    assert k.risk.denials == 0  # a pause is not a risk denial


def test_resume_hands_the_instrument_back():
    k, _ = _run({4: lambda k: k.manual_flatten("cli", SYMBOL), 7: lambda k: k.resume_strategies(SYMBOL, "cli")})
    assert k.portfolio.quantity(SYMBOL) == 2  # the strategy trades from the position as it stands
    assert k.guard.paused == {}
    assert [a.message for a in k.alerts if a.kind == "strategies_resumed"] == ["strategies resumed on WINZ26 by cli"]


def test_a_manual_order_pauses_and_cancels_the_strategy_orders_there():
    def manual(k):  # type: ignore[no-untyped-def]
        resting = k.orders.new_order(SYMBOL, Side.SELL, 1, OrderType.LIMIT, 126_000, strategy_id="trend")
        k.orders.submit(resting)  # a strategy's resting order on the instrument
        order = k.orders.new_order(SYMBOL, Side.SELL, 2, strategy_id="manual", tags=("dashboard",))
        k.orders.submit(order)
        assert resting.status is OrderStatus.PENDING_CANCEL

    k, _ = _run({4: manual})
    assert k.guard.paused == {SYMBOL: "manual order by dashboard"}
    assert k.portfolio.quantity(SYMBOL) == 0 and not k.cache.open_orders
    assert k.portfolio.by_strategy[("manual", SYMBOL)].quantity == -2  # the owner of each fill is kept


def test_flatten_by_the_risk_engine_pauses_nothing():
    k, _ = _run({4: lambda k: k.flatten("roll", SYMBOL)})
    assert k.guard.paused == {} and k.portfolio.quantity(SYMBOL) == 2


def test_resume_of_an_unknown_instrument_is_refused():
    k, _ = _run({})
    for call in (lambda: k.resume_strategies("NOPE", "cli"), lambda: k.manual_flatten("cli", "NOPE")):
        try:
            call()
        except KeyError as exc:
            assert "unknown instrument 'NOPE'" in str(exc)
        else:
            raise AssertionError("accepted an unknown instrument")


def test_the_pause_survives_a_restart_on_both_stores(tmp_path):
    for store in (MemoryStateStore(), SqlStateStore(SqlStoreConfig(url=f"sqlite:///{tmp_path / 'state.db'}"))):
        events = ticks(SYMBOL, [125_000] * 6)
        k, _ = kernel(events, latency_ns=MS, risk=RISK)
        k.add_strategy(Always())
        StateKeeper(k, store)
        s = k.strategies[0]
        s.actions = {2: lambda k: k.manual_flatten("telegram", SYMBOL)}  # type: ignore[attr-defined]
        k.run(until_ts=events[-1].ts_event + 100 * MS)
        store.flush()
        again, _ = kernel(ticks(SYMBOL, [125_000] * 4, start=events[-1].ts_event + 10**9), latency_ns=MS, risk=RISK)
        fresh = Always()
        again.add_strategy(fresh)
        restore(again, store)
        assert again.guard.paused == {SYMBOL: "manual flatten by telegram"}
        again.run()
        assert again.portfolio.quantity(SYMBOL) == 0
        assert fresh.sent and all(o.status is OrderStatus.REJECTED for o in fresh.sent)
        if isinstance(store, SqlStateStore):
            store.close()


# --- property: after a manual flatten no strategy order on the symbol is accepted until resume ---------------
OPS = st.lists(st.tuples(st.sampled_from(["buy", "sell", "limit", "flatten", "manual", "resume", "none"]),
                         st.integers(1, 4), st.integers(-3, 3)), min_size=4, max_size=30)


class _Random(Strategy):
    """Plays ``ops``: strategy orders, and the person's flatten, order and resume, one per trade."""

    def __init__(self, ops: list[tuple[str, int, int]]) -> None:
        super().__init__("r", [SYMBOL])
        self.ops, self.n = ops, 0
        self.checked: list[tuple[Order, bool]] = []  # (strategy order, paused when sent)
        self.paused_working: list[str] = []
        self.last_take = ""

    def on_trade(self, tick):  # type: ignore[no-untyped-def]
        k = self.kernel
        if self.n < len(self.ops):
            op, qty, off = self.ops[self.n]
            if op in ("buy", "sell", "limit"):
                side = Side.BUY if op == "buy" or off > 0 else Side.SELL
                kind = OrderType.LIMIT if op == "limit" else OrderType.MARKET
                paused = SYMBOL in k.guard.paused
                self.checked.append((self.submit(SYMBOL, side, qty, kind, tick.price + 5 * off if
                                                 kind is OrderType.LIMIT else 0), paused))
            elif op == "flatten":
                k.manual_flatten("cli", SYMBOL)
                self.last_take = "flatten"
            elif op == "manual":
                k.orders.submit(k.orders.new_order(SYMBOL, Side.BUY if off >= 0 else Side.SELL, qty,
                                                   strategy_id="manual:cli"))
                self.last_take = "manual"
            elif op == "resume":
                k.resume_strategies(None, "cli")
                self.last_take = ""
        self.n += 1
        if SYMBOL in k.guard.paused:  # nothing of the strategy's still works there (a cancel may be in flight)
            self.paused_working += [o.order_id for o in k.cache.open_orders.values()
                                    if o.strategy_id == "r" and o.status is not OrderStatus.PENDING_CANCEL]


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
@given(OPS, st.sampled_from([0, 1, 5, 20]), st.integers(0, 2**16))
def test_no_strategy_order_is_accepted_on_a_paused_instrument(ops, latency_ms, seed):
    rng = random.Random(seed)
    prices = [125_000 + 5 * rng.randint(-4, 4) for _ in range(len(ops) + 10)]
    events = ticks(SYMBOL, prices, gap_ns=rng.choice((1, 3, 10)) * MS)
    k, _ = kernel(events, latency_ns=latency_ms * MS, risk=RiskConfig(max_order_qty=10, max_position=30))
    s = _Random(ops)
    k.add_strategy(s)
    k.run(until_ts=events[-1].ts_event + 500 * MS)
    for order, paused in s.checked:
        if paused:
            assert order.status is OrderStatus.REJECTED and "strategies paused" in order.reason
        else:
            assert "strategies paused" not in order.reason
    assert s.paused_working == []
    if s.last_take == "flatten":  # the person's flatten was the last word: flat, whatever the strategy wanted
        assert k.portfolio.quantity(SYMBOL) == 0
    assert k.now() >= T0
