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
