"""The catalog: DuckDB views over the hive-partitioned Parquet files, listings, bars and compaction.

Views (prices as exact DECIMAL(18,6) real prices, raw integers beside them):
``trades``, ``book``, ``bars``, ``gaps``, ``orders``; ``*_raw`` views hold the stored columns. Filters on
``instrument`` and ``date`` prune partitions. Corrected trades replace the earlier row with the same
trade number in the ``trades`` view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradingsystem.adapters.storage.integrity import verified_parts
from tradingsystem.adapters.storage.parts import (
    check_part,
    has_corrections,
    latest_trades,
    list_parts,
    part_name,
    part_segment,
    read_part,
    write_table_atomic,
)
from tradingsystem.adapters.storage.schema import DAY_NS, SCHEMAS, StorageError, check_symbol
from tradingsystem.domain.b3 import asset_class_of
from tradingsystem.features.bars import BAR_COLUMNS, Timeframe, bars_from_trades
from tradingsystem.features.guards import trade_order
from tradingsystem.features.mtf import resample_bars

_PRICE = "CAST(CAST({c} AS DECIMAL(18,0)) * CAST(pow(10, -scale) AS DECIMAL(18,6)) AS DECIMAL(18,6))"
_TS = "make_timestamp({c} // 1000)"
# B3 session date of a bar: intraday bars open 09:00-18:30 local, daily bars at local midnight (UTC-3, or
# UTC-2 in old summer times): shifting by 2 hours lands every one of them inside its own day.
_SESSION = "CAST(make_timestamp(({c} - 7200000000000) // 1000) AS DATE)"

_VIEWS = {
    "trades": f"""SELECT instrument, date, {_TS.format(c='ts_event')} AS time, ts_event, ts_init, seq,
        trade_id, {_PRICE.format(c='price')} AS price, price AS price_raw, scale, size, aggressor, buyer,
        seller, flags
        FROM trades_raw t WHERE NOT EXISTS (SELECT 1 FROM trades_raw c WHERE (c.flags & 4) <> 0
          AND c.instrument = t.instrument AND c.date = t.date AND c.trade_id = t.trade_id
          AND c.trade_id <> 0 AND c.seq > t.seq)""",
    "book": f"""SELECT instrument, date, {_TS.format(c='ts_event')} AS time, ts_event, ts_init, seq, sequence,
        side, {_PRICE.format(c='price')} AS price, price AS price_raw, scale, size, action, orders, level
        FROM book_raw""",
    "bars": f"""SELECT instrument, {_SESSION.format(c='ts_open')} AS date, timeframe,
        {_TS.format(c='ts_open')} AS time, ts_open, ts_event,
        {_PRICE.format(c='open')} AS open, {_PRICE.format(c='high')} AS high, {_PRICE.format(c='low')} AS low,
        {_PRICE.format(c='close')} AS close, volume, trades,
        CAST(turnover_cents AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)) AS turnover, seq FROM bars_raw""",
    "gaps": f"""SELECT instrument, date, kind, {_TS.format(c='ts_start')} AS time_start,
        {_TS.format(c='ts_end')} AS time_end, ts_start, ts_end, from_id, to_id, missing FROM gaps_raw""",
    "orders": f"""SELECT instrument, date, {_TS.format(c='ts_event')} AS time, ts_event, seq, side, order_id,
        secondary_id, exec_type, {_PRICE.format(c='price')} AS price, price AS price_raw, scale, quantity,
        traded, status, aggressor, member, priority_ts FROM orders_raw""",
}


@dataclass(frozen=True)
class PartitionInfo:
    kind: str
    instrument: str
    day: date
    files: int
    rows: int


class Catalog:
    """Read side of the data directory. Cheap to build; one per command or request."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.warnings: list[str] = []  # parts quarantined because they failed verification
        self.problems: list[str] = []  # partitions ``compact`` left alone
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET enable_progress_bar = false")
        self.refresh()

    def refresh(self) -> None:
        """(Re)create the views so that newly written partitions are seen; every part served has passed
        its page-checksum verification (:mod:`~tradingsystem.adapters.storage.integrity`)."""
        for kind, schema in SCHEMAS.items():
            files = verified_parts(self.data_dir, kind, self.warnings)
            if files:
                listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
                src = (f"read_parquet([{listed}], hive_partitioning=true, "
                       "hive_types={'instrument': VARCHAR, 'date': DATE}, union_by_name=true)")
            else:
                empty = pa.schema([("instrument", pa.string()), ("date", pa.date32()), *schema]).empty_table()
                self.con.register(f"_{kind}_empty", empty)
                src = f"_{kind}_empty"
            try:
                self.con.execute(f"CREATE OR REPLACE VIEW {kind}_raw AS SELECT * FROM {src}")
                self.con.execute(f"CREATE OR REPLACE VIEW {kind} AS {_VIEWS[kind]}")
            except duckdb.Error as exc:
                raise StorageError(f"catalog {self.data_dir}, {kind}: {exc}") from exc

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        try:
            rel = self.con.sql(sql, params=params) if params else self.con.sql(sql)
            if rel is None:  # a statement without a result (SET, CREATE VIEW ...)
                return pa.table({})
            return rel.to_arrow_table()
        except duckdb.Error as exc:
            raise StorageError(f"query failed: {exc}") from exc

    def close(self) -> None:
        self.con.close()

    # ---- listings ----
    def partitions(self, kind: str | None = None) -> list[PartitionInfo]:
        out = []
        for k in [kind] if kind else list(SCHEMAS):
            by_day: dict[tuple[str, str], list[Path]] = {}
            for p in list_parts(self.data_dir, k):
                by_day.setdefault((p.parent.parent.name, p.parent.name), []).append(p)
            for (inst, day), files in sorted(by_day.items()):
                rows = 0
                for f in files:
                    try:
                        rows += pq.read_metadata(f).num_rows
                    except (OSError, pa.ArrowException) as exc:
                        raise StorageError(f"{f}: unreadable Parquet footer ({exc})") from exc
                out.append(PartitionInfo(k, inst.split("=", 1)[1], date.fromisoformat(day.split("=", 1)[1]),
                                         len(files), rows))
        return out

    def summary(self) -> list[dict[str, Any]]:
        """One row per kind and instrument: days, first and last day, rows, gap rows."""
        parts = self.partitions()
        gaps: dict[str, int] = {}
        for p in parts:
            if p.kind == "gaps":
                gaps[p.instrument] = gaps.get(p.instrument, 0) + p.rows
        agg: dict[tuple[str, str], dict[str, Any]] = {}
        for p in parts:
            if p.kind == "gaps":
                continue
            a = agg.setdefault((p.kind, p.instrument), {
                "kind": p.kind, "instrument": p.instrument, "days": 0, "first": p.day, "last": p.day,
                "rows": 0, "files": 0, "gaps": gaps.get(p.instrument, 0)})
            a["days"] += 1
            a["rows"] += p.rows
            a["files"] += p.files
            a["first"] = min(a["first"], p.day)
            a["last"] = max(a["last"], p.day)
        return list(agg.values())

    # ---- trades and bars ----
    def _day_dirs(self, kind: str, symbol: str, start: date | None, end: date | None) -> list[Path]:
        base = self.data_dir / kind / f"instrument={check_symbol(symbol)}"
        out = []
        for d in sorted(base.glob("date=*")) if base.is_dir() else []:
            day = date.fromisoformat(d.name.split("=", 1)[1])
            if (start is None or day >= start) and (end is None or day <= end):
                out.append(d)
        return out

    def read_trades(self, symbol: str, start: date | None = None, end: date | None = None,
                    columns: list[str] | None = None) -> pa.Table:
        """Trades of one instrument over [start, end] (B3 dates), replays and corrections resolved, in
        (exchange time, trade number) order: B3 does not keep trade-number order inside a millisecond."""
        cols = columns or list(SCHEMAS["trades"].names)
        tables = []
        for d in self._day_dirs("trades", symbol, start, end):
            files = sorted(d.glob("*.parquet"))
            if not files:
                continue
            fix = any(_may_have_corrections(p) for p in files)
            need = list(dict.fromkeys([*cols, "ts_event", "trade_id", *(["seq", "flags"] if fix else [])]))
            parts = [read_part(p, need, verify=True) for p in files]
            t = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
            if fix and has_corrections(t):
                t = latest_trades(t)
            order = trade_order(t.column("ts_event").to_numpy(), t.column("trade_id").to_numpy())
            if len(order) > 1 and not bool(np.all(order[1:] > order[:-1])):
                t = t.take(order)
            tables.append(t.select(cols))
        if not tables:
            return pa.schema([SCHEMAS["trades"].field(c) for c in cols]).empty_table()
        return pa.concat_tables(tables)

    def bars(self, symbol: str, timeframe: str, start: date | None = None, end: date | None = None,
             rejected: dict[str, int] | None = None) -> pa.Table:
        """Bars with raw integer prices, the instrument's ``scale`` and the aggressor split: built from
        trades when there are any, otherwise resampled from the finest stored time bars that divide the
        timeframe. ``rejected`` receives the trades the guard dropped, by reason."""
        tf = Timeframe.parse(timeframe)
        trades = self.read_trades(symbol, start, end, ["ts_event", "trade_id", "price", "scale", "size",
                                                       "aggressor"])
        if trades.num_rows:
            scales = trades.column("scale").to_numpy()
            scale = int(scales[0])
            if not bool(np.all(scales == scale)):
                raise StorageError(f"{symbol}: stored trades mix price scales; cannot build bars")
            c = {k: trades.column(k).to_numpy() for k in ("ts_event", "price", "size", "aggressor", "trade_id")}
            arrays = bars_from_trades(c["ts_event"], c["price"], c["size"], c["aggressor"], c["trade_id"], tf.kind,
                                      tf.n, asset_class_of(symbol), scale, rejected)
            return _bars_table(symbol, tf.text, scale, arrays)
        return self._bars_from_bars(symbol, tf, start, end)

    def _bars_from_bars(self, symbol: str, tf: Timeframe, start: date | None, end: date | None) -> pa.Table:
        first = date(start.year, 1, 1) if start else None
        tables = [read_part(p, verify=True) for d in self._day_dirs("bars", symbol, first, end)
                  for p in sorted(d.glob("*.parquet"))]
        empty = {c: np.zeros(0, np.int64) for c in BAR_COLUMNS}
        if not tables:
            return _bars_table(symbol, tf.text, 0, empty)
        if tf.kind != "time":
            raise StorageError(f"{symbol}: {tf.text} bars need trades; the catalog holds only bars")
        t = pa.concat_tables(tables)
        best: tuple[int, str] | None = None
        for text in set(t.column("timeframe").to_pylist()):
            try:
                src = Timeframe.parse(text)
            except ValueError:
                continue
            if src.kind == "time" and (tf.n % src.n == 0 or tf.n >= DAY_NS) and (best is None or src.n < best[0]):
                best = (src.n, text)
        if best is None:
            raise StorageError(f"{symbol}: no trades and no stored bars that {tf.text} bars can be built from")
        t = t.filter(pc.equal(t.column("timeframe"), best[1]))
        if start or end:
            session = pc.divide(pc.subtract(t.column("ts_open"), 7_200_000_000_000), DAY_NS)
            lo = (start.toordinal() - 719163) if start else -(10**9)
            hi = (end.toordinal() - 719163) if end else 10**9
            t = t.filter(pc.and_(pc.greater_equal(session, lo), pc.less_equal(session, hi)))
        if t.num_rows == 0:
            return _bars_table(symbol, tf.text, 0, empty)
        t = t.take(np.argsort(t.column("ts_open").to_numpy(), kind="stable"))
        scale = int(t.column("scale")[0].as_py())
        c = {k: t.column(k).to_numpy() for k in ("ts_open", "ts_event", "open", "high", "low", "close", "volume",
                                                 "trades")}
        if best[0] == tf.n:
            return _bars_table(symbol, tf.text, scale, c)
        return _bars_table(symbol, tf.text, scale, resample_bars(c, tf.n, asset_class_of(symbol)))

    # ---- compaction ----
    def compact(self, before: date, kinds: tuple[str, ...] = ("trades", "book", "bars", "gaps", "orders")
                ) -> int:
        """Merge every instrument-day before ``before`` into one file; return how many were compacted."""
        done = 0
        for kind in kinds:
            base = self.data_dir / kind
            for day_dir in sorted(base.glob("instrument=*/date=*")) if base.is_dir() else []:
                day = date.fromisoformat(day_dir.name.split("=", 1)[1])
                if day >= before:
                    continue
                try:
                    if compact_partition(self.data_dir, kind, day_dir):
                        done += 1
                except StorageError as exc:
                    self.problems.append(str(exc))
        return done


