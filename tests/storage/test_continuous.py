"""Continuous WIN across two rolls: backtests trade each dated contract and roll it with fees, so the gap
between contracts is never P&L; ``data bars --instrument WINFUT`` stitches and back-adjusts.

shared/data holds no dated WIN contracts, so the series here is built: three real contract codes with
B3's expiry rules (WINM24 expires Wed 2024-06-12, WINQ24 Wed 2024-08-14, WINV24 Wed 2024-10-16), a
WIN-like shape (about 120,000 points, 5-point ticks, 1-5 lots) with every later contract 1,500 points
above the earlier one at the same instant (contango), and a steady uptrend so a trend follower stays
long through both rolls.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tradingsystem.adapters.storage.schema import b3_ns
from tradingsystem.backtest.results import metrics
from tradingsystem.domain.events import TradeTick
from tradingsystem.runtime.backtest_setup import BacktestConfig, run_backtest
from tradingsystem.runtime.cli_data import data_app

from .helpers import config, record

CONTRACTS = {"WINM24": (120_000, date(2024, 6, 12)), "WINQ24": (121_500, date(2024, 8, 14)),
             "WINV24": (123_000, date(2024, 10, 16))}  # fmt: skip
GAP = 1_500
START, END = date(2024, 6, 3), date(2024, 8, 23)


def _price(base: int, day_index: int, j: int) -> int:
    """5 points up every 10 prints: about 900 points over the period, under the 1,500-point contango."""
    return base + 5 * ((30 * day_index + j) // 10)


def _days() -> list[date]:
    d, out = START, []
    while d <= END:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    data = tmp_path_factory.mktemp("win")
    ticks = []
    for sym, (base, last) in CONTRACTS.items():
        tid = 0
        for k, day in enumerate(_days()):
            if day > last:
                break
            for j in range(30):
                tid += 1
                ts = b3_ns(day, 9, 5) + j * 17 * 60 * 10**9
                ticks.append(TradeTick(sym, _price(base, k, j), 1 + (j % 5), 1 + j % 2, tid, ts, ts))
    ticks.sort(key=lambda t: t.ts_event)
    record(config(data), ticks)
    return data


def _band(price: int) -> str:
    """The contract a price belongs to (the contracts never overlap in price over the period)."""
    for sym, (base, _) in sorted(CONTRACTS.items(), key=lambda x: -x[1][0]):
        if price >= base:
            return sym
    raise AssertionError(price)


def test_backtest_rolls_winfut_twice_and_books_no_roll_gap(catalog):
    cfg = BacktestConfig.model_validate({
        "data": {"source": "catalog", "data_dir": str(catalog), "symbols": ["WINFUT"], "kinds": ["trades"],
                 "calendar": "weekdays", "roll_sessions": 2, "start": START.isoformat(), "end": END.isoformat()},
        "strategy": {"name": "ema_cross", "params": {"fast": 2, "slow": 5, "quantity": 1}},
        "report": {"deterministic": True}})  # fmt: skip
    res = run_backtest(cfg)
    rolls = [f for f in res.fills if f.strategy_id == "risk"]
    assert len(rolls) == 2  # closing legs: WINM24 -> WINQ24 on 2024-06-10, WINQ24 -> WINV24 on 2024-08-12
    assert [_band(f.price) for f in rolls] == ["WINM24", "WINQ24"] and all(f.fee > 0 for f in rolls)
    opens = [f for f in res.fills if f.strategy_id == "roll"]  # the opening legs, on the new contracts
    assert [_band(f.price) for f in opens] == ["WINQ24", "WINV24"] and all(f.fee > 0 for f in opens)
    assert all(o.ts > c.ts for c, o in zip(rolls, opens, strict=True))
    # every fill is at the prices of the contract live at its time, and the position is flat at each switch
    switch = [rolls[0].ts, rolls[1].ts]
    pos, cash = 0, 0
    for f in res.fills:
        live = "WINM24" if f.ts <= switch[0] else "WINQ24" if f.ts <= switch[1] else "WINV24"
        assert _band(f.price) == live, f
        pos += f.side * f.quantity
        cash -= f.side * f.quantity * f.price
        if f.strategy_id == "risk":
            assert pos == 0
    assert pos > 0  # long through the end, as it was through both rolls
    m = metrics(res, deterministic=True)
    last_price = _price(CONTRACTS["WINV24"][0], len(_days()) - 1, 29)
    gross = Decimal(cash + pos * last_price) * Decimal("0.20")
    assert Decimal(m["gross_pnl_brl"]) == gross
    # held through the switches on the stitched prices, the two 1,500-point gaps would have added R$600
    assert gross < 2 * GAP * Decimal("0.20")
    assert Decimal(m["fees_brl"]) == sum(f.fee for f in res.fills)


def test_data_bars_stitches_winfut_and_back_adjusts_by_the_roll_gap(catalog, tmp_path):
    runner = CliRunner()
    out = tmp_path / "c.parquet"
    res = runner.invoke(data_app, ["bars", "--instrument", "WINFUT", "--timeframe", "1d", "--adjust", "difference",
                                   "--out", str(out), "--data-dir", str(catalog)])
    assert res.exit_code == 0, res.output
    t = pq.read_table(out).to_pandas()
    assert list(dict.fromkeys(t["contract"])) == ["WINM24", "WINQ24", "WINV24"]
    adj = t.groupby("contract", sort=False)["adjustment"].first().tolist()
    assert adj == [2 * GAP, GAP, 0]
    closes = t["close"].astype(float).to_numpy()
    assert (closes[1:] > closes[:-1]).all()  # the uptrend without the two 1,500-point jumps
    jumps = closes[1:] - closes[:-1]
    assert jumps.max() < GAP / 2
    res = runner.invoke(data_app, ["bars", "--instrument", "PETR4", "--adjust", "ratio", "--data-dir", str(catalog)])
    assert res.exit_code == 2 and "generic futures" in res.output


def test_a_stitched_continuous_file_rolls_at_the_b3_roll_days(catalog, tmp_path):
    """The unadjusted WINFUT series as a file (like an MT5 WIN$N export): rolls on B3's roll days."""
    out = tmp_path / "winfut.parquet"
    res = CliRunner().invoke(data_app, ["bars", "--instrument", "WINFUT", "--timeframe", "1h", "--out", str(out),
                                        "--data-dir", str(catalog)])
    assert res.exit_code == 0, res.output
    cfg = BacktestConfig.model_validate({
        "data": {"source": "mt5_csv", "path": str(out), "symbols": ["WINFUT"], "timeframe": "1h",
                 "calendar": "weekdays", "roll_sessions": 2},
        "strategy": {"name": "ema_cross", "params": {"fast": 2, "slow": 5, "quantity": 1}},
        "risk": {"check_session": False}, "report": {"deterministic": True}})  # fmt: skip
    res_bt = run_backtest(cfg)
    closing = [f for f in res_bt.fills if f.strategy_id == "risk"]
    opening = [f for f in res_bt.fills if f.strategy_id == "roll"]
    assert [_band(f.price) for f in closing] == ["WINM24", "WINQ24"]
    assert [_band(f.price) for f in opening] == ["WINQ24", "WINV24"]
