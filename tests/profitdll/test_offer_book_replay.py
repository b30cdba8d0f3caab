"""The ProfitDLL offer book recorded at order level (the catalog's ``orders`` kind, the B3 order-message
columns): a captured session replays to the double's own book order by order, and the queue-aware venue fills
a resting order by its queue position in the recorded book."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.backtest.helpers import Harness, trade
from tests.profitdll.helpers import Double, config, settle, weekdays
from tradingsystem.adapters.profitdll import open_profitdll
from tradingsystem.adapters.storage import Recorder, StorageConfig
from tradingsystem.adapters.storage.catalog import Catalog
from tradingsystem.adapters.storage.replay import day_sources, read_order_messages
from tradingsystem.adapters.storage.schema import b3_date
from tradingsystem.backtest.l3book import L3Book, L3Delta, replay_messages
from tradingsystem.domain import b3
from tradingsystem.domain.orders import Side
from tradingsystem.runtime.cli import app

pytestmark = pytest.mark.integration

SYM = "WINZ26"
BUY, SELL = 0, 1
ADD, DELETE = 0, 2
INST = b3.instrument(SYM, weekdays)


def raw(px: float) -> int:
    return INST.to_raw(f"{px:.{INST.scale}f}")


def _replayed(data_dir: Path) -> tuple[L3Book, dict[int, int]]:
    """The L3 book after every stored order message, and each order's last member (broker)."""
    msgs = read_order_messages(data_dir, SYM)
    assert msgs is not None
    book, members = L3Book(), {}
    for _i, after, row in replay_messages(msgs):
        book = after
        members[row["order_id"]] = row["member"]
    return book, members


def _queues(double: Double, side: int) -> dict[int, list[tuple[int, int, int]]]:
    """The double's offers of a side per price in queue order (by DLL position): (offer id, qty, agent)."""
    out: dict[int, list[tuple[int, int, int]]] = {}
    for oid, px, qty, agent in double.offer_book(SYM, side):
        out.setdefault(raw(px), []).append((oid, qty, agent))
    return out


def test_a_captured_offer_book_replays_to_the_doubles_book_order_by_order(double: Double, dll_path: str,
                                                                          tmp_path: Path, monkeypatch) -> None:
    for k, v in {"DLL_PATH": dll_path, "ACTIVATION_KEY": "k3y", "USER": "trader", "PASSWORD": "pw"}.items():
        monkeypatch.setenv(f"TRADINGSYSTEM_PROFITDLL_{k}", v)
    done, stop = threading.Event(), threading.Event()

    def stream() -> None:
        seed, sent = 1, double.stat("offer_events")
        while double.stat("offer_events") == sent:  # not subscribed yet: the double's book moves on unseen
            double.TestOfferStream(SYM, 1, seed)
            seed += 1
            if stop.wait(0.02):
                return
        double.TestOfferFull(SYM, 2, 0)  # the full book a subscriber gets, in two packets
        for _ in range(10):
            double.TestOfferStream(SYM, 40, seed)  # adds, edits, deletes, delete-froms
            seed += 1
        double.TestWaitIdle()
        done.set()

    t = threading.Thread(target=stream, daemon=True)
    t.start()
    try:
        res = CliRunner().invoke(app, ["capture", "--feed", "profitdll", "--book", "offer_book", "--instruments", SYM,
                                       "--duration", "3", "--data-dir", str(tmp_path)])
    finally:
        stop.set()
        t.join()
    assert res.exit_code == 0, res.output
    assert done.is_set()
    book, members = _replayed(tmp_path)
    for side, dom in ((BUY, 1), (SELL, 2)):
        want = _queues(double, side)
        assert sum(map(len, want.values())) >= 4
        assert set(book.levels[dom - 1]) == set(want)
        for price, queue in want.items():
            assert [(o.order_id, o.qty, members[o.order_id]) for o in book.queue(dom, price)] == queue
    assert not book.crossed()
    # the catalog replay (catalog backtests, ``run --feed replay``) reads it as the order-level book
    cat = Catalog(tmp_path)
    sources = day_sources(cat, SYM, None, None, trades=False)
    cat.close()
    events = list(sources[0])
    assert events and all(type(e) is L3Delta for e in events)
    cfg = tmp_path / "replay.yaml"
    cfg.write_text(yaml.safe_dump({"data_dir": str(tmp_path), "record": False, "persist": False,
                                   "sim": {"symbols": [SYM], "session_date": b3_date(events[0].ts_event).isoformat()}}))
    res = CliRunner().invoke(app, ["run", "--feed", "replay", "--config", str(cfg), "--speed", "max", "--no-status",
                                   "--no-control", "--no-dashboard"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[-1])["book_events"] == len(events)


def test_the_queue_venue_fills_a_resting_order_by_its_place_in_the_recorded_queue(double: Double, dll_path: str,
                                                                                  tmp_path: Path) -> None:
    feed, _ = open_profitdll(config(dll_path, book_depth=True, book_source="offer_book", market_only=True), weekdays)
    recorder = Recorder(StorageConfig(data_dir=tmp_path))
    recorder.start()
    try:
        feed.connect(recorder)
        feed.subscribe([SYM])
        double.offer_script(SYM, [(ADD, 0, BUY, 5, 10, 1, 120000.0),    # A: first in the queue at 120000
                                  (ADD, 1, BUY, 3, 11, 2, 120000.0),    # B: behind A (one position further)
                                  (ADD, 0, BUY, 9, 12, 3, 120005.0)])   # a better bid: not our level
        settle(double, feed)
        double.offer_script(SYM, [(ADD, 3, BUY, 4, 13, 4, 120000.0)])   # C: joins behind A, B (and us)
        settle(double, feed)
        double.offer_script(SYM, [(DELETE, 1, BUY, 0, 0, 0, 0.0)])      # A leaves: 3 ahead of us
        settle(double, feed)
    finally:
        recorder.stop()
        feed.session.dll.finalize()
    book, _ = _replayed(tmp_path)
    assert [(o.order_id, o.qty) for o in book.queue(1, raw(120000))] == [(2, 3), (4, 4)]
    cat = Catalog(tmp_path)
    events = list(day_sources(cat, SYM, None, None, trades=False)[0])
    cat.close()
    joined_c = next(e.ts_event for e in events if e.order_id == 4)
    a_left = next(e.ts_event for e in events if e.order_id == 1 and e.order_qty == 0)
    last = events[-1].ts_event
    h = Harness([*events, trade(raw(120000), 10, 2, last + 1)])  # a seller takes 10 at our price
    h.at(joined_c - 1, Side.BUY, 10, price=raw(120000))  # we join after A and B, before C
    h.kernel.run(until_ts=a_left - 1)
    assert h.venue.resting() == [(h.orders[0].order_id, 10, 8)]  # A and B ahead; C behind does not count
    h.kernel.run(until_ts=last)
    assert h.venue.resting() == [(h.orders[0].order_id, 10, 3)]
    h.run()
    assert [(f.quantity, f.price) for f in h.fills.fills] == [(7, raw(120000))]  # 10 traded, 3 ahead of us
