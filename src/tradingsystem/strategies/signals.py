"""Batch forms of template signals, for the vectorised research mode.

``ema_cross_targets`` reproduces ``EmaCross.on_trade`` exactly (the same float recurrence, computed by
``scipy.signal.lfilter``; the same warm-up and tie rule), so the event engine and the vectorised mode see
the same targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

__all__ = ["ema", "ema_cross_targets"]


def ema(prices: np.ndarray, alpha: float) -> np.ndarray:
    """EMA seeded with the first price: ``y[i] = alpha*x[i] + (1-alpha)*y[i-1]``, by ``scipy.signal.lfilter``.

    Bit for bit the recurrence ``EmaCross`` runs per trade (same two products and one sum)."""
    x = np.asarray(prices, dtype=np.float64)
    y = np.empty_like(x)
    if len(x):
        b = 1.0 - alpha
        y[0] = x[0]
        y[1:], _ = lfilter([alpha], [1.0, -b], x[1:], zi=[b * x[0]])
    return y


def ema_cross_targets(prices: Sequence[int] | np.ndarray, fast: int = 10, slow: int = 30,
                      quantity: int = 1) -> np.ndarray:
    """Target position after each price (0 until the first cross decision), with no Python loop."""
    x = np.asarray(prices, dtype=np.float64)
    out = np.zeros(len(x), dtype=np.int64)
    if len(x) <= slow:
        return out
    f, s = ema(x, 2.0 / (fast + 1)), ema(x, 2.0 / (slow + 1))
    sign = np.sign(f - s).astype(np.int64)
    sign[:slow] = 0  # warm-up: no decision before ``slow`` prices after the first
    # a tie (f == s) keeps the previous decision: carry the last non-zero sign forward
    idx = np.where(sign != 0, np.arange(len(x)), 0)
    np.maximum.accumulate(idx, out=idx)
    held: np.ndarray = sign[idx]
    return held * quantity
