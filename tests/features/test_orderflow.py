"""Order flow from trades: streaming equals batch, hand-checked values, VPIN, broker flow."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.features.sim import NS, trade_columns, trades
from tradingsystem.domain.events import TradeTick
from tradingsystem.features import FLOW_COLUMNS, TradeFlow, broker_net_flow, trade_flow


def run(ts, **kw):
    tf = TradeFlow(**kw)
    rows = [tf.values for t in ts if tf.update(t)]
    return tf, np.array(rows, dtype=np.float64).reshape(-1, len(FLOW_COLUMNS))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 400), seed=st.integers(0, 10_000), messy=st.booleans(),
       window=st.sampled_from([1, 2 * NS, 30 * NS]), bucket=st.sampled_from([300, 1000, 7000]),
       nb=st.integers(1, 6))  # fmt: skip
def test_stream_equals_batch(n, seed, messy, window, bucket, nb) -> None:
    ts = trades(n, seed, messy=messy)
    kw = dict(window_ns=window, large_size=1000, vpin_bucket=bucket, vpin_buckets=nb)
    tf, rows = run(ts, **kw)
    c = trade_columns(ts)
    b = trade_flow(c["ts_event"], c["price"], c["size"], c["aggressor"], c["trade_id"], **kw)
    for k, name in enumerate(FLOW_COLUMNS):
        assert np.array_equal(rows[:, k], b[name].astype(np.float64), equal_nan=True), name
    kept = b["index"]
    assert tf.net_by_broker == broker_net_flow(c["buyer"][kept], c["seller"][kept], c["size"][kept])
    assert sum(tf.net_by_broker.values()) == 0


def t(ts, size, side, tid, buyer=0, seller=0):
    return TradeTick("X", 100, size, side, tid, ts, ts, buyer, seller)


def test_hand_example() -> None:
    f = TradeFlow(window_ns=10, large_size=500, vpin_bucket=100, vpin_buckets=2)
    f.update(t(0, 60, 1, 1, buyer=7, seller=8))
    assert (f.buy_volume, f.sell_volume, f.imbalance, f.cvd, f.large) == (60, 0, 1.0, 60, 0)
    f.update(t(5, 60, 2, 2))  # bucket 1 = 60 buy + 40 sell -> |20|; 20 sell carried
    assert f.imbalance == 0.0 and f.cvd == 0 and math.isnan(f.vpin)
    f.update(t(10, 600, 2, 3))  # window (0, 10]: the first print leaves
    assert (f.buy_volume, f.sell_volume, f.buy_count, f.sell_count) == (0, 660, 0, 2)
    assert f.large == 1
    # buckets: [60b,40s] |20|, [100s] 100, ... vpin over the last 2 buckets of 100
    assert f.vpin == (100 + 100) / 200
    assert f.net_by_broker == {7: 60, 8: -60}


def test_duplicates_and_late_prints_are_dropped() -> None:
    f = TradeFlow(window_ns=NS, large_size=10)
    assert f.update(t(5, 1, 1, 2))
    assert not f.update(t(5, 1, 1, 2))  # duplicate
    assert not f.update(t(4, 1, 1, 9))  # late
    assert not f.update(t(6, 0, 1, 10))  # zero size
    assert f.update(t(5, 1, 1, 3))  # same nanosecond, later trade number
    assert f.guard.rejected == 3 and f.cvd == 2


def test_no_aggressor_counts_nowhere() -> None:
    f = TradeFlow(window_ns=NS, large_size=10)
    f.update(t(1, 5, 0, 1))
    assert (f.buy_volume, f.sell_volume, f.imbalance, f.cvd) == (0, 0, 0.0, 0)
