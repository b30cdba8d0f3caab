"""Book features: hand-checked OFI, microprice, depth imbalance; batch replay equals streaming."""

from __future__ import annotations

import math

import numpy as np

from tests.features.sim import book_deltas
from tradingsystem.domain.events import BookDelta, BookSnapshot
from tradingsystem.features import BOOK_COLUMNS, BookFeatures, book_features


def d(side, price, size, seq, ts=0, action=0):
    return BookDelta("X", side, price, size, action, seq, ts, ts)


def test_top_of_book_features() -> None:
    b = BookFeatures(levels=2)
    b.update(d(1, 99, 300, 1))
    assert math.isnan(b.spread) and math.isnan(b.microprice)
    b.update(d(2, 101, 100, 2))
    assert b.spread == 2.0 and b.mid == 100.0
    assert b.microprice == (99 * 100 + 101 * 300) / 400
    b.update(d(1, 98, 100, 3))
    b.update(d(1, 97, 1000, 4))  # third level: outside levels=2
    assert b.level == 2 and b.level_delta == 1000
    assert b.depth_imbalance == (400 - 100) / 500


def test_ofi_cont_kukanov_stoikov() -> None:
    b = BookFeatures(ofi_window_ns=100)
    b.update(d(1, 99, 300, 1, ts=0))
    b.update(d(2, 101, 100, 2, ts=1))
    b.update(d(1, 99, 500, 3, ts=2))  # bid size up 200 at the same price: e = +200
    assert b.ofi_total == 200
    b.update(d(2, 100, 50, 4, ts=3))  # ask improves: e = -q_a(new) = -50
    assert b.ofi_total == 150
    b.update(d(1, 99, 0, 5, ts=4, action=1))  # bid level removed: bid side empty -> e = 0
    assert b.ofi_total == 150
    b.update(d(1, 98, 10, 6, ts=200))  # old contributions leave the window
    assert b.ofi_window == 0


def test_sequence_guard_and_snapshot() -> None:
    b = BookFeatures()
    assert b.update(d(1, 99, 1, 5))
    assert not b.update(d(1, 99, 2, 5)) and not b.update(d(1, 99, 2, 4))
    assert b.rejected == 2
    b.snapshot(BookSnapshot("X", ((99, 10), (98, 5)), ((101, 7),), 10, 0, 0))
    assert (b.bid, b.bid_size, b.ask, b.ask_size) == (99, 10, 101, 7)


def test_batch_replay_equals_streaming() -> None:
    ev = book_deltas(1500, 3)
    b = BookFeatures(levels=3, ofi_window_ns=10**9)
    rows = [b.values for e in ev if b.update(e)]
    cols = {
        k: np.array([getattr(e, k) for e in ev]) for k in ("side", "price", "size", "action", "sequence", "ts_event")
    }
    out = book_features(cols["side"], cols["price"], cols["size"], cols["action"], cols["sequence"],
                        cols["ts_event"], levels=3, ofi_window_ns=10**9)  # fmt: skip
    arr = np.array(rows)
    for k, c in enumerate(BOOK_COLUMNS):
        assert np.array_equal(arr[:, k], out[c], equal_nan=True), c
    assert len(out["index"]) == len(ev) - b.rejected > 0
