"""Incremental, content-addressed backups of the catalog and the state database to any ``Remote``.

Layout on the remote:
- ``objects/ab/abcd…``: one object per distinct content, named by the sha256 of its plain bytes,
  so a file already sent is never sent again, whatever its name;
- ``manifest``: ``objects`` (sha256 → size, rows) and ``snapshots`` (time and ``files``:
  path in the data directory → sha256). Restore takes the latest snapshot.

With a key every object and the manifest are sealed with AES-256-GCM (the object's key is bound
as associated data, so an object swapped for another fails too); a flipped byte anywhere is
caught by ``verify`` and never restored. The manifest is written after the objects it names, so an
interrupted backup leaves the previous snapshot intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tradingsystem.adapters.storage.backup import BackupReport, VerifyReport, closed_files, sha256_of
from tradingsystem.adapters.storage.parts import TMP_DIR, fsync_dir
from tradingsystem.adapters.storage.remote import LocalRemote, Remote
from tradingsystem.adapters.storage.schema import StorageError

MANIFEST = "manifest"
VERSION = 2
_MAGIC = b"TSB1"
Progress = Callable[[int], None]


class Sealer:
    """AES-256-GCM with a 32-byte key; ``None`` leaves data as it is."""

    def __init__(self, key: bytes | None) -> None:
        if key is not None and len(key) != 32:
            raise StorageError("the backup key must be 32 bytes (base64 of 32 random bytes)")
        self.key = key

    @classmethod
    def from_text(cls, text: str | None) -> Sealer:
        """A key given as base64 (what ``tradingsystem data backup-key`` prints)."""
        if not text:
            return cls(None)
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except ValueError as exc:
            raise StorageError("the backup key is not valid base64") from exc
        return cls(raw)

    @staticmethod
    def new_key() -> str:
        return base64.b64encode(os.urandom(32)).decode()

    @property
    def on(self) -> bool:
        return self.key is not None

    def seal(self, name: str, data: bytes) -> bytes:
        if self.key is None:
            return data
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        nonce = os.urandom(12)
        return _MAGIC + nonce + AESGCM(self.key).encrypt(nonce, data, name.encode())

    def open(self, name: str, blob: bytes) -> bytes:
        """The plain bytes; raises ``StorageError`` when the blob was altered or the key is wrong."""
        if not blob.startswith(_MAGIC):
            if self.key is not None:
                raise StorageError(f"{name}: not encrypted, but a key was given")
            return blob
        if self.key is None:
            raise StorageError(f"{name}: encrypted; give the backup key (TRADINGSYSTEM_BACKUP_KEY)")
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        try:
            return AESGCM(self.key).decrypt(blob[4:16], blob[16:], name.encode())
        except InvalidTag as exc:
            raise StorageError(f"{name}: fails authentication (altered, or the wrong key)") from exc


def object_key(sha: str) -> str:
    return f"objects/{sha[:2]}/{sha}"


def load_manifest(remote: Remote, sealer: Sealer) -> dict[str, Any]:
    blob = remote.read(MANIFEST)
    if blob is None:
        if remote.keys("objects"):
            raise StorageError(f"{remote.name}: objects but no manifest; not a backup made by this version")
        return {"version": VERSION, "encrypted": sealer.on, "objects": {}, "snapshots": []}
    try:
        data: dict[str, Any] = json.loads(sealer.open(MANIFEST, blob))
    except ValueError as exc:
        raise StorageError(f"{remote.name}: unreadable backup manifest ({exc})") from exc
    if data.get("version") != VERSION or not isinstance(data.get("objects"), dict):
        raise StorageError(f"{remote.name}: not a backup of this version (start a new one in an empty place)")
    return data


def _save_manifest(remote: Remote, sealer: Sealer, manifest: dict[str, Any]) -> None:
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    remote.write(MANIFEST, sealer.seal(MANIFEST, body))


def _rows(path: Path) -> int | None:
    if path.suffix != ".parquet":
        return None
    return int(pq.read_metadata(path).num_rows)


@dataclass
class Sources:
    """What one backup run sends: the catalog's closed parts plus extra files (a state snapshot)."""

    data_dir: Path
    extra: Mapping[str, Path] = field(default_factory=dict)

    def files(self) -> list[tuple[str, Path, bool]]:
        """(path in the data directory, local file, immutable part?)"""
        out = [(p.relative_to(self.data_dir).as_posix(), p, True) for p in closed_files(self.data_dir)]
        return out + [(rel, Path(p), False) for rel, p in sorted(self.extra.items())]


def backup(sources: Sources, remote: Remote, sealer: Sealer, at: datetime,
           progress: Progress | None = None) -> BackupReport:
    """Send what the remote lacks and record a snapshot of every file's content."""
    data_dir = Path(sources.data_dir)
    if isinstance(remote, LocalRemote):
        root = remote.root.resolve()
        if root == data_dir.resolve() or data_dir.resolve() in root.parents:
            raise StorageError("the backup directory must lie outside the data directory")
    manifest = load_manifest(remote, sealer)
    if bool(manifest.get("encrypted")) != sealer.on:
        state = "encrypted" if manifest.get("encrypted") else "not encrypted"
        raise StorageError(f"{remote.name}: this backup is {state}; use the same key setting as before")
    objects: dict[str, Any] = manifest["objects"]
    previous: dict[str, str] = manifest["snapshots"][-1]["files"] if manifest["snapshots"] else {}
    report = BackupReport()
    files: dict[str, str] = {}
    for rel, path, immutable in sources.files():
        size = path.stat().st_size
        known = previous.get(rel)
        if immutable and known and objects.get(known, {}).get("size") == size:
            files[rel] = known  # part files never change once in place
            report.skipped += 1
        else:
            sha = sha256_of(path)
            files[rel] = sha
            if sha in objects:
                report.skipped += 1
            else:
                try:
                    rows = _rows(path)
                except (OSError, pa.ArrowException) as exc:
                    report.problems.append(f"{rel}: not backed up, unreadable Parquet footer ({exc})")
                    del files[rel]
                    continue
                remote.write(object_key(sha), sealer.seal(object_key(sha), path.read_bytes()))
                objects[sha] = {"size": size, "rows": rows}
                report.copied.append(rel)
                report.bytes_copied += size
        if progress:
            progress(size)
    manifest["snapshots"].append({"at": at.isoformat(timespec="seconds"), "files": files})
    _save_manifest(remote, sealer, manifest)
    return report


