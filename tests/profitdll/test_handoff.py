"""The C hand-off of live trades against the ctypes callback path: same session, same events; a full ring is
counted and backfilled; no compiler means the ctypes path with one log line."""

from __future__ import annotations

import itertools
import logging
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.profitdll.helpers import Double, Sink, config, settle, weekdays
from tradingsystem.adapters.profitdll import handoff, open_profitdll
from tradingsystem.domain.events import BookDelta, TradeTick

pytestmark = pytest.mark.integration

SYMBOLS = ["WINZ26", "WDOZ26", "PETR4", "VALE3"]
PATHS = {"auto": 1, "ctypes": 0}  # config ``handoff`` -> stats()["c_handoff"]
_copies = itertools.count()


class CorrectionSink(Sink):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, TradeTick]] = []  # trades and corrections, in delivery order

    def on_trade(self, tick: TradeTick) -> None:
        super().on_trade(tick)
        self.events.append(("trade", tick))

    def on_trade_correction(self, tick: TradeTick) -> None:
        self.events.append(("correction", tick))


def _double(lib: Path, tmp: Path) -> tuple[Double, str]:
    path = tmp / f"handoff_{next(_copies)}.so"
    shutil.copy(lib, path)
    d = Double(str(path))
    d.define_all()
    return d, str(path)


def _session(double_lib: Path, tmp: Path, mode: str) -> list[tuple[str, tuple[object, ...]]]:
    """One scripted session: stream, edits, NaN prices, a disconnect with backfill, a full queue; what the
    sink got (``ts_init`` left out: the wall clock) and the feed's counters."""
    d, path = _double(double_lib, tmp)
    feed, _ = open_profitdll(config(path, market_only=True, queue_capacity=64, handoff=mode), weekdays)
    sink = CorrectionSink()
    try:
        feed.connect(sink)
        assert feed.stats()["c_handoff"] == PATHS[mode]
        feed.subscribe(SYMBOLS)
        d.TestStream(40)
        settle(d, feed)
        assert d.TestEdit("WINZ26", 7) == 0 and d.TestEdit("PETR4", 30) == 0
        d.TestSetNanEvery(9)
        d.TestStream(10)
        settle(d, feed)
        d.TestSetNanEvery(0)
        d.TestDisconnect()
        d.TestAdvance(50)
        d.TestReconnect()
        settle(d, feed)
        d.TestStream(60)  # 240 trades into 64 places with nobody draining: drops, then backfill
        d.TestWaitIdle()
        assert feed.stats()["overflow"] > 0
        settle(d, feed)
        stats = feed.stats()
    finally:
        feed.session.dll.finalize()
    events = [(kind, (t.symbol, t.price, t.size, t.aggressor, t.trade_id, t.ts_event, t.buyer, t.seller))
              for kind, t in sink.events]
    keys = ("trades", "edits", "bad_prices", "disconnects", "reconnects", "callback_errors", "accessor_errors")
    return [*events, ("stats", tuple(stats[k] for k in keys))]


def test_the_c_ring_delivers_exactly_what_the_ctypes_callback_delivers(double_lib: Path, tmp_path: Path) -> None:
    fast = _session(double_lib, tmp_path, "auto")
    slow = _session(double_lib, tmp_path, "ctypes")
    assert fast == slow
    by_symbol: dict[str, list[int]] = {}
    for kind, fields in fast:
        if kind == "trade":
            by_symbol.setdefault(str(fields[0]), []).append(int(fields[4]))  # type: ignore[call-overload]
    assert sorted(by_symbol) == sorted(SYMBOLS)
    for sym, ids in by_symbol.items():  # trade 45's NaN price refused; every other trade once, in order
        assert ids == [n for n in range(1, 161) if n != 45], sym
    assert sum(1 for kind, _ in fast if kind == "correction") == 2


