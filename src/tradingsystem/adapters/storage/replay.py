"""A MarketDataFeed that replays stored trades (and book rows) from a catalog, in event-time order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from tradingsystem.adapters.storage.catalog import Catalog
from tradingsystem.domain.events import TradeTick
from tradingsystem.ports.protocols import DataSink


class ReplayFeed:
    """``ports.MarketDataFeed`` over recorded trades, one B3 day at a time (memory bounded by a day)."""

    def __init__(self, data_dir: Path, start: date | None = None, end: date | None = None) -> None:
        self.catalog = Catalog(data_dir)
        self.start, self.end = start, end
        self._sink: DataSink | None = None
        self._symbols: list[str] | None = None
        self._it: Iterator[TradeTick] | None = None
        self._next: TradeTick | None = None

    def connect(self, sink: DataSink) -> None:
        self._sink = sink

    def subscribe(self, symbols: Iterable[str]) -> None:
        self._symbols = list(symbols)
        self._it = None

    def _days(self) -> list[tuple[date, list[str]]]:
        by_day: dict[date, list[str]] = {}
        for p in self.catalog.partitions("trades"):
            if self._symbols is not None and p.instrument not in self._symbols:
                continue
            if (self.start and p.day < self.start) or (self.end and p.day > self.end):
                continue
            by_day.setdefault(p.day, []).append(p.instrument)
        return sorted(by_day.items())

    def _ticks(self) -> Iterator[TradeTick]:
        for day, symbols in self._days():
            tables = []
            for s in symbols:
                t = self.catalog.read_trades(s, day, day)
                tables.append(t.append_column("symbol", pa.array([s] * t.num_rows, pa.string())))
            t = pa.concat_tables(tables)
            t = t.take(np.argsort(t.column("ts_event").to_numpy(), kind="stable"))
            cols = {c: t.column(c).to_pylist() for c in
                    ("symbol", "price", "size", "aggressor", "trade_id", "ts_event", "ts_init", "buyer", "seller")}
            for row in zip(*cols.values(), strict=True):
                yield TradeTick(*row)

    def next_ts(self) -> int | None:
        if self._it is None:
            self._it = self._ticks()
            self._next = next(self._it, None)
        return self._next.ts_event if self._next is not None else None

    def step(self) -> None:
        if self.next_ts() is None:
            return
        tick = self._next
        assert tick is not None and self._it is not None
        self._next = next(self._it, None)
        if self._sink is not None:
            self._sink.on_trade(tick)

    def close(self) -> None:
        self.catalog.close()
