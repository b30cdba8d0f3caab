"""Replay of the catalog: trades and book rows of each day merged in exchange-time order.

One path for every replay: ``run --feed replay`` (``ReplayFeed``), ``backtest`` with ``data.source:
catalog`` (``day_sources``) and ``capture --feed replay``. Per instrument and day the sources are the
trades and, where it was recorded, the order-level book (``orders`` rows: B3 order messages, replayed
as ``L3Delta``s that carry queue positions), else the level book (``book`` rows). Ties in time put
trades before book rows: an exchange prints the trades of a match before the book changes it caused.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tradingsystem.adapters.storage.catalog import Catalog
from tradingsystem.backtest.feeds import Event, MergedFeed, book_events, trade_events
from tradingsystem.backtest.l3book import l3_events
from tradingsystem.domain.events import TradeTick
from tradingsystem.ports.protocols import DataSink

__all__ = ["ReplayFeed", "day_sources", "read_book", "read_order_messages"]

TRADE_COLUMNS = ("ts_event", "ts_init", "price", "size", "aggressor", "trade_id", "buyer", "seller")
BOOK_COLUMNS = ["ts_event", "seq", "sequence", "side", "price", "size", "action", "orders"]
ORDER_COLUMNS = ["ts_event", "side", "order_id", "secondary_id", "exec_type", "price", "quantity", "traded",
                 "priority_ts", "aggressor", "member"]


def _read_kind(data_dir: Path, kind: str, symbol: str, lo: date | None, hi: date | None,
               columns: list[str], order_by: str) -> dict[str, np.ndarray] | None:
    base = Path(data_dir) / kind / f"instrument={symbol}"
    tables = []
    for d in sorted(base.glob("date=*")) if base.is_dir() else []:
        day = date.fromisoformat(d.name.split("=", 1)[1])
        if (lo is None or day >= lo) and (hi is None or day <= hi):
            tables += [pq.read_table(f, columns=columns) for f in sorted(d.glob("*.parquet"))]
    if not tables:
        return None
    t = pa.concat_tables(tables)
    if not t.num_rows:
        return None
    key = t.column(order_by).to_numpy()
    order = np.argsort(key, kind="stable")
    if order_by != "ts_event":  # book rows: arrival order within a time
        order = order[np.argsort(t.column("ts_event").to_numpy()[order], kind="stable")]
    return {c: t.column(c).to_numpy(zero_copy_only=False)[order] for c in t.column_names}


def read_book(data_dir: Path, symbol: str, lo: date | None = None, hi: date | None = None
              ) -> dict[str, np.ndarray] | None:
    """Stored book rows of one instrument over [lo, hi] in exchange-time order (arrival order on ties)."""
    return _read_kind(data_dir, "book", symbol, lo, hi, BOOK_COLUMNS, "seq")


def read_order_messages(data_dir: Path, symbol: str, lo: date | None = None, hi: date | None = None
                        ) -> dict[str, np.ndarray] | None:
    """Stored B3 order messages (``orders`` kind) of one instrument, in exchange sequence."""
    return _read_kind(data_dir, "orders", symbol, lo, hi, ORDER_COLUMNS, "secondary_id")


def day_sources(catalog: Catalog, contract: str, lo: date | None, hi: date | None, symbol: str | None = None,
                trades: bool = True, book: bool = True) -> list[Iterable[Event]]:
    """Time-ordered sources of one contract over [lo, hi]: [trades, book] (book: order level where stored).

    ``symbol`` renames the events (a generic ``WINFUT`` series reading its front contract).
    """
    name = symbol or contract
    out: list[Iterable[Event]] = []
    if trades:
        t = catalog.read_trades(contract, lo, hi, list(TRADE_COLUMNS))
        if t.num_rows:
            out.append(trade_events(name, {c: t.column(c).to_numpy() for c in TRADE_COLUMNS}))
    if book:
        l3 = read_order_messages(catalog.data_dir, contract, lo, hi)
        if l3 is not None:
            out.append(l3_events(name, l3))
        else:
            rows = read_book(catalog.data_dir, contract, lo, hi)
            if rows is not None:
                out.append(book_events(name, rows))
    return out


class ReplayFeed:
    """``ports.MarketDataFeed`` over the catalog, one B3 day at a time (memory bounded by a day)."""

    def __init__(self, data_dir: Path, start: date | None = None, end: date | None = None,
                 book: bool = True) -> None:
        self.catalog = Catalog(data_dir)
        self.start, self.end = start, end
        self.book = book
        self._sink: DataSink | None = None
        self._symbols: list[str] | None = None
        self._feed: MergedFeed | None = None
        self.book_events = 0

    def connect(self, sink: DataSink) -> None:
        self._sink = sink
        if self._feed is not None:
            self._feed.connect(sink)

    def subscribe(self, symbols: Iterable[str]) -> None:
        self._symbols = list(symbols)
        self._feed = None

    def _days(self) -> list[tuple[date, list[str]]]:
        by_day: dict[date, set[str]] = {}
        for p in self.catalog.partitions():
            if p.kind not in ("trades", "book", "orders"):
                continue
            if self._symbols is not None and p.instrument not in self._symbols:
                continue
            if (self.start and p.day < self.start) or (self.end and p.day > self.end):
                continue
            by_day.setdefault(p.day, set()).add(p.instrument)
        return [(d, sorted(s)) for d, s in sorted(by_day.items())]

    def _events(self) -> Iterator[Event]:
        for day, symbols in self._days():
            sources: list[Iterable[Event]] = []
            for s in symbols:
                sources += day_sources(self.catalog, s, day, day, book=self.book)
            for ev in heapq.merge(*sources, key=_ts):
                if type(ev) is not TradeTick:
                    self.book_events += 1
                yield ev

    def _merged(self) -> MergedFeed:
        if self._feed is None:
            self._feed = MergedFeed([self._events()])
            if self._sink is not None:
                self._feed.connect(self._sink)
        return self._feed

    def next_ts(self) -> int | None:
        return self._merged().next_ts()

    def step(self) -> None:
        self._merged().step()

    def drain(self, until_ts: int, clock: object, budget: int) -> int:
        return self._merged().drain(until_ts, clock, budget)

    def stats(self) -> dict[str, Any]:
        feed = self._feed
        return {"delivered": feed.delivered if feed else 0, "book_events": self.book_events}

    def close(self) -> None:
        if self._feed is not None:
            self._feed.close()
        self.catalog.close()


def _ts(event: Event) -> int:
    return event.ts_event

