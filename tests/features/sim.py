"""A small seeded simulated B3 session of trades and book deltas for the feature tests."""

from __future__ import annotations

from datetime import date, time

import numpy as np

from tradingsystem.domain.events import BookDelta, TradeTick
from tradingsystem.domain.sessions import local_ns

DAY = date(2026, 3, 10)  # a Tuesday; US DST from 2026-03-08, so stocks trade 10:00-16:55
NS = 1_000_000_000


def trades(
    n: int, seed: int, start: time = time(9, 58), mean_gap_ms: float = 500.0, messy: bool = False
) -> list[TradeTick]:
    """``n`` prints from ``start`` local time; ``messy`` adds duplicates, late prints and zero sizes."""
    rng = np.random.default_rng(seed)
    t0 = local_ns(DAY, start)
    ts = t0 + np.cumsum(rng.exponential(mean_gap_ms, n) * 1e6).astype(np.int64)
    same = rng.random(n) < 0.15
    for i in np.flatnonzero(same):
        if i:
            ts[i] = ts[i - 1]
    price = 3000 + np.cumsum(rng.integers(-2, 3, n))
    size = rng.choice([100, 200, 300, 500, 1000, 5000], n)
    side = rng.choice([0, 1, 2], n, p=[0.05, 0.5, 0.45])
    out = [
        TradeTick(
            "PETR4",
            int(price[i]),
            int(size[i]),
            int(side[i]),
            i + 1,
            int(ts[i]),
            int(ts[i]),
            int(rng.integers(1, 6)),
            int(rng.integers(1, 6)),
        )
        for i in range(n)
    ]
    if messy and n > 3:
        for _ in range(max(1, n // 20)):
            i = int(rng.integers(1, len(out)))
            out.insert(i, out[int(rng.integers(0, i))])  # duplicate or late print
        out.insert(int(rng.integers(0, len(out))), TradeTick("PETR4", 3000, 0, 1, 10**9, int(ts[-1]), 0))
    return out


def trade_columns(ts: list[TradeTick]) -> dict[str, np.ndarray]:
    f = ("ts_event", "price", "size", "aggressor", "trade_id", "buyer", "seller")
    return {k: np.array([getattr(t, k) for t in ts], dtype=np.int64) for k in f}


def book_deltas(n: int, seed: int) -> list[BookDelta]:
    """A random walk of a 2-sided book around 3000 with occasional duplicates/out-of-order sequences."""
    rng = np.random.default_rng(seed)
    t = local_ns(DAY, time(10, 0))
    out: list[BookDelta] = []
    seq = 0
    for _ in range(n):
        seq += 1
        t += int(rng.integers(1, 400)) * 1_000_000
        side = int(rng.integers(1, 3))
        off = int(rng.integers(0, 6))
        price = 3000 - 1 - off if side == 1 else 3000 + off
        price += int(rng.integers(-1, 2))
        delete = rng.random() < 0.25
        size = 0 if delete else int(rng.integers(1, 50)) * 100
        out.append(BookDelta("PETR4", side, price, size, 1 if delete else 0, seq, t, t))
        if rng.random() < 0.03:
            out.append(out[-1 - int(rng.integers(0, min(3, len(out))))])
    return out
