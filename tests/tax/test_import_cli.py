"""CSV import (malformed lines, --strict) and the ``tax report`` command."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradingsystem.runtime.cli_tax import tax_app
from tradingsystem.tax import FillImportError, Side, read_fills, read_settlements

MONTH_KEYS = ["day_trade_result_brl", "common_result_brl", "fii_result_brl", "exempt_sales_brl", "exempt_gain_brl",
              "loss_carried_day_trade_brl", "loss_carried_common_brl", "irrf_brl", "tax_due_brl", "darf_code",
              "darf_due_date", "darf_due_note", "carried_under_minimum_brl"]

GOOD = """ticker,date,side,quantity,price,fees,broker
VALE3,2026-01-05,buy,200,60.00,,XP
VALE3,2026-01-20 10:00,buy,100,62.00,1.00,XP
VALE3,2026-01-20 11:00,sell,300,65.00,3.00,XP
VALE3,2026-01-20 12:00,buy,100,63.00,1.00,XP
WING26,20/01/2026,C,1,130000,0.26,XP
WING26,20/01/2026,V,1,130100,0.26,XP
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_fills(tmp_path: Path) -> None:
    fills, problems = read_fills(write(tmp_path, "t.csv", GOOD))
    assert problems == []
    assert len(fills) == 6
    f = fills[2]
    assert (f.day, f.symbol, f.side, f.quantity, f.price, f.fees, f.broker, f.fill_id) == (
        date(2026, 1, 20), "VALE3", Side.SELL, 300, D("65.00"), D("3.00"), "XP", "t.csv:4")
    assert fills[4].side is Side.BUY and fills[5].side is Side.SELL


def test_malformed_lines_reported_with_file_and_line(tmp_path: Path) -> None:
    text = GOOD + "PETR4,2026-13-01,buy,100,30,0,XP\nPETR4,2026-01-02,hold,100,30,0,XP\nPETR4,2026-01-02,buy,-5,30\n"
    path = write(tmp_path, "bad.csv", text)
    fills, problems = read_fills(path)
    assert len(fills) == 6
    assert problems[0].startswith(f"{path}:8: date")
    assert problems[1].startswith(f"{path}:9: side")
    assert problems[2] == f"{path}:10: expected 7 fields, got 5"
    with pytest.raises(FillImportError) as err:
        read_fills(path, strict=True)
    assert len(err.value.problems) == 3


def test_missing_column(tmp_path: Path) -> None:
    _, problems = read_fills(write(tmp_path, "m.csv", "ticker,date,side,quantity,price\n"))
    assert problems == [f"{tmp_path / 'm.csv'}:1: missing column(s) fees, broker"]


def test_read_settlements(tmp_path: Path) -> None:
    table, problems = read_settlements(write(tmp_path, "s.csv", "symbol,date,price\nWINM26,2026-04-28,125500\n"))
    assert problems == [] and table == {("WINM26", date(2026, 4, 28)): D("125500")}


def test_cli_report(tmp_path: Path) -> None:
    fills = write(tmp_path, "t.csv", GOOD)
    out = tmp_path / "out"
    result = CliRunner().invoke(tax_app, ["report", "--year", "2026", "--out", str(out), "--fills", str(fills)])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "tax.json").read_text())
    assert list(doc["months"]) == [f"2026-{m:02d}" for m in range(1, 13)]
    jan = doc["months"]["2026-01"]
    assert list(jan) == MONTH_KEYS
    # VALE3 day trade 496.00 (see test_cases) + WIN day trade (130100-130000) x 0.20 - 0.52 = 19.48.
    assert jan["day_trade_result_brl"] == "515.48"
    assert jan["exempt_gain_brl"] == "499.00"
    assert jan["darf_due_date"] == "2026-02-27"
    assert doc["annual"]["positions_31_december"] == [
        {"symbol": "VALE3", "class": "stock", "quantity": 100, "average_price": "60.0000", "cost_brl": "6000.00"}]
    with (out / "2026-01.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    # The day trade traces to the three fills of Jan 20; the swing sale to the prior purchase and the sale.
    assert {(r["symbol"], r["day_trade"], r["result_brl"], r["fills"]) for r in rows} == {
        ("VALE3", "1", "496.00", "t.csv:3 t.csv:4 t.csv:5"), ("VALE3", "0", "499.00", "t.csv:2 t.csv:4"),
        ("WING26", "1", "19.48", "t.csv:6 t.csv:7")}
    html = (out / "tax.html").read_text()
    assert 'id="fill-t-csv-4"' in html and 'href="#fill-t-csv-4"' in html
    assert "Positions at 31 December 2026" in html


def test_cli_one_month_and_strict(tmp_path: Path) -> None:
    fills = write(tmp_path, "t.csv", GOOD + "PETR4,2026-01-02,hold,100,30,0,XP\n")
    out = tmp_path / "o"
    ok = CliRunner().invoke(tax_app, ["report", "--year", "2026", "--month", "1", "--out", str(out),
                                      "--fills", str(fills)])
    assert ok.exit_code == 0, ok.output
    assert "t.csv:8" in ok.output  # the skipped line is reported
    doc = json.loads((out / "tax.json").read_text())
    assert list(doc["months"]) == ["2026-01"] and "annual" not in doc
    bad = CliRunner().invoke(tax_app, ["report", "--year", "2026", "--out", str(out), "--fills", str(fills),
                                       "--strict"])
    assert bad.exit_code == 2 and "t.csv:8" in bad.output


def test_cli_classes_map_and_missing_db(tmp_path: Path) -> None:
    fills = write(tmp_path, "f.csv", "ticker,date,side,quantity,price,fees,broker\n"
                                     "ABCD11,2026-03-02,buy,10,100,0,XP\nABCD11,2026-03-20,sell,10,110,0,XP\n")
    out = tmp_path / "o"
    refused = CliRunner().invoke(tax_app, ["report", "--year", "2026", "--out", str(out), "--fills", str(fills)])
    assert refused.exit_code == 2 and "classification map" in refused.output
    classes = write(tmp_path, "classes.yaml", "ABCD11: fii\n")
    ok = CliRunner().invoke(tax_app, ["report", "--year", "2026", "--out", str(out), "--fills", str(fills),
                                      "--classes", str(classes)])
    assert ok.exit_code == 0, ok.output
    assert json.loads((out / "tax.json").read_text())["months"]["2026-03"]["fii_result_brl"] == "100.00"
    db = CliRunner().invoke(tax_app, ["report", "--year", "2026", "--out", str(out),
                                      "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert db.exit_code == 2 and "no state database" in db.output
