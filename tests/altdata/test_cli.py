"""`tradingsystem altdata fetch|ls|show` against the local server."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from tests.altdata.server import AltDataServer
from tradingsystem.domain import b3
from tradingsystem.runtime.cli import app
from tradingsystem.runtime.config import load_config

runner = CliRunner()


def config(tmp: Path, server: AltDataServer, extra: str = "") -> Path:
    p = tmp / "cfg.yaml"
    p.write_text(f"data_dir: {tmp / 'data'}\naltdata:\n  sgs_url: {server.url}\n  start: 2024-01-01\n"
                 f"  series: [ipca, ptax]\n  attempts: 1\n  feeds:\n"
                 f"    - {{name: mercado, url: {server.url}/feeds/mercado.xml}}\n{extra}", encoding="utf-8")
    return p


def test_fetch_ls_show(server: AltDataServer, tmp_path: Path) -> None:
    cfg = config(tmp_path, server)
    res = runner.invoke(app, ["altdata", "fetch", "--config", str(cfg), "--now", "2025-01-08T18:00:00"])
    assert res.exit_code == 0, res.output
    assert "series ipca" in res.output and "posts" in res.output
    res = runner.invoke(app, ["altdata", "ls", "--config", str(cfg), "--format", "json"])
    rows = {r["name"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert rows["ipca"]["values"] == 11 and rows["ptax"]["last"] == "2025-01-08"
    assert rows["posts:mercado"]["values"] == 3
    res = runner.invoke(app, ["altdata", "show", "ipca", "--config", str(cfg), "--as-of", "2024-11-15T08:00:00",
                              "--last", "1", "--format", "json"])
    (row,) = map(json.loads, res.stdout.splitlines())
    assert row["ref"] == "2024-09-01" and row["value"] == "0.44" and row["published"] == "2024-10-15T09:00:00-03:00"
    res = runner.invoke(app, ["altdata", "show", "posts", "--config", str(cfg), "--instrument", "VALE3",
                              "--format", "json"])
    (post,) = map(json.loads, res.stdout.splitlines())
    assert post["instruments"] == "VALE3" and post["score"] < 0
    # the stored PTAX prices USD fees (issue 26): 10 WDO day trade on 3 Jan 2025 = 10 x 0.2037 x 6.1624
    fees = load_config(cfg).fee_schedule()
    wdo = b3.future("WDOH25", lambda d: d.weekday() < 5)
    assert fees.usd_brl(date(2025, 1, 3)) == Decimal("6.1624")
    assert fees.fee(wdo, 10, 0, True, date(2025, 1, 3)) == Decimal("12.55")


def test_bad_input_is_one_clear_line(server: AltDataServer, tmp_path: Path) -> None:
    cfg = config(tmp_path, server)
    res = runner.invoke(app, ["altdata", "fetch", "--config", str(cfg), "--series", "gdp"])
    assert res.exit_code == 2 and "unknown series gdp" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["altdata", "show", "selic", "--config", str(cfg)])
    assert res.exit_code == 2 and "no series 'selic' stored" in res.output
    server.stop()  # unreachable: the error is reported per source, exit 1, nothing else lost
    res = runner.invoke(app, ["altdata", "fetch", "--config", str(cfg), "--now", "2025-01-08T18:00:00"])
    assert res.exit_code == 1 and "error: series ipca" in res.output and "Traceback" not in res.output
