"""Checked reads: a part is served only after its page checksums verified once; a failing part is moved to
``_quarantine/parts/`` with a warning naming it, and the rest of the catalog stays readable.

DuckDB does not check the page CRCs we write, so the catalog verifies each part file itself (a full read
with ``page_checksum_verification``) the first time it sees it. Parts are immutable once renamed into
place, so the result is kept in ``_verified.json`` keyed by path, size and modification time; a part
that changes (or is replaced) is verified again.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from tradingsystem.adapters.storage.ingest import QUARANTINE_DIR
from tradingsystem.adapters.storage.parts import check_part, list_parts
from tradingsystem.adapters.storage.schema import StorageError

__all__ = ["quarantine_part", "verified_parts"]

log = logging.getLogger(__name__)
CACHE = "_verified.json"


def quarantine_part(data_dir: Path, path: Path, reason: str) -> str:
    """Move ``path`` under ``_quarantine/parts/`` (same relative path); return the warning line."""
    rel = path.relative_to(data_dir)
    dest = data_dir / QUARANTINE_DIR / "parts" / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, dest)
        where = f"moved to {dest}"
    except OSError as exc:
        where = f"left in place, cannot move it ({exc})"
    msg = f"{rel}: failed verification ({reason}); {where}; the rest of the catalog is served"
    log.warning(msg)
    return msg


def _load(data_dir: Path) -> dict[str, list[int]]:
    try:
        data = json.loads((data_dir / CACHE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(data_dir: Path, cache: dict[str, list[int]]) -> None:
    tmp = data_dir / f".{CACHE}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(cache, sort_keys=True))
        os.replace(tmp, data_dir / CACHE)
    except OSError:  # a read-only catalog is verified again next time
        tmp.unlink(missing_ok=True)


def verified_parts(data_dir: Path, kind: str, warnings: list[str]) -> list[Path]:
    """The part files of ``kind`` whose checksums verify; failing ones are quarantined and warned about."""
    data_dir = Path(data_dir)
    cache = _load(data_dir)
    good: list[Path] = []
    changed = False
    for p in list_parts(data_dir, kind):
        try:
            st = p.stat()
        except OSError:
            continue
        key = str(p.relative_to(data_dir))
        stamp = [st.st_size, st.st_mtime_ns]
        if cache.get(key) != stamp:
            try:
                check_part(p, require_version=False)  # only damage is quarantined; ``data verify`` checks versions
            except StorageError as exc:
                warnings.append(quarantine_part(data_dir, p, str(exc).split(": ", 1)[-1]))
                cache.pop(key, None)
                changed = True
                continue
            cache[key] = stamp
            changed = True
        good.append(p)
    if changed:
        _save(data_dir, cache)
    return good
