"""Offer book (order level, V2 callback) through the double: order-level book, price-level deltas,
full-book arrays freed exactly once through FreePointer, malformed events counted, never fatal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.profitdll.helpers import Double, Sink, config, settle, weekdays
from tradingsystem.adapters.profitdll import open_profitdll
from tradingsystem.adapters.profitdll.feed import Offer, ProfitDLLFeed
from tradingsystem.domain import b3
from tradingsystem.domain.events import BookAction

pytestmark = pytest.mark.integration

SYM = "WINZ26"
SET, DEL = int(BookAction.SET), int(BookAction.DELETE)
BUY, SELL = 0, 1
ADD, EDIT, DELETE, DELETE_FROM = 0, 1, 2, 3
INST = b3.instrument(SYM, weekdays)


def raw(px: float) -> int:
    return INST.to_raw(f"{px:.{INST.scale}f}")


@pytest.fixture
def book(double: Double, dll_path: str) -> Iterator[tuple[ProfitDLLFeed, Sink]]:
    feed, _ = open_profitdll(config(dll_path, book_depth=True, book_source="offer_book", market_only=True), weekdays)
    sink = Sink()
    try:
        feed.connect(sink)
        feed.subscribe([SYM])
        yield feed, sink
    finally:
        feed.session.dll.finalize()


def deltas(sink: Sink) -> list[tuple[int, int, int, int, int]]:
    return [(d.side, d.price, d.size, d.action, d.orders) for d in sink.deltas]


def double_book(double: Double) -> tuple[list[Offer], list[Offer]]:
    def side(s: int) -> list[Offer]:
        return [Offer(oid, raw(px), qty, agent) for oid, px, qty, agent in double.offer_book(SYM, s)]

    return side(BUY), side(SELL)


def levels_from_deltas(sink: Sink) -> dict[tuple[int, int], tuple[int, int]]:
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for d in sink.deltas:
        if d.action == DEL:
            out.pop((d.side, d.price), None)
        else:
            out[(d.side, d.price)] = (d.size, d.orders)
    return out


def levels_from_book(bids: list[Offer], asks: list[Offer]) -> dict[tuple[int, int], tuple[int, int]]:
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for dom_side, offers in ((1, bids), (2, asks)):
        for o in offers:
            size, n = out.get((dom_side, o.price), (0, 0))
            out[(dom_side, o.price)] = (size + o.qty, n + 1)
    return out


SCRIPT = [  # (action, pos, side, qty, agent, offer id, price); pos counts from the list end
    (ADD, 0, BUY, 5, 3, 101, 120000.0),
    (ADD, 0, BUY, 2, 4, 102, 120005.0),        # at the end: position 0
    (ADD, 1, BUY, 3, 5, 103, 120000.0),        # one before the end: between 101 and 102
    (ADD, 0, SELL, 4, 7, 201, 120010.0),
    (ADD, 1, SELL, 6, 8, 202, 120015.0),       # before 201
    (EDIT, 1, BUY, 7, -1, 0, 0.0),             # 103: quantity only (no price, agent or id)
    (DELETE, 0, BUY, 0, 0, 0, 0.0),            # 102
    (ADD, 0, BUY, 1, 9, 104, 120005.0),
    (DELETE_FROM, 1, BUY, 0, 0, 0, 0.0),       # 103 and everything after it: 103, 104
]


def test_scripted_sequence_gives_exact_order_book_and_price_level_deltas(book, double: Double) -> None:
    feed, sink = book
    double.offer_script(SYM, SCRIPT)
    settle(double, feed)
    assert deltas(sink) == [
        (1, raw(120000), 5, SET, 1),
        (1, raw(120005), 2, SET, 1),
        (1, raw(120000), 8, SET, 2),
        (2, raw(120010), 4, SET, 1),
        (2, raw(120015), 6, SET, 1),
        (1, raw(120000), 12, SET, 2),
        (1, raw(120005), 0, DEL, 0),
        (1, raw(120005), 1, SET, 1),
        (1, raw(120005), 0, DEL, 0),
        (1, raw(120000), 5, SET, 1),
    ]
    assert [d.sequence for d in sink.deltas] == list(range(1, 11))
    assert all(d.symbol == SYM and d.ts_event > 0 for d in sink.deltas)
    bids, asks = feed.offer_book(SYM)
    assert bids == [Offer(101, raw(120000), 5, 3)]
    assert asks == [Offer(201, raw(120010), 4, 7), Offer(202, raw(120015), 6, 8)]
    assert (bids, asks) == double_book(double)
    stats = feed.stats()
    assert stats["offer_events"] == len(SCRIPT) and stats["offer_malformed"] == 0
    assert stats["callback_errors"] == 0 and double.stat("violations") == 0


def test_positions_count_from_the_list_end(book, double: Double) -> None:
    feed, sink = book
    double.offer_script(SYM, [
        (ADD, 0, SELL, 1, 1, 1, 120100.0),    # [1]
        (ADD, 0, SELL, 1, 1, 2, 120095.0),    # [1, 2]: position 0 is the list end
        (ADD, 2, SELL, 1, 1, 3, 120105.0),    # pos = size: the list start -> [3, 1, 2]
        (ADD, 1, SELL, 1, 1, 4, 120095.0),    # index size - pos = 2 -> [3, 1, 4, 2]
        (EDIT, 3, SELL, 9, 2, 0, 0.0),        # index 0: offer 3
        (DELETE, 2, SELL, 0, 0, 0, 0.0),      # index 1: offer 1
    ])
    settle(double, feed)
    _bids, asks = feed.offer_book(SYM)
    # by position: 0 = list end
    assert [o.offer_id for o in asks] == [2, 4, 3]
    assert asks[2] == Offer(3, raw(120105), 9, 2)
    assert asks == double_book(double)[1]
    assert levels_from_deltas(sink) == levels_from_book([], asks)
    assert levels_from_book([], asks)[(2, raw(120095))] == (2, 2)


def test_full_book_snapshot_replaces_the_book_and_each_array_is_freed_once(book, double: Double) -> None:
    feed, sink = book
    double.offer_script(SYM, SCRIPT[:5])
    settle(double, feed)
    # the double's book moves on without telling the client (lost updates) ...
    for event in [(ADD, 0, BUY, 4, 6, 105, 120005.0), (DELETE, 2, BUY, 0, 0, 0, 0.0),
                  (ADD, 2, SELL, 3, 2, 203, 120020.0), (EDIT, 0, SELL, 11, 5, 0, 120010.0)]:
        assert double.TestOffer(SYM, *event, 0) == 0
    double.TestWaitIdle()
    assert feed.offer_book(SYM) != double_book(double)
    # ... until a full book arrives: it replaces both sides
    assert double.TestOfferFull(SYM, 1, 0) == 0
    settle(double, feed)
    assert feed.offer_book(SYM) == double_book(double)
    assert levels_from_deltas(sink) == levels_from_book(*feed.offer_book(SYM))
    assert double.stat("offer_arrays") == 2 and double.stat("offer_frees") == 2
    assert double.stat("offer_bad_frees") == 0 and double.stat("offer_leaks") == 0

    # in several packets: nothing changes until the last one, the result is the same book
    n_deltas = len(sink.deltas)
    assert double.TestOfferFull(SYM, 3, 0) == 0
    settle(double, feed)
    assert feed.offer_book(SYM) == double_book(double)
    assert len(sink.deltas) == n_deltas  # same book: no level changed
    assert double.stat("offer_arrays") == 8 and double.stat("offer_frees") == 8
    assert double.stat("offer_bad_frees") == 0 and double.stat("offer_leaks") == 0
    assert feed.stats()["offer_full_books"] == 4  # two sides, twice


def test_a_lying_array_header_is_counted_freed_and_not_read(book, double: Double) -> None:
    feed, _sink = book
    double.offer_script(SYM, SCRIPT[:5])
    assert double.TestOffer(SYM, ADD, 0, BUY, 8, 1, 106, 119995.0, 0) == 0
    settle(double, feed)
    before_asks = feed.offer_book(SYM)[1]
    assert double.TestOfferFull(SYM, 1, 1) == 0  # the sell array's count disagrees with its size
    settle(double, feed)
    bids, asks = feed.offer_book(SYM)
    assert asks == before_asks  # not replaced
    assert bids == double_book(double)[0]  # the buy side was fine
    stats = feed.stats()
    assert stats["offer_bad_arrays"] == 1 and stats["offer_malformed"] == 1
    assert double.stat("offer_frees") == 2 and double.stat("offer_bad_frees") == 0
    assert double.stat("offer_leaks") == 0


def test_malformed_events_are_counted_and_reported_nothing_crashes(book, double: Double) -> None:
    feed, sink = book
    double.offer_script(SYM, SCRIPT[:3])
    settle(double, feed)
    good_book, good_deltas = feed.offer_book(SYM), len(sink.deltas)
    double.offer_script(SYM, [
        (DELETE, 7, BUY, 0, 0, 0, 0.0),             # no such position
        (EDIT, -1, BUY, 5, 1, 0, 0.0),              # negative position
        (DELETE_FROM, 3, BUY, 0, 0, 0, 0.0),        # past the start
        (ADD, 9, BUY, 1, 1, 900, 120000.0),         # position beyond the size
        (ADD, 0, 5, 1, 1, 901, 120000.0),           # no such side
        (DELETE, 0, -1, 0, 0, 0, 0.0),              # no such side
        (ADD, 0, BUY, 1, 1, 902, float("nan")),     # NaN price
        (ADD, 0, BUY, 0, 1, 903, 120000.0),         # zero quantity
        (9, 0, BUY, 1, 1, 904, 120000.0),           # unknown action
    ])
    settle(double, feed)
    assert feed.offer_book(SYM) == good_book and len(sink.deltas) == good_deltas
    stats = feed.stats()
    assert stats["offer_malformed"] == 9 and len(feed.offer_errors) == 9
    assert all(sym == SYM and why for sym, why in feed.offer_errors)
    assert stats["callback_errors"] == 0
    # the stream goes on
    double.offer_script(SYM, [(DELETE, 0, BUY, 0, 0, 0, 0.0)])
    settle(double, feed)
    assert [o.offer_id for o in feed.offer_book(SYM)[0]] == [103, 101]
    assert feed.offer_book(SYM)[0] == double_book(double)[0]


def test_offer_book_is_chosen_by_the_feed_option(double: Double, dll_path: str) -> None:
    feed, _ = open_profitdll(config(dll_path, book_depth=True, market_only=True), weekdays)
    assert feed.book_source == "price_depth"
    feed2 = ProfitDLLFeed(feed.session, weekdays, book="offer_book")
    assert feed2.book_source == "offer_book"
    with pytest.raises(ValueError):
        ProfitDLLFeed(feed.session, weekdays, book="tape")
    with pytest.raises(KeyError):
        feed2.offer_book(SYM)


SYMS = ["WINZ26", "WDOZ26", "PETR4"]


def _stream_books(double: Double, dll_path: str, edit_form: int, offer_edit: str):
    """5,000 rounds of one trade and one random offer event per symbol, edits sent in ``edit_form``."""
    double.TestSetOfferEditMode(edit_form)
    feed, _ = open_profitdll(config(dll_path, book_depth=True, book_source="offer_book", market_only=True,
                                    offer_edit=offer_edit), weekdays)
    sink = Sink()
    feed.connect(sink)
    feed.subscribe(SYMS)
    for k, sym in enumerate(SYMS):
        assert double.TestOfferStream(sym, 5000, 17 + k) == 0
    settle(double, feed)
    return feed, sink


def _double_books(double: Double) -> dict[str, tuple[list[Offer], list[Offer]]]:
    out = {}
    for sym in SYMS:
        inst = b3.instrument(sym, weekdays)
        out[sym] = tuple([Offer(oid, inst.to_raw(f"{px:.{inst.scale}f}"), qty, agent)
                          for oid, px, qty, agent in double.offer_book(sym, side)] for side in (BUY, SELL))
    return out


@pytest.mark.parametrize(("edit_form", "offer_edit"), [(0, "delta"), (1, "absolute"), (2, "delta"), (2, "absolute")])
def test_random_books_with_5000_trades_per_symbol_equal_the_doubles(double: Double, dll_path: str, edit_form: int,
                                                                    offer_edit: str) -> None:
    """Edits as deltas (the vendor's example, the default), absolute (a setting), or delete + add (either)."""
    feed, sink = _stream_books(double, dll_path, edit_form, offer_edit)
    try:
        stats = feed.stats()
        assert stats["trades"] == 15000 and stats["offer_events"] >= 15000
        assert stats["offer_malformed"] == 0 and stats["callback_errors"] == 0
        books = _double_books(double)
        for sym in SYMS:
            assert feed.offer_book(sym) == books[sym]
            assert sum(len(side) for side in books[sym]) > 20  # a real book, not an empty one
        by_sym = {sym: [d for d in sink.deltas if d.symbol == sym] for sym in SYMS}
        for sym, ds in by_sym.items():
            levels: dict[tuple[int, int], tuple[int, int]] = {}
            for d in ds:
                if d.action == DEL:
                    levels.pop((d.side, d.price), None)
                else:
                    levels[(d.side, d.price)] = (d.size, d.orders)
            assert levels == levels_from_book(*books[sym])
    finally:
        feed.session.dll.finalize()


def test_reading_delta_edits_as_absolute_gives_a_wrong_book(double: Double, dll_path: str) -> None:
    feed, _sink = _stream_books(double, dll_path, 0, "absolute")
    try:
        books = _double_books(double)
        assert any(feed.offer_book(sym) != books[sym] for sym in SYMS)
    finally:
        feed.session.dll.finalize()
