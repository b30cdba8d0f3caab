from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tradingsystem.portfolio import (
    CorporateAction,
    adjust_closes,
    cluster,
    correlation_regimes,
    detect_splits,
    ledoit_wolf,
    rolling_correlation,
    simple_returns,
)


def test_detects_real_splits(raw_closes: pd.DataFrame) -> None:
    assert len(raw_closes) == 1979 and not raw_closes.isna().any().any()
    found = {(a.symbol, a.day, a.factor) for a in detect_splits(raw_closes)}
    assert found == {("CSNA3", date(2010, 3, 26), 0.5), ("USIM5", date(2010, 9, 28), 0.5)}
    adjusted, _ = adjust_closes(raw_closes)
    r = simple_returns(adjusted)
    assert r.abs().max().max() < 0.45  # no split-sized jumps left
    assert (adjusted.iloc[-1] == raw_closes.iloc[-1]).all()  # back-adjusted: latest prices unchanged


def test_adjustment_file_factors_are_applied() -> None:
    idx = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06"])
    closes = pd.DataFrame({"AAAA3": [10.0, 10.0, 9.5]}, index=idx)
    dividend = CorporateAction("AAAA3", date(2020, 1, 6), 0.95, "file")
    adjusted, applied = adjust_closes(closes, [dividend])
    assert applied == [dividend]
    assert simple_returns(adjusted)["AAAA3"].abs().max() < 1e-12


def test_synthetic_reverse_split() -> None:
    idx = pd.date_range("2020-01-01", periods=6, freq="B")
    closes = pd.DataFrame({"AAAA3": [1.0, 1.01, 10.1, 10.2, 10.0, 10.1]}, index=idx)
    assert [(a.day, a.factor) for a in detect_splits(closes)] == [(idx[2].date(), 10.0)]


def test_ledoit_wolf_matches_sklearn(returns: pd.DataFrame) -> None:
    sk = pytest.importorskip("sklearn.covariance")
    x = returns.iloc[-252:]
    ours, shrink = ledoit_wolf(x)
    ref = sk.LedoitWolf().fit(x.to_numpy())
    assert shrink == pytest.approx(ref.shrinkage_, rel=1e-6)
    assert np.allclose(ours, ref.covariance_, rtol=1e-6, atol=1e-12)


def test_clusters_group_banks_and_steel(returns: pd.DataFrame) -> None:
    cl = cluster(returns, n_clusters=4)
    assert cl.labels["ITUB4"] == cl.labels["BBAS3"]
    assert cl.labels["CSNA3"] == cl.labels["USIM5"]
    assert cl.labels["ITUB4"] != cl.labels["USIM5"]
    assert sorted(cl.order) == sorted(returns.columns)


def test_rolling_correlation_and_regimes(returns: pd.DataFrame) -> None:
    rc = rolling_correlation(returns.iloc[:200], window=63)
    last = rc.xs(returns.index[199], level=0)
    assert np.allclose(np.diag(last.to_numpy()), 1.0)
    labels, changes = correlation_regimes(returns, window=63)
    assert set(labels.unique()) <= {"low", "normal", "high"}
    assert len(changes) >= 3 and changes[0].day == str(labels.index[0].date())
