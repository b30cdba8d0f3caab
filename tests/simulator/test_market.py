"""The simulated market: protocol behaviour, our orders, rejections, sessions, determinism."""

from __future__ import annotations

from collections import Counter
from datetime import date, time

import pytest

from tests.simulator.sim_helpers import WeekdayCalendar
from tradingsystem.adapters.simulator import SimMarketConfig, SimulatedMarket, default_instruments, generate_trades
from tradingsystem.domain import b3
from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import BookDelta, BookSnapshot, TradeTick
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.orders import OrderEventKind as K
from tradingsystem.domain.orders import OrderType, Side, TimeInForce
from tradingsystem.domain.sessions import Phase, local_ns

NS = 1_000_000_000
CAL = WeekdayCalendar()


class Sink:
    def __init__(self) -> None:
        self.trades: list[TradeTick] = []
        self.deltas: list[BookDelta] = []
        self.snapshots: list[BookSnapshot] = []
        self.events: list[tuple[int, OrderEvent]] = []
        self.market: SimulatedMarket | None = None

    def on_trade(self, t: TradeTick) -> None:
        self.trades.append(t)

    def on_book_delta(self, d: BookDelta) -> None:
        self.deltas.append(d)

    def on_book_snapshot(self, s: BookSnapshot) -> None:
        self.snapshots.append(s)

    def on_bar(self, b: object) -> None:  # pragma: no cover - not produced
        raise AssertionError("no bars expected")

    def on_order_event(self, e: OrderEvent) -> None:
        assert self.market is not None
        self.events.append((self.market.now, e))

    def of(self, order_id: str) -> list[OrderEvent]:
        return [e for _, e in self.events if e.order_id == order_id]


def make(symbols=("WINFUT", "PETR4"), start=time(10, 30), **kw) -> tuple[SimulatedMarket, Sink]:
    cfg = SimMarketConfig(symbols=symbols, start_time=start, **kw)
    m = SimulatedMarket(cfg, default_instruments(cfg, CAL.is_session), CAL, FeeSchedule())
    sink = Sink()
    sink.market = m
    m.feed.connect(sink)
    m.execution.connect(sink)
    return m, sink


def run_for(m: SimulatedMarket, seconds: float) -> None:
    m.run_until(m.now + int(seconds * NS))


def test_default_instruments_resolve_generic_futures():
    inst = default_instruments(SimMarketConfig(), CAL.is_session)
    assert len(inst) >= 10
    assert "WINJ26" in inst and "WDOJ26" in inst and "B3SA3" in inst
    assert inst["WINJ26"].tick == 5 and inst["PETR4"].lot == 100


def test_ten_instruments_trade_within_an_hour_from_the_default_start():
    from tradingsystem.adapters.calendar.bvmf import BvmfCalendar

    cal = BvmfCalendar(start=date(2025, 1, 1), end=date(2027, 12, 31))
    cfg = SimMarketConfig()
    m = SimulatedMarket(cfg, default_instruments(cfg, cal.is_session), cal, FeeSchedule())
    sink = Sink()
    m.feed.connect(sink)
    last = 0
    while (ts := m.feed.next_ts()) is not None and ts <= m.start_ns + 3600 * NS:
        assert ts >= last
        last = ts
        m.feed.step()
    per = Counter(t.symbol for t in sink.trades)
    assert len(per) >= 10 and min(per.values()) > 500
    assert len(sink.trades) > 20_000
    for t in sink.trades:
        inst = m.instruments[t.symbol]
        assert inst.on_grid(t.price) and inst.lot_ok(t.size)
        assert t.buyer > 0 and t.seller > 0
    # realistic levels
    last_px = {t.symbol: t.price for t in sink.trades}
    assert 110_000 <= last_px["WINJ26"] <= 140_000
    assert 48_000 <= last_px["WDOJ26"] <= 60_000
    stocks = [s for s, i in m.instruments.items() if not i.is_future]
    assert len(stocks) >= 8 and all(900 <= last_px[s] <= 6_500 for s in stocks)
    # stocks opened with an auction print at 10:00 (aggressor NONE), futures were already continuous
    ten = local_ns(m.start_day, time(10, 0))
    assert {t.symbol for t in sink.trades if t.aggressor == 0 and t.ts_event == ten} >= {"PETR4", "VALE3"}
    for eng in m.engines.values():
        assert eng.phase is Phase.CONTINUOUS and not eng.is_crossed()


def test_same_seed_same_trades_different_seed_different():
    def tape(seed: int) -> list[TradeTick]:
        cfg = SimMarketConfig(seed=seed, symbols=("WINFUT", "WDOFUT", "PETR4", "VALE3"),
                              start_time=time(9, 55))
        return generate_trades(cfg, default_instruments(cfg, CAL.is_session), CAL,
                               local_ns(date(2026, 3, 2), time(10, 5)))

    a, b, c = tape(1), tape(1), tape(2)
    assert len(a) > 1000 and a == b
    assert a != c


def test_feed_delivers_what_the_tape_records():
    m, sink = make(record_trades=True)
    run_for(m, 120)
    assert sink.trades == m.trades and len(m.trades) > 50
    assert sink.deltas and all(d.side in (1, 2) for d in sink.deltas)


