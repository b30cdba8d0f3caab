"""Portfolio limits (concentration, VaR, correlated exposure) enforced by the risk engine on every order."""

from decimal import Decimal

import numpy as np
import pandas as pd

from tests.engine.helpers import T0, kernel, ticks
from tradingsystem.domain.orders import OrderStatus, OrderType, Side
from tradingsystem.engine.portfolio_limits import PortfolioLimitRule
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.portfolio import PortfolioLimits


def market(symbols=("PETR4", "VALE3")):
    events = sorted(ticks("PETR4", [3800, 3801]) + ticks("VALE3", [6000, 6001], start=T0 + 1), key=lambda e: e.ts_event)
    k, _ = kernel(events, symbols=symbols, latency_ns=0, risk=RiskConfig(max_order_qty=10_000, max_position=10_000))
    k.run()
    return k


def returns(vol: float) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"PETR4": rng.normal(0, vol, 500), "VALE3": rng.normal(0, vol, 500)})


def buy(k, symbol, qty):
    return k.orders.submit(k.orders.new_order(symbol, Side.BUY, qty))


def test_concentration_limit_denies_the_order_that_would_breach_it():
    k = market()
    PortfolioLimitRule(k, PortfolioLimits(max_weight=0.30), Decimal(100_000), returns(0.01)).attach()
    assert buy(k, "PETR4", 700).status is OrderStatus.FILLED  # R$ 26,607 = 26.6%
    o = buy(k, "PETR4", 200)  # would be 34.2%
    assert o.status is OrderStatus.REJECTED and "concentration" in o.reason
    decision = k.risk.audit[-1]
    assert decision.rule == "portfolio" and not decision.passed


def test_portfolio_var_limit():
    k = market()
    PortfolioLimitRule(k, PortfolioLimits(max_var=0.01, var_level=0.99), Decimal(100_000), returns(0.03)).attach()
    assert buy(k, "PETR4", 100).status is OrderStatus.FILLED  # 3.8% of capital: VaR ~0.3%
    o = buy(k, "VALE3", 1000)  # 60% more of capital at 3% daily vol: VaR well above 1%
    assert o.status is OrderStatus.REJECTED and "portfolio_var" in o.reason


def test_correlated_exposure_limit():
    k = market()
    PortfolioLimitRule(k, PortfolioLimits(max_cluster_weight=0.5), Decimal(100_000), returns(0.01),
                       clusters={"PETR4": 1, "VALE3": 1}).attach()
    assert buy(k, "PETR4", 700).status is OrderStatus.FILLED
    o = buy(k, "VALE3", 500)  # 26.6% + 30% in one cluster
    assert o.status is OrderStatus.REJECTED and "correlated_exposure" in o.reason


def test_resting_orders_count_toward_the_concentration_limit():
    k = market()
    PortfolioLimitRule(k, PortfolioLimits(max_weight=0.30), Decimal(100_000), returns(0.01)).attach()
    om = k.orders
    rest = [om.submit(om.new_order("PETR4", Side.BUY, 300, OrderType.LIMIT, 3700)) for _ in range(3)]
    assert [o.status for o in rest[:2]] == [OrderStatus.ACCEPTED] * 2  # 600 shares if both fill: 22.8%
    assert rest[2].status is OrderStatus.REJECTED and "with working orders filled" in rest[2].reason