@pytest.mark.parametrize("mode", list(PATHS))
def test_overflow_while_the_engine_drains_is_counted_and_backfilled_without_a_hole(
        double: Double, dll_path: str, mode: str) -> None:
    feed, _ = open_profitdll(config(dll_path, market_only=True, queue_capacity=64, handoff=mode), weekdays)
    sink = Sink()
    n = 20_000
    try:
        feed.connect(sink)
        assert feed.stats()["c_handoff"] == PATHS[mode]
        feed.subscribe(["WINZ26", "PETR4"])
        double.TestStream(n)  # the DLL thread outruns this thread: the queue fills, empties, fills again
        while len(sink.trades) < 2 * n:
            if feed.next_ts() is None:
                if not feed.wait(5.0) and double.stat("delivered") >= 2 * n and not feed.session.depth():
                    break
            else:
                feed.step()
        settle(double, feed)
        stats = feed.stats()
    finally:
        feed.session.dll.finalize()
    for sym, ticks in sink.by_symbol().items():
        assert [t.trade_id for t in ticks] == list(range(1, n + 1)), sym
    if stats["overflow"]:
        assert stats["backfills"] >= 1 and stats["backfilled"] >= stats["overflow"]


@pytest.mark.parametrize("cc", ["/nonexistent/gcc", "false"])
def test_without_a_working_compiler_the_session_uses_the_ctypes_callback(
        double: Double, dll_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, cc: str) -> None:
    monkeypatch.setenv("TRADINGSYSTEM_CACHE_DIR", str(tmp_path / "cache"))  # nothing built there yet
    monkeypatch.setenv("CC", cc)
    feed, _ = open_profitdll(config(dll_path, market_only=True), weekdays)
    sink = Sink()
    try:
        with caplog.at_level(logging.WARNING, logger="tradingsystem.adapters.profitdll"):
            feed.connect(sink)
        lines = [r.getMessage() for r in caplog.records if "hand-off unavailable" in r.getMessage()]
        assert len(lines) == 1 and cc in lines[0] and "ctypes" in lines[0]
        assert feed.stats()["c_handoff"] == 0
        feed.subscribe(["WINZ26"])
        double.TestStream(100)
        settle(double, feed)
    finally:
        feed.session.dll.finalize()
    assert [t.trade_id for t in sink.trades] == list(range(1, 101))


def test_no_compiler_on_the_path_is_a_clear_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADINGSYSTEM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(handoff.HandoffUnavailable, match="no C compiler"):
        handoff.build()


def test_the_build_is_cached_by_source_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADINGSYSTEM_CACHE_DIR", str(tmp_path))
    first = handoff.build()
    built = first.stat().st_mtime_ns
    assert first.parent == tmp_path and first.name.startswith("profitdll-handoff-")
    assert handoff.build() == first and first.stat().st_mtime_ns == built  # not compiled again
    assert list(tmp_path.iterdir()) == [first]  # no temporary left behind


class OrderSink(Sink):
    def __init__(self) -> None:
        super().__init__()
        self.order: list[tuple[str, int]] = []

    def on_trade(self, tick: TradeTick) -> None:
        super().on_trade(tick)
        self.order.append(("trade", tick.trade_id))

    def on_book_delta(self, delta: BookDelta) -> None:
        super().on_book_delta(delta)
        self.order.append(("book", delta.price))


@pytest.mark.parametrize("mode", list(PATHS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(st.one_of(st.integers(1, 30), st.just(0)), min_size=1, max_size=12))
def test_trades_and_other_events_reach_the_engine_in_the_dlls_order(
        double_lib: Path, tmp_path: Path, mode: str, script: list[int]) -> None:
    """Trades (C ring or callback queue) and book events (the Python callback) interleave as the DLL sent
    them: ``script`` is a list of trade bursts (n > 0) and book adds (0), in the order the double sends them."""
    d, path = _double(double_lib, tmp_path)
    feed, _ = open_profitdll(config(path, book_depth=True, market_only=True, handoff=mode), weekdays)
    sink = OrderSink()
    expected: list[tuple[str, int]] = []
    trades = 0
    try:
        feed.connect(sink)
        feed.subscribe(["WDOZ26"])
        for k, n in enumerate(script):
            if n:
                d.TestStream(n)
                expected += [("trade", i) for i in range(trades + 1, trades + n + 1)]
                trades += n
            else:
                assert d.TestDepth("WDOZ26", 0, 0, 0, 4000.0 + k, 1, 1) == 0  # a new best bid
                expected.append(("book", 40000 + 10 * k))
        settle(d, feed)
    finally:
        feed.session.dll.finalize()
    assert sink.order == expected
