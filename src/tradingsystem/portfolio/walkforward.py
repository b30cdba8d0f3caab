"""Walk-forward evaluation of optimisers: fit on a trailing window, hold with drifting weights, repeat.

Costs are charged on turnover at each rebalance (``cost_bps`` of traded notional, one way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradingsystem.portfolio.optimize import Constraints, optimize

__all__ = ["WalkForwardResult", "compare", "performance", "walk_forward"]

Optimizer = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class WalkForwardResult:
    """Out-of-sample daily net returns, the weights chosen at each rebalance and the turnover paid."""

    method: str
    returns: pd.Series
    weights: pd.DataFrame
    turnover: pd.Series
    costs: pd.Series

    def summary(self) -> dict[str, float]:
        out = performance(self.returns)
        years = len(self.returns) / 252
        out["turnover_per_year"] = float(self.turnover.sum() / years) if years else 0.0
        out["cost_drag_per_year"] = float(self.costs.sum() / years) if years else 0.0
        out["rebalances"] = float(len(self.weights))
        return out


def performance(r: pd.Series) -> dict[str, float]:
    """Annualised return (geometric), volatility, Sharpe (rf 0), max drawdown, total return."""
    r = r.dropna()
    if r.empty:
        return {"ann_return": 0.0, "ann_vol": 0.0, "sharpe": 0.0, "max_drawdown": 0.0, "total_return": 0.0}
    wealth = (1 + r).cumprod()
    years = len(r) / 252
    ann_ret = float(wealth.iloc[-1] ** (1 / years) - 1)
    vol = float(r.std(ddof=1) * np.sqrt(252))
    dd = float((wealth / wealth.cummax() - 1).min())
    return {"ann_return": ann_ret, "ann_vol": vol, "sharpe": float(r.mean() / r.std(ddof=1) * np.sqrt(252)),
            "max_drawdown": dd, "total_return": float(wealth.iloc[-1] - 1)}


def walk_forward(returns: pd.DataFrame, method: str, constraints: Constraints | None = None,
                 lookback: int = 252, rebalance_every: int = 63, cost_bps: float = 10.0,
                 optimizer: Optimizer | None = None) -> WalkForwardResult:
    """Run one method walk-forward over ``returns`` (daily simple returns, no gaps)."""
    fit = optimizer or (lambda window: optimize(window, method, constraints))
    x = returns.to_numpy(dtype=float)
    n_days, n = x.shape
    w = np.zeros(n)  # drifted weights of the risky assets (cash = 1 - sum)
    out = np.zeros(n_days - lookback)
    chosen: dict[pd.Timestamp, np.ndarray] = {}
    turnover: dict[pd.Timestamp, float] = {}
    costs: dict[pd.Timestamp, float] = {}
    for i in range(lookback, n_days):
        k = i - lookback
        cost = 0.0
        if k % rebalance_every == 0:
            day = returns.index[i]
            target = fit(returns.iloc[i - lookback:i]).reindex(returns.columns).fillna(0.0).to_numpy()
            traded = float(np.abs(target - w).sum())
            cost = traded * cost_bps / 10_000
            chosen[day], turnover[day], costs[day] = target, traded, cost
            w = target
        gross = float(w @ x[i])
        out[k] = gross - cost
        growth = 1 + gross
        w = w * (1 + x[i]) / growth if growth > 0 else w
    idx = returns.index[lookback:]
    return WalkForwardResult(
        method,
        pd.Series(out, index=idx, name=method),
        pd.DataFrame.from_dict(chosen, orient="index", columns=list(returns.columns)),
        pd.Series(turnover, name="turnover"),
        pd.Series(costs, name="costs"),
    )


def compare(returns: pd.DataFrame, methods: list[str], constraints: Constraints | None = None,
            lookback: int = 252, rebalance_every: int = 63, cost_bps: float = 10.0) -> pd.DataFrame:
    """Walk-forward summary per method, with the excess over equal weight (same schedule, same costs)."""
    rows = {}
    for m in ["equal_weight", *[m for m in methods if m != "equal_weight"]]:
        rows[m] = walk_forward(returns, m, constraints, lookback, rebalance_every, cost_bps).summary()
    table = pd.DataFrame(rows).T
    base = rows["equal_weight"]
    table["sharpe_vs_ew"] = table["sharpe"] - base["sharpe"]
    table["return_vs_ew"] = table["ann_return"] - base["ann_return"]
    return table