def _may_have_corrections(path: Path) -> bool:
    """From the footer statistics only: could any row carry the correction flag?"""
    try:
        meta = pq.read_metadata(path)
        idx = meta.schema.to_arrow_schema().get_field_index("flags")
        for rg in range(meta.num_row_groups):
            st = meta.row_group(rg).column(idx).statistics
            if st is None or not st.has_min_max or st.max >= 4 or st.min < 0:
                return True
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(f"{path}: unreadable Parquet footer ({exc})") from exc
    return False


def compact_partition(data_dir: Path, kind: str, day_dir: Path) -> bool:
    """Merge one instrument-day into one file. Every source is verified first (page checksums, row
    count); if one fails nothing is written or deleted and StorageError names it. The merged file is
    verified before the sources are removed."""
    files = sorted(day_dir.glob("*.parquet"))
    segs = [(p, s) for p in files if (s := part_segment(p.name)) is not None]
    if not segs or (len(segs) == 1 and segs[0][1][1]):
        return False
    for p, _ in segs:
        try:
            check_part(p)
        except StorageError as exc:
            raise StorageError(f"compact {day_dir.relative_to(data_dir)}: {exc}; nothing compacted or deleted there"
                               ) from exc
    tables = [read_part(p, verify=True) for p, _ in segs]
    t = pa.concat_tables(tables, promote_options="default").cast(SCHEMAS[kind])
    if kind == "trades":
        t = latest_trades(t)
    else:
        order_col = "ts_open" if kind == "bars" else "ts_start" if kind == "gaps" else "ts_event"
        t = t.take(np.lexsort((t.column("seq").to_numpy(), t.column(order_col).to_numpy())))
    top = max(s[0] for _, s in segs)
    final = day_dir / part_name(top, compacted=True)
    if final.exists():
        final = day_dir / part_name(top, 1, compacted=True)
    write_table_atomic(data_dir, final, t, kind)
    rows, _ = check_part(final)
    if rows != t.num_rows:
        raise StorageError(f"compact {final}: wrote {t.num_rows} rows, read back {rows}; sources kept")
    for p, _ in segs:
        if p != final:
            p.unlink()
    return True


def _bars_table(symbol: str, timeframe: str, scale: int, a: dict[str, np.ndarray]) -> pa.Table:
    n = len(a["ts_open"])
    zero = np.zeros(n, dtype=np.int64)
    return pa.table({
        "instrument": pa.array([symbol] * n, pa.string()), "timeframe": pa.array([timeframe] * n, pa.string()),
        "ts_open": np.asarray(a["ts_open"], np.int64), "ts_event": np.asarray(a["ts_event"], np.int64),
        **{k: np.asarray(a[k], np.int64) for k in ("open", "high", "low", "close")},
        "scale": pa.array(np.full(n, scale, dtype=np.int8)),
        **{k: np.asarray(a.get(k, zero), np.int64) for k in BAR_COLUMNS[6:]},
    })
