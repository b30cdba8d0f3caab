"""Turning events into stored rows: sequence numbers, replay drops, gap detection, part writing.

Shared by the recorder (events from a feed) and the importers (rows parsed from files), so both
obey one rule set: a trade whose number is not above the instrument-day's highest stored one is a
replay and is dropped (unless it is a correction); sequence numbers continue from what is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tradingsystem.adapters.storage.config import StorageConfig
from tradingsystem.adapters.storage.parts import (
    TMP_DIR,
    list_parts,
    part_name,
    part_segment,
    read_partition,
    write_table_atomic,
)
from tradingsystem.adapters.storage.schema import (
    ACTION_SNAPSHOT,
    B3_UTC_OFFSET_NS,
    DAY_NS,
    FLAG_CORRECTION,
    SCHEMAS,
    StorageError,
    bar_partition,
    check_symbol,
    partition_dir,
    scale_for,
)
from tradingsystem.adapters.storage.wal import WAL_DIR, list_segments, read_segment, wal_schema
from tradingsystem.backtest.l3book import L3Delta
from tradingsystem.domain.b3 import parse_future
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import Phase, phase_at

log = logging.getLogger(__name__)
_EPOCH_ORD = date(1970, 1, 1).toordinal()
QUARANTINE_DIR = "_quarantine"


REPLAY_WINDOW = 100_000  # trade numbers: a print this far below the highest one stored is a replay


class TradeIds:
    """The trade numbers seen near an instrument-day's top, to tell a replay: new tops arrive in increasing
    order and go to a sorted int64 buffer (8 bytes a number, no Python object each); the few lower numbers
    accepted out of order go to a small set."""

    __slots__ = ("_buf", "_low", "_n")

    def __init__(self, ids: np.ndarray | None = None) -> None:
        held = np.unique(np.asarray(ids, np.int64)) if ids is not None else np.empty(0, np.int64)
        self._buf = np.concatenate((held, np.empty(1024, np.int64)))
        self._n = len(held)
        self._low: set[int] = set()

    def __len__(self) -> int:
        return self._n + len(self._low)

    def __contains__(self, i: int) -> bool:
        if i in self._low:
            return True
        j = int(np.searchsorted(self._buf[:self._n], i))
        return j < self._n and int(self._buf[j]) == i

    def extend_tops(self, ids: np.ndarray) -> None:
        """Append increasing numbers, each above every number held."""
        n, k = self._n, len(ids)
        if n + k > len(self._buf):
            buf = np.empty(max(2 * len(self._buf), n + k), np.int64)
            buf[:n] = self._buf[:n]
            self._buf = buf
        self._buf[n:n + k] = ids
        self._n = n + k

    def add(self, i: int) -> None:
        self._low.add(i)

    def keep_above(self, floor: int) -> None:
        """Forget every number at or below ``floor``."""
        live = self._buf[:self._n]
        kept = live[live > floor]
        self._buf, self._n = np.concatenate((kept, np.empty(max(1024, len(kept)), np.int64))), len(kept)
        self._low = {i for i in self._low if i > floor}


@dataclass
class _DayState:
    seq: int = 0
    max_trade_id: int = 0
    recent_ids: TradeIds = field(default_factory=TradeIds)  # trade numbers near the top, to tell a replay
    last_ts: int = 0
    last_book_seq: int = -1
    max_book_seq: int = -1  # highest feed sequence stored before this run: lower ones are replays
    epoch: int = 0  # ``Ingestor.epoch`` when last used: its rows are in Parquet once that epoch is stored


@dataclass
class RecoveryReport:
    segments: int = 0
    rows: int = 0
    parts: int = 0
    problems: list[str] = field(default_factory=list)


def _asset_class(symbol: str) -> AssetClass:
    parsed = parse_future(symbol)
    if parsed:
        return AssetClass.INDEX_FUTURE if parsed[0] in ("WIN", "IND") else AssetClass.FX_FUTURE
    return AssetClass.STOCK


_SYMBOL = attrgetter("symbol")


def _col(items: Sequence[object], name: str, dtype: type, n: int) -> np.ndarray:
    return np.fromiter(map(attrgetter(name), items), dtype, n)


def days_of(ts: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of B3 local dates, for UTC-ns instants."""
    return (ts + B3_UTC_OFFSET_NS) // DAY_NS


