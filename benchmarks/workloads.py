"""Shared benchmark workloads (deterministic, seeded)."""

from __future__ import annotations

from datetime import date, time

import numpy as np

from tradingsystem.domain.events import TradeTick
from tradingsystem.domain.sessions import local_ns

SESSION = date(2026, 11, 26)


def win_ticks(n: int = 1_000_000, seed: int = 42, symbol: str = "WINZ26") -> list[TradeTick]:
    """A random walk on WIN's 5-point grid: 1-20 lots, 1-50 ms apart, from 09:00 B3 time."""
    rng = np.random.default_rng(seed)
    steps = rng.choice(np.array([-5, 0, 5]), size=n, p=[0.3, 0.4, 0.3])
    prices = (125_000 + np.cumsum(steps)).tolist()
    sizes = rng.integers(1, 21, size=n).tolist()
    gaps = rng.integers(1, 51, size=n) * 1_000_000
    ts = (local_ns(SESSION, time(9, 0)) + np.cumsum(gaps)).tolist()
    sides = rng.integers(1, 3, size=n).tolist()
    return [
        TradeTick(symbol, p, q, a, i + 1, t, t)
        for i, (p, q, a, t) in enumerate(zip(prices, sizes, sides, ts, strict=True))
    ]
