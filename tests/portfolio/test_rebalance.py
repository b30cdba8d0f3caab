from __future__ import annotations

from datetime import time
from decimal import Decimal

import pandas as pd
import pytest

from tests.engine.helpers import DAY, kernel, weekdays
from tradingsystem.domain import b3
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.events import TradeTick
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus, Side
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.rebalance import holdings, plan_rebalance, rebalance
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.portfolio import Fill, PortfolioLimits, attribute, group_pnl, total_pnl


def _instruments(symbols: list[str]) -> dict[str, Instrument]:
    out = {}
    for s in symbols:
        out[s] = b3.stock(s)
        out[s + "F"] = b3.stock(s + "F")
    return out


def test_plan_splits_round_lots_and_fractional_book() -> None:
    inst = _instruments(["PETR4", "VALE3"])
    plan = plan_rebalance({"PETR4": 0.5, "VALE3": 0.5}, Decimal("100000"), {"PETR4": 3123, "VALE3": 6789},
                          {"VALE3": 800, "VALE3F": 37}, inst)
    # PETR4: 50,000 / 31.23 = 1601 shares -> 1600 round + 1 fractional; VALE3: 736 -> sell 101 = 100 + 1
    assert plan.targets == {"PETR4": 1601, "VALE3": 736}
    got = [(o.symbol, o.side, o.quantity) for o in plan.orders]
    assert got == [("VALE3", Side.SELL, 100), ("VALE3F", Side.SELL, 1), ("PETR4", Side.BUY, 1600),
                   ("PETR4F", Side.BUY, 1)]
    for o in plan.orders:
        assert o.quantity % inst[o.symbol].lot == 0 and (o.symbol.endswith("F") == (o.quantity < 100))
    fee = FeeSchedule().fee(inst["PETR4"], 1600, 3123, day_trade=False)
    assert plan.orders[2].fee_brl == fee and plan.fees_brl == sum((o.fee_brl for o in plan.orders), Decimal(0))
    spent = sum((o.notional_brl for o in plan.orders if o.side is Side.BUY), Decimal(0))
    assert spent <= Decimal("50000")


def test_plan_without_fractional_rounds_down_and_futures_whole_contracts() -> None:
    inst = {"PETR4": b3.stock("PETR4"), "WINZ26": b3.instrument("WINZ26", weekdays)}
    plan = plan_rebalance({"PETR4": 0.5, "WINZ26": 0.5}, Decimal("100000"), {"PETR4": 3123, "WINZ26": 130000},
                          {"WINZ26": 3}, inst)
    assert plan.targets["PETR4"] == 1600  # no fractional book known: whole lots only
    assert plan.targets["WINZ26"] == 1  # 50,000 / (130,000 pts x R$0.20) = 1.9 -> 1 contract
    assert ("WINZ26", Side.SELL, 2) in [(o.symbol, o.side, o.quantity) for o in plan.orders]


def test_sells_what_is_no_longer_wanted() -> None:
    inst = _instruments(["PETR4"])
    plan = plan_rebalance({}, Decimal("1000"), {"PETR4": 3000}, {"PETR4": 200, "PETR4F": 5}, inst)
    assert plan.targets == {"PETR4": 0}
    assert [(o.symbol, o.quantity) for o in plan.orders] == [("PETR4", 200), ("PETR4F", 5)]


def _ticks(prices: dict[str, int], hh: int) -> list[TradeTick]:
    t0 = local_ns(DAY, time(hh, 0))
    out = []
    for i, (sym, px) in enumerate(sorted(prices.items())):
        for s in (sym, sym + "F"):
            ts = t0 + (2 * i + (s != sym)) * 1_000_000
            out.append(TradeTick(s, px, 100, 1, len(out) + 1, ts, ts))
    return out


