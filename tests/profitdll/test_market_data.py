"""Market data through the double: many tickers, exact conversion, bounded hand-off, book depth."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from tests.profitdll.helpers import TICKERS, Double, config, gen_price, settle, weekdays
from tradingsystem.adapters.profitdll import open_profitdll
from tradingsystem.domain import b3
from tradingsystem.domain.events import BookAction

pytestmark = pytest.mark.integration

SYMBOLS = [t[0] for t in TICKERS]


@pytest.mark.parametrize("profit", ["auto", "ctypes"], indirect=True)
def test_twelve_tickers_stream_in_with_exact_prices_times_and_sides(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    feed.subscribe(SYMBOLS)
    double.TestStream(60)
    settle(double, feed)

    by_symbol = sink.by_symbol()
    assert sorted(by_symbol) == sorted(SYMBOLS)
    for sym, _exch, base, tick, lot in TICKERS:
        ticks = by_symbol[sym]
        inst = b3.instrument(sym, weekdays)
        assert [t.trade_id for t in ticks] == list(range(1, 61))
        for t in ticks:
            n = t.trade_id
            assert t.price == inst.to_raw(f"{gen_price(base, tick, n):.{inst.scale}f}")
            assert inst.on_grid(t.price)
            assert t.size == lot * (1 + n % 5)
            assert t.aggressor == (0 if n % 50 == 0 else 1 if n % 2 else 2)
            assert (t.buyer, t.seller) == (3 + n % 7, 10 + n % 5)
    # trade n happens at 2026-11-26 10:00:00 B3 time (13:00 UTC) + n ms
    first = by_symbol["WINZ26"][0]
    assert first.ts_event == int(datetime(2026, 11, 26, 13, 0, tzinfo=UTC).timestamp()) * 10**9 + 10**6
    assert sink.threads == {threading.get_ident()}  # delivered on the engine (test) thread only
    stats = feed.stats()
    assert stats["overflow"] == 0 and stats["callback_errors"] == 0 and stats["accessor_errors"] == 0
    assert stats["trades"] == 60 * len(SYMBOLS)


def test_ticks_land_in_the_storage_catalog(profit, double: Double, tmp_path) -> None:
    storage = pytest.importorskip("tradingsystem.adapters.storage")
    recorder_cls = getattr(storage, "Recorder", None)
    config_cls = getattr(storage, "StorageConfig", None)
    catalog_cls = getattr(storage, "Catalog", None)
    if recorder_cls is None or config_cls is None or catalog_cls is None:
        pytest.skip("storage recorder not available")
    feed, _, _sink = profit
    recorder = recorder_cls(config_cls(data_dir=tmp_path / "catalog"))
    recorder.start()
    feed.connect(recorder)
    feed.subscribe(SYMBOLS)
    double.TestStream(50)
    settle(double, feed)
    recorder.stop()
    catalog = catalog_cls(tmp_path / "catalog")
    for sym in SYMBOLS:
        table = catalog.read_trades(sym)
        assert table.num_rows == 50, sym
        assert table.column("trade_id").to_pylist() == list(range(1, 51))


@pytest.mark.parametrize("handoff", ["auto", "ctypes"])
def test_full_queue_drops_are_counted_then_backfilled_from_history(double: Double, dll_path: str, handoff: str) -> None:
    from tests.profitdll.helpers import Sink

    feed, _ = open_profitdll(config(dll_path, queue_capacity=64, market_only=True, handoff=handoff), weekdays)
    sink = Sink()
    try:
        feed.connect(sink)
        feed.subscribe(["WINZ26", "PETR4"])
        double.TestStream(500)  # nobody drains while it streams: the queue fills
        double.TestWaitIdle()
        dropped = feed.stats()["overflow"]
        assert dropped > 0
        assert feed.session.overflow_symbols == {"WINZ26", "PETR4"}
        settle(double, feed)
        stats = feed.stats()
        assert stats["backfills"] >= 2 and stats["backfilled"] >= dropped
        for sym, ticks in sink.by_symbol().items():
            assert [t.trade_id for t in ticks] == list(range(1, 501)), sym
    finally:
        feed.session.dll.finalize()


def test_slow_client_state_and_frozen_health_are_reported(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    feed.subscribe(["WINZ26"])
    double.TestInjectState(2, 6)
    double.TestInjectState(2, 4)
    double.TestSetHealth(1)
    settle(double, feed)
    stats = feed.stats()
    assert stats["slow_warnings"] == 1
    assert stats["frozen"] == 1 and stats["health"] == 1
    assert stats["reconnects"] == 0  # 6 -> 4 is a recovery, not a reconnection


def test_paced_stream_that_outruns_the_client_raises_state_6(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    feed.subscribe(["WINZ26"])
    double.TestSetBacklogThreshold(50)
    # the test thread holds the GIL-free C wait while the DLL thread is paced far above any Python rate
    double.TestStreamPaced(20000, 5e7)
    settle(double, feed)
    assert double.stat("md6") >= 1
    assert feed.stats()["slow_warnings"] >= 1
    assert [t.trade_id for t in sink.trades] == list(range(1, 20001))


def test_price_depth_becomes_book_deltas(double: Double, dll_path: str) -> None:
    from tests.profitdll.helpers import Sink

    feed, _ = open_profitdll(config(dll_path, book_depth=True, market_only=True), weekdays)
    sink = Sink()
    try:
        feed.connect(sink)
        feed.subscribe(["WDOZ26"])
        double.TestDepth("WDOZ26", 0, 0, 0, 5000.0, 10, 3)   # add best bid
        double.TestDepth("WDOZ26", 0, 1, 0, 4999.5, 7, 2)    # add second bid
        double.TestDepth("WDOZ26", 1, 0, 0, 5000.5, 4, 1)    # add best ask
        double.TestDepth("WDOZ26", 0, 0, 1, 5000.0, 12, 4)   # edit best bid
        double.TestDepth("WDOZ26", 0, 0, 2, 0.0, 0, 0)       # delete best bid
        settle(double, feed)
        got = [(d.side, d.price, d.size, d.action, d.orders) for d in sink.deltas]
        SET, DEL = int(BookAction.SET), int(BookAction.DELETE)
        assert got == [
            (1, 50000, 10, SET, 3), (1, 49995, 7, SET, 2), (2, 50005, 4, SET, 1), (1, 50000, 12, SET, 4),
            (1, 50000, 0, DEL, 0),
        ]
        assert [d.sequence for d in sink.deltas] == [1, 2, 3, 4, 5]
    finally:
        feed.session.dll.finalize()


@pytest.mark.parametrize("profit", ["auto", "ctypes"], indirect=True)
def test_nan_prices_from_the_dll_are_refused_and_counted(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    feed.subscribe(["WDOZ26"])
    double.TestSetNanEvery(4)
    double.TestStream(12)
    settle(double, feed)
    assert [t.trade_id for t in sink.trades] == [1, 2, 3, 5, 6, 7, 9, 10, 11]
    assert feed.stats()["bad_prices"] == 3
