"""Arrow schemas of every stored kind, the hive layout and the per-symbol price scale."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa

from tradingsystem.domain.b3 import FUTURES, parse_future

SCHEMA_VERSION = "1"
META_VERSION = b"tradingsystem.schema_version"
META_KIND = b"tradingsystem.kind"

# flags column of trades
FLAG_CANCELLED = 1
FLAG_CROSS = 2
FLAG_CORRECTION = 4

# action column of book rows (0 SET and 1 DELETE as in BookAction)
ACTION_SNAPSHOT = 2

B3_UTC_OFFSET_NS = -3 * 3600 * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000
B3_TZ = timezone(timedelta(hours=-3))

TRADES = pa.schema([
    ("ts_event", pa.int64()), ("ts_init", pa.int64()), ("seq", pa.int64()),
    ("trade_id", pa.int64()), ("price", pa.int64()), ("scale", pa.int8()), ("size", pa.int64()),
    ("aggressor", pa.int8()), ("buyer", pa.int32()), ("seller", pa.int32()), ("flags", pa.int8()),
])
BOOK = pa.schema([
    ("ts_event", pa.int64()), ("ts_init", pa.int64()), ("seq", pa.int64()), ("sequence", pa.int64()),
    ("side", pa.int8()), ("price", pa.int64()), ("scale", pa.int8()), ("size", pa.int64()),
    ("action", pa.int8()), ("orders", pa.int32()), ("level", pa.int16()),
])
BARS = pa.schema([
    ("timeframe", pa.string()), ("ts_open", pa.int64()), ("ts_event", pa.int64()), ("ts_init", pa.int64()),
    ("seq", pa.int64()), ("open", pa.int64()), ("high", pa.int64()), ("low", pa.int64()),
    ("close", pa.int64()), ("scale", pa.int8()), ("volume", pa.int64()), ("trades", pa.int64()),
    ("turnover_cents", pa.int64()),
])
GAPS = pa.schema([
    ("kind", pa.string()), ("ts_start", pa.int64()), ("ts_end", pa.int64()),
    ("from_id", pa.int64()), ("to_id", pa.int64()), ("missing", pa.int64()), ("seq", pa.int64()),
])
ORDERS = pa.schema([
    ("ts_event", pa.int64()), ("seq", pa.int64()), ("side", pa.int8()), ("order_id", pa.int64()),
    ("secondary_id", pa.int64()), ("exec_type", pa.string()), ("price", pa.int64()), ("scale", pa.int8()),
    ("quantity", pa.int64()), ("traded", pa.int64()), ("status", pa.string()), ("aggressor", pa.int8()),
    ("member", pa.int32()), ("priority_ts", pa.int64()),
])

SCHEMAS: dict[str, pa.Schema] = {
    "trades": TRADES, "book": BOOK, "bars": BARS, "gaps": GAPS, "orders": ORDERS,
}
KINDS = tuple(SCHEMAS)

_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,49}$")


class StorageError(Exception):
    """A storage operation failed; the message says which file and why."""


def check_symbol(symbol: str) -> str:
    if not _SYMBOL_RE.match(symbol):
        raise StorageError(f"symbol {symbol!r} cannot be stored (letters, digits, '_', '.', '-' only)")
    return symbol


def scale_for(symbol: str, overrides: Mapping[str, int] | None = None, default: int = 2) -> int:
    """Decimal places of a symbol's raw price unit: futures from their spec, the rest ``default``."""
    if overrides and symbol in overrides:
        return overrides[symbol]
    parsed = parse_future(symbol)
    if parsed:
        return FUTURES[parsed[0]].scale
    if symbol[:3] in FUTURES and symbol.endswith("FUT"):
        return FUTURES[symbol[:3]].scale
    return default


def b3_date(ts_ns: int) -> date:
    """The B3 local calendar date of a UTC-ns instant (the ``date=`` partition)."""
    return date.fromordinal(719163 + (ts_ns + B3_UTC_OFFSET_NS) // DAY_NS)


def b3_ns(d: date, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> int:
    """UTC ns of a B3 local date and time."""
    dt = datetime(d.year, d.month, d.day, hh, mm, ss, us, tzinfo=B3_TZ)
    return int(dt.timestamp()) * 1_000_000_000 + us * 1000


def bar_partition(session: date, timeframe: str) -> date:
    """Partition day of a bar: its session, except daily bars, kept one file per year (``YYYY-01-01``)."""
    return date(session.year, 1, 1) if timeframe == "1d" else session


def partition_dir(data_dir: Path, kind: str, symbol: str, day: date) -> Path:
    return data_dir / kind / f"instrument={symbol}" / f"date={day.isoformat()}"


def kind_glob(data_dir: Path, kind: str) -> str:
    return str(data_dir / kind / "*" / "*" / "*.parquet")


def with_meta(schema: pa.Schema, kind: str) -> pa.Schema:
    return schema.with_metadata({META_VERSION: SCHEMA_VERSION.encode(), META_KIND: kind.encode()})
