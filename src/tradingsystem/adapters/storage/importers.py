"""Importers of B3 and broker files into the catalog.

Formats: ``neg`` (B3 NEG trade files, plain or zipped: futures, equities and options share the layout),
``b3-orders`` (B3 order-message CSV, plain or gzipped), ``mt5`` (MetaTrader 5 bar export, tab separated)
and ``cotahist`` (B3 COTAHIST, the per-stock CSV or the raw 245-column fixed-width TXT, plain or zipped).
Malformed lines are reported as ``file:line: reason``; with ``strict`` the first one aborts the import
before anything is written. Re-importing a file adds nothing: rows already stored are skipped.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tradingsystem.adapters.storage.config import StorageConfig
from tradingsystem.adapters.storage.ingest import Ingestor
from tradingsystem.adapters.storage.mt5 import mt5_timeframe_of, parse_mt5
from tradingsystem.adapters.storage.parts import part_name, read_partition, write_table_atomic
from tradingsystem.adapters.storage.schema import (
    FLAG_CANCELLED,
    FLAG_CROSS,
    SCHEMAS,
    StorageError,
    bar_partition,
    check_symbol,
    partition_dir,
    scale_for,
)

FORMATS = ("neg", "b3-orders", "mt5", "cotahist")
_MAX_INT = 2**63
_SP = ZoneInfo("America/Sao_Paulo")
_KEYS = {
    "trades": ["trade_id"],
    "bars": ["timeframe", "ts_open"],
    "orders": ["ts_event", "side", "order_id", "secondary_id", "exec_type", "price", "quantity", "traded",
               "status", "priority_ts"],
}


_VALUES = {
    "trades": ["ts_event", "price", "size"],
    "bars": ["open", "high", "low", "close", "volume"],
}
_B3_OFFSET_NS = -3 * 3600 * 1_000_000_000  # session date of an intraday bar: B3 local (UTC-3)


class MalformedLine(ValueError):
    pass


@dataclass
class ImportReport:
    file: str
    format: str
    rows_read: int = 0
    rows_written: int = 0
    duplicates: int = 0
    conflicts: int = 0
    partitions: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conflict_details: list[str] = field(default_factory=list)  # the first 20 conflicts


@lru_cache(maxsize=8192)
def _offset_ns(d: date) -> int:
    off = datetime(d.year, d.month, d.day, 12, tzinfo=_SP).utcoffset()
    assert off is not None
    return int(off.total_seconds()) * 1_000_000_000


def local_ns(d: date, hh: int, mm: int, ss: int, ns: int = 0) -> int:
    """UTC ns of a B3 local wall time (historic Brazilian summer time included)."""
    midnight = (d.toordinal() - 719163) * 86_400 * 1_000_000_000
    return midnight + ((hh * 60 + mm) * 60 + ss) * 1_000_000_000 + ns - _offset_ns(d)


def _to_raw(text: str, scale: int) -> int:
    try:
        d = Decimal(text.strip())
    except InvalidOperation as exc:
        raise MalformedLine(f"bad price {text.strip()!r}") from exc
    if not d.is_finite():
        raise MalformedLine(f"bad price {text.strip()!r}")
    raw = d.scaleb(scale)
    if raw != raw.to_integral_value():
        raise MalformedLine(f"price {text.strip()} has more than {scale} decimals")
    if abs(raw) >= _MAX_INT:
        raise MalformedLine(f"price {text.strip()} out of range")
    return int(raw)


def _int(text: str, what: str) -> int:
    try:
        v = int(Decimal(text.strip()))
    except (InvalidOperation, ValueError, OverflowError) as exc:
        raise MalformedLine(f"bad {what} {text.strip()!r}") from exc
    if abs(v) >= _MAX_INT:
        raise MalformedLine(f"{what} {text.strip()} out of range")
    return v


def _check_bar(o: int, h: int, lo: int, c: int, vol: int) -> None:
    if min(o, h, lo, c) <= 0:
        raise MalformedLine("prices must be positive")
    if h < lo or h < max(o, c) or lo > min(o, c):
        raise MalformedLine("high/low do not bracket open/close")
    if vol < 0:
        raise MalformedLine("negative volume")


def _time(text: str) -> tuple[int, int, int, int]:
    """``HH:MM:SS[.fff…]`` -> (h, m, s, ns)."""
    t = text.strip()
    try:
        hh, mm, rest = t.split(":")
        sec, _, frac = rest.partition(".")
        return int(hh), int(mm), int(sec), int((frac + "000000000")[:9]) if frac else 0
    except ValueError as exc:
        raise MalformedLine(f"bad time {t!r}") from exc


def _open_text(path: Path) -> Iterator[tuple[str, io.TextIOBase]]:
    """The text members of a file: a zip's files, a gzip's content, or the file itself (latin-1)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if not name.endswith("/"):
                    with zf.open(name) as raw:
                        yield f"{path}!{name}", io.TextIOWrapper(raw, encoding="latin-1", newline="")
        return
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        with gzip.open(path, "rt", encoding="latin-1", newline="") as gz:
            yield str(path), gz  # type: ignore[misc,unused-ignore]
        return
    with open(path, encoding="latin-1", newline="") as f:
        yield str(path), f  # type: ignore[misc,unused-ignore]


