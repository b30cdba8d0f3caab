from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("skfolio")

from tradingsystem.portfolio import METHODS, Constraints, compare, efficient_frontier, optimize, walk_forward

SECTORS = {"BBAS3": "banks", "ITUB4": "banks", "SANB11": "banks", "CSNA3": "steel", "USIM5": "steel",
           "VALE3": "mining", "PETR4": "oil", "BTOW3": "retail", "LAME4": "retail", "NATU3": "consumer"}


@pytest.fixture(scope="module")
def window(returns: pd.DataFrame) -> pd.DataFrame:
    return returns.iloc[-252:]


@pytest.mark.parametrize("method", METHODS)
def test_long_only_caps_and_cash(window: pd.DataFrame, method: str) -> None:
    c = Constraints(max_weight=0.25, cash=0.1, sectors=SECTORS, sector_caps={"banks": 0.3})
    w = optimize(window, method, c)
    assert w.sum() == pytest.approx(0.9, abs=1e-6)
    assert (w >= -1e-8).all()
    assert (w <= 0.25 + 1e-6).all()
    if method not in ("hrp", "equal_weight"):  # skfolio's HRP takes no linear constraints
        assert w[["BBAS3", "ITUB4", "SANB11"]].sum() <= 0.3 + 1e-6


def test_shorts_and_per_asset_bounds(window: pd.DataFrame) -> None:
    w = optimize(window, "min_variance", Constraints(min_weight=-0.2, max_weight=0.5, per_asset_max={"PETR4": 0.0}))
    assert w.sum() == pytest.approx(1.0, abs=1e-6)
    assert w.min() >= -0.2 - 1e-6 and w["PETR4"] <= 1e-6
    long_only = optimize(window, "min_variance")
    x = window.to_numpy()
    assert np.var(x @ w.to_numpy()) <= np.var(x @ long_only.to_numpy()) + 1e-12  # shorts only relax it


def test_frontier_is_increasing(window: pd.DataFrame) -> None:
    f = efficient_frontier(window, points=6)
    assert len(f) == 6 and f["vol"].is_monotonic_increasing
    assert f["ret"].iloc[-1] >= f["ret"].iloc[0]


def test_walk_forward_bookkeeping(returns: pd.DataFrame) -> None:
    res = walk_forward(returns.iloc[:600], "equal_weight", lookback=252, rebalance_every=63, cost_bps=10)
    assert len(res.returns) == 600 - 252 and len(res.weights) == 6
    assert res.turnover.iloc[0] == pytest.approx(1.0)  # first rebalance buys from cash
    assert np.allclose(res.costs, res.turnover * 10 / 10_000)


def test_out_of_sample_vs_equal_weight(returns: pd.DataFrame) -> None:
    """The issue's done-when: every optimiser, walk-forward 2011-2017, against equal weight with costs."""
    table = compare(returns, list(METHODS), Constraints(max_weight=0.3), lookback=252, rebalance_every=63,
                    cost_bps=10)
    print("\n" + table.round(4).to_string())
    assert list(table.index) == list(METHODS)
    assert table.loc["equal_weight", "sharpe_vs_ew"] == 0
    assert (table["rebalances"] == table.loc["equal_weight", "rebalances"]).all()
    assert (table["turnover_per_year"] > 0).all() and (table["cost_drag_per_year"] > 0).all()
    # min variance does what it says out of sample: lower volatility than equal weight
    assert table.loc["min_variance", "ann_vol"] < table.loc["equal_weight", "ann_vol"]
    assert table.loc["min_cvar", "ann_vol"] < table.loc["equal_weight", "ann_vol"]