class Ingestor:
    """Per instrument-day state and the code that turns events into WAL-schema batches."""

    def __init__(self, config: StorageConfig) -> None:
        self.config = config
        self.data_dir = config.data_dir
        self._days: dict[tuple[str, int], _DayState] = {}
        self._scales: dict[str, int] = {}
        self._gaps: list[tuple[str, int, str, int, int, int, int, int]] = []
        self._last_segment = 0
        self._silence_ns = int(config.silence_s * 1e9)
        self.newest_day = 0  # the latest instrument-day seen (days since 1970-01-01)
        self.epoch = 0
        """The recorder's count of rolled segments: a state used now has rows in the segment being filled."""

    # ---- state ----
    def scale(self, symbol: str) -> int:
        s = self._scales.get(symbol)
        if s is None:
            check_symbol(symbol)
            s = scale_for(symbol, self.config.scales, self.config.default_scale)
            self._scales[symbol] = s
        return s

    def state(self, symbol: str, day: int, kind: str = "trades") -> _DayState:
        key = (symbol, day)
        st = self._days.get(key)
        if st is None:
            st = _DayState()
            d = date.fromordinal(_EPOCH_ORD + day)
            for k in ("trades", "book", "bars", "orders"):
                cols = ["seq", "trade_id"] if k == "trades" else ["seq", "sequence"] if k == "book" else ["seq"]
                t = read_partition(self.data_dir, k, symbol, d, cols)
                if t.num_rows:
                    st.seq = max(st.seq, int(pc.max(t.column("seq")).as_py()))
                    if k == "trades":
                        st.max_trade_id = int(pc.max(t.column("trade_id")).as_py())
                        ids = t.column("trade_id").to_numpy()
                        st.recent_ids = TradeIds(ids[ids > st.max_trade_id - REPLAY_WINDOW * self.config.trade_id_step])
                    elif k == "book":
                        st.last_book_seq = st.max_book_seq = int(pc.max(t.column("sequence")).as_py())
            if len(self._days) > 20_000:  # bounded memory: forget instrument-days two days old
                for old in [k for k in self._days if k[1] < day - 1]:
                    del self._days[old]
            self._days[key] = st
            self.newest_day = max(self.newest_day, day)
        st.epoch = self.epoch
        return st

    def forget(self, stored_epoch: int) -> int:
        """Drop the states of instrument-days two days older than the newest one whose rows are all in
        Parquet (last used at or before ``stored_epoch``); an event for such a day reloads its state from
        the parts. Keeps memory flat over weeks: a day's trade numbers are the bulk of it."""
        old = [k for k, st in self._days.items() if k[1] < self.newest_day - 1 and st.epoch <= stored_epoch]
        for k in old:
            del self._days[k]
        return len(old)

    def new_segment_id(self) -> int:
        seg = max(time.time_ns(), self._last_segment + 1)
        self._last_segment = seg
        return seg

    # ---- events to batches ----
    def _gap(self, symbol: str, day: int, kind: str, t0: int, t1: int, a: int, b: int, missing: int) -> None:
        self._gaps.append((symbol, day, kind, t0, t1, a, b, missing))

    def take_gaps(self) -> pa.RecordBatch | None:
        if not self._gaps:
            return None
        gaps, self._gaps = self._gaps, []
        seqs = []
        for g in gaps:
            st = self.state(g[0], g[1])
            st.seq += 1
            seqs.append(st.seq)
        cols = list(zip(*gaps, strict=True))
        return pa.RecordBatch.from_arrays(
            [pa.array(cols[0], pa.string()), pa.array(cols[1], pa.int32()).cast(pa.date32()),
             pa.array(cols[2], pa.string()), *(pa.array(c, pa.int64()) for c in cols[3:]),
             pa.array(seqs, pa.int64())],
            schema=wal_schema("gaps"),
        )

    def overflow_gaps(self, dropped: dict[str, list[int]]) -> None:
        for sym, (n, t0, t1) in dropped.items():
            day = int(days_of(np.array([t1]))[0])
            self._gap(sym, day, "overflow", t0, t1, 0, 0, n)

    def _check_silence(self, sym: str, day: int, st: _DayState, ts: np.ndarray) -> None:
        if not len(ts):
            return
        prev = np.concatenate(([st.last_ts or ts[0]], ts[:-1]))
        idx = np.nonzero(ts - prev > self._silence_ns)[0]
        ac = _asset_class(sym)
        for i in idx:
            cont = Phase.CONTINUOUS
            if phase_at(ac, int(prev[i])) is cont and phase_at(ac, int(ts[i])) is cont:
                self._gap(sym, day, "silence", int(prev[i]), int(ts[i]), 0, 0, 0)
        st.last_ts = max(st.last_ts, int(ts[-1]))

    def trades(self, ticks: Sequence[TradeTick], corrections: np.ndarray | None = None
               ) -> tuple[pa.RecordBatch, int]:
        """WAL batch of new trades and how many replays were dropped."""
        n = len(ticks)
        sym = list(map(_SYMBOL, ticks))
        ts = _col(ticks, "ts_event", np.int64, n)
        tid = _col(ticks, "trade_id", np.int64, n)
        day = days_of(ts)
        keep = np.ones(n, dtype=bool)
        seq = np.zeros(n, dtype=np.int64)
        flags = np.zeros(n, dtype=np.int8)
        if corrections is not None:
            flags[corrections] = FLAG_CORRECTION
        symbols = sorted(set(sym))
        if len(symbols) > 1:
            index = {x: i for i, x in enumerate(symbols)}
            codes = np.fromiter(map(index.__getitem__, sym), np.int32, n)
        else:
            codes = np.zeros(n, dtype=np.int32)
        step = self.config.trade_id_step
        for code, s in enumerate(symbols):
            mask_s = (codes == code) if len(symbols) > 1 else np.ones(n, dtype=bool)
            for d in np.unique(day[mask_s]):
                m = np.nonzero(mask_s & (day == d))[0]
                st = self.state(s, int(d))
                ids = tid[m]
                prior = np.maximum.accumulate(np.concatenate(([st.max_trade_id], ids)))[:-1]
                k = (ids > prior) | (ids == 0)
                st.recent_ids.extend_tops(ids[ids > prior])
                # below the running top: B3 does not keep trade-number order inside a millisecond, so a
                # lower number is new unless already seen (a replay) or far below the top
                for j in np.flatnonzero(~k):
                    i_ = int(ids[j])
                    if i_ not in st.recent_ids and i_ > int(prior[j]) - REPLAY_WINDOW * step:
                        k[j] = True
                        st.recent_ids.add(i_)
                if corrections is not None:
                    k |= corrections[m]
                keep[m] = k
                kept = m[k]
                seq[kept] = st.seq + 1 + np.arange(len(kept))
                st.seq += len(kept)
                fresh = ids > prior
                new_ids = ids[fresh]
                if len(new_ids):
                    new_ts = ts[m][fresh]
                    jumps = np.diff(np.concatenate(([st.max_trade_id], new_ids)))
                    for j in np.nonzero(jumps > step)[0]:
                        if st.max_trade_id == 0 and j == 0:
                            continue  # first trade of the day: numbering need not start at 1
                        t0 = int(new_ts[j - 1]) if j else st.last_ts
                        last = int(new_ids[j] - jumps[j])
                        self._gap(s, int(d), "trade_id", t0, int(new_ts[j]), last + step,
                                  int(new_ids[j]) - step, int(jumps[j] // step - 1))
                    st.max_trade_id = int(new_ids[-1])
                    if len(st.recent_ids) > 2 * REPLAY_WINDOW:
                        st.recent_ids.keep_above(st.max_trade_id - REPLAY_WINDOW * step)
                self._check_silence(s, int(d), st, ts[kept])
        dups = int(n - keep.sum())
        idx = np.nonzero(keep)[0] if dups else None

        def col(values: object, typ: pa.DataType) -> pa.Array:
            arr = np.asarray(values)
            return pa.array(arr if idx is None else arr[idx], typ)

        scales = np.array([self.scale(x) for x in symbols], dtype=np.int8)[codes]
        sym_col = pa.array(symbols, pa.string()).take(pa.array(codes if idx is None else codes[idx]))
        arrays = [
            sym_col, col(day.astype(np.int32), pa.int32()).cast(pa.date32()),
            col(ts, pa.int64()),
            col(_col(ticks, "ts_init", np.int64, n), pa.int64()),
            col(seq, pa.int64()), col(tid, pa.int64()),
            col(_col(ticks, "price", np.int64, n), pa.int64()),
            col(np.array(scales, dtype=np.int8), pa.int8()),
            col(_col(ticks, "size", np.int64, n), pa.int64()),
            col(_col(ticks, "aggressor", np.int8, n), pa.int8()),
            col(_col(ticks, "buyer", np.int32, n), pa.int32()),
            col(_col(ticks, "seller", np.int32, n), pa.int32()),
            col(flags, pa.int8()),
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=wal_schema("trades")), dups

    def book(self, events: Sequence[BookDelta | BookSnapshot]) -> tuple[pa.RecordBatch, int]:
        """WAL batch of book rows and how many replayed events (feed sequence already stored) were dropped."""
        dups = 0
        rows: list[tuple[str, int, int, int, int, int, int, int, int, int, int, int, int]] = []
        for e in events:
            day = (e.ts_event + B3_UTC_OFFSET_NS) // DAY_NS
            st = self.state(e.symbol, day)
            sc = self.scale(e.symbol)
            if e.sequence <= st.max_book_seq:
                dups += 1
                continue
            if type(e) is BookDelta:
                if st.last_book_seq >= 0 and e.sequence != st.last_book_seq + 1:
                    self._gap(e.symbol, day, "book_sequence", st.last_ts, e.ts_event, st.last_book_seq,
                              e.sequence, max(0, e.sequence - st.last_book_seq - 1))
                st.last_book_seq = e.sequence
                st.seq += 1
                rows.append((e.symbol, day, e.ts_event, e.ts_init, st.seq, e.sequence, e.side, e.price, sc,
                             e.size, e.action, e.orders, 0))
            else:
                assert isinstance(e, BookSnapshot)
                st.last_book_seq = e.sequence
                for side, levels in ((1, e.bids), (2, e.asks)):
                    for lvl, (price, size) in enumerate(levels):
                        st.seq += 1
                        rows.append((e.symbol, day, e.ts_event, e.ts_init, st.seq, e.sequence, side, price,
                                     sc, size, ACTION_SNAPSHOT, 0, lvl))
        schema = wal_schema("book")
        if not rows:
            return pa.RecordBatch.from_pylist([], schema), dups
        cols = list(zip(*rows, strict=True))
        arrays = [pa.array(cols[0], pa.string()), pa.array(cols[1], pa.int32()).cast(pa.date32())]
        arrays += [pa.array(c, f.type) for c, f in zip(cols[2:], list(schema)[2:], strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=schema), dups

    def _next_seq(self, symbol: str, ts: int) -> tuple[int, int]:
        """The B3 day of ``ts`` and the next row sequence of ``symbol`` on that day."""
        day = (ts + B3_UTC_OFFSET_NS) // DAY_NS
        st = self.state(symbol, day)
        st.seq += 1
        return day, st.seq

    def order_messages(self, deltas: Sequence[L3Delta]) -> pa.RecordBatch:
        """WAL batch of ``orders`` rows (the B3 order-message columns ``data import b3-orders`` writes) from
        ``L3Delta``s: ``New`` rests ``quantity`` at the price with the delta's priority time, ``Cancel`` (an order
        quantity of 0) removes it. ``secondary_id`` is the instrument-day's row sequence: the replay order."""
        rows = []
        for e in deltas:
            day, seq = self._next_seq(e.symbol, e.ts_event)
            rows.append({
                "instrument": e.symbol, "date": date.fromordinal(_EPOCH_ORD + day), "ts_event": e.ts_event,
                "seq": seq, "side": e.side, "order_id": e.order_id, "secondary_id": seq,
                "exec_type": "New" if e.order_qty > 0 else "Cancel", "price": e.price, "scale": self.scale(e.symbol),
                "quantity": e.order_qty, "traded": 0, "status": "", "aggressor": 0, "member": e.member,
                "priority_ts": e.priority})
        return pa.RecordBatch.from_pylist(rows, schema=wal_schema("orders"))

    def bars(self, bars: Sequence[Bar]) -> pa.RecordBatch:
        rows = []
        for b in bars:
            day, seq = self._next_seq(b.symbol, b.ts_open)
            rows.append({
                "instrument": b.symbol, "date": bar_partition(date.fromordinal(_EPOCH_ORD + day), b.timeframe),
                "timeframe": b.timeframe,
                "ts_open": b.ts_open, "ts_event": b.ts_event, "ts_init": b.ts_init, "seq": seq,
                "open": b.open, "high": b.high, "low": b.low, "close": b.close, "scale": self.scale(b.symbol),
                "volume": b.volume, "trades": b.trades, "turnover_cents": None,
            })
        return pa.RecordBatch.from_pylist(rows, schema=wal_schema("bars"))

    # ---- parts ----
    def write_parts(self, segment: int, tables: dict[str, pa.Table]) -> int:
        """Split WAL-schema tables by instrument-day and write one part per partition and kind."""
        written = 0
        for kind, table in tables.items():
            if table.num_rows == 0:
                continue
            keys = pa.table({"i": table.column("instrument"), "d": table.column("date")})
            groups = keys.group_by(["i", "d"]).aggregate([]).to_pylist()
            for g in groups:
                mask = pc.and_(pc.equal(table.column("instrument"), g["i"]),
                               pc.equal(table.column("date"), g["d"]))
                part = table.filter(mask).drop_columns(["instrument", "date"])
                final = partition_dir(self.data_dir, kind, g["i"], g["d"]) / part_name(segment)
                if final.exists() or self._compacted_beyond(final.parent, segment):
                    continue  # already written before a crash: parts are idempotent per segment
                write_table_atomic(self.data_dir, final, part.cast(SCHEMAS[kind]), kind,
                                   self.config.compression, self.config.compression_level, self.config.fsync)
                written += 1
        return written

    @staticmethod
    def _compacted_beyond(day_dir: Path, segment: int) -> bool:
        if not day_dir.is_dir():
            return False
        for p in day_dir.glob("*-c.parquet"):
            info = part_segment(p.name)
            if info and info[0] >= segment:
                return True
        return False


def recover(config: StorageConfig) -> RecoveryReport:
    """Roll every leftover write-ahead segment into Parquet; quarantine damaged segment files."""
    report = RecoveryReport()
    data_dir = config.data_dir
    tmp = data_dir / TMP_DIR
    if tmp.is_dir():
        for p in tmp.iterdir():
            p.unlink(missing_ok=True)
    ing = Ingestor(config)
    for segment, files in sorted(list_segments(data_dir).items()):
        tables = {}
        for kind, path in files.items():
            read = read_segment(path, kind)
            if read.error:
                report.problems.append(read.error)
                log.warning(read.error)
            tables[kind] = read.table
            report.rows += read.table.num_rows
        report.parts += ing.write_parts(segment, tables)
        for kind, path in files.items():
            if tables[kind].num_rows == 0 and path.stat().st_size > 64:
                q = data_dir / QUARANTINE_DIR  # unreadable from the start: keep it for a human
                q.mkdir(exist_ok=True)
                path.replace(q / path.name)
            else:
                path.unlink(missing_ok=True)
        report.segments += 1
    return report


def all_part_files(data_dir: Path) -> list[Path]:
    out: list[Path] = []
    for kind in SCHEMAS:
        out.extend(list_parts(data_dir, kind))
    return out


__all__ = ["WAL_DIR", "Ingestor", "RecoveryReport", "StorageError", "all_part_files", "recover"]