# ---- line parsers: each returns a row dict, or None for a header/trailer line ----

class _Parser:
    """State of one file's parse. ``line(n, text)`` returns a row, None, or raises MalformedLine."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.scales: dict[str, int] = {}

    def scale(self, sym: str) -> int:
        sc = self.scales.get(sym)
        if sc is None:
            sc = self.scales[sym] = scale_for(check_symbol(sym))
        return sc

    def line(self, n: int, text: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def finish(self, count: int) -> None:
        return None


class NegParser(_Parser):
    def line(self, n: int, text: str) -> dict[str, Any] | None:
        if text.startswith("RH"):
            return None
        if text.startswith("RT"):
            self.declared = _int(text.split()[-1], "trailer line count")
            return None
        f = text.rstrip("\r\n").split(";")
        if len(f) < 18:
            raise MalformedLine(f"expected 18 ';' fields, got {len(f)}")
        sym = f[1].strip()
        sc = self.scale(sym)
        day = _parse_date(f[0])
        hh, mm, ss, ns = _time(f[5])
        aggressor = 1 if f[10].strip() == "1" else 2 if f[14].strip() == "1" else 0
        ts = local_ns(day, hh, mm, ss, ns)
        flags = (FLAG_CANCELLED if f[6].strip() == "2" else 0) | (FLAG_CROSS if f[15].strip() == "1" else 0)
        price, qty = _to_raw(f[3], sc), _int(f[4], "quantity")
        if price <= 0 or qty <= 0:
            raise MalformedLine(f"price {f[3].strip()} and quantity {f[4].strip()} must be positive")
        return {"instrument": sym, "date": day, "ts_event": ts, "ts_init": ts,
                "trade_id": _int(f[2], "trade number"), "price": price, "scale": sc,
                "size": qty, "aggressor": aggressor, "buyer": _int(f[16], "buy member"),
                "seller": _int(f[17], "sell member"), "flags": flags}

    def finish(self, count: int) -> None:
        declared = getattr(self, "declared", None)
        if declared is not None and declared != count:
            self.report.notes.append(f"trailer declares {declared} lines, file holds {count}")


class _CsvParser(_Parser):
    required = ""

    def line(self, n: int, text: str) -> dict[str, Any] | None:
        f = next(csv.reader([text]))
        if n == 1:
            if self.required not in f:
                raise StorageError(f"not the expected CSV header (no {self.required} column)")
            self.col = {name: i for i, name in enumerate(f)}
            self.width = len(f)
            return None
        if len(f) != self.width:
            raise MalformedLine(f"expected {self.width} fields, got {len(f)}")
        return self.row({k: f[i] for k, i in self.col.items()})

    def row(self, f: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError


class OrdersParser(_CsvParser):
    required = "ExecutionType"

    def row(self, f: dict[str, str]) -> dict[str, Any]:
        sym = f["InstrumentSymbol"].strip()
        sc = self.scale(sym)
        side = {"Buy": 1, "Sell": 2}.get(f["OrderSide"].strip())
        if side is None:
            raise MalformedLine(f"bad side {f['OrderSide']!r}")
        return {"instrument": sym, "date": _parse_date(f["SessionDate"]), "ts_event": _utc_ns(f["OrderDatetime"]),
                "side": side, "order_id": _int(f["SequentialOrderNumber"], "order number"),
                "secondary_id": _int(f["SecondaryOrderID"], "secondary id"), "exec_type": f["ExecutionType"].strip(),
                "price": _to_raw(f["OrderPrice"], sc), "scale": sc, "quantity": _int(f["TotalQuantity"], "quantity"),
                "traded": _int(f["TradedQuantity"], "traded quantity"), "status": f["OrderStatus"].strip(),
                "aggressor": _int(f["AgressorIndicator"], "aggressor"), "member": _int(f["Member"], "member"),
                "priority_ts": _utc_ns(f["PriorityDateTime"])}


class CotahistCsvParser(_CsvParser):
    required = "pre_abe"

    def row(self, f: dict[str, str]) -> dict[str, Any]:
        sym = f["cod_neg"].strip()
        check_symbol(sym)
        o, h, lo, c = (_to_raw(f[k], 2) for k in ("pre_abe", "pre_max", "pre_min", "pre_ult"))
        return _daily(sym, _parse_date(f["dia"]), o, h, lo, c, 2, _int(f["qua_tot"], "qua_tot"),
                      _int(f["tot_neg"], "tot_neg"), _to_raw(f["vol_tot"], 2))


class CotahistTxtParser(_Parser):
    """B3's fixed-width layout: type 01 records; prices in centavos (11v99), volume 16v99."""

    def line(self, n: int, text: str) -> dict[str, Any] | None:
        rec = text.rstrip("\r\n")
        if rec.startswith("00"):
            return None
        if rec.startswith("99"):
            self.declared = _int(rec[31:42], "record count")
            return None
        if len(rec) != 245:
            raise MalformedLine(f"a COTAHIST record has 245 characters, this one {len(rec)}")
        if rec[:2] != "01":
            raise MalformedLine(f"unknown record type {rec[:2]!r}")
        sym = rec[12:24].strip()
        if rec[24:27] == "030":  # forward market: one contract per term, e.g. ABEV3T.016
            sym = f"{sym}.{rec[49:52].strip()}"
        check_symbol(sym)
        o, h, lo, c = (_int(rec[a:b], "price") for a, b in ((56, 69), (69, 82), (82, 95), (108, 121)))
        return _daily(sym, _parse_date(rec[2:10]), o, h, lo, c, 2, _int(rec[152:170], "quantity"),
                      _int(rec[147:152], "trades"), _int(rec[170:188], "volume"))

    def finish(self, count: int) -> None:
        declared = getattr(self, "declared", None)
        if declared is not None and declared != count:
            self.report.notes.append(f"trailer declares {declared} records, file holds {count}")


