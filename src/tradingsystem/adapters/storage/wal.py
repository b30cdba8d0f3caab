"""Write-ahead log: append-only Arrow IPC stream segments, fsynced on every flush.

A segment is one file per kind, ``_wal/{segment:020d}.{kind}.arrows``, whose rows carry the
``instrument`` and ``date`` (B3 local day) columns in front of the kind's schema. A crash can leave
a torn last batch; :func:`read_segment` returns every complete batch and says what was lost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from tradingsystem.adapters.storage.schema import SCHEMAS, StorageError

WAL_DIR = "_wal"


def wal_schema(kind: str) -> pa.Schema:
    base = SCHEMAS[kind]
    return pa.schema([("instrument", pa.string()), ("date", pa.date32()), *base])


def segment_path(data_dir: Path, segment: int, kind: str) -> Path:
    return data_dir / WAL_DIR / f"{segment:020d}.{kind}.arrows"


class WalWriter:
    """One kind's file in one segment. Not thread safe: the recorder thread owns it."""

    def __init__(self, path: Path, kind: str, fsync: bool = True) -> None:
        self.path = path
        self.kind = kind
        self.schema = wal_schema(kind)
        self._fsync = fsync
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._writer = pa.ipc.new_stream(self._fh, self.schema)
        self.rows = 0

    def append(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def sync(self) -> None:
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        try:
            self._writer.close()
            self.sync()
        finally:
            self._fh.close()


@dataclass(frozen=True)
class SegmentRead:
    table: pa.Table
    error: str | None  # what was wrong with the file, if anything (a torn tail, corruption)


def read_segment(path: Path, kind: str) -> SegmentRead:
    """Every complete batch of a segment file; a torn or corrupt tail is reported, not raised."""
    schema = wal_schema(kind)
    batches: list[pa.RecordBatch] = []
    error: str | None = None
    try:
        with pa.memory_map(str(path)) as src:
            reader = pa.ipc.open_stream(src)
            if not reader.schema.equals(schema):
                raise StorageError(f"{path}: write-ahead segment has an unexpected schema")
            while True:
                try:
                    batches.append(reader.read_next_batch())
                except StopIteration:
                    break
            table = pa.Table.from_batches(batches, schema=schema)
    except StorageError:
        raise
    except (OSError, pa.ArrowException) as exc:
        if path.stat().st_size == 0:
            error = None
        else:
            error = f"{path}: torn or corrupt write-ahead segment after {len(batches)} batches ({exc})"
        table = pa.Table.from_batches(batches, schema=schema)
    return SegmentRead(table, error)


def list_segments(data_dir: Path) -> dict[int, dict[str, Path]]:
    """Leftover segments: segment id -> kind -> file."""
    out: dict[int, dict[str, Path]] = {}
    wal = data_dir / WAL_DIR
    if not wal.is_dir():
        return out
    for p in sorted(wal.glob("*.arrows")):
        parts = p.name.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in SCHEMAS:
            continue
        out.setdefault(int(parts[0]), {})[parts[1]] = p
    return out