def test_subscribe_filters_delivery():
    m, sink = make()
    m.feed.subscribe(["PETR4"])
    run_for(m, 120)
    assert {t.symbol for t in sink.trades} == {"PETR4"}
    assert {d.symbol for d in sink.deltas} == {"PETR4"}
    assert not sink.snapshots
    m.feed.subscribe(["WINFUT"])  # late: the current book arrives as one snapshot, then deltas
    (snap,) = sink.snapshots
    eng = m.engines["WINJ26"]
    assert snap.symbol == "WINJ26" and snap.sequence == eng.sequence
    assert snap.bids[0][0] == eng.best_bid and snap.asks[0][0] == eng.best_ask
    run_for(m, 10)
    assert any(d.symbol == "WINJ26" and d.sequence > snap.sequence for d in sink.deltas)
    with pytest.raises(ValueError, match="unknown instrument"):
        m.feed.subscribe(["NOPE3"])


def test_book_is_seeded_when_starting_mid_session():
    m, _sink = make()
    m.feed.step()  # the start-of-day event
    win = m.engines["WINJ26"]
    assert win.best_bid and win.best_ask and win.best_bid < win.best_ask
    assert 120_000 <= win.best_bid <= 130_000


def test_own_orders_latency_fill_and_fee():
    m, sink = make(latency_in_ns=2_000_000, latency_out_ns=3_000_000)
    run_for(m, 30)
    eng = m.engines["WINJ26"]
    t_send = m.now
    m.execution.submit(SubmitOrder("buy1", "WINFUT", Side.BUY, OrderType.MARKET, 2, tif=TimeInForce.IOC))
    run_for(m, 1)
    evs = sink.of("buy1")
    assert next(e.kind for e in evs) == K.ACCEPTED
    assert evs[0].ts_event == t_send + 2_000_000
    assert sink.events[0][0] == t_send + 5_000_000  # delivered after latency out
    fills = [e for e in evs if e.kind == K.FILLED]
    assert sum(e.fill_qty for e in fills) == 2
    for e in fills:
        assert e.symbol == "WINJ26" and e.liquidity == 2 and e.trade_id > 0
        assert e.fee == FeeSchedule().fee(m.instruments["WINJ26"], e.fill_qty, e.fill_price)
        assert e.fill_price % 5 == 0
    assert any(t.buyer == 3 for t in m.trades) or not m.trades  # own broker code on the tape
    assert not eng.is_crossed()


def test_own_resting_order_modify_cancel():
    m, sink = make()
    run_for(m, 10)
    bid = m.engines["PETR4"].best_bid
    far = bid - 50
    m.execution.submit(SubmitOrder("p1", "PETR4", Side.BUY, OrderType.LIMIT, 200, price=far))
    run_for(m, 0.1)
    m.execution.modify(ModifyOrder("p1", quantity=100))
    run_for(m, 0.1)
    m.execution.cancel(CancelOrder("p1"))
    run_for(m, 0.1)
    m.execution.cancel(CancelOrder("p1"))
    m.execution.modify(ModifyOrder("p1", price=far - 1))
    run_for(m, 0.1)
    assert [e.kind for e in sink.of("p1")] == [K.ACCEPTED, K.UPDATED, K.CANCELLED, K.CANCEL_REJECTED,
                                                K.MODIFY_REJECTED]


@pytest.mark.parametrize(
    ("cmd", "words"),
    [
        (SubmitOrder("x", "NOPE3", Side.BUY, OrderType.LIMIT, 100, price=3000), "unknown instrument"),
        (SubmitOrder("x", "PETR4", Side.BUY, OrderType.LIMIT, 100, price=0), "tick grid"),
        (SubmitOrder("x", "WINFUT", Side.BUY, OrderType.LIMIT, 1, price=125_003), "tick grid"),
        (SubmitOrder("x", "PETR4", Side.BUY, OrderType.LIMIT, 150, price=3000), "lot"),
        (SubmitOrder("x", "PETR4", Side.BUY, OrderType.LIMIT, -100, price=3000), "lot"),
        (SubmitOrder("x", "PETR4", 7, OrderType.LIMIT, 100, price=3000), "side"),
    ],
)
def test_bad_orders_are_rejected_with_a_reason(cmd, words):
    m, sink = make()
    run_for(m, 1)
    m.execution.submit(cmd)
    run_for(m, 1)
    (ev,) = sink.of("x")
    assert ev.kind == K.REJECTED and words in ev.reason


