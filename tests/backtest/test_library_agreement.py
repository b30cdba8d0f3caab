"""Our performance statistics against kept libraries on the same input: empyrical-reloaded, pandas,
and the deflated Sharpe ratio's worked example from Bailey and López de Prado (2014)."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import empyrical
import numpy as np
import pandas as pd
import pytest

from tradingsystem.backtest.results import max_drawdown, sharpe, sortino
from tradingsystem.backtest.validation import deflated_sharpe, dsr, expected_max_sharpe


def _daily(seed: int, n: int = 500) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0.0004, 0.012) + (rng.random() < 0.02) * rng.gauss(-0.03, 0.02) for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_sharpe_and_sortino_equal_empyrical(seed: int) -> None:
    r = _daily(seed)
    s = pd.Series(r)
    assert sharpe(r) == pytest.approx(empyrical.sharpe_ratio(s, annualization=252), rel=1e-9)
    assert sortino(r) == pytest.approx(empyrical.sortino_ratio(s, annualization=252), rel=1e-9)


def test_max_drawdown_equals_pandas_on_an_equity_curve() -> None:
    pnl = _daily(7)
    equity = np.cumsum([100_000 * x for x in pnl])
    curve = [(i, Decimal(str(round(v, 2)))) for i, v in enumerate(equity)]
    s = pd.Series([float(v) for _, v in curve])
    expected = float((s.cummax().clip(lower=0) - s).max())
    assert float(max_drawdown(curve)) == pytest.approx(expected, abs=1e-9)


def test_deflated_sharpe_worked_example_of_the_paper() -> None:
    # Bailey & López de Prado (2014): SR 2.5 a year, T = 1250 daily returns, N = 100 trials whose Sharpe
    # ratios vary by V = 0.5 a year, skew -3, kurtosis 10: DSR = 0.900.
    per_year = 250
    sr = 2.5 / math.sqrt(per_year)
    sr0 = expected_max_sharpe(0.5 / per_year, 100)
    assert sr0 * math.sqrt(per_year) == pytest.approx(1.7894, abs=1e-3)
    assert dsr(sr, sr0, 1250, -3.0, 10.0) == pytest.approx(0.900, abs=5e-4)


def test_deflated_sharpe_of_returns_uses_the_same_formula() -> None:
    r = np.array(_daily(3, 1250))
    trials = [0.01 * k for k in range(-10, 11)]
    out = deflated_sharpe(r, trials)
    assert out["dsr"] == pytest.approx(dsr(out["sharpe"], out["sr0"], 1250, out["skew"], out["kurtosis"]))