def test_rebalance_through_kernel_passes_risk_and_attributes_exactly(raw_closes: pd.DataFrame,
                                                                    returns: pd.DataFrame) -> None:
    """Real last closes of the 10 stocks: R$1,000,000 equal weight, then to min-variance-like tilts."""
    symbols = list(raw_closes.columns)
    first = {s: round(raw_closes[s].iloc[-2] * 100) for s in symbols}
    second = {s: round(raw_closes[s].iloc[-1] * 100) for s in symbols}
    events = _ticks(first, 11) + _ticks(second, 15)
    risk = RiskConfig(max_order_qty=100_000, max_position=100_000)
    k, _ = kernel(events, tuple(sorted(_instruments(symbols))), risk=risk)
    fills: list[Fill] = []

    def on_event(order: Order, ev: OrderEvent) -> None:
        if ev.kind == OrderEventKind.FILLED:
            inst = k.instruments[order.symbol]
            fee = ev.fee or k.portfolio.fee_for(inst, ev.fill_qty, ev.fill_price)
            fills.append(Fill(ev.ts_event, order.symbol, int(order.side), ev.fill_qty, inst.to_price(ev.fill_price),
                              fee, order.strategy_id))

    k.orders.add_listener(on_event)
    k.run(until_ts=local_ns(DAY, time(12, 0)))
    equity = Decimal("1000000")
    plan, orders = rebalance(k, {s: 0.1 for s in symbols}, equity, PortfolioLimits(max_var=0.05, max_weight=0.2),
                             returns.iloc[-250:])
    assert plan.breaches == [] and orders and k.risk.denials == 0
    assert all(o.status is OrderStatus.FILLED for o in orders)
    assert any(o.symbol.endswith("F") for o in orders)
    for s in symbols:
        held = holdings({x: k.position(x) for x in k.instruments}, s)
        assert held == plan.targets[s]
        price = k.instruments[s].to_price(first[s])
        assert 0 <= Decimal("0.1") * equity - held * price < price

    # a concentrated target breaches the portfolio limit: nothing is sent
    tilted = {s: 0.05 for s in symbols} | {"PETR4": 0.55}
    blocked, none = rebalance(k, tilted, equity, PortfolioLimits(max_weight=0.2), returns.iloc[-250:])
    assert none == [] and [b.rule for b in blocked.breaches] == ["concentration"]

    # second rebalance after prices moved: tilt within limits
    k.run(until_ts=local_ns(DAY, time(16, 0)))
    tilted = {s: 0.08 for s in symbols} | {"PETR4": 0.18, "VALE3": 0.10}
    _, orders2 = rebalance(k, tilted, equity * Decimal("1.01"))
    assert orders2 and all(o.status is OrderStatus.FILLED for o in orders2) and k.risk.denials == 0
    marks = {s: k.instruments[s].to_price(k.last_price(s) or 0) for s in k.instruments}
    contribs = attribute(fills, marks)
    net = k.portfolio.net_brl()
    assert total_pnl(fills, marks) == net
    assert sum(group_pnl(contribs, "symbol").values(), Decimal(0)) == net
    assert sum(group_pnl(contribs, "strategy").values(), Decimal(0)) == net == k.portfolio.strategy_net_brl("rebalance")


def test_denied_orders_come_back_denied(raw_closes: pd.DataFrame) -> None:
    symbols = ["PETR4"]
    px = {"PETR4": round(raw_closes["PETR4"].iloc[-1] * 100)}
    k, _ = kernel(_ticks(px, 11), tuple(sorted(_instruments(symbols))), risk=RiskConfig(max_order_qty=500))
    k.run()
    _, orders = rebalance(k, {"PETR4": 1.0}, Decimal("100000"))
    assert any(o.status is OrderStatus.REJECTED and "exceeds" in o.reason for o in orders) and k.risk.denials >= 1


@pytest.mark.parametrize("weights", [{"PETR4": 0.3}, {"PETR4": 0.999}])
def test_plan_never_overspends(weights: dict[str, float]) -> None:
    inst = _instruments(["PETR4"])
    plan = plan_rebalance(weights, Decimal("12345.67"), {"PETR4": 1777}, {}, inst)
    assert sum((o.notional_brl for o in plan.orders), Decimal(0)) <= Decimal("12345.67") * Decimal(weights["PETR4"])
