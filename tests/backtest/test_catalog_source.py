"""The runtime reads the Parquet catalog: a generic WINFUT series rolls between contracts (flattened)."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tradingsystem.adapters.storage.config import StorageConfig
from tradingsystem.adapters.storage.importers import ImportReport, write_rows
from tradingsystem.adapters.storage.schema import SCHEMAS
from tradingsystem.domain.sessions import local_ns
from tradingsystem.runtime.backtest_setup import BacktestConfig, load_dataset, run_backtest


def _trades(symbol: str, day: date, prices: list[int], first_id: int) -> list[dict]:
    t0 = local_ns(day, time(10, 0))
    return [{"instrument": symbol, "date": day, "ts_event": t0 + i * 10**9, "ts_init": t0 + i * 10**9,
             "trade_id": first_id + i, "price": p, "scale": 0, "size": 1 + i % 3, "aggressor": 1 + i % 2,
             "buyer": 0, "seller": 0, "flags": 0} for i, p in enumerate(prices)]


def test_generic_future_rolls_and_flattens(tmp_path: Path) -> None:
    zig = [125_000 + 5 * ((i // 7) % 2) * (i % 7) for i in range(120)]
    rows = []
    for day, symbol in ((date(2026, 12, 10), "WINZ26"), (date(2026, 12, 11), "WINZ26"),
                        (date(2026, 12, 14), "WING27"), (date(2026, 12, 15), "WING27")):
        base = 0 if symbol == "WINZ26" else 2_000  # the next contract trades higher: a carried position would jump
        rows += _trades(symbol, day, [p + base for p in zig], 1)
    rows += _trades("WING27", date(2026, 12, 10), [999_995] * 5, 1)  # back-month prints on a front day: ignored
    write_rows(StorageConfig(data_dir=tmp_path), "trades", rows, ImportReport("test", "test"))
    cfg = BacktestConfig.model_validate({
        "data": {"source": "catalog", "data_dir": str(tmp_path), "symbols": ["WINFUT"], "kinds": ["trades"],
                 "roll_sessions": 2},
        "strategy": {"name": "ema_cross", "params": {"fast": 3, "slow": 8}},
        "risk": {"check_session": False},
    })
    data = load_dataset(cfg)
    assert data.days == [date(2026, 12, 10), date(2026, 12, 11), date(2026, 12, 14), date(2026, 12, 15)]
    last_front = local_ns(date(2026, 12, 11), time(10, 0)) + 119 * 10**9
    assert [r[:2] for r in data.rolls] == [(last_front + 1, "WINFUT")]  # right after the last front print
    result = run_backtest(cfg)
    assert max(f.price for f in result.fills) < 999_995
    roll_fills = [f for f in result.fills if f.strategy_id == "risk"]
    assert len(roll_fills) == 1 and roll_fills[0].ts == last_front + 1 and roll_fills[0].price == zig[-1]
    assert result.summary["trades_seen"] == 480


def test_catalog_book_and_bars_reach_the_engine(tmp_path: Path) -> None:
    day = date(2026, 11, 26)
    t0 = local_ns(day, time(10, 0))
    trades = _trades("PETR4", day, [3_000 + ((i // 7) % 2) * (i % 7) for i in range(60)], 1)
    for r in trades:
        r["scale"] = 2
    book = [{"ts_event": t0 - 1000 + i, "ts_init": t0 - 1000 + i, "seq": i, "sequence": i + 1, "side": side,
             "price": px, "scale": 2, "size": 500, "action": 0, "orders": 3, "level": 0}
            for i, (side, px) in enumerate(((1, 2_999), (2, 3_001)))]
    write_rows(StorageConfig(data_dir=tmp_path), "trades", trades, ImportReport("t", "t"))
    part = tmp_path / "book" / "instrument=PETR4" / f"date={day.isoformat()}"
    part.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(book, schema=SCHEMAS["book"]), part / "part-0.parquet")
    bt = BacktestConfig.model_validate({
        "data": {"source": "catalog", "data_dir": str(tmp_path), "symbols": ["PETR4"], "kinds": ["book", "trades"]},
        "strategy": {"name": "ema_cross", "params": {"fast": 3, "slow": 8, "quantity": 100}},
        "risk": {"check_session": False, "max_order_qty": 1000, "max_position": 1000},
    })
    result = run_backtest(bt)
    assert result.summary["book_events"] == 2 and result.summary["trades_seen"] == 60
    # market orders walk the recorded book: buys pay the ask, sells get the bid
    assert {f.price for f in result.fills if f.side > 0} == {3_001}
    assert {f.price for f in result.fills if f.side < 0} == {2_999}