def _names(manifest: dict[str, Any]) -> dict[str, str]:
    """A readable name (the newest path) for each object."""
    out: dict[str, str] = {}
    for snap in manifest["snapshots"]:
        for rel, sha in snap["files"].items():
            out[sha] = rel
    return out


def verify_backup(remote: Remote, sealer: Sealer, progress: Progress | None = None) -> VerifyReport:
    """Read every object back: present, authentic, and its sha256 what the manifest says."""
    report = VerifyReport()
    if remote.read(MANIFEST) is None:
        report.problems.append(f"{remote.name}: no {MANIFEST}; not a backup")
        return report
    manifest = load_manifest(remote, sealer)
    names = _names(manifest)
    for sha, entry in sorted(manifest["objects"].items()):
        report.checked += 1
        label = names.get(sha, sha)
        blob = remote.read(object_key(sha))
        if blob is None:
            report.problems.append(f"missing: {label}")
        else:
            try:
                plain = sealer.open(object_key(sha), blob)
            except StorageError:
                report.problems.append(f"corrupt: {label} (fails authentication)")
            else:
                if hashlib.sha256(plain).hexdigest() != sha:
                    report.problems.append(f"corrupt: {label} (sha256 differs from the manifest)")
                else:
                    report.rows += entry.get("rows") or 0
        if progress:
            progress(entry["size"])
    return report


def restore(remote: Remote, data_dir: Path, sealer: Sealer, progress: Progress | None = None) -> BackupReport:
    """Bring back the latest snapshot into ``data_dir``; nothing unauthentic is written."""
    data_dir = Path(data_dir)
    manifest = load_manifest(remote, sealer)
    if not manifest["snapshots"]:
        raise StorageError(f"{remote.name}: the backup has no snapshot to restore")
    wanted: dict[str, str] = manifest["snapshots"][-1]["files"]
    report = BackupReport()
    tmp_dir = data_dir / TMP_DIR
    for rel, sha in sorted(wanted.items()):
        dst = data_dir / rel
        if dst.exists() and sha256_of(dst) == sha:
            report.skipped += 1
            continue
        blob = remote.read(object_key(sha))
        if blob is None:
            report.problems.append(f"missing in backup: {rel}")
            continue
        try:
            plain = sealer.open(object_key(sha), blob)
        except StorageError:
            report.problems.append(f"corrupt in backup, not restored: {rel}")
            continue
        if hashlib.sha256(plain).hexdigest() != sha:
            report.problems.append(f"corrupt in backup, not restored: {rel}")
            continue
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"restore.{sha[:16]}"
        with open(tmp, "wb") as fh:
            fh.write(plain)
            fh.flush()
            os.fsync(fh.fileno())
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dst)
        fsync_dir(dst.parent)
        report.copied.append(rel)
        report.bytes_copied += len(plain)
        if progress:
            progress(len(plain))
    extra = {p.relative_to(data_dir).as_posix() for p in closed_files(data_dir)} - set(wanted)
    if extra:
        report.problems.append(f"{len(extra)} file(s) in {data_dir} are not in the backup (left as they are)")
    return report


def kept_snapshots(stamps: list[str], keep_daily: int, keep_monthly: int) -> set[int]:
    """Indexes to keep: the newest of each of the last ``keep_daily`` days and ``keep_monthly``
    months, and always the newest snapshot."""
    keep: set[int] = {len(stamps) - 1} if stamps else set()
    for width, count in ((10, keep_daily), (7, keep_monthly)):
        seen: list[str] = []
        for i in range(len(stamps) - 1, -1, -1):
            period = stamps[i][:width]
            if period in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(period)
            keep.add(i)
    return keep


@dataclass
class PruneReport:
    snapshots_removed: int = 0
    objects_removed: int = 0
    bytes_removed: int = 0


def prune(remote: Remote, sealer: Sealer, keep_daily: int, keep_monthly: int) -> PruneReport:
    """Apply retention; delete objects no kept snapshot names (after the manifest is saved)."""
    manifest = load_manifest(remote, sealer)
    snaps = manifest["snapshots"]
    keep = kept_snapshots([s["at"] for s in snaps], keep_daily, keep_monthly)
    report = PruneReport(snapshots_removed=len(snaps) - len(keep))
    manifest["snapshots"] = [s for i, s in enumerate(snaps) if i in keep]
    live = {sha for s in manifest["snapshots"] for sha in s["files"].values()}
    dead = sorted(set(manifest["objects"]) - live)
    for sha in dead:
        report.bytes_removed += manifest["objects"].pop(sha)["size"]
    _save_manifest(remote, sealer, manifest)
    for sha in dead:
        remote.delete(object_key(sha))
        report.objects_removed += 1
    return report


__all__ = ["MANIFEST", "PruneReport", "Sealer", "Sources", "backup", "kept_snapshots", "load_manifest",
           "object_key", "prune", "restore", "verify_backup"]
