from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradingsystem.portfolio import (
    PortfolioLimits,
    beta,
    check_limits,
    christoffersen,
    cluster,
    cvar_historical,
    cvar_parametric,
    exposure_by,
    kupiec,
    var_backtest,
    var_historical,
    var_parametric,
)


def test_parametric_matches_normal_theory() -> None:
    r = np.random.default_rng(7).normal(0.0, 0.01, 200_000)
    assert var_parametric(r, 0.99) == pytest.approx(0.02326, rel=0.01)
    assert cvar_parametric(r, 0.99) == pytest.approx(0.02665, rel=0.01)
    assert var_historical(r, 0.99) == pytest.approx(0.02326, rel=0.02)
    assert cvar_historical(r, 0.99) == pytest.approx(0.02665, rel=0.02)


def test_kupiec_known_values() -> None:
    k = kupiec(5, 250, 0.99)  # textbook: LR 1.9568, p 0.1619
    assert k.lr == pytest.approx(1.9568, abs=1e-3) and k.p_value == pytest.approx(0.1619, abs=1e-3)
    assert not k.rejected
    assert kupiec(12, 250, 0.99).rejected
    assert kupiec(0, 250, 0.99).lr == pytest.approx(5.025, abs=1e-2)


def test_christoffersen_flags_clustered_exceptions() -> None:
    spread = np.zeros(500, dtype=int)
    spread[::50] = 1
    clustered = np.zeros(500, dtype=int)
    clustered[100:110] = 1
    assert christoffersen(spread)[1] > 0.05
    assert christoffersen(clustered)[1] < 0.01


def test_var_backtest_on_real_portfolio(returns: pd.DataFrame) -> None:
    """Equal-weight portfolio of the 10 stocks, 1-day 99% VaR on a 250-day window, Kupiec POF test."""
    port = returns.mean(axis=1)
    report = {}
    for method in ("historical", "parametric"):
        frame, k = var_backtest(port, window=250, level=0.99, method=method)
        assert k.observations == len(port) - 250 == len(frame)
        assert k.exceptions == int(frame["exception"].sum())
        report[method] = (k.exceptions, k.observations, round(k.observed_rate, 4), round(k.lr, 3), round(k.p_value, 4))
    print("\nKupiec (exceptions, n, rate, LR, p):", report)
    assert 0 < report["historical"][0] < 60


def test_exposures_beta_and_limits(returns: pd.DataFrame) -> None:
    w = {s: 0.1 for s in returns.columns}
    w["PETR4"], w["NATU3"] = 0.25, 0.0
    cl = cluster(returns, 3).labels
    by_cluster = exposure_by(w, cl)
    assert sum(by_cluster.values()) == pytest.approx(sum(w.values()))
    port = returns @ pd.Series(w)
    b = beta(port, returns.mean(axis=1))
    assert 0.7 < b["beta"] < 1.3 and 0 < b["r2"] <= 1
    breaches = check_limits(w, returns, PortfolioLimits(max_var=0.01, max_weight=0.2, max_cluster_weight=0.5), cl)
    rules = {x.rule for x in breaches}
    assert {"portfolio_var", "concentration"} <= rules
    assert [x.key for x in breaches if x.rule == "concentration"] == ["PETR4"]
    assert check_limits(w, returns, PortfolioLimits(max_var=0.2, max_weight=0.3)) == []
