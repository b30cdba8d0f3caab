"""Catalog bars come from the one bar engine (``features.bars``): same bars as capture and features."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tradingsystem.adapters.storage import Catalog
from tradingsystem.adapters.storage.schema import b3_ns
from tradingsystem.domain.events import TradeTick
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.features.bars import BarBuilder, Timeframe, bars_from_trades, bars_to_columns

from .helpers import DAY, config, record, ticks

COLS = ("ts_open", "ts_event", "open", "high", "low", "close", "volume", "trades")


def _batch(tf: str, tt: list[TradeTick], scale: int, ac: AssetClass = AssetClass.INDEX_FUTURE) -> list[tuple]:
    t = Timeframe.parse(tf)
    c = {k: np.array([getattr(x, k) for x in tt]) for k in ("ts_event", "price", "size", "aggressor", "trade_id")}
    a = bars_from_trades(c["ts_event"], c["price"], c["size"], c["aggressor"], c["trade_id"], t.kind, t.n, ac, scale)
    return [tuple(int(a[k][i]) for k in COLS) for i in range(len(a["open"]))]


def test_time_bars_align_to_the_session_and_stamp_the_close():
    tt = [TradeTick("PETR4", 3750, 100, 1, 1, b3_ns(DAY, 9, 59, 30), 0),  # opening auction
          TradeTick("PETR4", 3760, 100, 1, 2, b3_ns(DAY, 10, 4, 59), 0),
          TradeTick("PETR4", 3740, 100, 1, 3, b3_ns(DAY, 10, 5, 0), 0),
          TradeTick("PETR4", 3745, 100, 1, 4, b3_ns(DAY, 17, 59, 0), 0)]
    bars = _batch("5m", tt, 2, AssetClass.STOCK)
    assert [b[0] for b in bars] == [b3_ns(DAY, 10, 0), b3_ns(DAY, 10, 5), b3_ns(DAY, 17, 55)]
    assert [b[1] for b in bars] == [b3_ns(DAY, 10, 5), b3_ns(DAY, 10, 10), b3_ns(DAY, 18, 0)]
    assert bars[0][2:8] == (3750, 3760, 3750, 3760, 200, 2)
    day = _batch("1d", tt, 2, AssetClass.STOCK)  # 2026-11-26: no US DST, stocks 10:00-18:00
    assert day == [(b3_ns(DAY, 10, 0), b3_ns(DAY, 18, 0), 3750, 3760, 3740, 3745, 400, 4)]


def test_volume_bars_restart_each_session_and_never_split_a_print():
    tt = [TradeTick("WINZ26", 100, s, 1, i, b3_ns(DAY, 10, 0, i), 0) for i, s in enumerate((6, 6, 4), 1)]
    tt += [TradeTick("WINZ26", 100, 4, 1, 9, b3_ns(DAY + timedelta(days=1), 10, 0), 0)]
    assert [b[6] for b in _batch("volume:10", tt, 0)] == [12, 4, 4]  # the crossing print closes the bar


def test_dollar_bars_count_the_quoted_value_and_live_equals_batch():
    tt = ticks(symbol="PETR4", n=500, base=3000, tick=1)
    bars = _batch("dollar:20000", tt, 2)
    b = BarBuilder.for_timeframe("PETR4", "dollar:20000", AssetClass.INDEX_FUTURE, scale=2)
    live = [x for t in tt for x in b.update(t)] + b.flush()
    got = bars_to_columns(live)
    assert [tuple(int(got[k][i]) for k in COLS) for i in range(len(live))] == bars
    value = [sum(t.price * t.size for t in tt if r[0] <= t.ts_event <= r[1]) for r in bars[:-1]]
    assert all(v >= 20000 * 100 for v in value)


@pytest.mark.parametrize("bad", ["2d", "ticks:0", "volume:x", "minute", "dollar:-1", "0m"])
def test_unknown_timeframes_are_rejected(bad):
    with pytest.raises(ValueError):
        Timeframe.parse(bad)


def test_catalog_bars_from_recorded_trades_in_trade_number_order(tmp_path):
    tt = ticks(n=2000)
    # two prints in one instant recorded out of trade-number order: both survive, in trade-number order
    same = tt[500].ts_event
    tt[501] = TradeTick("WINZ26", tt[501].price, tt[501].size, 1, tt[501].trade_id, same, same)
    tt[500], tt[501] = tt[501], tt[500]
    record(config(tmp_path), tt)
    rejected: dict[str, int] = {}
    table = Catalog(tmp_path).bars("WINZ26", "1m", DAY, DAY, rejected)
    assert sum(table.column("trades").to_pylist()) == 2000 and sum(rejected.values()) == 0
    ordered = sorted(tt, key=lambda t: (t.ts_event, t.trade_id))
    assert _batch("1m", ordered, 0) == [tuple(r[c] for c in COLS) for r in table.to_pylist()]
    assert sum(table.column("buy_volume").to_pylist()) == sum(t.size for t in tt if t.aggressor == 1)


def test_data_bars_reports_the_trades_it_rejects(tmp_path):
    from typer.testing import CliRunner

    from tradingsystem.runtime.cli_data import data_app

    tt = ticks(n=50)
    bad = tt[10]
    tt[10] = TradeTick(bad.symbol, bad.price, 0, bad.aggressor, bad.trade_id, bad.ts_event, bad.ts_init)
    record(config(tmp_path), tt)
    res = CliRunner().invoke(data_app, ["bars", "--instrument", "WINZ26", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0 and "1 stored trades rejected (bad price or size 1)" in " ".join(res.output.split())
