"""The recorder: a data sink that persists every event without losing any.

Producers call ``on_trade``/``on_book_delta``/``on_book_snapshot``/``on_bar``, which only append to a
bounded deque. The recorder thread drains it, assigns a per-instrument-day sequence number, drops
replayed trades, detects gaps, appends Arrow batches to the write-ahead log and fsyncs it at least every
``flush_interval_ms``; it rolls the log into Parquet parts every ``part_rows`` rows, ``part_interval_s``
seconds or when a new day starts. The roll thread reads a closed segment back from the log, so memory holds
only the queue, never a segment's rows; the per-day state of days two days old is dropped once their rows
are in Parquet. On start it recovers leftover log segments. When a write fails (a full
disk) it stops accepting events, keeps what was flushed, and reports the error.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tradingsystem.adapters.storage.config import StorageConfig
from tradingsystem.adapters.storage.ingest import Ingestor, RecoveryReport, recover
from tradingsystem.adapters.storage.schema import StorageError
from tradingsystem.adapters.storage.wal import WalWriter, read_segment, segment_path
from tradingsystem.backtest.l3book import L3Delta
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick

log = logging.getLogger(__name__)


class _FlushMarker:
    __slots__ = ("n", "roll")

    def __init__(self, n: int, roll: bool = False) -> None:
        self.n = n
        self.roll = roll  # also close the segment into Parquet


class _Correction:
    __slots__ = ("tick",)

    def __init__(self, tick: TradeTick) -> None:
        self.tick = tick


@dataclass
class RecorderStats:
    accepted: int = 0
    trades_in: int = 0  # trade events processed, replays included, in arrival order
    written: int = 0
    duplicates: int = 0
    dropped: int = 0  # queue overflow, each one loud and recorded as an "overflow" gap
    queue_peak: int = 0  # most events seen waiting in the queue (its memory high-water mark)
    gaps: int = 0
    flushes: int = 0
    parts: int = 0
    recovered_rows: int = 0
    errors: list[str] = field(default_factory=list)


class Recorder:
    """Data sink that writes trades, book events and bars to the catalog under ``config.data_dir``."""

    def __init__(
        self,
        config: StorageConfig,
        overflow: str = "drop",
        on_error: Callable[[str], None] | None = None,
        on_flush: Callable[[RecorderStats], None] | None = None,
    ) -> None:
        if overflow not in ("drop", "block"):
            raise ValueError("overflow must be 'drop' or 'block'")
        self.config = config
        self.stats = RecorderStats()
        self._overflow_block = overflow == "block"
        self._on_error = on_error
        self._on_flush = on_flush
        self._q: deque[Any] = deque()
        self._max = config.queue_size
        self._dropped_by_symbol: dict[str, list[int]] = {}
        self._drop_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._roller: threading.Thread | None = None
        self._rolls: queue.Queue[tuple[int, int, dict[str, Path]] | None] = queue.Queue(maxsize=2)
        self._roll_error: BaseException | None = None
        self._stored_epoch = -1  # the last roll (``Ingestor.epoch``) whose parts are written
        self._forgot = -1  # the stored epoch the per-day state was last pruned at
        self._stop = threading.Event()
        self._flush_req = 0
        self._flush_done = 0
        self._cv = threading.Condition()
        self._failed = False
        self._ingest = Ingestor(config)
        self._writers: dict[str, WalWriter] = {}
        self._segment = 0
        self._segment_rows = 0
        self._segment_opened = 0.0
        self._segment_day = 0  # the newest day when the segment opened: a later one rolls it
        self.recovery: RecoveryReport | None = None

    # ---- producer side (any thread, non-blocking) ----
    def _put(self, item: Any, symbol: str, ts: int) -> None:
        q = self._q
        if len(q) < self._max:
            q.append(item)
            return
        if self._overflow_block and not self._failed:
            while len(q) >= self.config.queue_size and not self._failed and self._thread is not None:
                time.sleep(0.0005)
            if not self._failed:
                q.append(item)
                return
        with self._drop_lock:
            self.stats.dropped += 1
            rec = self._dropped_by_symbol.setdefault(symbol, [0, ts, ts])
            rec[0] += 1
            rec[2] = ts
        if self.stats.dropped in (1, 10, 100, 1000) or self.stats.dropped % 100_000 == 0:
            log.error("recorder queue full or failed: %d events dropped so far (recorded as gaps)",
                      self.stats.dropped)

    def on_trade(self, tick: TradeTick) -> None:
        if len(self._q) < self._max:
            self._q.append(tick)
        else:
            self._put(tick, tick.symbol, tick.ts_event)

    def on_trade_correction(self, tick: TradeTick) -> None:
        """An edited trade: stored and preferred over the earlier row with the same trade number."""
        self._put(_Correction(tick), tick.symbol, tick.ts_event)

    def on_book_delta(self, delta: BookDelta) -> None:
        if len(self._q) < self._max:
            self._q.append(delta)
        else:
            self._put(delta, delta.symbol, delta.ts_event)

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None:
        self._put(snapshot, snapshot.symbol, snapshot.ts_event)

    def on_bar(self, bar: Bar) -> None:
        self._put(bar, bar.symbol, bar.ts_event)

    @property
    def queued(self) -> int:
        return len(self._q)

    @property
    def failed(self) -> bool:
        return self._failed

    # ---- lifecycle ----
    def start(self) -> RecoveryReport:
        """Recover leftover log segments into Parquet, then start the writer thread."""
        if self._thread is not None:
            raise RuntimeError("recorder already started")
        self.recovery = recover(self.config)
        self.stats.recovered_rows = self.recovery.rows
        self._stop.clear()
        self._roller = threading.Thread(target=self._roll_worker, name="recorder-roll", daemon=True)
        self._roller.start()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        return self.recovery

    def flush(self, timeout: float = 30.0, roll: bool = False) -> None:
        """Block until everything enqueued before this call is fsynced to the log; with ``roll``, until it is
        in Parquet parts too (the end of a session) and the per-day state no longer needed is let go."""
        if self._thread is None:
            return
        with self._cv:
            self._flush_req += 1
            target = self._flush_req
            self._q.append(_FlushMarker(target, roll))
            self._cv.wait_for(lambda: self._flush_done >= target or self._failed, timeout)
            if roll:
                self._cv.wait_for(lambda: self._stored_epoch >= self._ingest.epoch - 1
                                  or self._roll_error is not None or self._failed, timeout)
        if roll:
            self.flush(timeout)  # the writer thread prunes the per-day state once the parts are written

    def stop(self) -> None:
        """Drain the queue, fsync, roll everything into Parquet and stop the thread."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        if self._roller is not None:
            self._rolls.put(None)
            self._roller.join()
            self._roller = None
        if self._roll_error is not None and not self._failed:
            self._fail(self._roll_error)

    # ---- writer thread ----
    def _run(self) -> None:
        interval = self.config.flush_interval_ms / 1000.0
        last_flush = time.monotonic()
        q = self._q
        try:
            while True:
                if self._roll_error is not None:
                    raise self._roll_error
                if self._stored_epoch > self._forgot:  # days two days old and already in Parquet
                    self._forgot = self._stored_epoch
                    self._ingest.forget(self._forgot)
                stopping = self._stop.is_set()
                n = len(q)
                marker, roll = 0, False
                if n > self.stats.queue_peak:
                    self.stats.queue_peak = n
                if n:
                    chunk = [q.popleft() for _ in range(min(n, 262_144))]
                    marker, roll = self._write(chunk)
                now = time.monotonic()
                if roll:
                    self._roll()
                if marker or now - last_flush >= interval or (stopping and not q):
                    self._sync(marker)
                    last_flush = now
                if self._segment and (
                    self._segment_rows >= self.config.part_rows
                    or now - self._segment_opened >= self.config.part_interval_s
                    or self._ingest.newest_day > self._segment_day
                ):
                    self._roll()
                if stopping and not q:
                    self._roll()
                    return
                if not q:
                    time.sleep(min(interval / 4, 0.005))
        except Exception as exc:  # a full disk, a permission error: stop cleanly and say so
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        msg = f"recorder stopped: {type(exc).__name__}: {exc}"
        log.error(msg)
        self.stats.errors.append(msg)
        self._failed = True
        self._max = 0  # every later event goes to the counted, loud overflow path
        for w in self._writers.values():
            try:
                w.close()
            except Exception:
                pass
        self._writers.clear()
        with self._cv:
            self._cv.notify_all()
        if self._on_error:
            self._on_error(msg)

    def _write(self, chunk: list[Any]) -> tuple[int, bool]:
        """Append a chunk to the log; return the highest flush marker in it (0 if none) and whether one asks
        for a roll."""
        marker, roll = 0, False
        trades: list[TradeTick] = []
        corr: list[bool] = []
        book: list[BookDelta | BookSnapshot] = []
        orders: list[L3Delta] = []  # the order-level book (ProfitDLL offer book): stored as order messages
        bars: list[Bar] = []
        if len(set(map(type, chunk))) == 1 and type(chunk[0]) is TradeTick:
            trades, chunk = chunk, []
        for e in chunk:
            t = type(e)
            if t is TradeTick:
                trades.append(e)
                corr.append(False)
            elif t is BookDelta or t is BookSnapshot:
                book.append(e)
            elif t is L3Delta:
                orders.append(e)
            elif t is Bar:
                bars.append(e)
            elif t is _Correction:
                trades.append(e.tick)
                corr.append(True)
            elif t is _FlushMarker:
                marker = max(marker, e.n)
                roll = roll or e.roll
        self.stats.accepted += len(trades) + len(book) + len(orders) + len(bars)
        self.stats.trades_in += len(trades)
        out: dict[str, pa.RecordBatch] = {}
        if trades:
            batch, dups = self._ingest.trades(trades, np.array(corr, dtype=bool) if any(corr) else None)
            self.stats.duplicates += dups
            out["trades"] = batch
        if book:
            out["book"], dups = self._ingest.book(book)
            self.stats.duplicates += dups
        if orders:
            out["orders"] = self._ingest.order_messages(orders)
        if bars:
            out["bars"] = self._ingest.bars(bars)
        if self._dropped_by_symbol:
            with self._drop_lock:
                dropped, self._dropped_by_symbol = self._dropped_by_symbol, {}
            self._ingest.overflow_gaps(dropped)
        gaps = self._ingest.take_gaps()
        if gaps is not None:
            out["gaps"] = gaps
            self.stats.gaps += gaps.num_rows
        for kind, batch in out.items():
            if batch.num_rows:
                self._append(kind, batch)
        return marker, roll

    def _append(self, kind: str, batch: pa.RecordBatch) -> None:
        if not self._segment:
            self._segment = self._ingest.new_segment_id()
            self._segment_opened = time.monotonic()
            self._segment_rows = 0
            self._segment_day = self._ingest.newest_day
        w = self._writers.get(kind)
        if w is None:
            w = WalWriter(segment_path(self.config.data_dir, self._segment, kind), kind, self.config.fsync)
            self._writers[kind] = w
        w.append(batch)
        self._segment_rows += batch.num_rows
        self.stats.written += batch.num_rows

    def _sync(self, target: int) -> None:
        for w in self._writers.values():
            w.sync()
        self.stats.flushes += 1
        with self._cv:
            self._flush_done = max(self._flush_done, target)
            self._cv.notify_all()
        if self._on_flush:
            self._on_flush(self.stats)

    def _roll(self) -> None:
        """Close the current segment and hand it to the roll thread (which writes Parquet, then deletes it)."""
        if not self._segment:
            return
        for w in self._writers.values():
            w.close()
        paths = {k: w.path for k, w in self._writers.items()}
        self._writers.clear()
        epoch = self._ingest.epoch
        self._ingest.epoch += 1
        self._rolls.put((self._segment, epoch, paths))  # at most two segments wait
        self._segment = 0
        self._segment_rows = 0

    def _roll_worker(self) -> None:
        """Parquet encoding runs here, mostly outside the GIL, while the writer keeps draining."""
        while (item := self._rolls.get()) is not None:
            if self._roll_error is not None:
                continue  # the segment stays in the log; the next start recovers it
            segment, epoch, paths = item
            try:
                self.stats.parts += self._ingest.write_parts(segment, _read_back(paths))
                for p in paths.values():
                    p.unlink(missing_ok=True)
                release_memory()  # the allocators keep the roll's pages otherwise
                self._stored_epoch = epoch
            except Exception as exc:
                self._roll_error = exc
            with self._cv:
                self._cv.notify_all()


def _libc_trim() -> Callable[[], object]:
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    return lambda: trim(0)


_trim = _libc_trim()


def release_memory() -> None:
    """Hand freed memory back to the OS: the Arrow pool's cached pages and glibc's free heap pages (without
    this the process keeps its high-water mark of every roll: RSS creeps over weeks)."""
    pa.default_memory_pool().release_unused()
    _trim()


def _read_back(paths: dict[str, Path]) -> dict[str, pa.Table]:
    """A closed segment's tables, from the log (the page cache, usually); any damage is an error. A file gone
    was rolled by a recovery already (``recover`` while this recorder ran)."""
    tables = {}
    for kind, path in paths.items():
        if not path.exists():
            continue
        read = read_segment(path, kind)
        if read.error:
            raise StorageError(read.error)
        tables[kind] = read.table
    return tables
