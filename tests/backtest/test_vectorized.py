"""The vectorised research mode and the event engine agree on fills and P&L for the same strategy."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.backtest.helpers import T0, weekdays
from tradingsystem.backtest.feeds import MergedFeed, trade_events
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig
from tradingsystem.backtest.results import FillRecorder
from tradingsystem.backtest.vectorized import vector_backtest
from tradingsystem.domain import b3
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.strategies import EmaCross, EmaCrossConfig, ema_cross_targets

HOUR = 3_600 * 10**9


def event_run(symbol: str, ts: list[int], prices: list[int], fast: int, slow: int, qty: int, slip: int,
              mode: str) -> tuple[list[tuple[int, int, int, int, str]], tuple[str, str, str]]:
    inst = {symbol: b3.instrument(symbol, weekdays)}
    fees = FeeSchedule()
    k = Kernel(inst, risk=RiskConfig(check_session=False, max_order_qty=10**6, max_position=10**6), fees=fees,
               is_session=weekdays)
    venue = QueueVenue(inst, k.clock, k.data, QueueVenueConfig(slippage_ticks=slip, fee_mode=mode),  # type: ignore[arg-type]
                       books=k.cache, fees=fees)
    k.connect(MergedFeed([trade_events(symbol, {"ts_event": ts, "price": prices, "size": [1] * len(ts)})]), venue)
    k.add_strategy(EmaCross(EmaCrossConfig(symbol=symbol, fast=fast, slow=slow, quantity=qty)))
    rec = FillRecorder()
    k.orders.add_listener(rec)
    k.run()
    s = k.summary()
    return ([(f.ts, f.side, f.quantity, f.price, str(f.fee)) for f in rec.fills],
            (s["realized_pnl_brl"], s["unrealized_pnl_brl"], s["fees_brl"]))


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.sampled_from([-2, -1, 0, 1, 2]), min_size=2, max_size=300),
       fast=st.integers(2, 8), gap=st.integers(4, 30), slip=st.integers(0, 2),
       mode=st.sampled_from(["day_trade", "swing", "auto"]), future=st.booleans())
def test_vectorised_and_event_modes_agree(steps: list[int], fast: int, gap: int, slip: int, mode: str,
                                          future: bool) -> None:
    symbol, tick, base, qty = ("WINZ26", 5, 125_000, 2) if future else ("PETR4", 1, 3_000, 100)
    prices = []
    p = base
    for s in steps:
        p = max(tick * 10, p + s * tick)
        prices.append(p)
    ts = [T0 + i * HOUR // 7 for i in range(len(prices))]  # several sessions: day-trade/swing split matters
    slow = fast + gap
    ev_fills, (real, unreal, fees) = event_run(symbol, ts, prices, fast, slow, qty, slip, mode)
    inst = b3.instrument(symbol, weekdays)
    vec = vector_backtest(inst, ts, prices, ema_cross_targets(prices, fast, slow, qty), FeeSchedule(),
                          mode, slip)  # type: ignore[arg-type]
    assert [(f.ts, f.side, f.quantity, f.price, str(f.fee)) for f in vec.fills] == ev_fills
    assert (vec.realized_brl, vec.unrealized_brl, vec.fees_brl) == (Decimal(real), Decimal(unreal), Decimal(fees))


def test_vector_equity_marks_to_market() -> None:
    inst = b3.instrument("WINZ26", weekdays)
    prices = [100_000, 100_010, 100_005, 100_020]
    vec = vector_backtest(inst, [1, 2, 3, 4], prices, [0, 1, 1, -1], equity=True)
    assert vec.equity_raw is not None
    assert vec.equity_raw.tolist() == [0, 0, -5, 10]  # long at 100_010, marked 100_005, sold 2 at 100_020
    assert vec.position == -1 and len(vec.fills) == 2


def _reference(inst, ts, prices, target, mode, slip):
    """The fill-by-fill form: FeeModel and Position on every fill."""
    from tradingsystem.backtest.costs import FeeModel
    from tradingsystem.domain.positions import Position

    model, pos, fees, out = FeeModel(FeeSchedule(), mode), Position(inst), Decimal(0), []
    prev = 0
    for t, p, tgt in zip(ts, prices, target, strict=True):
        d = tgt - prev
        prev = tgt
        if not d:
            continue
        side = 1 if d > 0 else -1
        px = p + slip * inst.tick if side > 0 else max(inst.tick, p - slip * inst.tick)
        fee = model.fee(inst, 1 if side > 0 else 2, abs(d), px, t)
        pos.apply_fill(side, abs(d), px, fee)
        fees += fee
        out.append((t, side, abs(d), px, str(fee)))
    return out, pos.realized_brl(), pos.unrealized_brl(prices[-1]), fees, pos.quantity


@settings(max_examples=60, deadline=None)
@given(moves=st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=1, max_size=200),
       slip=st.integers(0, 2), mode=st.sampled_from(["day_trade", "swing", "auto"]), future=st.booleans())
def test_vectorised_equals_fill_by_fill_for_any_targets(moves, slip: int, mode: str, future: bool) -> None:
    """Partial closes, adds and flips of any size: the same fills, fees and exact P&L split (Fractions too)."""
    symbol, tick, base, lot = ("WINZ26", 5, 125_000, 1) if future else ("PETR4", 1, 3_000, 100)
    inst = b3.instrument(symbol, weekdays)
    prices, target, p = [], [], base
    for step, tgt in moves:
        p = max(tick * 10, p + step * tick)
        prices.append(p)
        target.append(tgt * lot)
    ts = [T0 + i * HOUR // 5 for i in range(len(prices))]
    fills, real, unreal, fees, qty = _reference(inst, ts, prices, target, mode, slip)
    vec = vector_backtest(inst, ts, prices, target, FeeSchedule(), mode, slip)  # type: ignore[arg-type]
    assert [(f.ts, f.side, f.quantity, f.price, str(f.fee)) for f in vec.fills] == fills
    assert (vec.realized_brl, vec.unrealized_brl, vec.fees_brl, vec.position) == (real, unreal, fees, qty)
