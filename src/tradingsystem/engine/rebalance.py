"""Rebalancing: target weights become B3 lot-rounded orders sent through the order manager and risk engine.

Stocks trade in lots of 100 in the round book (``PETR4``) and 1-99 shares in the fractional book
(``PETR4F``); futures in whole contracts (their lot). Sells go first so buys can use the cash.
Portfolio limits (VaR, concentration, correlated exposure) are checked on the targets before any order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

import pandas as pd

from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order, OrderType, Side
from tradingsystem.portfolio.risk import LimitBreach, PortfolioLimits, check_limits

if TYPE_CHECKING:
    from tradingsystem.engine.kernel import Kernel

__all__ = ["RebalanceOrder", "RebalancePlan", "holdings", "plan_rebalance", "rebalance", "submit_plan"]


@dataclass(frozen=True, slots=True)
class RebalanceOrder:
    symbol: str
    side: Side
    quantity: int
    price_raw: int
    notional_brl: Decimal
    fee_brl: Decimal


@dataclass(frozen=True)
class RebalancePlan:
    """Orders to send, target holdings (shares or contracts per root symbol) and estimated fees."""

    orders: list[RebalanceOrder]
    targets: dict[str, int]
    fees_brl: Decimal
    breaches: list[LimitBreach] = field(default_factory=list)


def _fractional(symbol: str) -> str:
    return symbol + "F"


def holdings(positions: Mapping[str, int], symbol: str) -> int:
    """Shares held in a stock across the round and fractional books."""
    return positions.get(symbol, 0) + positions.get(_fractional(symbol), 0)


def _target_units(weight: float, equity: Decimal, inst: Instrument, price_raw: int) -> int:
    unit_value = inst.brl(price_raw)
    if unit_value <= 0:
        raise ValueError(f"{inst.symbol}: no valid price")
    units = int((Decimal(repr(weight)) * equity / unit_value).to_integral_value(rounding=ROUND_DOWN))
    if inst.is_future:
        units = units // inst.lot * inst.lot if units >= 0 else -((-units) // inst.lot * inst.lot)
    return units


def plan_rebalance(weights: Mapping[str, float], equity_brl: Decimal, prices_raw: Mapping[str, int],
                   positions: Mapping[str, int], instruments: Mapping[str, Instrument],
                   fees: FeeSchedule | None = None, use_fractional: bool = True) -> RebalancePlan:
    """Lot-rounded orders that move ``positions`` to ``weights`` of ``equity_brl`` (rounded towards zero).

    Symbols held but absent from ``weights`` are sold to zero. Without a fractional book (or with
    ``use_fractional`` False) stock targets round down to whole lots of 100.
    """
    fees = fees or FeeSchedule()
    roots = sorted(set(weights) | {s for s, q in positions.items() if q and not instruments[s].fractional_of})
    targets: dict[str, int] = {}
    orders: list[RebalanceOrder] = []
    for symbol in roots:
        inst = instruments[symbol]
        px = prices_raw[symbol]
        target = _target_units(weights.get(symbol, 0.0), equity_brl, inst, px)
        frac = _fractional(symbol)
        has_frac = use_fractional and not inst.is_future and frac in instruments
        if not inst.is_future and not has_frac:
            target = target // inst.lot * inst.lot if target >= 0 else -((-target) // inst.lot * inst.lot)
        targets[symbol] = target
        current = holdings(positions, symbol) if not inst.is_future else positions.get(symbol, 0)
        delta = target - current
        if not delta:
            continue
        side = Side.BUY if delta > 0 else Side.SELL
        size = abs(delta)
        legs = [(symbol, size // inst.lot * inst.lot)]
        if has_frac:
            legs.append((frac, size % inst.lot))
        for sym, qty in legs:
            if qty:
                leg = instruments[sym]
                orders.append(RebalanceOrder(sym, side, qty, px, leg.brl(px * qty), fees.fee(leg, qty, px, False)))
    orders.sort(key=lambda o: (o.side == Side.BUY, o.symbol))
    return RebalancePlan(orders, targets, sum((o.fee_brl for o in orders), Decimal(0)))


def submit_plan(kernel: Kernel, plan: RebalancePlan, strategy_id: str = "rebalance") -> list[Order]:
    """Send the plan's orders as market orders; each passes the risk engine (denials come back DENIED)."""
    sent: list[Order] = []
    for o in plan.orders:
        order = kernel.orders.new_order(o.symbol, o.side, o.quantity, OrderType.MARKET, strategy_id=strategy_id,
                                        tags=("rebalance",))
        sent.append(kernel.orders.submit(order))
    return sent


def rebalance(kernel: Kernel, weights: Mapping[str, float], equity_brl: Decimal,
              limits: PortfolioLimits | None = None, returns: pd.DataFrame | None = None,
              clusters: Mapping[str, int] | None = None, sectors: Mapping[str, str] | None = None,
              strategy_id: str = "rebalance", use_fractional: bool = True,
              fees: FeeSchedule | None = None) -> tuple[RebalancePlan, list[Order]]:
    """Check portfolio limits on the targets, plan against the kernel's positions and last prices, send.

    If any portfolio limit is breached nothing is sent and the plan carries the breaches.
    """
    positions = {s: kernel.position(s) for s in kernel.instruments}
    prices: dict[str, int] = {}
    for s in set(weights) | {s for s, q in positions.items() if q}:
        root = kernel.instruments[s].fractional_of or s
        px = kernel.last_price(root)
        if px is None:
            raise ValueError(f"{root}: no last price to size the rebalance")
        prices[root] = px
    plan = plan_rebalance(weights, equity_brl, prices, positions, kernel.instruments, fees, use_fractional)
    if limits is not None and returns is not None:
        breaches = check_limits(weights, returns, limits, clusters, sectors)
        if breaches:
            return RebalancePlan([], plan.targets, Decimal(0), breaches), []
    return plan, submit_plan(kernel, plan, strategy_id)
