"""Portfolio-level limits in the risk engine: every order is checked against portfolio VaR,
concentration and correlated exposure as they would be after it fills.

Weights are signed exposures in BRL (last trade x quantity x point value) over ``capital_brl``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradingsystem.domain.orders import Order
from tradingsystem.engine.kernel import Kernel
from tradingsystem.portfolio import PortfolioLimits, check_limits


class PortfolioLimitRule:
    """A ``RiskEngine.add_rule`` rule. ``returns`` is a DataFrame of recent daily returns by symbol."""

    def __init__(self, kernel: Kernel, limits: PortfolioLimits, capital_brl: Decimal, returns: Any,
                 clusters: Mapping[str, int] | None = None, sectors: Mapping[str, str] | None = None) -> None:
        if capital_brl <= 0:
            raise ValueError("capital_brl must be positive")
        self.kernel, self.limits, self.capital = kernel, limits, capital_brl
        self.returns, self.clusters, self.sectors = returns, clusters, sectors

    def attach(self) -> PortfolioLimitRule:
        self.kernel.risk.add_rule("portfolio", self)
        return self

    def weights_after(self, order: Order) -> dict[str, float]:
        k = self.kernel
        qty = {s: p.quantity for s, p in k.portfolio.positions.items() if p.quantity}
        sign = 1 if order.side == 1 else -1
        qty[order.symbol] = qty.get(order.symbol, 0) + sign * order.quantity
        out: dict[str, float] = {}
        for symbol, q in qty.items():
            px = k.data.last_price(symbol) or order.price
            if q and px:
                out[symbol] = float(k.instruments[symbol].brl(px * q) / self.capital)
        return out

    def __call__(self, order: Order, ts: int) -> tuple[str, str, str] | None:
        if order.symbol not in self.kernel.instruments:
            return None
        breaches = check_limits(self.weights_after(order), self.returns, self.limits, self.clusters, self.sectors)
        if not breaches:
            return None
        b = breaches[0]
        return (f"{b.value:.4f}", f"{b.limit:.4f}",
                f"{order.symbol}: {b.rule} {b.key} would reach {b.value:.1%}, beyond the limit {b.limit:.1%}")
