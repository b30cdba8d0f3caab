from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.portfolio.conftest import DATA
from tradingsystem.runtime.cli_portfolio import portfolio_app

runner = CliRunner()
SYMS = "PETR4,VALE3,ITUB4,BBAS3,USIM5"


def _run(args: list[str]) -> None:
    res = runner.invoke(portfolio_app, args)
    assert res.exit_code == 0, res.output + repr(res.exception)


def test_correlate_risk_optimize_outputs(raw_closes: pd.DataFrame, tmp_path: Path) -> None:
    common = ["--csv-dir", str(DATA), "--symbols", SYMS]
    _run(["correlate", *common, "--out", str(tmp_path / "c.json"), "--html", str(tmp_path / "c.html")])
    c = json.loads((tmp_path / "c.json").read_text())
    assert c["clusters"] and {"symbol": "USIM5", "day": "2010-09-28", "factor": 0.5, "source": "detected"} in c[
        "corporate_actions"]
    page = (tmp_path / "c.html").read_text()
    assert page.count("<svg") == 2 and "http" not in page.replace("http://www.w3.org/2000/svg", "")

    (tmp_path / "adj.csv").write_text("symbol,day,factor\nPETR4,2017-05-18,0.98\n")
    (tmp_path / "sec.json").write_text('{"PETR4": "oil", "VALE3": "mining", "USIM5": "steel"}')
    _run(["risk", *common, "--sectors", str(tmp_path / "sec.json"), "--adjustments", str(tmp_path / "adj.csv"),
          "--out", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")])
    r = json.loads((tmp_path / "r.json").read_text())
    assert set(r["kupiec"]) == {"historical", "parametric"} and r["var_historical"] > 0
    assert r["exposure_by_sector"]["other"] == pytest.approx(0.4)

    skfolio = pytest.importorskip("skfolio")
    assert skfolio
    _run(["optimize", *common, "--start", "2015-01-01", "--methods", "min_variance,hrp", "--every", "126",
          "--out", str(tmp_path / "o.json"), "--html", str(tmp_path / "o.html")])
    o = json.loads((tmp_path / "o.json").read_text())
    assert set(o["walk_forward"]) == {"equal_weight", "min_variance", "hrp"} and len(o["frontier"]) > 2


def test_rebalance_and_attribution_commands(tmp_path: Path) -> None:
    (tmp_path / "w.json").write_text(json.dumps({"PETR4": 0.5, "VALE3": 0.5}))
    (tmp_path / "p.json").write_text(json.dumps({"PETR4": 31.23, "VALE3": 67.89}))
    _run(["rebalance", "--weights", str(tmp_path / "w.json"), "--equity", "100000", "--prices",
          str(tmp_path / "p.json"), "--out", str(tmp_path / "plan.json")])
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["targets"] == {"PETR4": 1601, "VALE3": 736}
    assert {o["symbol"] for o in plan["orders"]} == {"PETR4", "PETR4F", "VALE3", "VALE3F"}
    (tmp_path / "fills.csv").write_text("ts,symbol,side,quantity,price,fee,strategy,tag\n"
                                        "46800000000000,PETR4,BUY,100,30.00,1.00,a,m\n"
                                        "50400000000000,PETR4,SELL,100,31.00,1.00,b,m\n")
    (tmp_path / "m.json").write_text(json.dumps({"PETR4": 30.5}))
    _run(["attribution", "--fills", str(tmp_path / "fills.csv"), "--marks", str(tmp_path / "m.json"),
          "--out", str(tmp_path / "a.json"), "--html", str(tmp_path / "a.html")])
    a = json.loads((tmp_path / "a.json").read_text())
    assert a["total_pnl_brl"] == "98.00"
    # strategies are matched separately: a is long from 30.00, b short from 31.00, both marked at 30.50
    assert a["by"]["side"] == {"long": "49.00", "short": "49.00"}
    assert a["by"]["strategy"] == {"a": "49.00", "b": "49.00"}
