"""Properties of the matching engine over random order sequences (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.simulator.sim_helpers import PETR4, WDO, WIN, make_engine
from tradingsystem.backtest.matching import BUY, LIMIT, MARKET, SELL, STOP_LIMIT, STOP_MARKET
from tradingsystem.domain.orders import OrderEventKind as K
from tradingsystem.domain.sessions import Phase

INSTRUMENTS = {"WIN": WIN, "WDO": WDO, "PETR4": PETR4}
CENTRE = {"WIN": 125_000, "WDO": 54_000, "PETR4": 3_000}

op = st.tuples(
    st.sampled_from(["new", "new", "new", "modify", "cancel"]),
    st.sampled_from([BUY, SELL]),
    st.sampled_from([LIMIT, LIMIT, MARKET, STOP_MARKET, STOP_LIMIT]),
    st.integers(-8, 8),  # price offset in ticks
    st.integers(1, 6),  # quantity in lots
    st.integers(1, 4),  # tif
    st.integers(0, 1000),  # pick for modify/cancel
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(INSTRUMENTS)), st.lists(op, min_size=1, max_size=80))
def test_continuous_invariants(name, ops):
    inst = INSTRUMENTS[name]
    eng, rec = make_engine(inst)
    tick, lot, centre = inst.tick, inst.lot, CENTRE[name]
    orders = []
    for i, (what, side, otype, off, lots, tif, pick) in enumerate(ops):
        if what == "new":
            price = centre + off * tick
            trig = centre + (off + (3 if side == BUY else -3)) * tick
            if otype == STOP_LIMIT:
                price = trig + (tick if side == BUY else -tick)
            orders.append(eng.submit(side, otype, lots * lot, price, trig, tif, broker=side, ts=i, own=True,
                                     ref=str(i)))
        elif orders:
            o = orders[pick % len(orders)]
            if what == "cancel":
                eng.cancel(o, i)
            else:
                eng.modify(o, quantity=(o.filled // lot + lots) * lot, price=centre + off * tick, ts=i)
        # never crossed after matching
        assert not eng.is_crossed()
        # the book rebuilt from deltas equals the engine's book
        bids, asks = eng.depth(1000)
        assert rec.book == {(1, p): s for p, s in bids} | {(2, p): s for p, s in asks}
    for t in rec.trades:
        assert inst.on_grid(t.price) and t.size > 0 and t.size % lot == 0
        assert t.aggressor in (BUY, SELL)
    assert [t.trade_id for t in rec.trades] == list(range(1, len(rec.trades) + 1))
    # fills add up: to the order's own tally, never above its quantity, and both sides of every trade
    for o in orders:
        fills = rec.fills(o)
        assert sum(q for q, _, _ in fills) == o.filled <= o.quantity
        assert all(inst.on_grid(p) and q % lot == 0 for q, p, _ in fills)
        if o.filled == o.quantity:
            assert not o.live
    assert 2 * sum(t.size for t in rec.trades) == sum(r[3] for r in rec.reports if r[1] == K.FILLED)
    # level totals equal the live orders in them
    for o in eng.working_orders():
        assert o.live and o.qty > 0


auction_order = st.tuples(st.sampled_from([BUY, SELL]), st.integers(-6, 6), st.integers(1, 9))


@settings(max_examples=150, deadline=None)
@given(st.lists(auction_order, min_size=1, max_size=40), st.integers(-3, 3))
def test_auction_uncross_maximises_volume(orders, last_off):
    eng, rec = make_engine(PETR4, Phase.CONTINUOUS)
    centre = 3_000
    # give the engine a last price
    eng.submit(SELL, LIMIT, 100, centre + last_off)
    eng.submit(BUY, LIMIT, 100, centre + last_off)
    eng.set_phase(Phase.OPENING_CALL, 1)
    for side, off, lots in orders:
        eng.submit(side, LIMIT, lots * 100, centre + off)
    book_bids, book_asks = eng.depth(100)

    def executable(p):
        buy = sum(s for q, s in book_bids if q >= p)
        sell = sum(s for q, s in book_asks if q <= p)
        return min(buy, sell)

    best = max(executable(centre + k) for k in range(-7, 8))
    price, qty = eng.auction_price()
    assert qty == best
    if best:
        assert executable(price) == best
    n0 = len(rec.trades)
    eng.set_phase(Phase.CONTINUOUS, 2)
    printed = rec.trades[n0:]
    assert sum(t.size for t in printed) == best
    assert {t.price for t in printed} <= {price}
    assert not eng.is_crossed()


phase_op = st.one_of(op, st.sampled_from([Phase.OPENING_CALL, Phase.CONTINUOUS, Phase.CLOSING_CALL,
                                          Phase.CLOSED, Phase.CANCEL_ONLY]))


@settings(max_examples=100, deadline=None)
@given(st.lists(phase_op, min_size=1, max_size=80))
def test_invariants_across_phases(ops):
    eng, rec = make_engine(WIN)
    orders = []
    for i, item in enumerate(ops):
        if isinstance(item, Phase):
            eng.set_phase(item, i)
        else:
            what, side, otype, off, lots, tif, pick = item
            if what == "new":
                price = 125_000 + off * 5
                orders.append(eng.submit(side, otype, lots, price, price + (15 if side == BUY else -15), tif,
                                         ts=i, own=True, ref=str(i)))
            elif orders:
                o = orders[pick % len(orders)]
                if what == "cancel":
                    eng.cancel(o, i)
                else:
                    eng.modify(o, quantity=o.filled + lots, price=125_000 + off * 5, ts=i)
        if eng.phase in (Phase.CONTINUOUS, Phase.CLOSED, Phase.CANCEL_ONLY):
            assert not eng.is_crossed()
        bids, asks = eng.depth(1000)
        assert rec.book == {(1, p): s for p, s in bids} | {(2, p): s for p, s in asks}
    for o in orders:
        assert sum(q for q, _, _ in rec.fills(o)) == o.filled <= o.quantity
        closing = [k for k in rec.kinds(o) if k in (K.REJECTED, K.CANCELLED, K.EXPIRED)]
        assert len(closing) <= 1 and (not closing or not o.live)