def _daily(sym: str, d: date, o: int, h: int, lo: int, c: int, sc: int, vol: int, n: int, cents: int | None
           ) -> dict[str, Any]:
    _check_bar(o, h, lo, c, vol)
    ts = local_ns(d, 0, 0, 0)
    end = local_ns(d + timedelta(days=1), 0, 0, 0)
    return {"instrument": sym, "date": bar_partition(d, "1d"), "timeframe": "1d", "ts_open": ts, "ts_event": end,
            "ts_init": end,
            "open": o, "high": h, "low": lo, "close": c, "scale": sc, "volume": vol, "trades": n,
            "turnover_cents": cents}


def _parse_date(text: str) -> date:
    t = text.strip()
    try:
        if len(t) == 8 and t.isdigit():
            return date(int(t[:4]), int(t[4:6]), int(t[6:]))
        return date.fromisoformat(t.replace(".", "-"))
    except ValueError as exc:
        raise MalformedLine(f"bad date {t!r}") from exc


def _utc_ns(text: str) -> int:
    t = text.strip()
    try:
        day_s, time_s = t.split(" ")
        d = date.fromisoformat(day_s)
    except ValueError as exc:
        raise MalformedLine(f"bad datetime {t!r}") from exc
    hh, mm, ss, ns = _time(time_s)
    return (d.toordinal() - 719163) * 86_400_000_000_000 + ((hh * 60 + mm) * 60 + ss) * 1_000_000_000 + ns


