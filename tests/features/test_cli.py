"""``features list`` and ``features compute`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from tests.features.helpers import real_data_dir
from tests.features.sim import trade_columns, trades
from tests.features.test_featureset import DEFAULT
from tradingsystem.adapters.storage import Recorder, StorageConfig
from tradingsystem.features import BarBuilder, FeatureSet
from tradingsystem.features.bars import NS
from tradingsystem.runtime.cli_features import features_app

runner = CliRunner()


def test_list() -> None:
    r = runner.invoke(features_app, ["list"])
    assert r.exit_code == 0, r.output
    assert "macd_signal" in r.output and "crossover" in r.output and "default" in r.output


def test_compute_from_trade_parquet(tmp_path: Path) -> None:
    c = trade_columns(trades(3000, 9, mean_gap_ms=3000))
    src = tmp_path / "trades.parquet"
    pq.write_table(pa.table({**c, "symbol": ["PETR4"] * len(c["price"])}), src)
    out = tmp_path / "f.parquet"
    args = ["compute", "--set", "default", "--instrument", "PETR4", "--start", "2026-03-10", "--end",
            "2026-03-10", "--input", str(src), "--out", str(out)]  # fmt: skip
    r = runner.invoke(features_app, args)
    assert r.exit_code == 0, r.output
    t = pq.read_table(out)
    assert t.num_rows > 100 and "cvd_z" in t.column_names and "rsi_15m" in t.column_names
    assert np.isfinite(t.column("ema_gap").to_numpy()[-1])


def test_compute_from_mt5_export_and_custom_set(tmp_path: Path) -> None:
    path = real_data_dir() / "b3_stocks_m1" / "BBAS3_M1.csv"
    if not path.exists():
        import pytest

        pytest.skip(f"real data not found at {path}")
    fs = tmp_path / "s.yaml"
    fs.write_text(
        "name: s\nfeatures:\n  gap: ema(close, 9) - ema(close, 21)\n  x: crossover(ema(close, 9), sma(close, 30))\n"
    )
    out = tmp_path / "f.csv"
    args = ["compute", "--set", str(fs), "--instrument", "BBAS3", "--start", "2020-06-01", "--end", "2020-06-05",
            "--input", str(path), "--out", str(out)]  # fmt: skip
    r = runner.invoke(features_app, args)
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith('"ts_event","date","gap","x"') and len(lines) > 1500


def test_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("features:\n  a: ema(clse, 9)\n")
    args = ["compute", "--set", str(bad), "--instrument", "PETR4", "--start", "2026-03-10", "--end", "2026-03-10",
            "--input", str(bad), "--out", str(tmp_path / "o.parquet")]  # fmt: skip
    r = runner.invoke(features_app, args)
    assert r.exit_code == 2 and "unknown name 'clse'" in r.output
    r = runner.invoke(features_app, [*[*args[:2], "default", *args[3:]][:-4], "--out", "x.parquet"])
    assert r.exit_code == 2 and "exactly one of" in r.output


def test_compute_from_recorded_catalog_equals_online(tmp_path: Path) -> None:
    """Record a simulated session with the capture recorder, compute from the catalog, compare to live."""
    ts = trades(4000, 21, mean_gap_ms=3000)
    rec = Recorder(StorageConfig(data_dir=tmp_path / "data", fsync=False, part_rows=1500))
    rec.start()
    for t in ts:
        rec.on_trade(t)
    rec.flush()
    rec.stop()
    out = tmp_path / "f.parquet"
    args = ["compute", "--set", "default", "--instrument", "PETR4", "--start", "2026-03-10", "--end",
            "2026-03-10", "--data-dir", str(tmp_path / "data"), "--out", str(out)]  # fmt: skip
    r = runner.invoke(features_app, args)
    assert r.exit_code == 0, r.output
    offline = pq.read_table(out)
    fs = FeatureSet.from_yaml(DEFAULT.read_text())
    s, b = fs.online(), BarBuilder("PETR4", "time", 60 * NS)
    rows = [s.update(x) for t in ts for x in b.update(t)] + [s.update(x) for x in b.flush()]
    assert offline.num_rows == len(rows) > 150
    for name in fs.names:
        live = np.array([row[name] for row in rows])
        assert np.array_equal(offline.column(name).to_numpy(), live, equal_nan=True), name


def test_compute_from_recorded_bars(tmp_path: Path) -> None:
    ts = trades(3000, 22, mean_gap_ms=3000)
    b = BarBuilder("PETR4", "time", 60 * NS, timeframe="1m")
    bars = [x for t in ts for x in b.update(t)] + b.flush()
    rec = Recorder(StorageConfig(data_dir=tmp_path / "data", fsync=False))
    rec.start()
    for x in bars:
        rec.on_bar(x.bar)
    rec.flush()
    rec.stop()
    out = tmp_path / "f.parquet"
    args = ["compute", "--set", "default", "--instrument", "PETR4", "--start", "2026-03-10", "--end",
            "2026-03-10", "--data-dir", str(tmp_path / "data"), "--out", str(out)]  # fmt: skip
    r = runner.invoke(features_app, args)
    assert r.exit_code == 0, r.output
    offline = pq.read_table(out)
    fs = FeatureSet.from_yaml(DEFAULT.read_text())
    s = fs.online()
    rows = [s.update(x.bar) for x in bars]  # stored bars carry no aggressor split
    assert offline.num_rows == len(rows)
    for name in fs.names:
        live = np.array([row[name] for row in rows])
        assert np.array_equal(offline.column(name).to_numpy(), live, equal_nan=True), name
