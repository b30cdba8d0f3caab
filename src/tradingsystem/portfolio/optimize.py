"""Portfolio optimisers on skfolio: min variance, max Sharpe, risk parity, HRP, CVaR, equal weight.

``optimize(returns, method, constraints)`` returns weights (floats summing to the budget).
skfolio is imported lazily so the rest of the package works without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["METHODS", "Constraints", "efficient_frontier", "optimize"]

METHODS = ("equal_weight", "min_variance", "max_sharpe", "risk_parity", "hrp", "min_cvar")


@dataclass(frozen=True)
class Constraints:
    """Weight constraints. ``cash`` is the fraction kept out of the market (budget = 1 - cash).

    ``min_weight`` < 0 allows shorts (mean-risk methods only). ``sectors`` maps symbol -> sector and
    ``sector_caps`` sector -> max total weight.
    """

    min_weight: float = 0.0
    max_weight: float = 1.0
    per_asset_max: Mapping[str, float] = field(default_factory=dict)
    sectors: Mapping[str, str] = field(default_factory=dict)
    sector_caps: Mapping[str, float] = field(default_factory=dict)
    cash: float = 0.0

    @property
    def budget(self) -> float:
        return 1.0 - self.cash

    def max_weights(self, symbols: list[str]) -> dict[str, float]:
        return {s: float(self.per_asset_max.get(s, self.max_weight)) for s in symbols}


def _common(c: Constraints, symbols: list[str]) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "min_weights": c.min_weight,
        "max_weights": c.max_weights(symbols),
        "budget": c.budget,
    }
    if c.sector_caps:
        kw["groups"] = {s: [c.sectors.get(s, "other")] for s in symbols}
        kw["linear_constraints"] = [f"{sector} <= {cap}" for sector, cap in c.sector_caps.items()
                                    if any(c.sectors.get(s) == sector for s in symbols)]
    return kw


def _model(method: str, c: Constraints, symbols: list[str], risk_free: float) -> Any:
    from skfolio import RiskMeasure
    from skfolio.optimization import HierarchicalRiskParity, MeanRisk, ObjectiveFunction, RiskBudgeting

    kw = _common(c, symbols)
    if method == "min_variance":
        return MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK, risk_measure=RiskMeasure.VARIANCE, **kw)
    if method == "max_sharpe":
        return MeanRisk(objective_function=ObjectiveFunction.MAXIMIZE_RATIO, risk_measure=RiskMeasure.VARIANCE,
                        risk_free_rate=risk_free, **kw)
    if method == "min_cvar":
        return MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK, risk_measure=RiskMeasure.CVAR,
                        cvar_beta=0.95, **kw)
    if method == "risk_parity":
        kw["min_weights"] = max(c.min_weight, 0.0)
        kw.pop("budget")
        return RiskBudgeting(risk_measure=RiskMeasure.VARIANCE, **kw)
    if method == "hrp":
        return HierarchicalRiskParity(min_weights=max(c.min_weight, 0.0), max_weights=kw["max_weights"])
    raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")


def _equal(symbols: list[str], c: Constraints) -> np.ndarray:
    return np.full(len(symbols), c.budget / len(symbols))


def optimize(returns: pd.DataFrame, method: str, constraints: Constraints | None = None,
             risk_free: float = 0.0) -> pd.Series:
    """Weights of ``method`` fitted on daily simple ``returns`` (rows = days, columns = symbols).

    ``max_sharpe`` falls back to minimum variance when no portfolio within the constraints has a mean
    return above ``risk_free`` (the problem has no solution; the series is then named ``min_variance``).
    """
    c = constraints or Constraints()
    symbols = [str(s) for s in returns.columns]
    if method == "max_sharpe" and float(returns.mean().max()) <= risk_free:
        method = "min_variance"  # no asset beats the risk-free rate: the max-Sharpe problem has no solution
    if method == "equal_weight":
        w = _equal(symbols, c)
    else:
        model = _model(method, c, symbols, risk_free)
        try:
            model.fit(returns.set_axis(symbols, axis=1))
        except Exception:  # skfolio raises plain and solver errors
            if method != "max_sharpe":
                raise
            return optimize(returns, "min_variance", c)
        w = np.asarray(model.weights_, dtype=float)
        if method in ("hrp", "risk_parity") and c.budget != 1.0:
            w = w * c.budget
    w = np.where(np.abs(w) < 1e-9, 0.0, w)
    return pd.Series(w, index=symbols, name=method)


def efficient_frontier(returns: pd.DataFrame, points: int = 12, constraints: Constraints | None = None
                       ) -> pd.DataFrame:
    """Annualised (volatility, return) of mean-variance portfolios along the frontier."""
    from skfolio.optimization import MeanRisk

    c = constraints or Constraints()
    symbols = [str(s) for s in returns.columns]
    model = MeanRisk(efficient_frontier_size=points, **_common(c, symbols))
    model.fit(returns.set_axis(symbols, axis=1))
    weights = np.atleast_2d(np.asarray(model.weights_, dtype=float))
    mu = returns.mean().to_numpy() * 252
    cov = returns.cov().to_numpy() * 252
    rows = [{"vol": float(np.sqrt(w @ cov @ w)), "ret": float(w @ mu)} for w in weights]
    return pd.DataFrame(rows).sort_values("vol").reset_index(drop=True)