def _parser(fmt: str, name: str, first: str, report: ImportReport, instrument: str | None) -> _Parser:
    if fmt == "neg":
        return NegParser(report)
    if fmt == "b3-orders":
        return OrdersParser(report)
    if first.startswith("00COTAHIST"):
        return CotahistTxtParser(report)
    return CotahistCsvParser(report)


KIND_OF = {"neg": "trades", "b3-orders": "orders", "mt5": "bars", "cotahist": "bars"}


def import_file(
    config: StorageConfig, fmt: str, path: Path, strict: bool = False, instrument: str | None = None,
    progress: Callable[[int], None] | None = None, source_tz: str = "b3", timeframe: str | None = None,
) -> ImportReport:
    """Parse one file, then write its new rows into the catalog (nothing is written if parsing fails).

    ``source_tz`` and ``timeframe`` apply to MT5 files (see :mod:`~tradingsystem.adapters.storage.mt5`).
    An empty file, an empty archive or a file without one data row is an error.
    """
    if fmt not in FORMATS:
        raise StorageError(f"unknown import format {fmt!r}; known: {', '.join(FORMATS)}")
    path = Path(path)
    if not path.is_file():
        raise StorageError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise StorageError(f"{path}: empty file (0 bytes)")
    report = ImportReport(str(path), fmt)
    rows: list[dict[str, Any]] = []
    members = 0
    for name, fh in _open_text(path):
        members += 1
        parser: _Parser | None = None
        n = 0
        try:
            if fmt == "mt5":
                rows += _mt5_rows(name, fh.readlines(), report, strict, instrument, source_tz, timeframe)
                continue
            for n, text in enumerate(fh, 1):
                if not text.strip():
                    continue
                if parser is None:
                    parser = _parser(fmt, name, text, report, instrument)
                try:
                    row = parser.line(n, text)
                except (MalformedLine, StorageError) as exc:
                    if n == 1 or strict:
                        raise StorageError(f"{name}:{n}: {exc}" + ("" if n == 1 else
                                           " (--strict: nothing imported)")) from exc
                    report.problems.append(f"{name}:{n}: {exc}")
                    continue
                if row is not None:
                    rows.append(row)
                    if progress and len(rows) % 10_000 == 0:
                        progress(10_000)
        except UnicodeDecodeError as exc:
            raise StorageError(f"{name}:{n + 1}: undecodable text ({exc})") from exc
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise StorageError(f"{name}:{n + 1}: cannot read file ({exc})") from exc
        if parser is not None:
            parser.finish(n)
    if members == 0:
        raise StorageError(f"{path}: the archive holds no files")
    report.rows_read = len(rows)
    if progress:
        progress(len(rows) % 10_000)
    if not rows:
        raise StorageError(f"{path}: no data rows to import" + (f" ({len(report.problems)} malformed)"
                                                                if report.problems else ""))
    write_rows(config, KIND_OF[fmt], rows, report)
    return report


