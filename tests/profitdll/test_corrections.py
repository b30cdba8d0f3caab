"""Exchange corrections: a trade the DLL re-sends with bEdit reaches the recorder as a correction, once,
and the catalog keeps one row per trade number."""

from __future__ import annotations

import pytest

from tests.profitdll.helpers import Double, settle
from tradingsystem.adapters.storage import Catalog, Recorder, StorageConfig
from tradingsystem.domain import b3
from tradingsystem.engine.kernel import Kernel

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("profit", ["auto", "ctypes"], indirect=True)
def test_edited_trade_is_delivered_as_a_correction(profit, double: Double, tmp_path) -> None:
    feed, _, _ = profit
    recorder = Recorder(StorageConfig(data_dir=tmp_path))
    recorder.start()
    kernel = Kernel({"WINZ26": b3.instrument("WINZ26", lambda d: d.weekday() < 5)})
    feed.connect(kernel.data)
    kernel.add_sink(recorder)
    feed.subscribe(["WINZ26"])
    double.TestStream(20)
    settle(double, feed)
    assert double.TestEdit("WINZ26", 7) == 0
    settle(double, feed)
    recorder.stop()
    assert feed.stats()["edits"] == 1 and feed.stats()["duplicates"] == 0
    assert kernel.data.corrections == 1 and kernel.data.trades_seen == 20
    rows = Catalog(tmp_path).query("select trade_id from trades where instrument = 'WINZ26' order by 1").to_pylist()
    assert [r["trade_id"] for r in rows] == list(range(1, 21))
