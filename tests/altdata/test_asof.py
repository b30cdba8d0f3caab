"""As-of joins: a bar never sees a value before its publication time (property), and the columns' meaning."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.domain.events import Bar
from tradingsystem.features import FeatureSet
from tradingsystem.features.altdata import DAY_NS, altdata_columns, copom_days, indicator_columns, sentiment_columns

vintage = st.tuples(st.integers(0, 20), st.integers(0, 10_000), st.integers(-50, 50))  # ref, published, value


def brute_level(rows: list[tuple[int, int, int]], t: int) -> float:
    known: dict[int, tuple[int, int]] = {}
    for ref, pub, val in sorted(rows, key=lambda r: (r[1], r[0])):
        if pub <= t:
            known[ref] = (pub, val)
    return float(known[max(known)][1]) if known else float("nan")


@settings(max_examples=150, deadline=None)
@given(st.lists(vintage, max_size=30), st.lists(st.integers(-100, 12_000), min_size=1, max_size=40))
def test_level_is_the_latest_value_published_by_the_bar(rows: list[tuple[int, int, int]], ts: list[int]) -> None:
    # one vintage per (ref, published): later duplicates would be ambiguous
    rows = list({(r, p): (r, p, v) for r, p, v in rows}.values())
    bar_ts = np.array(sorted(ts), dtype=np.int64)
    ref = np.array([r[0] for r in rows], dtype=np.int64)
    pub = np.array([r[1] for r in rows], dtype=np.int64)
    val = np.array([r[2] for r in rows], dtype=np.float64)
    cols = indicator_columns("x", bar_ts, (ref, val, pub))
    for i, t in enumerate(bar_ts):
        expect = brute_level(rows, int(t))
        got = cols["x_level"][i]
        assert (np.isnan(expect) and np.isnan(got)) or expect == got
        if not np.isnan(got):
            assert cols["x_days"][i] >= 0  # the release it reflects is not in the bar's future
    # truncating the vintages after t changes nothing at t: no lookahead
    for i, t in enumerate(bar_ts):
        m = pub <= t
        cut = indicator_columns("x", bar_ts[i:i + 1], (ref[m], val[m], pub[m]))
        for k in cols:
            a, b = cols[k][i], cut[k][0]
            assert (np.isnan(a) and np.isnan(b)) or a == b, k


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40 * DAY_NS), st.floats(-1, 1)), max_size=60),
       st.lists(st.integers(0, 45 * DAY_NS), min_size=1, max_size=20))
def test_sentiment_counts_only_items_known_in_the_window(items: list[tuple[int, float]], ts: list[int]) -> None:
    known = np.array([i[0] for i in items], dtype=np.int64)
    score = np.array([i[1] for i in items], dtype=np.float64)
    bar_ts = np.array(sorted(ts), dtype=np.int64)
    cols = sentiment_columns(bar_ts, known, score)
    for i, t in enumerate(bar_ts):
        inside = [s for k, s in items if t - DAY_NS < k <= t]
        assert cols["sent_count"][i] == len(inside)
        if inside:
            assert abs(cols["sent_mean"][i] - np.mean(inside)) < 1e-9
            assert cols["sent_neg_share"][i] == sum(s < -0.05 for s in inside) / len(inside)


def test_change_surprise_days_and_copom() -> None:
    day = DAY_NS
    # Selic target: 10.50 known from day 0, 10.75 from day 10 (a decision), a bar on day 12
    ref = np.array([0, 10], dtype=np.int64)
    pub = np.array([0, 10 * day], dtype=np.int64)
    val = np.array([10.50, 10.75])
    bars = np.array([5 * day, 12 * day], dtype=np.int64)
    c = indicator_columns("selic_target", bars, (ref, val, pub))
    assert np.isnan(c["selic_target_change"][0]) and c["selic_target_level"][0] == 10.50
    assert c["selic_target_level"][1] == 10.75 and abs(c["selic_target_change"][1] - 0.25) < 1e-12
    assert abs(c["selic_target_surprise"][1] - 0.25) < 1e-12 and c["selic_target_days"][1] == 2.0
    days = copom_days(bars, (ref, val, pub))
    assert np.isnan(days[0]) and days[1] == 2.0  # no change seen yet on day 5; the decision 2 days before day 12


def test_feature_sets_name_altdata_columns() -> None:
    fs = FeatureSet.from_mapping({"name": "macro", "features": {
        "ret": "roc(close, 1)", "ipca_s": "ipca_surprise", "mood": "sent_mean * (sent_count > 2)"}})
    assert fs.alt_inputs == ("ipca_surprise", "sent_count", "sent_mean")
    n = 5
    ts = np.arange(1, n + 1, dtype=np.int64) * 60 * 10**9
    bars = {"ts_open": ts - 60 * 10**9, "ts_event": ts, "open": np.ones(n), "high": np.ones(n), "low": np.ones(n),
            "close": np.ones(n), "volume": np.ones(n)}
    alt = altdata_columns(fs.alt_inputs, ts, {}, (np.array([0, 0, 0], dtype=np.int64), np.array([0.5, 0.2, -0.1])))
    out = fs.compute({**bars, **alt})
    assert np.isnan(out["ipca_s"]).all()
    assert np.allclose(out["mood"], 0.2)
    stream = fs.online()
    row = stream.update(Bar("X", "1m", 1, 1, 1, 1, 1, 1, int(ts[0] - 60 * 10**9), int(ts[0]), int(ts[0])),
                        {"sent_mean": 0.2, "sent_count": 3.0})
    assert row is not None and abs(row["mood"] - 0.2) < 1e-12
