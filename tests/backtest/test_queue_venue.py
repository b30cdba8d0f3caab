"""The queue-aware fill model: queue position, partial fills, book walks, slippage, latency, fees."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.backtest.helpers import MS, T0, Harness, level, trade
from tradingsystem.backtest.queue_venue import QueueVenueConfig
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.orders import OrderStatus, OrderType, Side, TimeInForce

SELL_AGGR, BUY_AGGR = 2, 1


def test_limit_behind_500_lots_is_not_filled_by_400_traded() -> None:
    events = [level(1, 125_000, 500, T0), level(2, 125_005, 300, T0)]
    events += [trade(125_000, 100, SELL_AGGR, T0 + i * MS) for i in range(1, 5)]  # 400 lots at our price
    h = Harness(events)
    h.at(T0 + 1000, Side.BUY, 10, price=125_000)
    h.run()
    assert h.fills.fills == []
    assert h.venue.resting() == [(h.orders[0].order_id, 10, 100)]
    assert h.orders[0].status is OrderStatus.ACCEPTED


def test_fills_after_the_volume_ahead_traded_partially_capped_by_volume() -> None:
    events = [level(1, 125_000, 500, T0)]
    events += [trade(125_000, 100, SELL_AGGR, T0 + i * MS) for i in range(1, 5)]
    events += [trade(125_000, 104, SELL_AGGR, T0 + 5 * MS), trade(125_000, 3, SELL_AGGR, T0 + 6 * MS),
               trade(125_000, 50, SELL_AGGR, T0 + 7 * MS)]
    h = Harness(events)
    h.at(T0 + 1000, Side.BUY, 10, price=125_000)
    h.run()
    assert [(f.quantity, f.price, f.ts) for f in h.fills.fills] == [
        (4, 125_000, T0 + 5 * MS), (3, 125_000, T0 + 6 * MS), (3, 125_000, T0 + 7 * MS)]
    assert all(f.liquidity == 1 for f in h.fills.fills)
    assert h.orders[0].status is OrderStatus.FILLED


def test_buyer_aggressor_trades_do_not_consume_a_bid_queue() -> None:
    events = [level(1, 125_000, 50, T0)] + [trade(125_000, 100, BUY_AGGR, T0 + i * MS) for i in range(1, 4)]
    h = Harness(events)
    h.at(T0 + 1000, Side.BUY, 1, price=125_000)
    h.run()
    assert h.fills.fills == []


def test_trade_through_the_price_fills_capped_by_its_size() -> None:
    events = [level(1, 125_000, 500, T0), trade(124_995, 2, SELL_AGGR, T0 + MS)]
    h = Harness(events)
    h.at(T0 + 1000, Side.BUY, 5, price=125_000)
    h.run()
    assert [(f.quantity, f.price) for f in h.fills.fills] == [(2, 125_000)]


def test_cancels_ahead_shrink_the_queue() -> None:
    events = [level(1, 125_000, 500, T0), level(1, 125_000, 20, T0 + MS), trade(125_000, 25, SELL_AGGR, T0 + 2 * MS)]
    h = Harness(events)
    h.at(T0 + 1000, Side.BUY, 10, price=125_000)
    h.run()
    assert [f.quantity for f in h.fills.fills] == [5]


def test_market_order_walks_the_book() -> None:
    events = [level(2, 125_005, 3, T0), level(2, 125_010, 4, T0), level(2, 125_020, 10, T0),
              level(1, 125_000, 7, T0), trade(125_000, 1, SELL_AGGR, T0 + MS)]
    h = Harness(events)
    h.at(T0 + 2 * MS, Side.BUY, 9, OrderType.MARKET)
    h.kernel.run(until_ts=T0 + 3 * MS)
    assert [(f.quantity, f.price) for f in h.fills.fills] == [(3, 125_005), (4, 125_010), (2, 125_020)]
    assert h.kernel.portfolio.positions["WINZ26"].avg_price == Fraction(3 * 125_005 + 4 * 125_010 + 2 * 125_020, 9)


def test_market_order_beyond_the_book_pays_slippage_past_the_last_level() -> None:
    events = [level(1, 125_000, 2, T0), level(1, 124_995, 1, T0), trade(125_000, 1, SELL_AGGR, T0 + MS)]
    h = Harness(events, QueueVenueConfig(slippage_ticks=2))
    h.at(T0 + 2 * MS, Side.SELL, 5, OrderType.MARKET)
    h.kernel.run(until_ts=T0 + 3 * MS)
    assert [(f.quantity, f.price) for f in h.fills.fills] == [(2, 125_000), (1, 124_995), (2, 124_985)]


def test_market_order_without_book_pays_configured_slippage() -> None:
    h = Harness([trade(125_000, 1, SELL_AGGR, T0)], QueueVenueConfig(slippage_ticks=3), book=False)
    h.at(T0 + MS, Side.BUY, 2, OrderType.MARKET)
    h.kernel.run(until_ts=T0 + 2 * MS)
    assert [(f.quantity, f.price) for f in h.fills.fills] == [(2, 125_015)]


def test_marketable_limit_takes_up_to_its_price_and_rests_the_rest() -> None:
    events = [level(2, 125_005, 3, T0), level(2, 125_010, 4, T0), trade(125_005, 1, BUY_AGGR, T0 + MS)]
    h = Harness(events)
    h.at(T0 + 2 * MS, Side.BUY, 5, price=125_005)
    h.kernel.run(until_ts=T0 + 3 * MS)
    assert [(f.quantity, f.price, f.liquidity) for f in h.fills.fills] == [(3, 125_005, 2)]
    assert h.venue.resting()[0][1:] == (2, 0)


def test_ioc_cancels_what_does_not_fill_and_fok_all_or_nothing() -> None:
    events = [level(2, 125_005, 3, T0), trade(125_005, 1, BUY_AGGR, T0 + MS)]
    h = Harness(events)
    h.at(T0 + 2 * MS, Side.BUY, 5, price=125_005, tif=TimeInForce.IOC)
    h.at(T0 + 2 * MS, Side.BUY, 5, price=125_005, tif=TimeInForce.FOK)
    h.kernel.run(until_ts=T0 + 3 * MS)
    assert [f.quantity for f in h.fills.fills] == [3]
    assert h.orders[0].status is OrderStatus.CANCELLED and h.orders[0].filled_qty == 3
    assert h.orders[1].status is OrderStatus.CANCELLED and h.orders[1].filled_qty == 0


def test_latency_to_venue_and_back() -> None:
    events = [trade(125_000 + 5 * i, 1, BUY_AGGR, T0 + i * MS) for i in range(10)]
    h = Harness(events, QueueVenueConfig(latency_ns=3 * MS, ack_latency_ns=2 * MS), book=False)
    h.at(T0 + MS, Side.BUY, 1, OrderType.MARKET)
    h.kernel.run(until_ts=T0 + 5 * MS)
    assert h.fills.fills == [] and h.kernel.portfolio.quantity("WINZ26") == 0  # executed, not yet reported
    h.run()
    (fill,) = h.fills.fills
    # sent at T0+1ms, executes at +4ms against the last trade 125_015, reported 2 ms later
    assert (fill.price, fill.ts) == (125_015, T0 + 4 * MS)
    assert h.kernel.portfolio.quantity("WINZ26") == 1


def test_price_change_loses_priority() -> None:
    events = [level(1, 125_000, 50, T0), level(1, 124_995, 80, T0), trade(125_000, 60, SELL_AGGR, T0 + 5 * MS)]
    h = Harness(events)
    h.at(T0 + 1000, Side.BUY, 10, price=125_000)
    h.kernel.clock.schedule(T0 + MS, lambda _t: h.kernel.orders.modify(h.orders[0].order_id, price=124_995))
    h.run()
    assert h.fills.fills == []
    assert h.venue.resting()[0][2] == 80


def test_stop_market_triggers_on_the_tape() -> None:
    events = [trade(125_000, 1, BUY_AGGR, T0), trade(125_010, 1, BUY_AGGR, T0 + MS), trade(125_020, 1, BUY_AGGR,
                                                                                          T0 + 2 * MS)]
    h = Harness(events, book=False)
    h.at(T0 + 1000, Side.BUY, 1, OrderType.STOP_MARKET, trigger=125_010)
    h.run()
    assert [(f.price, f.ts) for f in h.fills.fills] == [(125_010, T0 + MS)]


def test_b3_fees_day_trade_and_swing_per_contract_and_side() -> None:
    # WIN: R$0.2561 (day trade) / R$0.394 (swing) per contract and side, 2 contracts, plus R$0.50 brokerage
    # with 9.65% tax = 0.54825 per fill; "auto" charges the opening leg swing, the closing leg day trade.
    fees = FeeSchedule(brokerage_per_fill=Decimal("0.50"), brokerage_tax_rate=Decimal("0.0965"))
    events = [trade(125_000, 1, BUY_AGGR, T0 + i * MS) for i in range(5)]
    for mode, expected in (("day_trade", ["1.06", "1.06"]), ("swing", ["1.34", "1.34"]),
                           ("auto", ["1.34", "1.06"])):
        h = Harness(events, QueueVenueConfig(fee_mode=mode), fees=fees, book=False)
        h.at(T0 + MS, Side.BUY, 2, OrderType.MARKET)
        h.at(T0 + 2 * MS, Side.SELL, 2, OrderType.MARKET)
        h.run()
        assert [str(f.fee) for f in h.fills.fills] == expected, mode
        assert h.kernel.portfolio.fees_brl() == sum(Decimal(x) for x in expected)


@settings(max_examples=60, deadline=None)
@given(ahead=st.integers(0, 300), qty=st.integers(1, 50),
       prints=st.lists(st.tuples(st.integers(1, 80), st.sampled_from([0, 1, 2])), max_size=25))
def test_a_resting_bid_gets_exactly_the_volume_traded_past_its_queue(ahead: int, qty: int,
                                                                    prints: list[tuple[int, int]]) -> None:
    events = [level(1, 125_000, ahead, T0)] if ahead else []
    events += [trade(125_000, size, aggr, T0 + (i + 1) * MS) for i, (size, aggr) in enumerate(prints)]
    h = Harness(events, QueueVenueConfig(queue_ahead_default=ahead), book=bool(ahead))
    h.at(T0 + 1000, Side.BUY, qty, price=125_000)
    h.run()
    hitting = sum(size for size, aggr in prints if aggr != BUY_AGGR)  # sells and unflagged prints hit bids
    filled = sum(f.quantity for f in h.fills.fills)
    assert filled == min(qty, max(0, hitting - ahead))
    assert all(f.price == 125_000 and f.liquidity == 1 for f in h.fills.fills)
