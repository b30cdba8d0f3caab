"""Each pre-trade rule denies with a clear reason, and the trading state gates orders."""

from decimal import Decimal

import pytest

from tests.engine.helpers import kernel, ticks
from tradingsystem.domain.orders import OrderStatus, OrderType, Side
from tradingsystem.engine.risk import RiskConfig, TradingState


def ready(risk: RiskConfig, prices=(125_000, 125_005, 125_010)):
    k, _ = kernel(ticks("WINZ26", list(prices)), risk=risk, latency_ns=0)
    k.run()
    return k


def send(k, side=Side.BUY, qty=1, otype=OrderType.MARKET, price=0, trigger=0, reduce_only=False):
    om = k.orders
    return om.submit(om.new_order("WINZ26", side, qty, otype, price, trigger), reduce_only=reduce_only)


def test_passes_are_audited_too():
    k = ready(RiskConfig())
    o = send(k)
    assert o.status is OrderStatus.FILLED
    last = k.risk.audit[-1]
    assert last.passed and last.order_id == o.order_id


def test_max_working_orders():
    k = ready(RiskConfig(max_working_orders=2))
    send(k, otype=OrderType.LIMIT, price=124_000)
    send(k, otype=OrderType.LIMIT, price=124_000)
    o = send(k, otype=OrderType.LIMIT, price=124_000)
    assert o.status is OrderStatus.REJECTED and "already working" in o.reason


def test_order_rate_throttle():
    k = ready(RiskConfig(max_orders_per_second=3))
    statuses = [send(k, otype=OrderType.LIMIT, price=124_000).status for _ in range(5)]
    assert statuses.count(OrderStatus.REJECTED) == 2
    assert k.risk.audit[-1].rule == "order_rate"


def test_price_band_fat_finger():
    k = ready(RiskConfig(price_band_pct=Decimal("1")))
    ok = send(k, otype=OrderType.LIMIT, price=124_000)  # 0.8% away
    bad = send(k, otype=OrderType.LIMIT, price=120_000)  # 4% away
    assert ok.status is not OrderStatus.REJECTED
    assert bad.status is OrderStatus.REJECTED and "more than 1%" in bad.reason


def test_gross_exposure_in_brl():
    # One WIN at 125,010 points is R$ 25,002 of exposure.
    k = ready(RiskConfig(max_gross_exposure_brl=Decimal("60000")))
    assert send(k, qty=2).status is OrderStatus.FILLED
    o = send(k, qty=1)
    assert o.status is OrderStatus.REJECTED and "gross exposure" in o.reason
    assert send(k, side=Side.SELL, qty=1).status is OrderStatus.FILLED  # reducing is always allowed


@pytest.mark.parametrize("state", [TradingState.REDUCING, TradingState.HALTED])
def test_trading_states(state):
    k = ready(RiskConfig())
    send(k, qty=3)
    k.risk.set_state(state, "test")
    assert send(k, qty=1).status is OrderStatus.REJECTED  # adds exposure
    reduce = send(k, side=Side.SELL, qty=2)
    if state is TradingState.REDUCING:
        assert reduce.status is OrderStatus.FILLED
    else:
        assert reduce.status is OrderStatus.REJECTED and "halted" in reduce.reason
        assert send(k, side=Side.SELL, qty=2, reduce_only=True).status is OrderStatus.FILLED
    flip = send(k, side=Side.SELL, qty=5, reduce_only=True)
    assert flip.status is OrderStatus.REJECTED  # would flip the position: not a reduction


def test_gross_exposure_counts_resting_orders():
    """The reported case: three resting 1-lot WIN bids under a R$ 30,000 limit; only the first fits."""
    k = ready(RiskConfig(max_gross_exposure_brl=Decimal("30000")))
    bids = [send(k, otype=OrderType.LIMIT, price=124_000) for _ in range(3)]
    assert bids[0].status is OrderStatus.ACCEPTED
    assert all(o.status is OrderStatus.REJECTED and "working orders" in o.reason for o in bids[1:])


def test_modify_passes_risk():
    k = ready(RiskConfig(max_order_qty=10, max_position=12))
    o = send(k, qty=5, otype=OrderType.LIMIT, price=124_000)
    events = []
    k.orders.add_listener(lambda order, e: events.append(e))
    assert not k.orders.modify(o.order_id, quantity=50)  # past max_order_qty
    assert "exceeds the limit 10" in events[-1].reason and events[-1].kind == 10  # MODIFY_REJECTED
    send(k, qty=5, otype=OrderType.LIMIT, price=124_000)
    assert not k.orders.modify(o.order_id, quantity=8)  # 8 + 5 working beyond 12
    assert k.orders.modify(o.order_id, quantity=7)  # 7 + 5 fits
    assert k.orders.modify  # the order is pending update now
    k.run()


def test_modify_in_reducing_cannot_add_exposure():
    """The reported case: in REDUCING a modify from 5 to 50 lots was accepted and filled."""
    k = ready(RiskConfig(max_order_qty=100, max_position=100))
    send(k, qty=10)
    o = send(k, side=Side.SELL, qty=5, otype=OrderType.LIMIT, price=126_000)
    k.risk.set_state(TradingState.REDUCING, "test")
    assert not k.orders.modify(o.order_id, quantity=50)  # would flip the position to -40
    assert k.orders.modify(o.order_id, quantity=10)  # still only reduces
    assert k.risk.audit[-2].rule == "trading_state"


@pytest.mark.parametrize("price", [10**400, 250_000, 90_000, -5])
def test_price_sanity_is_on_whatever_the_config(price):
    """price_band_pct is 0 (off): a price beyond what makes sense is still denied with its reason."""
    k = ready(RiskConfig(max_order_qty=10))
    o = send(k, otype=OrderType.LIMIT, price=price)
    assert o.status is OrderStatus.REJECTED and k.risk.audit[-1].rule == "price_sanity"
    assert "20%" in o.reason or "not positive" in o.reason
    k.run()  # the engine goes on


def test_a_failing_listener_never_stops_the_engine():
    k = ready(RiskConfig())
    seen = []

    def broken(order, event):
        raise RuntimeError("store down")

    k.orders.add_listener(broken)
    k.orders.add_listener(lambda order, event: seen.append(event.kind))
    assert send(k).status is OrderStatus.FILLED
    assert seen and k.orders.listener_errors >= 1 and "store down" in k.orders.last_error
