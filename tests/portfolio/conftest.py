"""Real COTAHIST daily data for the portfolio tests (skipped with a reason when the folder is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tradingsystem.portfolio import adjust_closes, simple_returns
from tradingsystem.runtime.portfolio_io import ALIGNED_10, load_cotahist_closes

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("TRADINGSYSTEM_REAL_DATA", REPO.parent / "shared" / "data")) / "b3_daily_cotahist"


@pytest.fixture(scope="session")
def raw_closes() -> pd.DataFrame:
    if not (DATA / "PETR4.csv").exists():
        pytest.skip(f"real COTAHIST data not found at {DATA} (set TRADINGSYSTEM_REAL_DATA)")
    return load_cotahist_closes(DATA, ALIGNED_10)


@pytest.fixture(scope="session")
def returns(raw_closes: pd.DataFrame) -> pd.DataFrame:
    adjusted, _ = adjust_closes(raw_closes)
    return simple_returns(adjusted)
