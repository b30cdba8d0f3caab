"""Portfolio-level limits in the risk engine: every order is checked against portfolio VaR,
concentration and correlated exposure as they would be after it and every working order fills.

Weights are signed exposures in BRL (last trade x quantity x point value) over ``capital_brl``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from itertools import product
from typing import Any

from tradingsystem.domain.orders import Order
from tradingsystem.engine.kernel import Kernel
from tradingsystem.portfolio import PortfolioLimits, check_limits

MAX_CORNERS_LOG2 = 8


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

    def weights_after(self, order: Order) -> list[dict[str, float]]:
        """Weights in each worst case: every symbol at the low or high end of what its working orders (and
        this order) can reach. The limits are convex in the weights, so the corners bound every case; past
        ``MAX_CORNERS`` the two joint corners (all buys fill, all sells fill) are used."""
        k = self.kernel
        sign = 1 if order.side == 1 else -1
        ranges = k.worst_positions(order.symbol, sign * order.leaves_qty)
        prices = {s: k.data.last_price(s) or order.price for s in ranges}
        spread = [s for s, (lo, hi) in ranges.items() if lo != hi]
        if len(spread) > MAX_CORNERS_LOG2:
            corners = [{s: r[0] for s, r in ranges.items()}, {s: r[1] for s, r in ranges.items()}]
        else:
            corners = []
            for picks in product((0, 1), repeat=len(spread)):
                corner = {s: r[0] for s, r in ranges.items()}
                for s, pick in zip(spread, picks, strict=True):
                    corner[s] = ranges[s][pick]
                corners.append(corner)
        return [{s: float(k.instruments[s].brl(prices[s] * q) / self.capital)
                 for s, q in corner.items() if q and prices[s]} for corner in corners]

    def __call__(self, order: Order, ts: int) -> tuple[str, str, str] | None:
        if order.symbol not in self.kernel.instruments:
            return None
        for weights in self.weights_after(order):
            breaches = check_limits(weights, self.returns, self.limits, self.clusters, self.sectors)
            if breaches:
                b = breaches[0]
                return (f"{b.value:.4f}", f"{b.limit:.4f}",
                        f"{order.symbol}: {b.rule} {b.key} would reach {b.value:.1%} with working orders filled, "
                        f"beyond the limit {b.limit:.1%}")
        return None
