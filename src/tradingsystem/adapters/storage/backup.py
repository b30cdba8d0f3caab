"""Incremental backups with a sha256 manifest, verification of catalog and backups, and restore.

``{backup}/manifest.json`` holds ``files`` (every file ever copied: size, sha256, rows) and
``snapshots`` (the catalog's live file list at each backup run; restore uses the latest). Part files
never change once renamed into place, so a file already in the manifest is never copied again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tradingsystem.adapters.storage.ingest import QUARANTINE_DIR
from tradingsystem.adapters.storage.parts import TMP_DIR, check_part, fsync_dir, list_parts
from tradingsystem.adapters.storage.schema import SCHEMAS, StorageError
from tradingsystem.adapters.storage.wal import list_segments

MANIFEST = "manifest.json"
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


def _copy_hashed(src: Path, dst: Path) -> str:
    """Copy through a temp name, fsync, rename; return the sha256 of the bytes copied."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    h = hashlib.sha256()
    with open(src, "rb") as fi, open(tmp, "wb") as fo:
        while chunk := fi.read(_CHUNK):
            h.update(chunk)
            fo.write(chunk)
        fo.flush()
        os.fsync(fo.fileno())
    os.replace(tmp, dst)
    fsync_dir(dst.parent)
    return h.hexdigest()


def load_manifest(backup_dir: Path) -> dict[str, Any]:
    path = backup_dir / MANIFEST
    if not path.exists():
        return {"version": 1, "files": {}, "snapshots": []}
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StorageError(f"{path}: unreadable backup manifest ({exc})") from exc
    if not isinstance(data.get("files"), dict):
        raise StorageError(f"{path}: not a backup manifest")
    return data


def _save_manifest(backup_dir: Path, manifest: dict[str, Any]) -> None:
    tmp = backup_dir / f".{MANIFEST}.tmp"
    with open(tmp, "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, backup_dir / MANIFEST)
    fsync_dir(backup_dir)


def backup(data_dir: Path, backup_dir: Path, progress: Progress | None = None) -> BackupReport:
    """Copy the closed files not yet backed up and record them in the manifest."""
    data_dir, backup_dir = Path(data_dir), Path(backup_dir)
    if backup_dir.resolve() == data_dir.resolve() or data_dir.resolve() in backup_dir.resolve().parents:
        raise StorageError("the backup directory must lie outside the data directory")
    backup_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(backup_dir)
    files: dict[str, Any] = manifest["files"]
    report = BackupReport()
    live = []
    for src in closed_files(data_dir):
        rel = src.relative_to(data_dir).as_posix()
        size = src.stat().st_size
        entry = files.get(rel)
        if entry and entry["size"] == size and (backup_dir / rel).exists():
            report.skipped += 1
            live.append(rel)
            if progress:
                progress(size)
            continue
        try:
            rows = pq.read_metadata(src).num_rows
        except (OSError, pa.ArrowException) as exc:
            report.problems.append(f"{rel}: not backed up, unreadable Parquet footer ({exc})")
            continue
        digest = _copy_hashed(src, backup_dir / rel)
        files[rel] = {"size": size, "sha256": digest, "rows": rows}
        report.copied.append(rel)
        report.bytes_copied += size
        live.append(rel)
        if progress:
            progress(size)
    manifest["snapshots"].append({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                                  "files": sorted(live)})
    _save_manifest(backup_dir, manifest)
    return report


def verify_backup(backup_dir: Path, progress: Progress | None = None) -> VerifyReport:
    """Check every file of the manifest: present, same size, same sha256."""
    backup_dir = Path(backup_dir)
    manifest = load_manifest(backup_dir)
    report = VerifyReport()
    if not (backup_dir / MANIFEST).exists():
        report.problems.append(f"{backup_dir}: no {MANIFEST}; not a backup")
        return report
    for rel, entry in sorted(manifest["files"].items()):
        path = backup_dir / rel
        report.checked += 1
        if not path.exists():
            report.problems.append(f"missing: {rel}")
        elif path.stat().st_size != entry["size"]:
            report.problems.append(f"corrupt: {rel} (size {path.stat().st_size}, manifest {entry['size']})")
        elif sha256_of(path) != entry["sha256"]:
            report.problems.append(f"corrupt: {rel} (sha256 differs from the manifest)")
        else:
            report.rows += entry["rows"]
        if progress:
            progress(entry["size"])
    return report


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


def restore(backup_dir: Path, data_dir: Path, progress: Progress | None = None) -> BackupReport:
    """Bring back the latest snapshot's files (checked against the manifest) into ``data_dir``."""
    backup_dir, data_dir = Path(backup_dir), Path(data_dir)
    manifest = load_manifest(backup_dir)
    if not manifest["snapshots"]:
        raise StorageError(f"{backup_dir}: the manifest has no snapshot to restore")
    wanted = manifest["snapshots"][-1]["files"]
    report = BackupReport()
    for rel in wanted:
        entry = manifest["files"][rel]
        src, dst = backup_dir / rel, data_dir / rel
        if dst.exists() and dst.stat().st_size == entry["size"] and sha256_of(dst) == entry["sha256"]:
            report.skipped += 1
            continue
        if not src.exists():
            report.problems.append(f"missing in backup: {rel}")
            continue
        tmp_dir = data_dir / TMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"restore.{src.name}"
        digest = _copy_hashed(src, tmp)
        if digest != entry["sha256"]:
            tmp.unlink()
            report.problems.append(f"corrupt in backup, not restored: {rel}")
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dst)
        report.copied.append(rel)
        report.bytes_copied += entry["size"]
        if progress:
            progress(entry["size"])
    extra = {p.relative_to(data_dir).as_posix() for p in closed_files(data_dir)} - set(wanted)
    if extra:
        report.problems.append(f"{len(extra)} file(s) in {data_dir} are not in the backup (left as they are)")
    return report


__all__ = ["BackupReport", "VerifyReport", "backup", "restore", "verify_backup", "verify_catalog"]
