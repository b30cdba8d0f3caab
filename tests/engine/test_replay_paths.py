"""The replay fast path (the data engine's own loop) delivers exactly what the feed's own drain loop and the
plain kernel loop deliver.

Same events in the same order at the same clock times, the same timers fired, the same orders and fills,
the same counts of unknown and out-of-order trades, whether the run stops at ``until_ts``, at a
``max_events`` budget, or at the end of the feed. (An out-of-order print sets the clock back in both drain
loops, not in the plain loop: that comparison leaves them out.)
"""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import T0, kernel
from tradingsystem.backtest.feeds import MergedFeed
from tradingsystem.domain.events import Bar, BookDelta, TradeTick
from tradingsystem.domain.orders import Side
from tradingsystem.engine.strategy import Strategy

EXAMPLES = int(os.environ.get("TS_PROPERTY_EXAMPLES", "200"))
MS = 1_000_000


class Recorder(Strategy):
    """Logs every trade with the clock, sets timers and trades on some of them."""

    def __init__(self) -> None:
        super().__init__("rec", ["WINZ26"])
        self.log: list[tuple[object, ...]] = []

    def on_trade(self, tick: TradeTick) -> None:
        now = self.now()
        self.log.append(("trade", tick.trade_id, now))
        if tick.trade_id % 3 == 0:
            self.set_timer(now + (tick.trade_id % 5) * MS, lambda ts: self.log.append(("timer", ts, self.now())))
        if tick.trade_id % 4 == 0:
            self.submit("WINZ26", Side.BUY if tick.trade_id % 8 else Side.SELL, 1)

    def on_bar(self, bar: Bar) -> None:
        self.log.append(("bar", bar.ts_event, self.now()))

    def on_book(self, delta: BookDelta) -> None:
        self.log.append(("book", delta.sequence, self.now()))

    def on_order_event(self, order: object, event: object) -> None:
        self.log.append(("order", getattr(event, "kind", 0), getattr(event, "ts_event", 0), self.now()))

    wants_book = True


@st.composite
def tapes(draw: st.DrawFn, late: bool = True, bars: bool = False) -> list[TradeTick | BookDelta]:
    n = draw(st.integers(1, 60))
    out: list[TradeTick | BookDelta] = []
    ts = T0
    for i in range(n):
        ts += draw(st.integers(0, 3)) * MS
        kind = draw(st.sampled_from(["trade"] * 6 + ["late"] * late + ["bar"] * bars + ["unknown", "book"]))
        if kind == "bar":
            out.append(Bar("WINZ26", "1s", 1, 1, 1, 1, 1, 1, ts - MS, ts, ts))  # type: ignore[arg-type]
            continue
        if kind == "book":
            out.append(BookDelta("WINZ26", 1, 125_000, 3, 0, i + 1, ts, ts))
            continue
        at = ts - 5 * MS if kind == "late" else ts  # an out-of-order print
        symbol = "XXXZ26" if kind == "unknown" else "WINZ26"
        out.append(TradeTick(symbol, 125_000 + 5 * (i % 7), 1, 1, i + 1, at, at))
    return out


class _Sink:
    """The data engine without its ``replay``: the feed runs its own drain loop."""

    def __init__(self, data: object) -> None:
        self.on_trade = data.on_trade  # type: ignore[attr-defined]
        self.on_book_delta = data.on_book_delta  # type: ignore[attr-defined]
        self.on_bar = data.on_bar  # type: ignore[attr-defined]


def _run(events: list[TradeTick | BookDelta], chunks: list[int], until: int | None, mode: str,
         merged: bool = False) -> tuple:
    k, venue = kernel(events, latency_ns=MS)  # type: ignore[arg-type]
    rec = Recorder()
    k.add_strategy(rec)
    feed = MergedFeed([events]) if merged else None
    if feed is not None:
        k.connect(feed, venue)
    if mode == "drain":
        k.feed.connect(_Sink(k.data))  # type: ignore[union-attr]
    idle = (lambda _k: None) if mode == "plain" else None  # an idle hook sends the kernel down its plain loop
    counts = [k.run(max_events=c, until_ts=until, on_idle=idle) for c in chunks]
    counts.append(k.run(until_ts=until, on_idle=idle))
    s = k.summary()
    del s["wall_seconds"]
    return rec.log, counts, s, k.clock.now(), k.data.stats(), k.data.out_of_order, feed and feed.bars


CHUNKS = st.lists(st.integers(1, 20), max_size=4)
UNTIL = st.one_of(st.none(), st.integers(0, 120))


@settings(max_examples=EXAMPLES, deadline=None)
@given(tapes(), CHUNKS, UNTIL)
def test_fast_path_delivers_as_the_feed_drain(events: list[TradeTick | BookDelta], chunks: list[int],
                                              until_ms: int | None) -> None:
    until = None if until_ms is None else T0 + until_ms * MS
    assert _run(events, chunks, until, "fast") == _run(events, chunks, until, "drain")


@settings(max_examples=EXAMPLES, deadline=None)
@given(tapes(late=False), CHUNKS, UNTIL)
def test_fast_path_delivers_as_the_plain_loop(events: list[TradeTick | BookDelta], chunks: list[int],
                                              until_ms: int | None) -> None:
    until = None if until_ms is None else T0 + until_ms * MS
    assert _run(events, chunks, until, "fast") == _run(events, chunks, until, "plain")


@settings(max_examples=EXAMPLES, deadline=None)
@given(tapes(bars=True), CHUNKS, UNTIL)
def test_merged_feed_fast_path_delivers_as_its_drain(events: list[TradeTick | BookDelta], chunks: list[int],
                                                     until_ms: int | None) -> None:
    until = None if until_ms is None else T0 + until_ms * MS
    assert _run(events, chunks, until, "fast", True) == _run(events, chunks, until, "drain", True)
