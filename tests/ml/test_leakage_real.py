"""Leakage is caught on real PETR4 bars: a future column or the label as a feature fails ``train`` naming the
feature; the shuffled-label control sits at the baseline; intervals respect the labels' overlap; any
timeframe; label costs per instrument."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tests.ml.helpers import mt5_path
from tradingsystem.adapters.storage.mt5 import parse_mt5
from tradingsystem.ml import variance_inflation
from tradingsystem.runtime.cli_ml import ml_app

runner = CliRunner()
HORIZON = 15
SET = """name: probe
timeframe: 1m
features:
  roc_10: roc(close, 10)
  rsi_14: rsi(close, 14)
  leak: trades
"""


@pytest.fixture(scope="module")
def bars() -> dict[str, np.ndarray]:
    """About 12 sessions (May 2020) of the real PETR4 1-minute export, raw columns."""
    lines = mt5_path("PETR4").read_text().splitlines()[:5000]
    return parse_mt5(lines, 2, None, "b3", "PETR4_M1.csv").columns


def _write(root: Path, bars: dict[str, np.ndarray], leak: np.ndarray) -> None:
    cols = {**bars, "trades": leak.astype(np.int64)}
    pq.write_table(pa.table(cols), root / "bars.parquet")
    (root / "probe.yaml").write_text(SET)
    cfg = {"name": "probe", "instrument": "PETR4", "input": "bars.parquet", "start": "2020-05-04",
           "end": "2020-05-29", "feature_set": "probe.yaml", "label": {"horizon": HORIZON},
           "model": {"kind": "logistic"}, "walk_forward": {"n_splits": 2}, "tuning": {"trials": 0},
           "warmup_bars": 50}  # fmt: skip
    (root / "train.yaml").write_text(yaml.safe_dump(cfg))


def _forward_bps(close: np.ndarray, h: int) -> np.ndarray:
    c = close.astype(np.float64)
    out = np.zeros(len(c))
    out[:-h] = (c[h:] / c[:-h] - 1) * 1e4
    return out


@pytest.mark.parametrize("kind", ["next_bar_return", "label"])
def test_a_future_column_fails_train_naming_the_feature(bars, tmp_path, kind):
    close = bars["close"]
    leak = _forward_bps(close, 1 if kind == "next_bar_return" else HORIZON) * 100 + 10**6
    _write(tmp_path, bars, leak)
    res = runner.invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml")])
    msg = " ".join(res.output.split())
    assert res.exit_code == 2 and "feature 'leak'" in msg and "--allow-suspect" in msg, msg
    res = runner.invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml"), "--allow-suspect"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.splitlines()[-1])
    assert summary["suspect_features"] == ["leak"] and "suspect" in res.output


def test_honest_features_pass_and_the_shuffled_label_control_sits_at_the_baseline(bars, tmp_path):
    _write(tmp_path, bars, np.asarray(bars["trades"]))  # the real tick counts: no leak
    out = tmp_path / "wf"
    res = runner.invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    ev = json.loads((out / "evaluation.json").read_text())
    control = ev["leakage"]["shuffled_label"]
    assert control["at_baseline"] and abs(control["hit_rate"] - control["baseline_hit_rate"]) < 0.05
    assert ev["leakage"]["truncation"]["passed"] and ev["leakage"]["suspect_features"] == []
    # overlapping 15-bar labels: neighbouring hits are dependent, the interval is wider than Wilson's
    assert ev["variance_inflation"] > 2
    width = ev["hit_rate_ci_high"] - ev["hit_rate_ci_low"]
    naive = ev["hit_rate_ci_naive_high"] - ev["hit_rate_ci_naive_low"]
    assert width == pytest.approx(naive * ev["variance_inflation"] ** 0.5, rel=0.05)
    # PETR4 costs from the fee model: 2.30 bps a side plus one tick (R$0.01) at the data's price
    costs = ev["label_costs"]
    assert costs["fee_bps"] == pytest.approx(2.30) and 4 < costs["spread_bps"] < 7


def test_train_on_30_minute_bars_resampled_from_the_1_minute_file(bars, tmp_path):
    _write(tmp_path, bars, np.asarray(bars["trades"]))
    cfg = yaml.safe_load((tmp_path / "train.yaml").read_text())
    cfg.update(timeframe="30m", label={"horizon": 2}, walk_forward={"n_splits": 2, "test_size": 20})
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "wf"
    res = runner.invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml"), "--out", str(out),
                                 "--allow-suspect"])
    assert res.exit_code == 0, res.output
    ev = json.loads((out / "evaluation.json").read_text())
    assert 0 < ev["n_rows"] <= 14 * 12  # at most 14 bars a session over about 12 sessions


def test_variance_inflation_of_independent_and_repeated_hits():
    rng = np.random.default_rng(1)
    iid = rng.integers(0, 2, 20_000)
    assert variance_inflation(iid, 14) < 1.2
    blocks = np.repeat(rng.integers(0, 2, 2000), 10)  # each hit repeated over 10 overlapping rows
    assert 8 < variance_inflation(blocks, 14) < 11
