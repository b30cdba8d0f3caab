"""Golden test: EMA(10)/EMA(30) cross on real PETR4 1-minute bars, checked against a computation
written here from the CSV alone; the same config twice gives a byte-identical summary.json."""

from __future__ import annotations

import csv
import json
import os
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tradingsystem.runtime.cli_backtest import backtest_app

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("TRADINGSYSTEM_REAL_DATA", REPO.parent / "shared" / "data"))
CSV = DATA / "b3_stocks_m1" / "PETR4_M1.csv"

pytestmark = pytest.mark.skipif(not CSV.exists(), reason=f"real data not found at {CSV}")


def independent(path: Path, fast: int = 10, slow: int = 30, qty: int = 100) -> dict[str, object]:
    """Closes in centavos, the EMA recurrence on them, reverse at each cross's bar close, 2.30 bps fees."""
    with path.open() as fh:
        rows = list(csv.reader(fh, delimiter="\t"))[1:]
    rows.sort(key=lambda r: (r[0], r[1]))
    closes = [int(Decimal(r[5]) * 100) for r in rows]
    af, as_ = 2.0 / (fast + 1), 2.0 / (slow + 1)
    f = s = float(closes[0])
    pos = 0
    cash = 0  # centavos x shares
    fees = Decimal(0)
    fills = 0
    for i in range(1, len(closes)):
        p = closes[i]
        f = af * p + (1.0 - af) * f
        s = as_ * p + (1.0 - as_) * s
        if i < slow or f == s:
            continue
        target = qty if f > s else -qty
        if target != pos:
            q = abs(target - pos)
            cash -= (target - pos) * p
            notional = Decimal(p * q) / 100
            fees += (notional * Decimal("2.30") / 10_000).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
            pos = target
            fills += 1
    gross = Decimal(cash + pos * closes[-1]) / 100
    return {"fills": fills, "round_trips": fills - 1, "gross": gross, "fees": fees, "net": gross - fees,
            "position": pos}


def test_ema_cross_on_petr4_matches_independent_computation_and_is_reproducible(tmp_path: Path) -> None:
    cfg = tmp_path / "golden.yaml"
    cfg.write_text(
        "data: {source: mt5_csv, path: " + str(CSV) + ", symbols: [PETR4], calendar: weekdays}\n"
        "strategy: {name: ema_cross, params: {fast: 10, slow: 30, quantity: 100}}\n"
        "report: {deterministic: true}\n"
        "venue: {fee_mode: day_trade}\n"  # the independent computation charges day-trade fees
    )
    runner = CliRunner()
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        res = runner.invoke(backtest_app, ["backtest", "--config", str(cfg), "--out", str(out)])
        assert res.exit_code == 0, res.output
        outs.append(out)
    a, b = ((o / "summary.json").read_bytes() for o in outs)
    assert a == b
    summary = json.loads(a)
    want = independent(CSV)
    assert summary["risk_denials"] == 0
    assert summary["fills"] == want["fills"]
    assert summary["trades"] == want["round_trips"]
    assert Decimal(summary["gross_pnl_brl"]) == want["gross"]
    assert Decimal(summary["fees_brl"]) == want["fees"]
    assert Decimal(summary["pnl_brl"]) == want["net"]
    assert summary["positions"] == {"PETR4": want["position"]}
    for key in ("trades", "win_rate", "pnl_brl", "fees_brl", "sharpe", "sortino", "max_drawdown_brl",
                "profit_factor", "exposure", "events", "events_per_sec", "wall_seconds"):
        assert key in summary
    trades = pq.read_table(outs[0] / "trades.parquet")
    assert trades.num_rows == want["round_trips"]
    assert sum(trades.column("pnl_brl").to_pylist()) + Decimal(summary["unrealized_pnl_brl"]) == want["gross"]
    equity = pq.read_table(outs[0] / "equity.parquet")
    assert equity.column("equity_brl").to_pylist()[-1] == want["net"]
    assert -min(equity.column("drawdown_brl").to_pylist()) == Decimal(summary["max_drawdown_brl"])
    html = (outs[0] / "report.html").read_text()
    assert html.count("<svg") >= 3 and "http" not in html
