"""Matching engine rules: priority, order types, TIF, modify/cancel, rejections, sessions."""

from __future__ import annotations

from tests.simulator.sim_helpers import PETR4, WIN, make_engine
from tradingsystem.backtest.matching import (
    BUY,
    DAY,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MAKER,
    MARKET,
    SELL,
    STOP_LIMIT,
    STOP_MARKET,
    TAKER,
)
from tradingsystem.domain.orders import OrderEventKind as K
from tradingsystem.domain.sessions import Phase


def test_price_time_priority_and_partial_fills():
    eng, rec = make_engine()
    a = eng.submit(SELL, LIMIT, 3, 125_010, broker=10, own=True, ref="a")
    b = eng.submit(SELL, LIMIT, 2, 125_005, broker=20, own=True, ref="b")
    c = eng.submit(SELL, LIMIT, 4, 125_005, broker=30, own=True, ref="c")
    taker = eng.submit(BUY, LIMIT, 5, 125_010, broker=40, own=True, ref="t")
    # best price first (b, c at 125005), then time (b before c)
    assert [(t.price, t.size, t.seller) for t in rec.trades] == [(125_005, 2, 20), (125_005, 3, 30)]
    assert all(t.aggressor == BUY and t.buyer == 40 for t in rec.trades)
    assert [t.trade_id for t in rec.trades] == [1, 2]
    assert rec.fills(taker) == [(2, 125_005, TAKER), (3, 125_005, TAKER)]
    assert rec.fills(b) == [(2, 125_005, MAKER)] and not b.live
    assert c.live and c.qty == 1 and c.filled == 3
    assert a.live and a.qty == 3
    assert not taker.live and taker.filled == 5
    assert eng.depth() == ([], [(125_005, 1), (125_010, 3)])


def test_limit_rest_publishes_levels_and_book_from_deltas_matches():
    eng, rec = make_engine()
    eng.submit(BUY, LIMIT, 2, 124_995)
    eng.submit(BUY, LIMIT, 3, 124_995)
    eng.submit(SELL, LIMIT, 1, 125_000)
    eng.submit(SELL, MARKET, 4)
    bids, asks = eng.depth()
    expected = {(1, p): s for p, s in bids} | {(2, p): s for p, s in asks}
    assert rec.book == expected
    seqs = [d.sequence for d in rec.deltas]
    assert seqs == list(range(1, len(seqs) + 1))
    assert rec.deltas[-1].side == 1 and rec.deltas[-1].size == 1 and rec.deltas[-1].orders == 1


def test_market_order_rest_rests_at_last_price():
    eng, rec = make_engine()
    eng.submit(SELL, LIMIT, 2, 125_000)
    eng.submit(SELL, LIMIT, 1, 125_005)
    m = eng.submit(BUY, MARKET, 5, own=True, ref="m")
    assert m.filled == 3 and m.live and m.price == 125_005 and m.qty == 2
    assert rec.kinds(m) == [K.ACCEPTED, K.FILLED, K.FILLED, K.UPDATED]
    assert eng.best_bid == 125_005 and eng.best_ask == 0
    assert not eng.is_crossed()


def test_market_order_without_liquidity_is_cancelled():
    eng, rec = make_engine()
    m = eng.submit(BUY, MARKET, 5, own=True, ref="m")
    assert rec.kinds(m) == [K.ACCEPTED, K.CANCELLED]
    assert "no liquidity" in rec.reports[-1][7]


def test_ioc_fills_what_it_can_and_cancels_the_rest():
    eng, rec = make_engine()
    eng.submit(SELL, LIMIT, 2, 125_000)
    eng.submit(SELL, LIMIT, 2, 125_010)
    o = eng.submit(BUY, LIMIT, 5, 125_005, tif=IOC, own=True, ref="o")
    assert rec.kinds(o) == [K.ACCEPTED, K.FILLED, K.CANCELLED]
    assert o.filled == 2 and not o.live
    assert eng.best_bid == 0 and eng.best_ask == 125_010


