"""Disconnect/reconnect with backfill, the million-trade burst, and the DLL's threading rules."""

from __future__ import annotations

import ctypes
import itertools
import threading

import pytest

from tests.profitdll.helpers import Double, settle
from tradingsystem.adapters.profitdll import RequestFromCallback
from tradingsystem.adapters.profitdll import structs as s
from tradingsystem.domain.events import TradeTick

pytestmark = pytest.mark.integration

SYMBOLS = ["WINZ26", "WDOZ26", "PETR4", "VALE3"]


@pytest.mark.parametrize("profit", ["auto", "ctypes"], indirect=True)
def test_reconnect_resubscribes_and_backfills_a_gap_free_sequence(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    feed.subscribe(SYMBOLS)
    double.TestStream(100)
    settle(double, feed)
    double.TestDisconnect()
    double.TestAdvance(250)  # the market trades on while we are disconnected
    double.TestReconnect()
    settle(double, feed)      # the feed sees state 4: resubscribe + GetHistoryTrades per symbol
    double.TestStream(100)    # live again, only because the feed resubscribed
    settle(double, feed)

    stats = feed.stats()
    assert stats["disconnects"] == 1 and stats["reconnects"] == 1
    assert stats["backfills"] == len(SYMBOLS)
    assert stats["backfilled"] == 250 * len(SYMBOLS)
    for sym, ticks in sink.by_symbol().items():
        assert [t.trade_id for t in ticks] == list(range(1, 451)), sym
        assert all(a.ts_event < b.ts_event for a, b in itertools.pairwise(ticks))
    assert stats["duplicates"] == 0  # history overlapping the last live trade was merged, not repeated


@pytest.mark.parametrize("profit", ["auto", "ctypes"], indirect=True)
def test_live_trades_during_backfill_are_held_and_merged_in_order(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    feed.subscribe(["WINZ26"])
    double.TestStream(10)
    settle(double, feed)
    double.TestDisconnect()
    double.TestAdvance(40)
    double.TestReconnect()
    double.TestWaitIdle()
    feed.next_ts()             # processes the states: resubscribe and request history ...
    double.TestStream(30)      # ... while live trades keep arriving before the history does
    settle(double, feed)
    assert [t.trade_id for t in sink.trades] == list(range(1, 81))


@pytest.mark.slow
def test_a_million_trade_burst_arrives_complete_and_in_order(profit, double: Double) -> None:
    feed, _, _ = profit

    class Counter:
        n = 0
        last = 0
        ordered = True

        def on_trade(self, tick: TradeTick) -> None:
            self.n += 1
            if tick.trade_id != self.last + 1:
                self.ordered = False
            self.last = tick.trade_id

        def on_book_delta(self, delta: object) -> None:  # pragma: no cover
            pass

    sink = Counter()
    feed.connect(sink)  # type: ignore[arg-type]
    feed.subscribe(["WINZ26"])
    double.TestStream(1_000_000)  # the DLL thread streams while this (engine) thread drains
    while sink.n < 1_000_000:
        if feed.next_ts() is None:
            if not feed.wait(5.0) and double.stat("delivered") >= 1_000_000 and not feed.session.depth():
                break
        else:
            feed.step()
    settle(double, feed)
    assert sink.n == 1_000_000 and sink.last == 1_000_000 and sink.ordered
    stats = feed.stats()
    assert stats["callback_errors"] == 0 and stats["accessor_errors"] == 0
    assert stats["overflow"] == 0 or stats["backfilled"] >= stats["overflow"]


def test_request_functions_refuse_to_run_on_the_callback_thread(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    dll = feed.session.dll
    outcome: list[BaseException | str] = []

    def rogue_state_callback(state_type: int, result: int) -> None:
        try:
            dll.subscribe_ticker("PETR4", "B")  # forbidden by the manual
            outcome.append("called")
        except BaseException as exc:
            outcome.append(exc)

    dll.set_callback("state", rogue_state_callback)
    double.TestInjectState(2, 4)
    double.TestWaitIdle()
    assert len(outcome) == 1 and isinstance(outcome[0], RequestFromCallback)
    assert double.stat("violations") == 0  # the call never reached the DLL


def test_the_sink_runs_on_the_engine_thread_and_may_request_freely(profit, double: Double) -> None:
    feed, _, sink = profit
    subscribed: list[str] = []
    original = sink.on_trade

    def on_trade(tick: TradeTick) -> None:
        original(tick)
        if tick.symbol == "WINZ26" and not subscribed:
            feed.subscribe(["PETR4"])  # engine thread: allowed
            subscribed.append("PETR4")

    sink.on_trade = on_trade  # type: ignore[method-assign]
    feed.connect(sink)
    feed.subscribe(["WINZ26"])
    double.TestStream(3)
    settle(double, feed)
    double.TestStream(3)
    settle(double, feed)
    assert sink.threads == {threading.get_ident()}
    assert {t.symbol for t in sink.trades} == {"WINZ26", "PETR4"}
    assert double.stat("violations") == 0


def test_accessors_work_only_inside_their_callback_and_pointers_expire(profit, double: Double) -> None:
    feed, _, sink = profit
    feed.connect(sink)
    dll = feed.session.dll
    kept: list[int] = []
    inside: list[int] = []
    rec = s.TConnectorTrade()

    def keep_pointer(asset: s.TConnectorAssetIdentifier, ptr: int, flags: int) -> None:
        inside.append(dll.translate_trade(ptr, ctypes.addressof(rec)))
        kept.append(ptr)

    dll.set_callback("trade", keep_pointer)
    feed.subscribe(["WINZ26"])
    double.TestStream(1)
    double.TestWaitIdle()
    assert inside == [0] and rec.TradeNumber == 1
    before = double.stat("accessor_errors")
    assert dll.translate_trade(kept[0], ctypes.addressof(rec)) != 0  # after the callback returned
    out = s.TConnectorOrderOut()
    assert dll.get_order_details(ctypes.byref(out)) != 0               # outside an order callback
    assert double.stat("accessor_errors") == before + 2
