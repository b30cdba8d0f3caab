"""`train` with macro and sentiment columns joined as of each bar (real PETR4 1-minute bars, May 2020)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tests.ml.helpers import mt5_path
from tradingsystem.adapters.altdata import SERIES, AltStore, Post
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.runtime.cli import app
from tradingsystem.runtime.cli_ml import ml_app

NS = 1_000_000_000


def ns(d: datetime) -> int:
    return int(d.replace(tzinfo=B3_TZ).timestamp()) * NS


def test_train_uses_altdata_columns(tmp_path: Path) -> None:
    bars = mt5_path("PETR4")
    store = AltStore(tmp_path / "alt")
    # Selic target in SGS form: 3.75 until the Copom of 6 May 2020, 3.00 from 7 May.
    d, rows = date(2020, 4, 1), []
    while d <= date(2020, 5, 29):
        rows.append((d, Decimal("3.75") if d < date(2020, 5, 7) else Decimal("3.00")))
        d += timedelta(days=1)
    store.record_series(SERIES["selic_target"], rows, ns(datetime(2020, 6, 1)))
    times = [ns(datetime(2020, 5, 4, 10) + timedelta(hours=3 * i)) for i in range(150)]
    posts = [Post(f"p{i}", "forum", "a", f"Petrobras {'sobe forte' if i % 2 else 'cai muito'} {i}", "", "pt", t, t,
                  0.5 if i % 2 else -0.5, "PETR4") for i, t in enumerate(times)]
    store.record_posts(posts, ns(datetime(2020, 6, 1)))
    fs = tmp_path / "macro.yaml"
    fs.write_text(yaml.safe_dump({"name": "macro", "timeframe": "1m", "features": {
        "ret_5": "roc(close, 5)", "selic": "selic_target_level", "since_copom": "copom_days",
        "mood": "sent_mean", "mood_z": "sent_z"}}))
    cfg = {"name": "petr4_macro", "instrument": "PETR4", "input": str(bars), "altdata_dir": str(tmp_path / "alt"),
           "start": "2020-05-04", "end": "2020-05-29", "feature_set": str(fs),
           "label": {"kind": "direction", "horizon": 15}, "model": {"kind": "logistic", "members": ["logistic"]},
           "walk_forward": {"mode": "expanding", "n_splits": 2}, "registry": "models"}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml")])
    assert res.exit_code == 0, res.output
    card = yaml.safe_load((next((tmp_path / "models").rglob("card.json"))).read_text())
    assert {"selic", "since_copom", "mood"} <= set(card["features"])
    # the honest comparison: the same walk-forward with and without them
    res = CliRunner().invoke(app, ["altdata", "report", "--config", str(tmp_path / "train.yaml")])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert set(rep["altdata_features"]) >= {"selic", "since_copom", "mood"}
    assert rep["with_altdata"]["n_predictions"] == rep["without_altdata"]["n_predictions"] > 0
    # without the store the set is refused with a clear message
    cfg.pop("altdata_dir")
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml")])
    assert res.exit_code != 0 and "uses alternative data" in res.output and "Traceback" not in res.output
