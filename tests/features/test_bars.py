"""Bar builders: live equals batch for every kind; session alignment; bad and disordered prints."""

from __future__ import annotations

from datetime import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.features.sim import DAY, NS, trade_columns, trades
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import local_ns
from tradingsystem.features import BarBuilder, bars_from_trades, bars_to_columns, parse_timeframe
from tradingsystem.features.bars import TimeBuckets

KINDS = [("time", 60 * NS), ("time", 7 * 60 * NS), ("time", 30 * NS), ("tick", 7), ("volume", 2500),
         ("dollar", 5_000_000)]  # fmt: skip


def live(ts, kind, size, asset_class=AssetClass.STOCK):
    b = BarBuilder("PETR4", kind, size, asset_class)
    out = []
    for t in ts:
        out.extend(b.update(t))
    out.extend(b.flush())
    return out, b


@pytest.mark.parametrize(("kind", "size"), KINDS)
@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 300), seed=st.integers(0, 10_000), messy=st.booleans())
def test_live_equals_batch(kind: str, size: int, n: int, seed: int, messy: bool) -> None:
    ts = trades(n, seed, messy=messy)
    bars, builder = live(ts, kind, size)
    c = trade_columns(ts)
    batch = bars_from_trades(c["ts_event"], c["price"], c["size"], c["aggressor"], c["trade_id"], kind, size)
    got = bars_to_columns(bars)
    for k, v in batch.items():
        assert np.array_equal(got[k], v), k
    assert int(batch["volume"].sum()) == sum(t.size for t in ts) - _dropped_volume(ts)
    assert builder.guard.rejected == len(ts) - int(batch["trades"].sum())


def _dropped_volume(ts) -> int:
    last, ids, dropped = None, set(), 0
    for t in ts:
        if t.size <= 0 or t.price <= 0 or (last is not None and t.ts_event < last) or (
                t.ts_event == last and t.trade_id in ids):
            dropped += t.size
            continue
        if t.ts_event != last:
            last, ids = t.ts_event, set()
        ids.add(t.trade_id)
    return dropped


def test_time_bars_align_to_the_session_and_cap_at_close() -> None:
    tb = TimeBuckets(7 * 60 * NS, AssetClass.STOCK)
    start, end = tb.bucket(local_ns(DAY, time(10, 8)))
    assert start == local_ns(DAY, time(10, 7)) and end == local_ns(DAY, time(10, 14))
    start, _ = tb.bucket(local_ns(DAY, time(9, 59)))
    assert start == local_ns(DAY, time(10, 0))  # opening-auction prints join the first bar
    s, e = tb.bucket(local_ns(DAY, time(17, 0, 0, 5)))  # closing auction: a bucket from the close
    assert s == local_ns(DAY, time(17, 0)) and e == local_ns(DAY, time(17, 7))
    # 2026-03-10 is US DST: stocks close at 17:00; the 16:56 8-minute bucket ends at the close
    s, e = TimeBuckets(8 * 60 * NS, AssetClass.STOCK).bucket(local_ns(DAY, time(16, 59)))
    assert s == local_ns(DAY, time(16, 56)) and e == local_ns(DAY, time(17, 0))
    fut = TimeBuckets(15 * 60 * NS, AssetClass.INDEX_FUTURE)
    assert fut.bucket(local_ns(DAY, time(9, 1)))[0] == local_ns(DAY, time(9, 0))


def test_time_bar_fields_and_flow() -> None:
    ts = trades(400, 3)
    bars, _ = live(ts, "time", 60 * NS)
    first = bars[0].bar
    assert first.ts_open % (60 * NS) == 0 and first.ts_event - first.ts_open == 60 * NS
    assert all(b.bar.low <= min(b.bar.open, b.bar.close) <= max(b.bar.open, b.bar.close) <= b.bar.high
               for b in bars)  # fmt: skip
    assert sum(b.buy_volume for b in bars) == sum(t.size for t in ts if t.aggressor == 1)


def test_close_until_closes_by_clock() -> None:
    ts = trades(10, 4, start=time(10, 0, 1), mean_gap_ms=100)
    b = BarBuilder("PETR4", "time", 60 * NS)
    for t in ts:
        assert b.update(t) == []
    assert b.close_until(local_ns(DAY, time(10, 0, 59))) == []
    closed = b.close_until(local_ns(DAY, time(10, 1)))
    assert len(closed) == 1 and closed[0].bar.trades == 10 and b.flush() == []


def test_activity_bars_close_on_the_crossing_trade() -> None:
    ts = trades(50, 5)
    bars, _ = live(ts, "tick", 10)
    assert [b.bar.trades for b in bars] == [10] * 5
    vb, _ = live(ts, "volume", 1000)
    assert all(b.bar.volume >= 1000 for b in vb[:-1])


def test_parse_timeframe() -> None:
    assert parse_timeframe("15m") == 900 * NS and parse_timeframe("2h") == 7200 * NS
    with pytest.raises(ValueError):
        parse_timeframe("0m")
    assert parse_timeframe("1d") == 86_400 * NS
    with pytest.raises(ValueError):
        parse_timeframe("5d")
