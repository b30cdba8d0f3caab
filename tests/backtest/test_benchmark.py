"""The backtest report against the CDI and the Ibovespa: SGS JSON served from a loopback server (the recorded
format), cached in the data dir so a second run works offline; a missing series is a note, never a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.altdata.server import AltDataServer
from tradingsystem.backtest.benchmark import cdi_factor
from tradingsystem.runtime.cli_backtest import backtest_app

DATA = Path(__file__).with_name("data")
CDI_DAY = Decimal("0.045513")  # % a.d., every day of sgs_12.json


@pytest.fixture
def sgs() -> Iterator[AltDataServer]:
    srv = AltDataServer()
    srv.series = {code: json.loads((DATA / f"sgs_{code}.json").read_text()) for code in (12, 7)}
    yield srv.start()
    srv.stop()


def _run(tmp_path: Path, bench: str, name: str = "out") -> tuple[dict, str]:
    cfg = tmp_path / "bt.yaml"
    cfg.write_text(
        "data: {source: synthetic, ticks: 1500, days: 3, start: 2025-01-02, symbols: [WINZ26]}\n"
        "strategy: {name: ema_cross, params: {fast: 5, slow: 20, quantity: 1}}\n"
        "report: {deterministic: true}\n"
        f"benchmark: {bench}\n")
    out = tmp_path / name
    res = CliRunner().invoke(backtest_app, ["backtest", "--config", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads((out / "summary.json").read_text()), (out / "report.html").read_text()


def test_cdi_accrued_exactly_over_the_backtest_days_then_offline_from_the_cache(
        tmp_path: Path, sgs: AltDataServer) -> None:
    summary, page = _run(tmp_path, f"{{fetch: true, sgs_url: '{sgs.url}', data_dir: data, capital_brl: 50000}}")
    b = summary["benchmark"]
    assert (b["from"], b["to"]) == ("2025-01-02", "2025-01-06")  # Thursday, Friday, Monday
    factor = (1 + CDI_DAY / 100) ** 3  # 02/01, 03/01, 06/01: not 31/12 before, not 07/01 after
    cdi = b["cdi"]
    assert cdi["available"] and cdi["days"] == 3
    assert Decimal(cdi["return"]) == (factor - 1).quantize(Decimal("1e-10"), ROUND_HALF_EVEN)
    assert Decimal(cdi["pnl_brl"]) == (50000 * (factor - 1)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    ret = Decimal(summary["pnl_brl"]) / 50000
    assert Decimal(b["strategy_return"]) == ret
    assert Decimal(cdi["excess_return"]) == (ret - (factor - 1)).quantize(Decimal("1e-10"), ROUND_HALF_EVEN)
    ibov = b["ibovespa"]  # 30/12 close (the session before) to 06/01 close
    assert ibov["available"] and (ibov["from"], ibov["to"]) == ("2024-12-30", "2025-01-06")
    assert Decimal(ibov["return"]) == (Decimal(120022) / Decimal(120283) - 1).quantize(Decimal("1e-10"))
    assert isinstance(ibov["beta"], float)
    assert "Benchmark (2025-01-02 to 2025-01-06)" in page and "CDI" in page and "Ibovespa" in page
    assert (tmp_path / "data" / "altdata" / "series" / "cdi").is_dir()
    asked = len(sgs.requests)
    sgs.stop()  # offline: the cache covers the period
    again, _ = _run(tmp_path, f"{{fetch: true, sgs_url: '{sgs.url}', data_dir: data, capital_brl: 50000}}", "b")
    assert again["benchmark"] == b and len(sgs.requests) == asked


def test_missing_series_is_a_note_in_the_report_not_a_crash(tmp_path: Path, sgs: AltDataServer) -> None:
    summary, page = _run(tmp_path, "{data_dir: empty}")  # offline, nothing cached
    cdi = summary["benchmark"]["cdi"]
    assert not cdi["available"] and "no cdi series cached" in cdi["note"]
    assert "altdata fetch --series cdi" in cdi["note"]
    assert "CDI</td><td colspan=4 class=note>unavailable: no cdi series cached" in page
    sgs.fail = 100  # the server answers 500 to everything
    summary, page = _run(tmp_path, f"{{fetch: true, sgs_url: '{sgs.url}', data_dir: d2}}", "c")
    for key in ("cdi", "ibovespa"):
        assert not summary["benchmark"][key]["available"]
        assert "could not be fetched" in summary["benchmark"][key]["note"]
    assert "unavailable: SGS series 12 could not be fetched" in page


def test_ibovespa_from_a_csv_and_a_cache_that_ends_too_early(tmp_path: Path) -> None:
    csv = tmp_path / "ibov.csv"
    csv.write_text("date,close\n2024-12-30,120283\n2025-01-02,118533\n2025-01-03,118854\n2025-01-06,120022\n")
    cdi = tmp_path / "cdi.csv"
    cdi.write_text("data;valor\n30/12/2024;0,045513\n02/01/2025;0,045513\n03/01/2025;0,045513\n")
    summary, _ = _run(tmp_path, f"{{ibovespa_csv: {csv}, cdi_csv: {cdi}}}")
    b = summary["benchmark"]
    assert Decimal(b["ibovespa"]["return"]) == (Decimal(120022) / Decimal(120283) - 1).quantize(Decimal("1e-10"))
    assert not b["cdi"]["available"]
    assert "holds cdi from 2024-12-30 to 2025-01-03; the backtest needs 2025-01-02 to 2025-01-06" in b["cdi"]["note"]


@given(st.lists(st.decimals(Decimal("0"), Decimal("0.1"), places=6), min_size=2, max_size=30),
       st.integers(1, 28))
def test_accrual_over_a_range_is_the_product_of_its_parts(rates: list[Decimal], cut: int) -> None:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(len(rates))]
    series = dict(zip(days, rates, strict=True))
    k = min(cut, len(days) - 1)
    whole, n = cdi_factor(series, days[0], days[-1])
    left, a = cdi_factor(series, days[0], days[k - 1])
    right, b = cdi_factor(series, days[k], days[-1])
    assert n == a + b == len(days)
    with localcontext() as ctx:
        ctx.prec = 1000
        assert whole == left * right  # exact: no rounding inside the product
