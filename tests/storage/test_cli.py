"""The ``data`` commands through typer's runner."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from tradingsystem.runtime.cli_data import data_app

from .helpers import DAY, config, record, ticks

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(data_app, list(args))


def test_ls_query_and_formats(tmp_path):
    record(config(tmp_path), ticks(n=120) + ticks("PETR4", n=30, base=3750, tick=1))
    d = ["--data-dir", str(tmp_path)]
    res = _run("ls", *d, "--format", "json")
    assert res.exit_code == 0
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert {(r["instrument"], r["rows"]) for r in rows} == {("WINZ26", 120), ("PETR4", 30)}
    res = _run("query", "SELECT instrument, count(*) AS n FROM trades GROUP BY 1 ORDER BY 1", *d, "--format", "csv")
    assert res.exit_code == 0 and res.stdout == "instrument,n\nPETR4,30\nWINZ26,120\n"
    res = _run("query", "SELECT price FROM trades WHERE instrument='PETR4' LIMIT 1", *d, "--format", "json")
    assert json.loads(res.stdout)["price"].count(".") == 1
    assert _run("query", "SELECT * FROM trades", *d, "--format", "table").exit_code == 0
    res = _run("query", "SELEC nonsense", *d)
    assert res.exit_code == 2 and "query failed" in res.output


def test_env_var_gives_the_default_data_dir(tmp_path):
    record(config(tmp_path), ticks(n=10))
    res = runner.invoke(data_app, ["query", "SELECT count(*) AS n FROM trades", "--format", "csv"],
                        env={"TRADINGSYSTEM_DATA_DIR": str(tmp_path)})
    assert res.stdout == "n\n10\n"


def test_bars_to_csv_and_parquet_with_real_prices(tmp_path):
    data = tmp_path / "data"
    record(config(data), ticks("PETR4", n=500, base=3750, tick=1))
    d = ["--data-dir", str(data)]
    out = tmp_path / "b.csv"
    res = _run("bars", "--instrument", "PETR4", "--timeframe", "5m", "--start", DAY.isoformat(),
               "--end", DAY.isoformat(), "--out", str(out), *d)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows and rows[0]["open"].count(".") == 1 and len(rows[0]["open"].split(".")[1]) == 2
    assert rows[0]["time_open"].endswith("-03:00")
    pqf = tmp_path / "b.parquet"
    assert _run("bars", "--instrument", "PETR4", "--timeframe", "ticks:100", "--out", str(pqf), *d).exit_code == 0
    t = pq.read_table(pqf)
    assert t.num_rows == 5 and str(t.schema.field("close").type) == "decimal128(18, 2)"
    res = _run("bars", "--instrument", "PETR4", "--timeframe", "7x", *d)
    assert res.exit_code == 2 and "timeframe" in res.output
    res = _run("bars", "--instrument", "PETR4", "--out", str(tmp_path / "x.xlsx"), *d)
    assert res.exit_code == 2


def test_import_command_reports_malformed_lines_and_unknown_format(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
                 "2020.05.04\t10:14:00\t17.43\t17.46\t17.35\t17.46\t1215\t2067200\t1\n"
                 "2020.05.04\t10:15:00\t17.46\toops\t17.44\t17.49\t483\t445200\t1\n")
    d = ["--data-dir", str(tmp_path / "data")]
    res = _run("import", "--format", "mt5", "--instrument", "PETR4", str(f), *d)
    assert res.exit_code == 0
    assert f"{f}:3: bad price" in res.output.replace("\n", "")
    assert json.loads(res.stdout.strip().splitlines()[-1])["rows_written"] == 1
    res = _run("import", "--format", "mt5", "--instrument", "PETR4", "--strict", str(f), *d)
    assert res.exit_code == 2 and "nothing imported" in res.output
    res = _run("import", "--format", "xml", str(f), *d)
    assert res.exit_code == 2 and "unknown --format" in res.output


def test_verify_and_compact_commands(tmp_path):
    record(config(tmp_path), ticks(n=50))
    record(config(tmp_path), ticks(n=80))
    d = ["--data-dir", str(tmp_path)]
    assert json.loads(_run("verify", *d).stdout)["ok"] is True
    res = _run("compact", "--before", "2026-12-01", *d)
    assert json.loads(res.stdout) == {"compacted": 1, "problems": 0}
    assert len(list((tmp_path / "trades").rglob("*.parquet"))) == 1
    assert json.loads(_run("verify", *d).stdout)["rows"] == 80


def test_capture_replay_copies_a_catalog_through_the_sink(tmp_path):
    from tradingsystem.runtime.cli_data import capture_app

    src, dst = tmp_path / "src", tmp_path / "dst"
    record(config(src), ticks(n=300) + ticks("PETR4", n=100, base=3750, tick=1))
    res = runner.invoke(capture_app, ["--feed", "replay", "--source", str(src), "--instruments", "PETR4",
                                      "--data-dir", str(dst)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["trades_in"] == 100
    q = "SELECT trade_id, price_raw, size, ts_event FROM trades ORDER BY trade_id"
    from tradingsystem.adapters.storage import Catalog
    a = Catalog(src).query(q.replace("FROM trades", "FROM trades WHERE instrument='PETR4'")).to_pylist()
    assert Catalog(dst).query(q).to_pylist() == a
    res = runner.invoke(capture_app, ["--feed", "nope", "--data-dir", str(dst)])
    assert res.exit_code == 2 and "unknown --feed" in res.output