def test_fok_all_or_nothing():
    eng, rec = make_engine()
    eng.submit(SELL, LIMIT, 2, 125_000)
    eng.submit(SELL, LIMIT, 2, 125_010)
    no = eng.submit(BUY, LIMIT, 5, 125_010, tif=FOK, own=True, ref="no")
    assert rec.kinds(no) == [K.ACCEPTED, K.CANCELLED] and no.filled == 0 and not rec.trades
    yes = eng.submit(BUY, LIMIT, 4, 125_010, tif=FOK, own=True, ref="yes")
    assert yes.filled == 4 and [f[0] for f in rec.fills(yes)] == [2, 2]
    assert eng.best_ask == 0


def test_stop_market_triggers_on_last_trade():
    eng, rec = make_engine()
    eng.submit(SELL, LIMIT, 1, 125_000)
    eng.submit(BUY, MARKET, 1)  # last = 125000
    stop = eng.submit(BUY, STOP_MARKET, 2, trigger=125_010, own=True, ref="s")
    assert stop.live and eng.stops == [stop]
    eng.submit(SELL, LIMIT, 1, 125_010)
    eng.submit(SELL, LIMIT, 5, 125_015)
    eng.submit(BUY, LIMIT, 1, 125_010)  # trade at 125010 fires the stop
    assert rec.kinds(stop) == [K.ACCEPTED, K.TRIGGERED, K.FILLED]
    assert rec.fills(stop) == [(2, 125_015, TAKER)]
    assert not eng.stops


def test_stop_limit_rules_and_trigger_reached_is_rejected():
    eng, rec = make_engine()
    eng.submit(SELL, LIMIT, 1, 125_000)
    eng.submit(BUY, MARKET, 1)
    reached = eng.submit(BUY, STOP_MARKET, 1, trigger=125_000, own=True, ref="r")
    assert rec.kinds(reached) == [K.REJECTED] and "already reached" in reached.reason
    bad = eng.submit(BUY, STOP_LIMIT, 1, price=125_005, trigger=125_010, own=True, ref="b")
    assert rec.kinds(bad) == [K.REJECTED] and "beyond the trigger" in bad.reason
    sell = eng.submit(SELL, STOP_LIMIT, 1, price=124_980, trigger=124_990, own=True, ref="s")
    assert sell.live
    eng.submit(BUY, LIMIT, 3, 124_985)
    eng.submit(BUY, LIMIT, 1, 124_990)
    eng.submit(SELL, LIMIT, 1, 124_990)  # trade at 124990 triggers; limit 124980 takes the 124985 bid
    assert rec.fills(sell) == [(1, 124_985, TAKER)]


def test_modify_price_loses_priority_quantity_cut_keeps_it():
    eng, rec = make_engine()
    a = eng.submit(BUY, LIMIT, 5, 125_000, own=True, ref="a", broker=1)
    b = eng.submit(BUY, LIMIT, 5, 125_000, own=True, ref="b", broker=2)
    assert eng.modify(a, quantity=3) == ""
    assert a.qty == 3 and eng.level_size(BUY, 125_000) == 8
    eng.submit(SELL, LIMIT, 1, 125_000)
    assert rec.trades[-1].buyer == 1  # a still first
    assert eng.modify(a, price=124_995) == "" and eng.modify(a, price=125_000) == ""
    eng.submit(SELL, LIMIT, 1, 125_000)
    assert rec.trades[-1].buyer == 2  # a went to the back
    assert eng.modify(b, quantity=9) == ""  # increase loses priority too
    eng.submit(SELL, LIMIT, 1, 125_000)
    assert rec.trades[-1].buyer == 1
    assert K.UPDATED in rec.kinds(a)


def test_modify_to_crossing_price_trades_as_taker():
    eng, rec = make_engine()
    eng.submit(SELL, LIMIT, 2, 125_010)
    a = eng.submit(BUY, LIMIT, 3, 125_000, own=True, ref="a")
    eng.modify(a, price=125_010)
    assert rec.fills(a) == [(2, 125_010, TAKER)]
    assert a.live and a.qty == 1 and eng.best_bid == 125_010 and not eng.is_crossed()


