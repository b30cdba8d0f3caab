"""Live signals of a model trained with an alternative-data feature: the publisher reads the node's altdata
store as of each bar, including a release stored while the bars stream, and equals the offline predictions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tests.altdata.test_train import ns
from tests.ml.helpers import assert_live_equals_offline, bar_at, mt5_path
from tradingsystem.adapters.altdata import SERIES, AltStore
from tradingsystem.domain import b3
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.signals import SIGNAL_TOPIC, SignalEvent
from tradingsystem.features import FeatureSet
from tradingsystem.ml import ModelRegistry
from tradingsystem.runtime.altdata import with_altdata
from tradingsystem.runtime.cli_ml import ml_app
from tradingsystem.runtime.ml import build_signal_publisher, load_bars


def _selic(start: date, end: date, cut: date, before: str, after: str) -> list[tuple[date, Decimal]]:
    out, d = [], start
    while d <= end:
        out.append((d, Decimal(before if d < cut else after)))
        d += timedelta(days=1)
    return out


def test_live_signals_with_altdata_equal_offline(tmp_path: Path) -> None:
    alt = tmp_path / "alt"
    store = AltStore(alt)
    # SGS-form Selic target: 3.75 until the Copom of 6 May 2020, 3.00 after, known through 15 June
    store.record_series(SERIES["selic_target"], _selic(date(2020, 4, 1), date(2020, 6, 15), date(2020, 5, 7),
                                                       "3.75", "3.00"), ns(datetime(2020, 6, 15, 9)))
    fs = tmp_path / "macro.yaml"
    fs.write_text(yaml.safe_dump({"name": "macro", "timeframe": "1m", "features": {
        "ret_5": "roc(close, 5)", "ret_30": "roc(close, 30)", "since_copom": "copom_days"}}))
    cfg = {"name": "petr4_macro", "instrument": "PETR4", "input": str(mt5_path("PETR4")), "altdata_dir": str(alt),
           "start": "2020-05-04", "end": "2020-05-29", "feature_set": str(fs),
           "label": {"kind": "direction", "horizon": 15}, "model": {"kind": "logistic", "members": ["logistic"]},
           "walk_forward": {"mode": "expanding", "n_splits": 2}, "registry": "models"}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml")])
    assert res.exit_code == 0, res.output
    model, card = ModelRegistry(tmp_path / "models").load("petr4_macro")
    assert "since_copom" in model.names

    cols = load_bars("PETR4", date(2020, 6, 15), date(2020, 6, 17), 60 * 10**9, AssetClass.STOCK,
                     mt5_path("PETR4"))
    kernel = Kernel({"PETR4": b3.stock("PETR4")})
    got: list[SignalEvent] = []
    kernel.bus.subscribe(SIGNAL_TOPIC, got.append)
    build_signal_publisher(tmp_path / "models", "petr4_macro", kernel.bus, altdata_dir=alt).attach(kernel.data)
    ts = np.asarray(cols["ts_event"])
    k = int(np.searchsorted(ts, ns(datetime(2020, 6, 16, 12)))) + 1
    for i in range(len(ts)):
        if i == k:  # the poller stores a new Copom target (2.25 from 17 June) while the bars stream
            store.record_series(SERIES["selic_target"], [(date(2020, 6, 17), Decimal("2.25"))], int(ts[i]))
        kernel.data.on_bar(bar_at(cols, i))

    offline = FeatureSet.from_yaml(card["feature_set"]["yaml"])
    joined = with_altdata(offline, cols, "PETR4", alt)
    copom = joined["copom_days"]
    assert copom[k - 1] > 30 and copom[k] == 0  # the release is seen from its bar on, never before
    assert_live_equals_offline(got, model, offline.compute(joined))

    with pytest.raises(ValueError, match="alternative data"):
        build_signal_publisher(tmp_path / "models", "petr4_macro", kernel.bus)
