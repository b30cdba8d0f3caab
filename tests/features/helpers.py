"""Shared helpers for the feature tests: real MT5 bars and random series."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
NS = 1_000_000_000


def real_data_dir() -> Path:
    return Path(os.environ.get("TRADINGSYSTEM_REAL_DATA", REPO.parent / "shared" / "data"))


def load_mt5(symbol: str, rows: int | None = None) -> dict[str, np.ndarray]:
    """MT5 1-minute bars as raw-unit (centavo) int columns; skip the test if the data is absent."""
    path = real_data_dir() / "b3_stocks_m1" / f"{symbol}_M1.csv"
    if not path.exists():
        pytest.skip(f"real data not found at {path} (set TRADINGSYSTEM_REAL_DATA)")
    import pandas as pd

    df = pd.read_csv(path, sep="\t", nrows=rows)
    df.columns = [c.strip("<>").lower() for c in df.columns]
    local = pd.to_datetime(df["date"] + " " + df["time"], format="%Y.%m.%d %H:%M:%S")
    ts = local.values.astype("datetime64[ns]").astype(np.int64) + 3 * 3600 * NS
    cols = {"ts_open": ts, "ts_event": ts + 60 * NS}
    for c in ("open", "high", "low", "close"):
        cols[c] = np.round(df[c].to_numpy() * 100).astype(np.int64)
    cols["volume"] = df["vol"].to_numpy().astype(np.int64)
    cols["trades"] = df["tickvol"].to_numpy().astype(np.int64)
    return cols


def random_ohlcv(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    high = close + rng.uniform(0, 2, n)
    low = close - rng.uniform(0, 2, n)
    return {
        "open": close + rng.uniform(-1, 1, n),
        "high": high,
        "low": low,
        "close": close,
        "volume": rng.integers(0, 5000, n).astype(np.float64),
    }