def test_orders_outside_the_session_and_in_auctions_are_rejected():
    m, sink = make(start=time(9, 10))  # futures continuous, stocks closed
    m.execution.submit(SubmitOrder("closed", "PETR4", Side.BUY, OrderType.LIMIT, 100, price=3000))
    m.execution.submit(SubmitOrder("ok", "WINFUT", Side.BUY, OrderType.LIMIT, 1, price=100_000))
    m.run_until(local_ns(date(2026, 3, 2), time(9, 50)))  # stocks now in the opening call
    assert m.phase("PETR4") is Phase.OPENING_CALL
    m.execution.submit(SubmitOrder("stop", "PETR4", Side.BUY, OrderType.STOP_MARKET, 100, trigger_price=4000))
    m.execution.submit(SubmitOrder("mkt", "PETR4", Side.BUY, OrderType.MARKET, 100))
    m.execution.submit(SubmitOrder("call", "PETR4", Side.BUY, OrderType.LIMIT, 100, price=3000))
    run_for(m, 1)
    assert "closed" in sink.of("closed")[0].reason
    assert sink.of("ok")[0].kind == K.ACCEPTED
    assert "auction" in sink.of("stop")[0].reason and "auction" in sink.of("mkt")[0].reason
    assert sink.of("call")[0].kind == K.ACCEPTED


def test_expired_contract_is_rejected():
    cfg = SimMarketConfig(symbols=("PETR4",), start_time=time(10, 30))
    insts = default_instruments(cfg, CAL.is_session) | {"WINZ25": b3.future("WINZ25", CAL.is_session)}
    m = SimulatedMarket(cfg, insts, CAL, FeeSchedule())
    sink = Sink()
    sink.market = m
    m.execution.connect(sink)
    m.execution.submit(SubmitOrder("old", "WINZ25", Side.BUY, OrderType.LIMIT, 1, price=125_000))
    run_for(m, 1)
    (ev,) = sink.of("old")
    assert ev.kind == K.REJECTED and "expired" in ev.reason
    assert all(t.symbol == "PETR4" for t in m.trades)


def test_day_orders_expire_at_close_and_the_market_rolls_to_the_next_session():
    m, sink = make(symbols=("WINFUT", "PETR4"), start=time(17, 50), record_trades=True, events_per_second=4)
    run_for(m, 1)
    px = m.engines["PETR4"].best_bid - 100
    m.execution.submit(SubmitOrder("day", "PETR4", Side.BUY, OrderType.LIMIT, 100, price=px))
    m.execution.submit(SubmitOrder("gtc", "PETR4", Side.BUY, OrderType.LIMIT, 100, price=px,
                                   tif=TimeInForce.GTC))
    m.run_until(local_ns(date(2026, 3, 2), time(18, 31)))
    assert sink.of("day")[-1].kind == K.EXPIRED
    assert sink.of("gtc")[-1].kind == K.ACCEPTED
    assert m.phase("PETR4") is Phase.CLOSED and m.phase("WINFUT") is Phase.CLOSED
    closes = [t for t in m.trades if t.aggressor == 0]
    assert {t.symbol for t in closes} == {"WINJ26", "PETR4"}  # closing calls
    m.run_until(local_ns(date(2026, 3, 3), time(9, 40)))
    assert m.engines["PETR4"].level_size(1, px) == 100  # the GTC order survived the night
    assert K.EXPIRED not in [e.kind for e in sink.of("gtc")]
    m.run_until(local_ns(date(2026, 3, 3), time(10, 5)))
    assert m.today == date(2026, 3, 3)
    nextday = {t.symbol for t in m.trades if t.ts_event > local_ns(date(2026, 3, 3), time(0, 0))}
    assert nextday == {"WINJ26", "PETR4"}


def test_random_own_orders_never_break_the_market():
    import random

    m, sink = make(symbols=("WINFUT", "WDOFUT", "PETR4"))
    rng = random.Random(3)
    run_for(m, 5)
    sent = []
    for i in range(300):
        sym = rng.choice(["WINJ26", "WDOJ26", "PETR4"])
        eng = m.engines[sym]
        inst = m.instruments[sym]
        ref = eng.last_price or eng.best_bid
        side = rng.choice([Side.BUY, Side.SELL])
        otype = rng.choice(list(OrderType))
        price = ref + rng.randint(-5, 5) * inst.tick
        trig = ref + (1 if side == Side.BUY else -1) * rng.randint(1, 5) * inst.tick
        if otype == OrderType.STOP_LIMIT:
            price = trig
        oid = f"o{i}"
        sent.append(oid)
        m.execution.submit(SubmitOrder(oid, sym, side, otype, inst.lot * rng.randint(1, 3), price=price,
                                       trigger_price=trig, tif=rng.choice(list(TimeInForce))))
        if i % 7 == 0:
            m.execution.cancel(CancelOrder(rng.choice(sent)))
        run_for(m, rng.random() * 3)
    fills = [e for _, e in sink.events if e.kind == K.FILLED]
    assert fills
    fees = FeeSchedule()
    for e in fills:
        inst = m.instruments[e.symbol]
        assert inst.on_grid(e.fill_price) and inst.lot_ok(e.fill_qty)
        assert e.fee == fees.fee(inst, e.fill_qty, e.fill_price) and e.liquidity in (1, 2)
    by_order = Counter()
    for e in fills:
        by_order[e.order_id] += e.fill_qty
    for oid, q in by_order.items():
        first = next(e for _, e in sink.events if e.order_id == oid)
        assert first.kind == K.ACCEPTED
        assert q <= 3 * m.instruments[first.symbol].lot
    for eng in m.engines.values():
        assert not eng.is_crossed()
