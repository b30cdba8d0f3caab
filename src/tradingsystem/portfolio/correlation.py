"""Correlation analysis: shrinkage covariance, rolling correlation, clustering, regime changes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.covariance import LedoitWolf

__all__ = [
    "Clustering",
    "RegimeChange",
    "cluster",
    "correlation_regimes",
    "cov_to_corr",
    "ledoit_wolf",
    "mean_pairwise_correlation",
    "rolling_correlation",
]


def ledoit_wolf(returns: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit-Wolf (2004) shrinkage of the sample covariance towards a scaled identity.

    Returns (covariance, shrinkage intensity in [0, 1]).
    """
    lw = LedoitWolf().fit(np.asarray(returns, dtype=float))
    return lw.covariance_, float(lw.shrinkage_)


def cov_to_corr(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    np.fill_diagonal(corr, 1.0)
    return np.asarray(corr)


def rolling_correlation(returns: pd.DataFrame, window: int = 63) -> pd.DataFrame:
    """Rolling pairwise correlations: a (date, symbol) x symbol frame."""
    return returns.rolling(window).corr().dropna(how="all")


def mean_pairwise_correlation(returns: pd.DataFrame, window: int = 63) -> pd.Series:
    """Average off-diagonal rolling correlation per day (a market-wide co-movement gauge)."""
    x = returns.to_numpy(dtype=float)
    n = x.shape[1]
    out = np.full(len(x), np.nan)
    for i in range(window - 1, len(x)):
        c = np.corrcoef(x[i - window + 1:i + 1].T)
        out[i] = (c.sum() - n) / (n * (n - 1))
    return pd.Series(out, index=returns.index, name="mean_corr").dropna()


@dataclass(frozen=True, slots=True)
class Clustering:
    """Hierarchical clustering of instruments on the correlation distance sqrt((1 - rho) / 2)."""

    symbols: list[str]
    linkage: np.ndarray
    labels: dict[str, int]
    order: list[str]


def cluster(returns: pd.DataFrame, n_clusters: int = 3, method: str = "ward") -> Clustering:
    from scipy.cluster.hierarchy import leaves_list

    corr = returns.corr().to_numpy()
    dist = np.sqrt(np.clip((1 - corr) / 2, 0, None))
    np.fill_diagonal(dist, 0.0)
    z = linkage(squareform(dist, checks=False), method=method)
    labels = fcluster(z, t=n_clusters, criterion="maxclust")
    symbols = [str(c) for c in returns.columns]
    order = [symbols[i] for i in leaves_list(z)]
    return Clustering(symbols, z, {s: int(k) for s, k in zip(symbols, labels, strict=True)}, order)


@dataclass(frozen=True, slots=True)
class RegimeChange:
    day: str
    regime: str
    mean_corr: float


def correlation_regimes(returns: pd.DataFrame, window: int = 63, high: float = 0.5, low: float = 0.3
                        ) -> tuple[pd.Series, list[RegimeChange]]:
    """Label each day high/normal/low by the mean pairwise correlation, with hysteresis; list the changes."""
    mc = mean_pairwise_correlation(returns, window)
    state = "normal"
    labels: list[str] = []
    changes: list[RegimeChange] = []
    for day, v in mc.items():
        new = state
        if v >= high:
            new = "high"
        elif v <= low:
            new = "low"
        elif (state == "high" and v < high - 0.05) or (state == "low" and v > low + 0.05):
            new = "normal"
        if new != state or not labels:
            changes.append(RegimeChange(str(pd.Timestamp(str(day)).date()), new, round(float(v), 4)))
        state = new
        labels.append(state)
    return pd.Series(labels, index=mc.index, name="regime"), changes