def test_modify_and_cancel_rejections_leave_order_untouched():
    eng, rec = make_engine()
    a = eng.submit(BUY, LIMIT, 5, 125_000, own=True, ref="a")
    assert "tick grid" in eng.modify(a, price=125_003)
    stock, _ = make_engine(PETR4)
    p = stock.submit(BUY, LIMIT, 100, 3000)
    assert "lot" in stock.modify(p, quantity=150) and p.qty == 100
    eng.submit(SELL, LIMIT, 2, 125_000)
    assert "not above the filled" in eng.modify(a, quantity=2)
    assert a.price == 125_000 and a.qty == 3 and eng.level_size(BUY, 125_000) == 3
    assert eng.cancel(a) == ""
    assert "not working" in eng.cancel(a)
    assert rec.kinds(a)[-2:] == [K.CANCELLED, K.CANCEL_REJECTED]
    assert "not working" in eng.modify(a, quantity=4)
    assert eng.best_bid == 0


def test_rejections_have_clear_reasons_and_change_nothing():
    eng, rec = make_engine(PETR4)
    cases = {
        "tick": dict(side=BUY, otype=LIMIT, quantity=100, price=0),
        "lot": dict(side=BUY, otype=LIMIT, quantity=150, price=3000),
        "side": dict(side=3, otype=LIMIT, quantity=100, price=3000),
        "type": dict(side=BUY, otype=9, quantity=100, price=3000),
        "time in force": dict(side=BUY, otype=LIMIT, quantity=100, price=3000, tif=9),
    }
    for word, kw in cases.items():
        o = eng.submit(own=True, ref=word, **kw)
        assert not o.live and word in o.reason
        assert rec.kinds(o) == [K.REJECTED]
    assert not rec.deltas and eng.best_bid == 0
    w, _ = make_engine(WIN)
    assert "tick grid" in w.submit(BUY, LIMIT, 1, 125_002).reason


def test_phase_rules():
    eng, _rec = make_engine(WIN, Phase.CLOSED)
    assert "closed" in eng.submit(BUY, LIMIT, 1, 125_000).reason
    eng.phase = Phase.CANCEL_ONLY
    assert "cancel-only" in eng.submit(BUY, LIMIT, 1, 125_000).reason
    eng.phase = Phase.OPENING_CALL
    assert "auction" in eng.submit(BUY, MARKET, 1).reason
    assert "auction" in eng.submit(BUY, STOP_MARKET, 1, trigger=125_100).reason
    assert "auction" in eng.submit(BUY, LIMIT, 1, 125_000, tif=IOC).reason
    assert eng.submit(BUY, LIMIT, 1, 125_000).live


def test_session_close_expires_day_keeps_gtc():
    eng, rec = make_engine()
    day = eng.submit(BUY, LIMIT, 1, 125_000, tif=DAY, own=True, ref="d")
    gtc = eng.submit(BUY, LIMIT, 1, 124_995, tif=GTC, own=True, ref="g")
    stop = eng.submit(SELL, STOP_MARKET, 1, trigger=124_000, own=True, ref="s")
    eng.set_phase(Phase.CLOSED, 99)
    assert rec.kinds(day)[-1] == K.EXPIRED and rec.kinds(stop)[-1] == K.EXPIRED
    assert gtc.live and eng.depth() == ([(124_995, 1)], [])


def test_auction_accumulates_then_uncrosses_at_one_price():
    eng, rec = make_engine(PETR4, Phase.OPENING_CALL)
    eng.submit(BUY, LIMIT, 300, 3010, broker=1)
    eng.submit(BUY, LIMIT, 200, 3005, broker=2)
    eng.submit(SELL, LIMIT, 100, 2995, broker=3)
    eng.submit(SELL, LIMIT, 300, 3005, broker=4)
    eng.submit(SELL, LIMIT, 400, 3020, broker=5)
    assert eng.is_crossed() and not rec.trades
    assert eng.auction_price() == (3005, 400)
    eng.set_phase(Phase.CONTINUOUS, 10)
    assert {t.price for t in rec.trades} == {3005}
    assert sum(t.size for t in rec.trades) == 400
    assert all(t.aggressor == 0 for t in rec.trades)
    assert not eng.is_crossed() and eng.last_price == 3005
    assert eng.depth() == ([(3005, 100)], [(3020, 400)])
