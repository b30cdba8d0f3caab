"""The L3 book from B3 order messages (the real OFER sample) and the queue positions the venue takes from it."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.backtest.helpers import MS, T0, Harness, trade
from tradingsystem.adapters.storage import StorageConfig, import_file
from tradingsystem.adapters.storage.catalog import Catalog
from tradingsystem.adapters.storage.replay import day_sources, read_order_messages
from tradingsystem.backtest.l3book import L3Book, L3Delta, l3_events, replay_messages
from tradingsystem.domain.orders import Side

LOCAL_2015_NS = -2 * 3600 * 10**9  # 2015-11-03: Brasilia summer time, UTC-2
DAY_NS = 86_400 * 10**9


def _in_auction(ts: int) -> bool:
    """Equities on 2015-11-03: continuous 10:00-16:55 local, then the closing call."""
    t = (ts + LOCAL_2015_NS) % DAY_NS // 10**9
    return not 10 * 3600 <= t < 16 * 3600 + 55 * 60


@pytest.fixture(scope="module")
def ofer(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ofer")
    rep = import_file(StorageConfig(data_dir=root), "b3-orders",
                      real_data / "b3_neg_sample" / "example_orders_PETR4F_VALE5F_20151103.csv.gz")
    assert rep.rows_written == 20_673
    return root


@pytest.mark.parametrize("symbol", ["PETR4F", "VALE5F"])
def test_l3_book_from_the_real_sample_is_never_crossed_and_matches_its_trades(ofer: Path, symbol: str) -> None:
    cols = read_order_messages(ofer, symbol)
    assert cols is not None
    ordered = [dict(row) for _, _, row in replay_messages(cols)]  # in exchange sequence (secondary id)
    # the book is checked between matches (a new order crosses until the Trade messages that follow it)
    book = L3Book()
    crossed = quiet = 0
    passive = at_best = first = 0
    traded: dict[int, int] = {}
    groups: list[list[tuple[dict[str, Any], int | None]]] = [[]]
    for i, r in enumerate(ordered):
        oid = r["order_id"]
        if r["exec_type"] == "Trade":
            inc = r["traded"] - traded[oid] if oid in traded else None
            groups[-1].append((r, inc))
            o = book.orders.get(oid)
            if r["aggressor"] == 2 and o is not None:  # the resting side of a trade, known to the book
                passive += 1
                at_best += o.price == (book.best_bid() if o.side == 1 else book.best_ask())
                first += book.queue(o.side, o.price)[0].order_id == oid
        elif groups[-1]:
            groups.append([])
        traded[oid] = r["traded"]
        book.apply(r["exec_type"], r["side"], oid, r["price"], r["quantity"], r["traded"], r["priority_ts"])
        nxt = ordered[i + 1]["exec_type"] if i + 1 < len(ordered) else ""
        if nxt != "Trade" and not _in_auction(r["priority_ts"]):
            quiet += 1
            crossed += book.crossed()
    assert quiet > 8000 and crossed == 0
    # every trade's resting order was at the best price of its side, and almost always first in its queue
    assert passive > 300 and at_best == passive and first >= 0.9 * passive
    matched = balanced = 0
    for g in groups:
        if g and all(inc is not None for _, inc in g):
            matched += 1
            aggr = sum(inc or 0 for r, inc in g if r["aggressor"] == 1)
            rest = sum(inc or 0 for r, inc in g if r["aggressor"] == 2)
            balanced += aggr == rest
            for a, _ in g:
                for p, _ in g:
                    if a["aggressor"] == 1 and p["aggressor"] == 2 and a["price"] > 0:  # a limit never trades through
                        assert p["price"] <= a["price"] if a["side"] == 1 else p["price"] >= a["price"]
    assert matched > 300 and balanced >= 0.99 * matched  # aggressor quantity = the resting quantity it took


def test_catalog_replay_prefers_the_order_level_book(ofer: Path) -> None:
    cat = Catalog(ofer)
    sources = day_sources(cat, "PETR4F", None, None, trades=False)
    cat.close()
    events = list(sources[0])
    assert events and all(type(e) is L3Delta for e in events)
    assert all(b.ts_event <= a.ts_event for b, a in pairwise(events))


def _delta(oid: int, qty: int, prio: int, total: int, ts: int, price: int = 125_000) -> L3Delta:
    return L3Delta("WINZ26", 1, price, total, 0 if total else 1, ts, ts, ts, 1, oid, qty, prio)


def test_queue_position_from_l3_ignores_cancels_behind_us() -> None:
    # two orders of 10 rest at 125_000 before us; we join; one behind us (3) and the first ahead (1) cancel
    events = [_delta(1, 10, T0, 10, T0), _delta(2, 10, T0 + 1, 20, T0 + 1),
              _delta(3, 5, T0 + 5 * MS, 25, T0 + 5 * MS), _delta(3, 0, T0 + 5 * MS, 20, T0 + 6 * MS),
              _delta(1, 0, T0, 10, T0 + 7 * MS), trade(125_000, 12, 2, T0 + 8 * MS)]
    h = Harness(events)
    h.at(T0 + 2 * MS, Side.BUY, 4, price=125_000)
    h.kernel.run(until_ts=T0 + 6 * MS)
    assert h.venue.resting() == [(h.orders[0].order_id, 4, 20)]  # 3 was behind us: still 20 ahead
    h.kernel.run(until_ts=T0 + 7 * MS)
    assert h.venue.resting() == [(h.orders[0].order_id, 4, 10)]
    h.run()
    assert [(f.quantity, f.price) for f in h.fills.fills] == [(2, 125_000)]  # 12 traded, 10 ahead of us


def test_l3_events_keep_level_totals() -> None:
    cols = {"secondary_id": [3, 1, 2, 4], "exec_type": ["Update", "New", "New", "Cancel"], "side": [1, 1, 1, 1],
            "order_id": [1, 1, 2, 2], "price": [101, 100, 100, 100], "quantity": [5, 5, 7, 7],
            "traded": [0, 0, 0, 0], "priority_ts": [30, 10, 20, 40], "ts_event": [0, 0, 0, 0]}
    got = [(e.price, e.size, e.order_id, e.order_qty) for e in l3_events("X", cols)]
    assert got == [(100, 5, 1, 5), (100, 12, 2, 7), (100, 7, 1, 0), (101, 5, 1, 5), (100, 0, 2, 0)]


_MSG = st.tuples(st.sampled_from(["New", "Update", "Trade", "Cancel"]), st.integers(1, 2), st.integers(1, 6),
                 st.integers(0, 4), st.integers(1, 20), st.integers(0, 20))


@settings(max_examples=150, deadline=None)
@given(st.lists(_MSG, max_size=60))
def test_l3_levels_always_sum_their_orders_and_the_deltas_rebuild_them(msgs: list[tuple[Any, ...]]) -> None:
    cols: dict[str, list[Any]] = {k: [] for k in ("secondary_id", "exec_type", "side", "order_id", "price",
                                                  "quantity", "traded", "priority_ts", "ts_event")}
    book = L3Book()
    for i, (et, side, oid, tick, qty, traded) in enumerate(msgs):
        price = 100 + tick if tick else 0  # 0: a market order, never rests
        for k, v in zip(cols, (i, et, side, oid, price, qty, min(traded, qty), i, i), strict=True):
            cols[k].append(v)
        book.apply(et, side, oid, price, qty, min(traded, qty), i)
        for s in (1, 2):
            for px, total in book.totals[s - 1].items():
                assert total == sum(o.qty for o in book.queue(s, px)) > 0
    replayed: dict[tuple[int, int], int] = {}
    for d in l3_events("X", cols):
        replayed[(d.side, d.price)] = d.size
    assert {k: v for k, v in replayed.items() if v} == \
        {(s, px): t for s in (1, 2) for px, t in book.totals[s - 1].items()}
