"""Portfolio risk: historical and parametric VaR/CVaR, exposures, beta, VaR backtests, portfolio limits.

VaR and CVaR are positive loss fractions of portfolio value at confidence ``level`` (e.g. 0.99).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "KupiecResult",
    "LimitBreach",
    "PortfolioLimits",
    "beta",
    "check_limits",
    "christoffersen",
    "cvar_historical",
    "cvar_parametric",
    "exposure_by",
    "kupiec",
    "var_backtest",
    "var_historical",
    "var_parametric",
]


def var_historical(r: np.ndarray | pd.Series, level: float = 0.99) -> float:
    """Historical VaR as a positive loss (skfolio's empirical quantile, no interpolation)."""
    import skfolio.measures as skm  # the portfolio extra; imported when used

    return float(skm.value_at_risk(np.asarray(r, dtype=float), beta=level))


def cvar_historical(r: np.ndarray | pd.Series, level: float = 0.99) -> float:
    """Historical CVaR (expected shortfall) as a positive loss (skfolio)."""
    import skfolio.measures as skm

    return float(skm.cvar(np.asarray(r, dtype=float), beta=level))


def var_parametric(r: np.ndarray | pd.Series, level: float = 0.99) -> float:
    x = np.asarray(r, dtype=float)
    return float(-(x.mean() + stats.norm.ppf(1 - level) * x.std(ddof=1)))


def cvar_parametric(r: np.ndarray | pd.Series, level: float = 0.99) -> float:
    x = np.asarray(r, dtype=float)
    z = stats.norm.ppf(1 - level)
    return float(-(x.mean() - x.std(ddof=1) * stats.norm.pdf(z) / (1 - level)))


def exposure_by(weights: Mapping[str, float], groups: Mapping[str, str | int]) -> dict[str, float]:
    """Sum of weights per group (sector, correlation cluster); unmapped symbols go to ``other``."""
    out: dict[str, float] = {}
    for s, w in weights.items():
        g = str(groups.get(s, "other"))
        out[g] = out.get(g, 0.0) + float(w)
    return dict(sorted(out.items()))


def beta(portfolio: pd.Series, market: pd.Series) -> dict[str, float]:
    """OLS of portfolio on market daily returns: beta, annualised alpha, R^2."""
    df = pd.concat([portfolio, market], axis=1, join="inner").dropna()
    y, x = df.iloc[:, 0].to_numpy(), df.iloc[:, 1].to_numpy()
    b = float(np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1))
    a = float(y.mean() - b * x.mean())
    resid = y - a - b * x
    r2 = float(1 - resid.var() / y.var()) if y.var() > 0 else 0.0
    return {"beta": b, "alpha_annual": a * 252, "r2": r2}


@dataclass(frozen=True, slots=True)
class KupiecResult:
    """Kupiec (1995) proportion-of-failures test of a VaR model."""

    observations: int
    exceptions: int
    expected_rate: float
    observed_rate: float
    lr: float
    p_value: float

    @property
    def rejected(self) -> bool:
        return self.p_value < 0.05


def kupiec(exceptions: int, observations: int, level: float) -> KupiecResult:
    p = 1 - level
    n, x = observations, exceptions
    phat = x / n if n else 0.0

    def ll(q: float) -> float:
        return (n - x) * math.log(1 - q) + (x * math.log(q) if x else 0.0) if 0 < q < 1 else 0.0

    lr = -2 * (ll(p) - ll(phat)) if 0 < phat < 1 else -2 * ll(p) if x == 0 else 0.0
    lr = max(lr, 0.0)
    return KupiecResult(n, x, p, phat, lr, float(stats.chi2.sf(lr, 1)))


def christoffersen(hits: np.ndarray) -> tuple[float, float]:
    """Christoffersen independence LR and p-value (do exceptions cluster?)."""
    h = np.asarray(hits, dtype=int)
    a, b = h[:-1], h[1:]
    n00, n01 = int(((a == 0) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())
    n10, n11 = int(((a == 1) & (b == 0)).sum()), int(((a == 1) & (b == 1)).sum())

    def xlogy(k: int, q: float) -> float:
        return k * math.log(q) if k else 0.0

    p01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    p11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    p = (n01 + n11) / max(len(a), 1)
    l0 = xlogy(n00 + n10, 1 - p) + xlogy(n01 + n11, p)
    l1 = xlogy(n00, 1 - p01) + xlogy(n01, p01) + xlogy(n10, 1 - p11) + xlogy(n11, p11)
    lr = max(-2 * (l0 - l1), 0.0)
    return lr, float(stats.chi2.sf(lr, 1))


def var_backtest(r: pd.Series, window: int = 250, level: float = 0.99, method: str = "historical"
                 ) -> tuple[pd.DataFrame, KupiecResult]:
    """One-day-ahead VaR forecasts on a trailing window, exceptions, and the Kupiec test."""
    fn = var_historical if method == "historical" else var_parametric
    x = r.to_numpy(dtype=float)
    var = np.array([fn(x[i - window:i], level) for i in range(window, len(x))])
    realised = x[window:]
    hits = realised < -var
    frame = pd.DataFrame({"var": var, "return": realised, "exception": hits}, index=r.index[window:])
    return frame, kupiec(int(hits.sum()), len(hits), level)


@dataclass(frozen=True)
class PortfolioLimits:
    """Portfolio-level limits; 0 disables one. Fractions of portfolio value."""

    max_var: float = 0.0
    var_level: float = 0.99
    max_weight: float = 0.0
    max_cluster_weight: float = 0.0
    max_sector_weight: float = 0.0


@dataclass(frozen=True, slots=True)
class LimitBreach:
    rule: str
    key: str
    value: float
    limit: float


def check_limits(weights: Mapping[str, float], returns: pd.DataFrame, limits: PortfolioLimits,
                 clusters: Mapping[str, int] | None = None, sectors: Mapping[str, str] | None = None
                 ) -> list[LimitBreach]:
    """Breaches of the portfolio limits by target ``weights`` given recent daily ``returns``."""
    out: list[LimitBreach] = []
    if limits.max_var:
        cols = [s for s in weights if s in returns.columns]
        w = np.array([weights[s] for s in cols])
        v = var_historical(returns[cols].to_numpy() @ w, limits.var_level)
        if v > limits.max_var:
            out.append(LimitBreach("portfolio_var", f"{limits.var_level:.0%}", v, limits.max_var))
    if limits.max_weight:
        out += [LimitBreach("concentration", s, abs(w), limits.max_weight)
                for s, w in weights.items() if abs(w) > limits.max_weight + 1e-12]
    for rule, groups, cap in (("correlated_exposure", clusters, limits.max_cluster_weight),
                              ("sector_exposure", sectors, limits.max_sector_weight)):
        if cap and groups:
            out += [LimitBreach(rule, g, w, cap) for g, w in exposure_by(weights, groups).items()
                    if abs(w) > cap + 1e-12]
    return out
