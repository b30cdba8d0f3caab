"""Batch forms of template signals, for the vectorised research mode.

``ema_cross_targets`` reproduces ``EmaCross.on_trade`` exactly (same float recurrence, same warm-up
and tie rule), so the event engine and the vectorised mode see the same targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ema_cross_targets"]


def ema_cross_targets(prices: Sequence[int] | np.ndarray, fast: int = 10, slow: int = 30,
                      quantity: int = 1) -> np.ndarray:
    """Target position after each price (0 until the first cross decision)."""
    p = np.asarray(prices).tolist()
    out = np.zeros(len(p), dtype=np.int64)
    if not p:
        return out
    af, as_ = 2.0 / (fast + 1), 2.0 / (slow + 1)
    f = s = float(p[0])
    target = 0
    for i in range(1, len(p)):
        x = p[i]
        f = f + af * (x - f)
        s = s + as_ * (x - s)
        if i >= slow and f != s:
            target = quantity if f > s else -quantity
        out[i] = target
    return out
