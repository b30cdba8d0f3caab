"""Parquet part files: atomic writes (temp name outside the glob, fsync, rename) and checked reads."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradingsystem.adapters.storage.schema import (
    FLAG_CORRECTION,
    META_VERSION,
    SCHEMA_VERSION,
    SCHEMAS,
    StorageError,
    partition_dir,
    with_meta,
)

TMP_DIR = "_tmp"
_PART_RE = re.compile(r"^part-(\d+)(?:-(\d+))?(-c)?\.parquet$")


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def part_name(segment: int, suffix: int = 0, compacted: bool = False) -> str:
    return f"part-{segment:020d}-{suffix:04d}{'-c' if compacted else ''}.parquet"


def part_segment(name: str) -> tuple[int, bool] | None:
    """(segment id, compacted?) of a part file name, None if it is not one."""
    m = _PART_RE.match(name)
    return (int(m.group(1)), bool(m.group(3))) if m else None


def write_table_atomic(
    data_dir: Path, final: Path, table: pa.Table, kind: str,
    compression: str = "zstd", level: int = 3, fsync: bool = True,
) -> Path:
    """Write ``table`` to ``final`` so that no reader ever sees a partial file."""
    tmp_dir = data_dir / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{final.parent.parent.name}.{final.parent.name}.{final.name}.tmp"
    table = table.replace_schema_metadata(with_meta(table.schema, kind).metadata)
    try:
        pq.write_table(
            table, tmp, compression=compression, compression_level=level,
            write_page_checksum=True, row_group_size=1_048_576,
        )
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        if fsync:
            fsync_dir(final.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {final}: {exc}") from exc
    return final


def list_parts(data_dir: Path, kind: str, symbol: str | None = None) -> Iterator[Path]:
    base = data_dir / kind
    if not base.is_dir():
        return
    inst_dirs = [base / f"instrument={symbol}"] if symbol else sorted(base.glob("instrument=*"))
    for inst in inst_dirs:
        if inst.is_dir():
            for day_dir in sorted(inst.glob("date=*")):
                yield from sorted(day_dir.glob("*.parquet"))


def read_part(path: Path, columns: list[str] | None = None, verify: bool = False) -> pa.Table:
    """Read one part file; a truncated or corrupt file raises StorageError naming it."""
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=verify)
        table = pf.read(columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(f"{path}: unreadable Parquet file ({exc})") from exc
    return table


def check_part(path: Path, require_version: bool = True) -> tuple[int, str]:
    """Fully read a part with page checksums; return (rows, schema version) or raise StorageError
    (also for another schema version, unless ``require_version`` is False)."""
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=True)
        meta = pf.schema_arrow.metadata or {}
        rows = 0
        for i in range(pf.num_row_groups):
            rows += pf.read_row_group(i).num_rows
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(f"{path}: corrupt or truncated Parquet file ({exc})") from exc
    if rows != pf.metadata.num_rows:
        raise StorageError(f"{path}: footer says {pf.metadata.num_rows} rows, read {rows}")
    version = meta.get(META_VERSION, b"?").decode()
    if require_version and version != SCHEMA_VERSION:
        raise StorageError(f"{path}: schema version {version}, expected {SCHEMA_VERSION}")
    return rows, version


def read_partition(data_dir: Path, kind: str, symbol: str, day: date, columns: list[str] | None = None
                   ) -> pa.Table:
    """All rows of one instrument-day (parts concatenated in segment order)."""
    d = partition_dir(data_dir, kind, symbol, day)
    tables = [read_part(p, columns) for p in sorted(d.glob("*.parquet"))] if d.is_dir() else []
    if not tables:
        schema = SCHEMAS[kind]
        if columns:
            schema = pa.schema([schema.field(c) for c in columns])
        return schema.empty_table()
    return pa.concat_tables(tables, promote_options="default")


def latest_trades(table: pa.Table) -> pa.Table:
    """Drop trades superseded by a later row with the same trade number (replays, corrections).

    Rows without a trade number (0) are kept. Output is ordered by (ts_event, trade_id, seq).
    """
    if table.num_rows == 0:
        return table
    tid = table.column("trade_id").to_numpy()
    seq = table.column("seq").to_numpy()
    keep = np.ones(len(tid), dtype=bool)
    has_id = tid != 0
    if has_id.any():
        idx = np.nonzero(has_id)[0]
        order = idx[np.lexsort((-seq[idx], tid[idx]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = tid[order][1:] != tid[order][:-1]
        keep[idx] = False
        keep[order[first]] = True
    if not keep.all():
        table = table.filter(pa.array(keep))
    order = pc.sort_indices(table, [("ts_event", "ascending"), ("trade_id", "ascending"), ("seq", "ascending")])
    return table.take(order)


def has_corrections(table: pa.Table) -> bool:
    if "flags" not in table.column_names or table.num_rows == 0:
        return False
    flags = table.column("flags")
    return bool(pc.any(pc.not_equal(pc.bit_wise_and(flags, FLAG_CORRECTION), 0)).as_py())