def _mt5_rows(name: str, lines: list[str], report: ImportReport, strict: bool, instrument: str | None,
              source_tz: str, timeframe: str | None) -> list[dict[str, Any]]:
    stem = Path(name.split("!")[-1]).stem
    sym = check_symbol(instrument or (stem.rpartition("_")[0] if mt5_timeframe_of(name) else stem))
    sc = scale_for(sym)
    try:
        bars = parse_mt5(lines, sc, timeframe, source_tz, name)
    except StorageError as exc:
        raise StorageError(f"{name}:1: {exc}") from exc
    for n, why in bars.problems:
        if strict:
            raise StorageError(f"{name}:{n}: {why} (--strict: nothing imported)")
        report.problems.append(f"{name}:{n}: {why}")
    c = bars.columns
    # session date: B3 local (UTC-3) for intraday bars, the file's own date for daily ones
    days = bars.wall_day if bars.timeframe == "1d" else (c["ts_open"] + _B3_OFFSET_NS) // 86_400_000_000_000
    out = []
    for i in range(len(c["ts_open"])):
        d = date.fromordinal(int(days[i]) + 719163)
        out.append({"instrument": sym, "date": bar_partition(d, bars.timeframe),
                    "timeframe": bars.timeframe, "ts_open": int(c["ts_open"][i]), "ts_event": int(c["ts_event"][i]),
                    "ts_init": int(c["ts_event"][i]), **{k: int(c[k][i]) for k in ("open", "high", "low", "close")},
                    "scale": sc, "volume": int(c["volume"][i]), "trades": int(c["trades"][i]),
                    "turnover_cents": None})
    return out


def write_rows(config: StorageConfig, kind: str, rows: list[dict[str, Any]], report: ImportReport) -> None:
    """Write parsed rows by instrument-day, skipping rows already stored (same key).

    A row whose key is stored (or repeated in the file) with different values is a conflict: the first
    one stays, the conflict is counted and the first ones described in ``conflict_details``.
    """
    schema = pa.schema([("instrument", pa.string()), ("date", pa.date32()),
                        *(f for f in SCHEMAS[kind] if f.name != "seq")])
    table = pa.Table.from_pylist(rows, schema=schema)
    ing = Ingestor(config)
    segment = ing.new_segment_id()
    keys = _KEYS[kind]
    values = [c for c in _VALUES.get(kind, []) if c not in keys]
    groups = pa.table({"i": table.column("instrument"), "d": table.column("date")}).group_by(["i", "d"]) \
        .aggregate([]).to_pylist()
    for g in sorted(groups, key=lambda x: (x["i"], x["d"])):
        mask = pc.and_(pc.equal(table.column("instrument"), g["i"]), pc.equal(table.column("date"), g["d"]))
        part = table.filter(mask).drop_columns(["instrument", "date"])
        existing = read_partition(config.data_dir, kind, g["i"], g["d"], keys + values)
        seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        if existing.num_rows:
            seen = dict(zip(zip(*(existing.column(k).to_pylist() for k in keys), strict=True),
                            zip(*(existing.column(k).to_pylist() for k in values), strict=True), strict=True)) \
                if values else dict.fromkeys(zip(*(existing.column(k).to_pylist() for k in keys), strict=True), ())
        keep = np.ones(part.num_rows, dtype=bool)
        vals = list(zip(*(part.column(k).to_pylist() for k in values), strict=True)) if values else \
            [()] * part.num_rows
        for i, key in enumerate(zip(*(part.column(k).to_pylist() for k in keys), strict=True)):
            if key in seen:
                keep[i] = False
                if seen[key] != vals[i]:
                    report.conflicts += 1
                    if report.conflicts <= 20:
                        report.conflict_details.append(
                            f"{g['i']} {g['d']}: conflict on {dict(zip(keys, key, strict=True))}: stored "
                            f"{dict(zip(values, seen[key], strict=True))}, file "
                            f"{dict(zip(values, vals[i], strict=True))} (stored row kept)")
                else:
                    report.duplicates += 1
            else:
                seen[key] = vals[i]
        part = part.filter(pa.array(keep))
        if part.num_rows == 0:
            continue
        st = ing.state(g["i"], (g["d"].toordinal() - 719163))
        seq = pa.array(np.arange(st.seq + 1, st.seq + 1 + part.num_rows, dtype=np.int64))
        st.seq += part.num_rows
        part = part.append_column("seq", seq).select(SCHEMAS[kind].names).cast(SCHEMAS[kind])
        final = partition_dir(config.data_dir, kind, g["i"], g["d"]) / part_name(segment)
        write_table_atomic(config.data_dir, final, part, kind, config.compression, config.compression_level,
                           fsync=False)
        report.rows_written += part.num_rows
        report.partitions += 1
    if config.fsync and report.partitions:
        os.sync()  # one barrier for the whole import instead of one per file
