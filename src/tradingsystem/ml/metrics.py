"""Scores: hit rate with its Wilson interval, log loss and Brier score."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["hit_rate", "log_loss_brier", "verdict", "wilson"]

Z95 = 1.959963984540054


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default); ``(nan, nan)`` when ``n`` is 0."""
    if n <= 0:
        return math.nan, math.nan
    p = hits / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


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
