"""Synthetic bars with a planted, point-in-time signal, and real MT5 bars."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

NS = 1_000_000_000
REPO = Path(__file__).resolve().parents[2]
BARS_PER_DAY = 400


def real_data_dir() -> Path:
    return Path(os.environ.get("TRADINGSYSTEM_REAL_DATA", REPO.parent / "shared" / "data"))


def mt5_path(symbol: str) -> Path:
    path = real_data_dir() / "b3_stocks_m1" / f"{symbol}_M1.csv"
    if not path.exists():
        pytest.skip(f"real data not found at {path} (set TRADINGSYSTEM_REAL_DATA)")
    return path


def bar_at(cols: dict, i: int, symbol: str = "PETR4"):
    """Row ``i`` of bar columns as a live ``Bar``."""
    from tradingsystem.domain.events import Bar

    return Bar(symbol, "1m", *(int(cols[c][i]) for c in ("open", "high", "low", "close", "volume", "trades",
                                                         "ts_open", "ts_event")), int(cols["ts_event"][i]))


def assert_live_equals_offline(got: list, model, table: dict) -> None:
    """The published signals are the offline predictions on every row where all model inputs are finite."""
    X = np.column_stack([table[n] for n in model.names])
    ok = np.all(np.isfinite(X), axis=1)
    pred = model.predict(X[ok])
    assert len(got) == int(ok.sum()) > 500
    assert [e.ts_event for e in got] == table["ts_event"][ok].tolist()
    assert [e.probability for e in got] == pred.probability.tolist()
    assert [e.confidence for e in got] == pred.confidence.tolist()
    assert [e.direction for e in got] == pred.direction.tolist()


def synthetic(n_days: int = 20, seed: int = 3, strength: float = 6e-4) -> tuple[dict, dict]:
    """Bars (1 minute, 400 per day from 10:00 local) and a feature table with ``sig`` (an AR(1) state that
    drives the next bars' returns, known at its bar's close) and three noise columns."""
    rng = np.random.default_rng(seed)
    n = n_days * BARS_PER_DAY
    day0 = np.datetime64("2026-03-02T13:00").astype("datetime64[ns]").astype(np.int64)
    day = np.arange(n) // BARS_PER_DAY
    ts_open = day0 + day * 86_400 * NS + (np.arange(n) % BARS_PER_DAY) * 60 * NS
    s = np.zeros(n)
    for i in range(1, n):
        s[i] = 0.95 * s[i - 1] + rng.normal()
    r = np.zeros(n)
    r[1:] = strength * s[:-1] + 1e-3 * rng.normal(size=n - 1)
    close = 3000 * np.exp(np.cumsum(r))
    bars = {"ts_open": ts_open, "ts_event": ts_open + 60 * NS, "open": np.r_[close[0], close[:-1]],
            "high": close * 1.0002, "low": close * 0.9998, "close": close, "volume": np.full(n, 100)}
    feats = {"ts_event": bars["ts_event"], "sig": s}
    for k in range(3):
        feats[f"noise{k}"] = rng.normal(size=n)
    return bars, feats
