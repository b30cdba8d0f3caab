"""Feature sets: YAML validation; batch table equals online stream on real bars and on a replayed session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tradingsystem.features as F
from tests.features.helpers import load_mt5
from tests.features.sim import NS, trade_columns, trades
from tradingsystem.domain.events import Bar
from tradingsystem.features import BarBuilder, FeatureSet, FeatureSetError, bars_from_trades

DEFAULT = Path(F.__file__).parent / "sets" / "default.yaml"


def default_set() -> FeatureSet:
    return FeatureSet.from_yaml(DEFAULT.read_text())


def online_table(fs: FeatureSet, bars) -> dict[str, np.ndarray]:
    s = fs.online()
    rows = [(x.bar.ts_event if hasattr(x, "bar") else x.ts_event, r) for x in bars if (r := s.update(x)) is not None]
    out = {"ts_event": np.array([ts for ts, _ in rows], dtype=np.int64)}
    for n in fs.names:
        out[n] = np.array([r[n] for _, r in rows], dtype=np.float64)
    return out


def assert_tables_equal(a, b) -> None:
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), k


def test_default_set_has_25_indicators_and_order_flow() -> None:
    fs = default_set()
    used = {op.spec.stream for plan in fs.plans.values() for op in plan.ops if op.spec is not None}
    assert len(used) >= 25
    assert {"cvd_z", "flow_imbalance", "rsi_15m"} <= set(fs.names)


def test_replayed_session_online_equals_offline() -> None:
    """Trades -> live bars -> online features, versus trade columns -> batch bars -> batch table."""
    fs = default_set()
    ts = trades(7000, 42, mean_gap_ms=3300, messy=True)
    builder = BarBuilder("PETR4", "time", 60 * NS, timeframe="1m")
    s = fs.online()
    rows = []
    for t in ts:
        for b in builder.update(t):
            r = s.update(b)
            if r is not None:
                rows.append((b.bar.ts_event, r))
    for b in builder.flush():
        rows.append((b.bar.ts_event, s.update(b)))
    c = trade_columns(ts)
    bars = bars_from_trades(c["ts_event"], c["price"], c["size"], c["aggressor"], c["trade_id"], "time", 60 * NS)
    offline = fs.compute(bars)
    online = {"ts_event": np.array([x for x, _ in rows])} | {n: np.array([r[n] for _, r in rows]) for n in fs.names}
    assert_tables_equal(online, offline)
    assert len(rows) > 350
    last = {n: online[n][-1] for n in fs.names}
    assert all(np.isfinite(v) for v in last.values()), [n for n, v in last.items() if not np.isfinite(v)]


def test_real_bars_online_equals_offline_with_bad_rows() -> None:
    fs = default_set()
    cols = load_mt5("ITUB4", rows=1500)
    # duplicate a bar and move one late: both are dropped in both forms
    order = np.r_[np.arange(700), 699, np.arange(700, 1500), 300]
    cols = {k: v[order] for k, v in cols.items()}
    bars = [
        Bar(
            "ITUB4",
            "1m",
            *(int(cols[c][i]) for c in ("open", "high", "low", "close", "volume", "trades", "ts_open", "ts_event")),
            0,
        )
        for i in range(len(order))
    ]
    offline = fs.compute(cols)
    assert len(offline["ts_event"]) == 1500
    assert_tables_equal(online_table(fs, bars), offline)


@pytest.mark.parametrize(
    ("yaml_text", "words"),
    [
        ("features: {a: 'ema(close, 9'}", "feature 'a'"),
        ("features: {a: 'foo(close)'}", "unknown function 'foo'"),
        ("features: {a: 'b + 1', b: 'close'}", "unknown name 'b'"),
        ("features: {}", "non-empty mapping"),
        ("feature: {a: close}", "unknown keys"),
        ("features: {a: {expr: close, timeframe: 90s}}", "not a multiple"),
        ("features: {a: {expression: close}}", "give an expression"),
        ("features: {close: 'open'}", "already a column"),
        ("features: [", "invalid YAML"),
    ],
)
def test_invalid_sets_are_rejected(yaml_text: str, words: str) -> None:
    with pytest.raises(FeatureSetError) as info:
        FeatureSet.from_yaml(yaml_text)
    assert words in str(info.value)


def test_bars_with_nan_or_inf_are_dropped_in_both_forms() -> None:
    fs = FeatureSet.from_mapping({"features": {"e": "ema(close, 5)", "r": "rsi(close, 5) > 50", "v": "close - vwap()"}})
    cols = {k: v.astype(np.float64) for k, v in load_mt5("BBDC4", rows=400).items()}
    cols["close"][[50, 51, 200]] = [np.nan, np.inf, np.nan]
    cols["volume"][300] = np.nan
    cols["volume"][100:110] = 0.0  # zero volume is fine
    offline = fs.compute(cols)
    assert len(offline["ts_event"]) == 396
    names = ("open", "high", "low", "close", "volume", "trades", "ts_open", "ts_event")
    bars = [Bar("BBDC4", "1m", *(cols[c][i] for c in names), 0) for i in range(400)]  # type: ignore[arg-type]
    s = fs.online()
    assert_tables_equal(online_table(fs, bars), offline)
    assert s.guard.rejected == 0
    for name in fs.names:
        assert np.isfinite(offline[name][10:]).all(), name
