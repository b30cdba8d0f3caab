"""Recorder: every event stored once, sequence numbers, replays, corrections, gaps, overflow, WAL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.adapters.storage import Catalog, Recorder, StorageError, recover
from tradingsystem.adapters.storage.ingest import Ingestor, TradeIds
from tradingsystem.adapters.storage.parts import check_part, read_part
from tradingsystem.adapters.storage.schema import META_VERSION, SCHEMA_VERSION, b3_ns
from tradingsystem.adapters.storage.wal import WalWriter, segment_path
from tradingsystem.domain.events import Bar, BookSnapshot, TradeTick

from .helpers import DAY, T0, config, deltas, record, ticks


def test_trades_and_book_round_trip_with_real_prices(tmp_path):
    tt = ticks(n=500) + ticks("PETR4", n=300, base=3750, tick=1, seed=3)
    dd = deltas(n=50)
    rec = record(config(tmp_path, part_rows=200), [*tt, *dd])
    assert rec.stats.written == 850 and rec.stats.dropped == 0 and rec.stats.duplicates == 0
    cat = Catalog(tmp_path)
    rows = cat.query("SELECT instrument, trade_id, price, price_raw, size, ts_event, ts_init, seq FROM trades "
                     "ORDER BY instrument, seq").to_pylist()
    assert len(rows) == 800
    petr = [r for r in rows if r["instrument"] == "PETR4"]
    src = [t for t in tt if t.symbol == "PETR4"]
    assert [r["trade_id"] for r in petr] == [t.trade_id for t in src]
    assert [r["seq"] for r in petr] == list(range(1, 301))
    assert str(petr[0]["price"]) == f"{src[0].price / 100:.2f}" + "0000"
    assert all(r["ts_init"] == t.ts_init for r, t in zip(petr, src, strict=True))
    book = cat.query("SELECT count(*) AS n, min(sequence) AS a, max(sequence) AS b FROM book").to_pylist()[0]
    assert book == {"n": 50, "a": 1, "b": 50}


def test_parts_carry_schema_version_and_live_in_hive_layout(tmp_path):
    record(config(tmp_path), ticks(n=10))
    files = list((tmp_path / "trades").rglob("*.parquet"))
    assert len(files) == 1
    assert files[0].parent.name == f"date={DAY.isoformat()}"
    assert files[0].parent.parent.name == "instrument=WINZ26"
    meta = pq.read_schema(files[0]).metadata
    assert meta[META_VERSION].decode() == SCHEMA_VERSION
    assert check_part(files[0]) == (10, SCHEMA_VERSION)


def test_replayed_trades_are_not_stored_twice(tmp_path):
    tt = ticks(n=200)
    record(config(tmp_path), tt[:150])
    rec = record(config(tmp_path), tt)  # a feed reconnect replays from the start
    assert rec.stats.duplicates == 150
    got = Catalog(tmp_path).query("SELECT count(*) n, count(DISTINCT trade_id) d, max(seq) s FROM trades")
    assert got.to_pylist() == [{"n": 200, "d": 200, "s": 200}]


def test_replayed_book_events_are_not_stored_twice(tmp_path):
    dd = deltas(n=60)
    record(config(tmp_path), dd[:40])
    rec = record(config(tmp_path), dd)
    assert rec.stats.duplicates == 40
    got = Catalog(tmp_path).query("SELECT count(*) n, count(DISTINCT sequence) d FROM book").to_pylist()
    assert got == [{"n": 60, "d": 60}]
    assert Catalog(tmp_path).query("SELECT count(*) n FROM gaps").to_pylist() == [{"n": 0}]


def test_correction_replaces_the_original_in_view_and_after_compaction(tmp_path):
    tt = ticks(n=20)
    cfg = config(tmp_path)
    rec = Recorder(cfg)
    rec.start()
    for t in tt:
        rec.on_trade(t)
    fixed = TradeTick(tt[5].symbol, tt[5].price + 5, 99, tt[5].aggressor, tt[5].trade_id, tt[5].ts_event,
                      tt[5].ts_init + 1)
    rec.on_trade_correction(fixed)
    rec.stop()
    cat = Catalog(tmp_path)
    rows = cat.query(f"SELECT size FROM trades WHERE trade_id = {fixed.trade_id}").to_pylist()
    assert rows == [{"size": 99}]
    assert cat.query("SELECT count(*) n FROM trades").to_pylist() == [{"n": 20}]
    assert cat.read_trades("WINZ26").num_rows == 20
    assert cat.compact(before=DAY.replace(day=27)) == 1
    cat.refresh()
    files = list((tmp_path / "trades").rglob("*.parquet"))
    assert len(files) == 1 and files[0].name.endswith("-c.parquet")
    t = read_part(files[0])
    assert t.num_rows == 20
    assert t.column("size").to_pylist()[5] == 99


def test_gaps_trade_number_jump_book_sequence_jump_and_silence(tmp_path):
    tt = ticks(n=10)
    jumped = [*tt[:5], *ticks(n=5, start_id=20, t0=tt[4].ts_event + 1)]  # ids 6..19 missing
    silent = TradeTick("WINZ26", 120_000, 1, 1, 25, jumped[-1].ts_event + 600 * 10**9, 0)  # 10 minutes quiet
    dd = deltas(n=10)
    dd = [*dd[:4], *dd[6:]]  # book sequences 5 and 6 missing
    record(config(tmp_path, silence_s=120), [*jumped, silent, *dd])
    gaps = Catalog(tmp_path).query("SELECT kind, from_id, to_id, missing FROM gaps ORDER BY kind").to_pylist()
    kinds = {g["kind"]: g for g in gaps}
    assert kinds["trade_id"] == {"kind": "trade_id", "from_id": 6, "to_id": 19, "missing": 14}
    assert kinds["book_sequence"]["missing"] == 2
    assert "silence" in kinds
    assert {s["gaps"] for s in Catalog(tmp_path).summary()} == {len(gaps)}


def test_queue_overflow_is_counted_and_recorded_as_a_gap(tmp_path):
    rec = Recorder(config(tmp_path, queue_size=16))  # not started: nothing drains the queue
    tt = ticks(n=40)
    for t in tt:
        rec.on_trade(t)
    assert rec.stats.dropped == 24 and rec.queued == 16
    rec.start()
    rec.stop()
    cat = Catalog(tmp_path)
    assert cat.query("SELECT count(*) n FROM trades").to_pylist() == [{"n": 16}]
    assert cat.query("SELECT kind, missing FROM gaps").to_pylist() == [{"kind": "overflow", "missing": 24}]


def test_flush_makes_events_durable_in_the_write_ahead_log(tmp_path):
    cfg = config(tmp_path, part_rows=10**9, part_interval_s=3600)
    rec = Recorder(cfg)
    rec.start()
    for t in ticks(n=100):
        rec.on_trade(t)
    rec.flush()
    wal = list((tmp_path / "_wal").glob("*.arrows"))
    assert len(wal) == 1 and rec.stats.trades_in == 100
    assert not list((tmp_path / "trades").rglob("*.parquet"))  # not rolled yet
    # A crash now (the thread never stops) leaves the log; recovery turns it into Parquet.
    report = recover(cfg)
    assert report.rows == 100 and report.parts == 1
    assert Catalog(tmp_path).query("SELECT count(*) n FROM trades").to_pylist() == [{"n": 100}]
    rec.stop()  # rolls the same segment: the part already exists, nothing is written twice
    assert Catalog(tmp_path).query("SELECT count(*) n FROM trades").to_pylist() == [{"n": 100}]
    assert rec.stats.errors == []


def test_weeks_of_days_keep_the_state_of_three_days_and_lose_nothing(tmp_path):
    """Memory stays flat over weeks: a new day rolls the log into Parquet and the per-day state of days two
    days old (their trade numbers) is dropped once stored; a late replay of such a day still reads as one."""
    days = [DAY + timedelta(days=i) for i in range(10)]
    rec = Recorder(config(tmp_path))
    rec.start()
    held = []
    for day in days:
        for t in ticks(n=300, t0=b3_ns(day, 10, 0)) + ticks("PETR4", n=200, t0=b3_ns(day, 10, 0), tick=1, base=3750):
            rec.on_trade(t)
        rec.flush(roll=True)
        held.append(len(rec._ingest._days))
    for t in ticks(n=300, t0=b3_ns(days[0], 10, 0)):  # the first day again, long forgotten
        rec.on_trade(t)
    rec.stop()
    assert max(held) <= 2 * 4  # two instruments, at most four days each (ten without the pruning)
    assert rec.stats.duplicates == 300 and rec.stats.errors == [] and rec.stats.written == 10 * 500
    got = Catalog(tmp_path).query("SELECT date, count(*) n, max(seq) s FROM trades WHERE instrument = 'WINZ26' "
                                  "GROUP BY date ORDER BY date").to_pylist()
    assert got == [{"date": d, "n": 300, "s": 300} for d in days]
    assert not list((tmp_path / "_wal").glob("*.arrows"))


def _wal_with(tmp_path, n_batches: int):
    cfg = config(tmp_path)
    ing = Ingestor(cfg)
    w = WalWriter(segment_path(tmp_path, 1, "trades"), "trades", fsync=False)
    tt = ticks(n=10 * n_batches)
    for i in range(n_batches):
        w.append(ing.trades(tt[i * 10:(i + 1) * 10])[0])
    w.sync()
    return cfg, w


def test_torn_write_ahead_tail_recovers_complete_batches(tmp_path):
    cfg, w = _wal_with(tmp_path, 3)
    size = w.path.stat().st_size
    with open(w.path, "r+b") as fh:
        fh.truncate(size - 40)  # the last batch was half written when the process died
    report = recover(cfg)
    assert report.rows == 20
    assert report.problems and "torn or corrupt write-ahead segment" in report.problems[0]
    assert str(w.path) in report.problems[0]
    assert not list((tmp_path / "_wal").glob("*.arrows"))


def test_garbage_write_ahead_file_is_quarantined_with_a_clear_error(tmp_path):
    cfg = config(tmp_path)
    (tmp_path / "_wal").mkdir()
    bad = segment_path(tmp_path, 5, "trades")
    bad.write_bytes(b"this is not an arrow stream" * 10)
    report = recover(cfg)
    assert report.rows == 0 and str(bad) in report.problems[0]
    assert (tmp_path / "_quarantine" / bad.name).exists()


def test_truncated_parquet_part_gives_a_clear_error(tmp_path):
    record(config(tmp_path), ticks(n=100))
    part = next((tmp_path / "trades").rglob("*.parquet"))
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match="corrupt or truncated"):
        check_part(part)
    with pytest.raises(StorageError, match=part.name):
        read_part(part)
    cat = Catalog(tmp_path)  # the catalog stays usable: the part is quarantined with a warning naming it
    assert part.name in cat.warnings[0] and cat.query("SELECT count(*) AS n FROM trades").to_pylist() == [{"n": 0}]


def test_snapshots_and_bars_are_stored(tmp_path):
    rec = Recorder(config(tmp_path))
    rec.start()
    rec.on_book_snapshot(BookSnapshot("WINZ26", ((120_000, 5), (119_995, 3)), ((120_005, 2),), 7, T0, T0))
    rec.on_bar(Bar("WINZ26", "1m", 120_000, 120_010, 119_995, 120_005, 42, 9, T0, T0 + 60 * 10**9, T0 + 60 * 10**9))
    rec.stop()
    cat = Catalog(tmp_path)
    assert cat.query("SELECT side, level, size FROM book ORDER BY side, level").to_pylist() == [
        {"side": 1, "level": 0, "size": 5}, {"side": 1, "level": 1, "size": 3}, {"side": 2, "level": 0, "size": 2}]
    bar = cat.query("SELECT open, high, volume, trades, date FROM bars").to_pylist()[0]
    assert (str(bar["open"]), str(bar["high"]), bar["volume"], bar["trades"], bar["date"]) == (
        "120000.000000", "120010.000000", 42, 9, DAY)


def test_bad_symbol_is_rejected_loudly_and_recorder_reports_it(tmp_path):
    errors: list[str] = []
    rec = Recorder(config(tmp_path), on_error=errors.append)
    rec.start()
    rec.on_trade(TradeTick("../etc", 1, 1, 0, 1, T0, T0))
    rec.stop()
    assert rec.failed and errors and "cannot be stored" in errors[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=1, max_size=120))
def test_trade_numbers_out_of_order_are_stored_once(ids):
    """B3 does not keep trade-number order inside a millisecond: a lower number not seen yet is new, one
    seen is a replay, whatever the order (the compact number set against a plain set)."""
    ing = Ingestor(config(Path("/nonexistent")))
    tt = [TradeTick("WINZ26", 120_000, 1, 1, i, T0 + n, T0 + n) for n, i in enumerate(ids)]
    kept: list[int] = []
    for a in range(0, len(tt), 7):  # in chunks, as the recorder thread drains them
        kept += ing.trades(tt[a:a + 7])[0].column("trade_id").to_pylist()
    seen: set[int] = set()
    assert kept == [i for i in ids if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]


def test_trade_number_set_keeps_only_numbers_above_the_floor():
    ids = TradeIds(np.array([5, 3, 9]))
    ids.extend_tops(np.array([10, 12, 40]))
    ids.add(7)
    assert [i in ids for i in (3, 5, 7, 8, 9, 10, 11, 12, 40, 41)] == [True, True, True, False, True, True,
                                                                          False, True, True, False]
    ids.keep_above(9)
    assert len(ids) == 3 and 9 not in ids and 7 not in ids and 10 in ids and 40 in ids
