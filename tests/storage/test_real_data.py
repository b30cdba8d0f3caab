"""Real B3 files in, right numbers out: no NEG trade lost, session-aligned resampling, both MT5 layouts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tradingsystem.adapters.storage import Catalog
from tradingsystem.runtime.cli_data import data_app
from tradingsystem.runtime.cli_features import features_app

runner = CliRunner()
FLOW_SET = """name: flow
timeframe: 1m
features: {n: trades, vol: volume, bv: buy_volume, sv: sell_volume, cum_delta: cvd}
"""


def _neg_frame(path: Path) -> pd.DataFrame:
    """The NEG file's trades read independently with pandas: symbol, trade number, qty, aggressor side."""
    with zipfile.ZipFile(path) as zf:
        text = zf.read(zf.namelist()[0]).decode("latin-1").splitlines()
    rows = [line.split(";") for line in text if not line.startswith(("RH", "RT"))]
    df = pd.DataFrame({"sym": [r[1].strip() for r in rows], "tid": [int(r[2]) for r in rows],
                       "qty": [int(r[4]) for r in rows], "time": [r[5] for r in rows],
                       "buy": [r[10].strip() == "1" for r in rows], "sell": [r[14].strip() == "1" for r in rows]})
    df["delta"] = np.where(df.buy, df.qty, 0) - np.where(df.sell & ~df.buy, df.qty, 0)
    return df


