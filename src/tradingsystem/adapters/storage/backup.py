"""Verification of the catalog, and the reports of backup runs (``snapshot.py`` sends backups)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from tradingsystem.adapters.storage.ingest import QUARANTINE_DIR
from tradingsystem.adapters.storage.parts import TMP_DIR, check_part, list_parts
from tradingsystem.adapters.storage.schema import SCHEMAS, StorageError
from tradingsystem.adapters.storage.wal import list_segments

_CHUNK = 1 << 20
Progress = Callable[[int], None]


@dataclass
class BackupReport:
    copied: list[str] = field(default_factory=list)
    skipped: int = 0
    bytes_copied: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    checked: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)  # corrupt or missing files, duplicate trades
    notes: list[str] = field(default_factory=list)  # pending log segments, quarantined files

    @property
    def ok(self) -> bool:
        return not self.problems


def closed_files(data_dir: Path) -> list[Path]:
    """Every part file in place (each is complete and immutable once renamed)."""
    return [p for kind in SCHEMAS for p in list_parts(data_dir, kind)]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify_catalog(data_dir: Path, progress: Progress | None = None) -> VerifyReport:
    """Read every part with page checksums; find duplicate trade numbers; note pending log segments."""
    data_dir = Path(data_dir)
    report = VerifyReport()
    seen_ids: dict[tuple[str, str], set[int]] = {}
    for path in closed_files(data_dir):
        report.checked += 1
        try:
            rows, _ = check_part(path)
            report.rows += rows
        except StorageError as exc:
            report.problems.append(str(exc))
            continue
        finally:
            if progress:
                progress(path.stat().st_size if path.exists() else 0)
        if path.parts[-4] == "trades":
            t = pq.read_table(path, columns=["trade_id", "flags"])
            key = (path.parent.parent.name, path.parent.name)
            ids = seen_ids.setdefault(key, set())
            for tid, flags in zip(t.column("trade_id").to_pylist(), t.column("flags").to_pylist(), strict=True):
                if tid == 0 or flags & 4:
                    continue
                if tid in ids:
                    report.problems.append(f"duplicate trade number {tid} in {key[0]}/{key[1]}")
                ids.add(tid)
    segs = list_segments(data_dir)
    if segs:
        report.notes.append(f"{len(segs)} write-ahead segment(s) not yet rolled into Parquet "
                            "(a running recorder, or recovered on its next start)")
    for sub in (QUARANTINE_DIR,):
        q = data_dir / sub
        if q.is_dir() and any(q.iterdir()):
            report.notes.append(f"{sum(1 for _ in q.iterdir())} damaged write-ahead file(s) kept in {q}")
    tmp = data_dir / TMP_DIR
    if tmp.is_dir() and any(tmp.iterdir()):
        report.notes.append(f"unfinished temporary files in {tmp} (removed on the next recorder start)")
    return report


__all__ = ["BackupReport", "VerifyReport", "closed_files", "sha256_of", "verify_catalog"]
