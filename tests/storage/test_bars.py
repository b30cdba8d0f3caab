"""Bars: batch equals streaming for every timeframe kind; time bars align to B3 local time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.adapters.storage import BarBuilder, Catalog, Timeframe, bars_from_trades, resample_bars
from tradingsystem.adapters.storage.schema import b3_ns
from tradingsystem.domain.events import TradeTick

from .helpers import DAY, T0, config, record, ticks

TIMEFRAMES = ["1m", "5m", "15m", "1h", "1d", "30s", "ticks:1", "ticks:7", "volume:10", "volume:1", "dollar:5000"]


def _stream(tf: str, tt: list[TradeTick], scale: int) -> list[tuple[int, ...]]:
    b = BarBuilder(tt[0].symbol, tf, scale)
    out = [bar for t in tt for bar in b.update(t)] + b.flush()
    return [(x.ts_open, x.ts_event, x.open, x.high, x.low, x.close, x.volume, x.trades) for x in out]


def _batch(tf: str, tt: list[TradeTick], scale: int) -> list[tuple[int, ...]]:
    a = bars_from_trades(Timeframe.parse(tf), np.array([t.ts_event for t in tt]), np.array([t.price for t in tt]),
                         np.array([t.size for t in tt]), scale)
    cols = ("ts_open", "ts_event", "open", "high", "low", "close", "volume", "trades")
    return [tuple(int(a[c][i]) for c in cols) for i in range(len(a["open"]))]


@settings(max_examples=60, deadline=None)
@given(
    tf=st.sampled_from(TIMEFRAMES),
    gaps=st.lists(st.integers(0, 40 * 60 * 10**9), min_size=1, max_size=120),
    moves=st.lists(st.integers(-3, 3), min_size=120, max_size=120),
    sizes=st.lists(st.integers(1, 30), min_size=120, max_size=120),
)
def test_streaming_bars_equal_batch_bars(tf, gaps, moves, sizes):
    ts, price, tt = T0, 120_000, []
    for i, g in enumerate(gaps):
        ts += g
        price += 5 * moves[i]
        tt.append(TradeTick("WINZ26", price, sizes[i], 1, i + 1, ts, ts))
    assert _stream(tf, tt, 0) == _batch(tf, tt, 0)
    batch = _batch(tf, tt, 0)
    assert sum(b[7] for b in batch) == len(tt)
    assert sum(b[6] for b in batch) == sum(t.size for t in tt)


def test_time_bars_align_to_b3_local_clock():
    tt = [TradeTick("PETR4", 3750, 100, 1, 1, b3_ns(DAY, 10, 0, 1), 0),
          TradeTick("PETR4", 3760, 100, 1, 2, b3_ns(DAY, 10, 4, 59), 0),
          TradeTick("PETR4", 3740, 100, 1, 3, b3_ns(DAY, 10, 5, 0), 0),
          TradeTick("PETR4", 3745, 100, 1, 4, b3_ns(DAY, 17, 59, 0), 0)]
    bars = _batch("5m", tt, 2)
    assert [b[0] for b in bars] == [b3_ns(DAY, 10, 0), b3_ns(DAY, 10, 5), b3_ns(DAY, 17, 55)]
    assert bars[0][2:8] == (3750, 3760, 3750, 3760, 200, 2)
    hour = _batch("1h", tt, 2)
    assert [b[0] for b in hour] == [b3_ns(DAY, 10, 0), b3_ns(DAY, 17, 0)]
    day = _batch("1d", tt, 2)
    assert len(day) == 1 and day[0][0] == b3_ns(DAY, 0, 0) and day[0][7] == 4


def test_volume_bars_restart_each_session_and_never_split_a_print():
    from datetime import timedelta
    tt = [TradeTick("WINZ26", 100, s, 1, i, b3_ns(DAY, 10, 0, i), 0) for i, s in enumerate((4, 4, 4), 1)]
    nxt = DAY + timedelta(days=1)
    tt += [TradeTick("WINZ26", 100, 4, 1, 9, b3_ns(nxt, 10, 0), 0)]
    bars = _batch("volume:10", tt, 0)
    assert [b[6] for b in bars] == [12, 4]  # the third print starts inside the first bar's 10 lots


def test_resample_bars_matches_hand_aggregation():
    t0 = b3_ns(DAY, 10, 0)
    minute = 60 * 10**9
    ts = np.array([t0 + i * minute for i in range(10)])
    o = np.arange(10) + 100
    h, lo, c = o + 5, o - 5, o + 1
    v = np.ones(10, dtype=np.int64) * 3
    n = np.ones(10, dtype=np.int64)
    out = resample_bars(Timeframe.parse("5m"), ts, o, h, lo, c, v, n)
    assert out["open"].tolist() == [100, 105] and out["close"].tolist() == [105, 110]
    assert out["high"].tolist() == [109, 114] and out["low"].tolist() == [95, 100]
    assert out["volume"].tolist() == [15, 15] and out["trades"].tolist() == [5, 5]
    with pytest.raises(ValueError, match="count bars need trades"):
        resample_bars(Timeframe.parse("ticks:5"), ts, o, h, lo, c, v, n)


@pytest.mark.parametrize("bad", ["7m", "2d", "ticks:0", "volume:x", "minute", "dollar:-1"])
def test_unknown_timeframes_are_rejected(bad):
    with pytest.raises(ValueError):
        Timeframe.parse(bad)


def test_catalog_bars_from_recorded_trades(tmp_path):
    tt = ticks(n=2000)
    record(config(tmp_path), tt)
    table = Catalog(tmp_path).bars("WINZ26", "1m", DAY, DAY)
    assert table.column("trades").to_pylist() and sum(table.column("trades").to_pylist()) == 2000
    assert table.column("open").to_pylist()[0] == tt[0].price
    assert _batch("1m", sorted(tt, key=lambda t: t.ts_event), 0) == [
        tuple(r[c] for c in ("ts_open", "ts_event", "open", "high", "low", "close", "volume", "trades"))
        for r in table.to_pylist()]