@pytest.fixture(scope="module")
def neg_catalog(tmp_path_factory, real_data) -> tuple[Path, pd.DataFrame]:
    src = real_data / "b3_neg_sample" / "NEG_OPCOES_20151126.zip"
    data = tmp_path_factory.mktemp("neg")
    res = runner.invoke(data_app, ["import", str(src), "--format", "neg", "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    return data, _neg_frame(src)


def test_every_neg_trade_survives_into_order_flow_features(neg_catalog, tmp_path):
    data, df = neg_catalog
    # the instruments whose file order breaks (time, trade number) order the most
    key = df.sort_values(["sym", "tid"])
    disorder = key.groupby("sym")["time"].apply(lambda t: int((t.to_numpy()[1:] < t.to_numpy()[:-1]).sum()))
    worst = disorder.sort_values(ascending=False).index[:3].tolist()
    assert disorder[worst[0]] > 0
    fs = tmp_path / "flow.yaml"
    fs.write_text(FLOW_SET)
    for sym in worst:
        out = tmp_path / f"{sym}.parquet"
        res = runner.invoke(features_app, ["compute", "--set", str(fs), "--instrument", sym, "--start", "2015-11-26",
                                           "--end", "2015-11-26", "--out", str(out), "--data-dir", str(data)])
        assert res.exit_code == 0, res.output
        t = pq.read_table(out).to_pandas()
        mine = df[df.sym == sym]
        assert t["n"].sum() == len(mine)
        assert t["vol"].sum() == mine.qty.sum()
        assert t["cum_delta"].iloc[-1] == mine.delta.sum()
        assert t["bv"].sum() == mine.qty[mine.buy].sum()
    stored = Catalog(data).query("SELECT count(*) AS n, sum(size) AS q FROM trades").to_pylist()[0]
    assert (stored["n"], int(stored["q"])) == (len(df), int(df.qty.sum()))  # every trade, all 770 instruments


def _mt5_python_csv(tab: Path, out: Path) -> None:
    """The same bars as the MetaTrader5 Python package writes them (time = server wall clock, epoch s)."""
    df = pd.read_csv(tab, sep="\t")
    wall = pd.to_datetime(df["<DATE>"] + " " + df["<TIME>"], format="%Y.%m.%d %H:%M:%S")
    epoch_s = (wall - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    pd.DataFrame({"time": epoch_s, "open": df["<OPEN>"], "high": df["<HIGH>"], "low": df["<LOW>"],
                  "close": df["<CLOSE>"], "tick_volume": df["<TICKVOL>"],
                  "spread": df["<SPREAD>"], "real_volume": df["<VOL>"]}).to_csv(out, index=False)


@pytest.fixture(scope="module")
def petr4_m1(real_data, tmp_path_factory) -> Path:
    """The first 8,000 bars (about 21 sessions, May-June 2020) of the real PETR4 export, as exported."""
    lines = (real_data / "b3_stocks_m1" / "PETR4_M1.csv").read_bytes().splitlines(keepends=True)
    out = tmp_path_factory.mktemp("m1") / "PETR4_M1.csv"
    out.write_bytes(b"".join(lines[:8001]))
    return out


def _bars(data: Path, tf: str, out: Path) -> pd.DataFrame:
    res = runner.invoke(data_app, ["bars", "--instrument", "PETR4", "--timeframe", tf, "--out", str(out),
                                   "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    return pq.read_table(out).to_pandas()


def test_mt5_tab_export_and_python_csv_import_to_identical_catalogs(petr4_m1, tmp_path):
    csv_file = tmp_path / "PETR4_M1.csv"
    _mt5_python_csv(petr4_m1, csv_file)
    a, b = tmp_path / "a", tmp_path / "b"
    for src, data in ((petr4_m1, a), (csv_file, b)):
        res = runner.invoke(data_app, ["import", str(src), "--format", "mt5", "--data-dir", str(data)])
        assert res.exit_code == 0, res.output
    ta = Catalog(a).query("SELECT * EXCLUDE (seq) FROM bars ORDER BY ts_open")
    tb = Catalog(b).query("SELECT * EXCLUDE (seq) FROM bars ORDER BY ts_open")
    assert ta.num_rows == 8000 and ta.equals(tb)
    first = ta.slice(0, 1).to_pylist()[0]
    assert str(first["open"]) == "17.430000" and first["ts_event"] - first["ts_open"] == 60 * 10**9
    # the same file said to be on a UTC server clock lands 3 hours later
    res = runner.invoke(data_app, ["import", str(csv_file), "--format", "mt5", "--source-tz", "utc",
                                   "--data-dir", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    tc = Catalog(tmp_path / "c").query("SELECT min(ts_open) AS t FROM bars").to_pylist()[0]["t"]
    assert tc == first["ts_open"] - 3 * 3600 * 10**9


@pytest.mark.parametrize("tf", ["30min", "60min"])
def test_30_and_60_minute_bars_equal_pandas_resampling_aligned_to_the_session(petr4_m1, tmp_path, tf):
    data = tmp_path / "d"
    assert runner.invoke(data_app, ["import", str(petr4_m1), "--format", "mt5", "--data-dir", str(data)]).exit_code == 0
    got = _bars(data, {"30min": "30m", "60min": "1h"}[tf], tmp_path / "x.parquet")
    df = pd.read_csv(petr4_m1, sep="\t")
    wall = pd.to_datetime(df["<DATE>"] + " " + df["<TIME>"], format="%Y.%m.%d %H:%M:%S")
    df = df.set_index(wall)
    # May-Oct 2020: the stock session opens at 10:00 B3 time every day
    r = df.resample(tf, origin=pd.Timestamp("2020-05-04 10:00"), label="left", closed="left")
    want = pd.DataFrame({"open": r["<OPEN>"].first(), "high": r["<HIGH>"].max(), "low": r["<LOW>"].min(),
                         "close": r["<CLOSE>"].last(), "volume": r["<VOL>"].sum(), "n": r["<OPEN>"].count()})
    want = want[want.n > 0]
    assert len(got) == len(want)
    open_wall = got["time_open"].dt.tz_localize(None)
    close_wall = got["time_close"].dt.tz_localize(None)
    assert (open_wall.to_numpy() == want.index.to_numpy()).all()
    assert (close_wall - open_wall == pd.Timedelta(tf)).all()  # stamped at the bar's close
    for c in ("open", "high", "low", "close"):
        assert np.allclose(got[c].astype(float).to_numpy(), want[c].to_numpy(), atol=1e-9), c
    assert (got["volume"].to_numpy() == want["volume"].to_numpy()).all()


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty file (0 bytes)"),
    (b"<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n", "no data rows"),
])
def test_empty_mt5_inputs_are_clear_errors(tmp_path, content, message):
    f = tmp_path / "PETR4_M1.csv"
    f.write_bytes(content)
    res = runner.invoke(data_app, ["import", str(f), "--format", "mt5", "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 2 and message in " ".join(res.output.split()) and "Traceback" not in res.output
