"""Scores: hit rate with its Wilson interval, log loss and Brier score; the variance inflation of hits on
overlapping labels.

A prediction on every bar with an ``h``-bar label makes neighbouring hits share ``h - 1`` bars of their
label windows, so they are far from independent (lag-1 correlation of the hits about 0.8 for ``h = 15``
on 1-minute bars). :func:`variance_inflation` estimates ``1 + 2 * sum_k rho_k`` over lags ``1 .. h - 1``
of the hit series (floored at 1); intervals use the effective sample size ``n / inflation`` in the
Wilson formula.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["hit_rate", "log_loss_brier", "variance_inflation", "verdict", "wilson", "wilson_effective"]

Z95 = 1.959963984540054


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default); ``(nan, nan)`` when ``n`` is 0."""
    if n <= 0:
        return math.nan, math.nan
    return wilson_effective(hits / n, n, z)


def wilson_effective(p: float, n_eff: float, z: float = Z95) -> tuple[float, float]:
    """Wilson interval of a proportion ``p`` observed on an effective sample of ``n_eff`` (may be fractional)."""
    if n_eff <= 0 or math.isnan(p):
        return math.nan, math.nan
    den = 1 + z * z / n_eff
    mid = (p + z * z / (2 * n_eff)) / den
    half = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff * n_eff)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def variance_inflation(hits: np.ndarray, max_lag: int) -> float:
    """``1 + 2 * sum(rho_1 .. rho_max_lag)`` of a 0/1 series in time order, at least 1 (see the module)."""
    x = np.asarray(hits, dtype=np.float64)
    n = len(x)
    if n < 3 or max_lag < 1:
        return 1.0
    x = x - x.mean()
    var = float(np.dot(x, x)) / n
    if var <= 0:
        return 1.0
    total = 0.0
    for k in range(1, min(max_lag, n - 2) + 1):
        total += float(np.dot(x[:-k], x[k:])) / n / var
    return max(1.0, 1.0 + 2.0 * total)


def hit_rate(direction: np.ndarray, y: np.ndarray) -> float:
    """Share of rows where the direction (+1/-1) matches the label (1 up, 0 down)."""
    if len(y) == 0:
        return math.nan
    return float(np.mean((np.asarray(direction) > 0) == (np.asarray(y) == 1)))


def log_loss_brier(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Mean log loss and Brier score of up-probabilities ``p`` against labels ``y``."""
    if len(y) == 0:
        return math.nan, math.nan
    y = np.asarray(y, dtype=np.float64)
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    ll = float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    return ll, float(np.mean((q - y) ** 2))


def verdict(rate: float, low: float, high: float, target: float) -> str:
    """Plain statement of whether a hit rate clears ``target`` given its 95% interval."""
    pct = f"{target:.0%}"
    if math.isnan(rate):
        return f"no predictions: cannot say whether the hit rate clears {pct}"
    if low > target:
        return f"clears {pct}: the whole 95% interval [{low:.1%}, {high:.1%}] is above {pct}"
    if high < target:
        return f"does not clear {pct}: the whole 95% interval [{low:.1%}, {high:.1%}] is below {pct}"
    side = "above" if rate >= target else "below"
    return (f"not shown to clear {pct}: the hit rate {rate:.1%} is {side} {pct} but the 95% interval "
            f"[{low:.1%}, {high:.1%}] contains it")
