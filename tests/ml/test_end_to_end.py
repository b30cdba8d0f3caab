"""End to end: train + evaluate on real 1-minute bars and on a recorded simulated session; live == offline."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tests.ml.helpers import assert_live_equals_offline, bar_at, mt5_path
from tradingsystem.domain import b3
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.signals import SIGNAL_TOPIC, SignalEvent
from tradingsystem.features import FeatureSet
from tradingsystem.ml import ModelRegistry
from tradingsystem.runtime.cli_ml import ml_app
from tradingsystem.runtime.ml import build_signal_publisher, load_bars

KEYS = {"hit_rate", "hit_rate_ci_low", "hit_rate_ci_high", "n_predictions", "baseline_hit_rate",
        "persistence_hit_rate", "coverage", "coverage_by_confidence", "hit_rate_by_confidence",
        "hit_rate_by_hour", "log_loss", "brier", "pnl_after_costs", "statement_55", "statement_65"}  # fmt: skip
CARD_KEYS = {"feature_set", "features", "label", "model", "windows", "folds", "libraries", "code", "model_id",
             "model_sha256", "train_majority"}  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = mt5_path("PETR4")
    root = tmp_path_factory.mktemp("ml")
    cfg = {"name": "petr4_dir15", "instrument": "PETR4", "input": str(path), "start": "2020-05-04",
           "end": "2020-06-12", "feature_set": "default",
           "label": {"kind": "direction", "horizon": 15, "fee_bps": 2.3, "spread_bps": 5.0},
           "model": {"kind": "soft_voting", "members": ["logistic", "lightgbm"],
                     "params": {"lightgbm": {"n_estimators": 60}}},
           "walk_forward": {"mode": "expanding", "n_splits": 3}, "tuning": {"trials": 2, "seed": 7},
           "registry": "models"}  # fmt: skip
    (root / "train.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(ml_app, ["train", "--config", str(root / "train.yaml"), "--out", str(root / "wf")])
    assert res.exit_code == 0, res.output
    return root


def test_train_writes_an_honest_walk_forward_evaluation_and_a_full_card(trained: Path) -> None:
    ev = json.loads((trained / "wf" / "evaluation.json").read_text())
    assert set(ev) >= KEYS
    assert ev["n_predictions"] > 1000 and ev["evaluation"] == "walk-forward out of sample"
    assert ev["hit_rate_ci_low"] <= ev["hit_rate"] <= ev["hit_rate_ci_high"]
    assert "<svg" in (trained / "wf" / "report.html").read_text() and "http" not in (
        trained / "wf" / "report.html").read_text().replace("http://www.w3.org/2000/svg", "")
    card = ModelRegistry(trained / "models").card("petr4_dir15")
    assert set(card) >= CARD_KEYS and len(card["folds"]) == 3
    assert card["libraries"]["lightgbm"] != "missing" and len(card["feature_set"]["sha256"]) == 64


def test_evaluate_a_later_period_out_of_sample(trained: Path) -> None:
    out = trained / "eval_june"
    res = CliRunner().invoke(ml_app, ["evaluate", "--model", "petr4_dir15:1", "--start", "2020-06-15", "--end",
                                      "2020-06-30", "--out", str(out), "--registry", str(trained / "models")])
    assert res.exit_code == 0, res.output
    ev = json.loads((out / "evaluation.json").read_text())
    assert set(ev) >= KEYS and ev["overlaps_training"] is False and ev["n_predictions"] > 300
    assert ev["period_start"] >= "2020-06-15"


def _mt5_bars(start: date, end: date) -> dict[str, np.ndarray]:
    from tradingsystem.domain.instruments import AssetClass

    return load_bars("PETR4", start, end, 60 * 10**9, AssetClass.STOCK, mt5_path("PETR4"))


def test_live_signals_equal_offline_predictions_on_a_replay(trained: Path) -> None:
    reg = ModelRegistry(trained / "models")
    model, card = reg.load("petr4_dir15")
    cols = _mt5_bars(date(2020, 6, 15), date(2020, 6, 17))
    kernel = Kernel({"PETR4": b3.stock("PETR4")})
    got: list[SignalEvent] = []
    kernel.bus.subscribe(SIGNAL_TOPIC, got.append)
    build_signal_publisher(trained / "models", "petr4_dir15", kernel.bus).attach(kernel.data)
    for i in range(len(cols["ts_event"])):
        kernel.data.on_bar(bar_at(cols, i))
    assert_live_equals_offline(got, model, FeatureSet.from_yaml(card["feature_set"]["yaml"]).compute(cols))
    assert {e.model_id for e in got} == {"petr4_dir15:1"}


SIM_SET = """
name: sim_flow
features:
  ema_gap: ema(close, 5) - ema(close, 20)
  rsi_14: rsi(close, 14)
  flow_imbalance: rolling_sum(delta, 10) / rolling_sum(buy_volume + sell_volume, 10)
  cvd_z: zscore(cvd, 30)
  ret_5: roc(close, 5)
"""


def test_train_and_evaluate_on_a_recorded_simulated_session(tmp_path: Path) -> None:
    from tradingsystem.adapters.simulator import SimMarketConfig, default_instruments, generate_trades
    from tradingsystem.domain.sessions import local_ns

    class Weekdays:
        def is_session(self, d: date) -> bool:
            return d.weekday() < 5

    cfg = SimMarketConfig(seed=11, symbols=("PETR4",), start_time=time(9, 55), events_per_second=2)
    day = date(2026, 3, 2)
    tape = generate_trades(cfg, default_instruments(cfg, Weekdays().is_session), Weekdays(),
                           local_ns(day, time(16, 50)))  # fmt: skip
    cols = ("ts_event", "trade_id", "price", "size", "aggressor")
    pq.write_table(pa.table({"symbol": ["PETR4"] * len(tape), **{c: [getattr(t, c) for t in tape] for c in cols}}),
                   tmp_path / "session.parquet")  # the recording
    (tmp_path / "sim_flow.yaml").write_text(SIM_SET)
    train = {"name": "sim_petr4", "instrument": "PETR4", "input": "session.parquet", "start": str(day),
             "end": str(day), "feature_set": "sim_flow.yaml",
             "label": {"horizon": 5, "fee_bps": 2.3, "spread_bps": 0.0},
             "model": {"kind": "stacking", "members": ["logistic", "lightgbm"],
                       "params": {"lightgbm": {"n_estimators": 30, "min_child_samples": 10}}},
             "walk_forward": {"n_splits": 2}, "registry": "models"}  # fmt: skip
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train))
    runner = CliRunner()
    res = runner.invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml")])
    assert res.exit_code == 0, res.output
    wf = json.loads((tmp_path / "models" / "sim_petr4" / "1" / "evaluation.json").read_text())
    assert set(wf) >= KEYS and wf["n_predictions"] > 50
    res = runner.invoke(ml_app, ["evaluate", "--model", "sim_petr4", "--start", str(day), "--end", str(day),
                                 "--out", str(tmp_path / "ev"), "--registry", str(tmp_path / "models")])
    assert res.exit_code == 0, res.output
    ev = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert set(ev) >= KEYS and ev["overlaps_training"] is True  # said plainly: this one is in-sample
