"""Backups from the command line and from the node: targets, key, state snapshot, retention, schedule.

The state database goes into every backup as one consistent file: SQLite through its online backup
API (a running node keeps writing), PostgreSQL through ``pg_dump --format=custom``. The key comes
from the environment variable the config names (default ``TRADINGSYSTEM_BACKUP_KEY``), never from
the YAML file itself.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import make_url

from tradingsystem.adapters.storage import (
    RemoteOptions,
    Sealer,
    Sources,
    StorageError,
    backup,
    open_remote,
    prune,
)
from tradingsystem.adapters.storage.backup import BackupReport
from tradingsystem.adapters.storage.snapshot import PruneReport
from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.engine.kernel import Kernel

SQLITE_NAME = "state.db"
PG_NAME = "state.pgdump"


class BackupConfig(BaseModel):
    """``backup:`` in the node config. Off unless ``to`` is set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: str | None = None
    """A folder, ``s3://bucket/prefix`` or ``rclone:remote:path``."""
    every_s: float = Field(86_400.0, gt=0)
    """Market seconds between scheduled backups while the node runs."""
    state: bool = True
    """Include a snapshot of the state database."""
    key_env: str = "TRADINGSYSTEM_BACKUP_KEY"
    """Environment variable with the base64 AES-256 key; unset means no encryption."""
    keep_daily: int = Field(7, ge=1)
    keep_monthly: int = Field(12, ge=0)
    s3_endpoint_url: str | None = None
    """For B2, R2 or MinIO; AWS needs none. Credentials come from the usual AWS variables."""
    s3_region: str | None = None


def sealer_from_env(key_env: str, environ: Mapping[str, str] | None = None) -> Sealer:
    env = os.environ if environ is None else environ
    return Sealer.from_text(env.get(key_env))


def remote_for(target: str, cfg: BackupConfig) -> Any:
    return open_remote(target, RemoteOptions(cfg.s3_endpoint_url, cfg.s3_region))


@contextmanager
def state_snapshot(url: str | None) -> Iterator[dict[str, Path]]:
    """A consistent copy of the state database in a temporary folder, as ``{name in backup: file}``."""
    with tempfile.TemporaryDirectory(prefix="ts-state-") as tmp:
        if not url:
            yield {}
            return
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            src = Path(parsed.database or "")
            if not src.exists():
                yield {}
                return
            out = Path(tmp) / SQLITE_NAME
            with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as live, sqlite3.connect(out) as copy:
                live.backup(copy)
            yield {SQLITE_NAME: out}
        elif parsed.get_backend_name() == "postgresql":
            if shutil.which("pg_dump") is None:
                raise StorageError("a PostgreSQL state store is backed up with pg_dump (apt-get install "
                                   "postgresql-client)")
            out = Path(tmp) / PG_NAME
            dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            proc = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={out}", dsn],
                                  capture_output=True, text=True, check=False, timeout=3600)
            if proc.returncode != 0:
                raise StorageError(f"pg_dump failed: {proc.stderr.strip().splitlines()[-1:]}")
            yield {PG_NAME: out}
        else:
            raise StorageError(f"cannot back up a {parsed.get_backend_name()} state store")


@dataclass
class BackupRun:
    report: BackupReport
    pruned: PruneReport
    remote: str


def run_backup(cfg: BackupConfig, data_dir: Path, target: str | None = None, state_url: str | None = None,
               sealer: Sealer | None = None, at: datetime | None = None,
               progress: Callable[[int], None] | None = None) -> BackupRun:
    """One backup: catalog parts and (when configured) the state database, then retention."""
    dest = target or cfg.to
    if not dest:
        raise StorageError("no backup target: pass --to or set backup.to in the config")
    remote = remote_for(dest, cfg)
    seal = sealer if sealer is not None else sealer_from_env(cfg.key_env)
    with state_snapshot(state_url if cfg.state else None) as extra:
        rep = backup(Sources(Path(data_dir), extra), remote, seal, at or datetime.now(UTC), progress)
    pruned = prune(remote, seal, cfg.keep_daily, cfg.keep_monthly)
    return BackupRun(rep, pruned, remote.name)


class BackupSchedule:
    """Backups every ``every_s`` of the kernel's clock, run on their own thread (never the engine's)."""

    def __init__(self, kernel: Kernel, cfg: BackupConfig, data_dir: Path, state_url: str | None) -> None:
        self.kernel, self.cfg, self.data_dir, self.state_url = kernel, cfg, data_dir, state_url
        self.runs = 0
        self.failures = 0
        self._due = threading.Event()  # a backup is due (set by the engine's timer)
        self._stop = threading.Event()
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="backup", daemon=True)
        self._thread.start()
        kernel.clock.every(int(cfg.every_s * 1e9), lambda _ts: self._poke(self._due))

    def _poke(self, event: threading.Event) -> None:
        with self._cv:
            event.set()
            self._cv.notify()

    def _loop(self) -> None:
        """Runs each due backup; a backup due when the node stops still runs before ``close`` returns."""
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._due.is_set() or self._stop.is_set())
                due = self._due.is_set()
                self._due.clear()
            if due:
                self._run_once()
            elif self._stop.is_set():
                return

    def _run_once(self) -> None:
        try:
            out = run_backup(self.cfg, self.data_dir, state_url=self.state_url)
            self.runs += 1
            self._alert("backup_done", Severity.INFO, f"backup to {out.remote}: {len(out.report.copied)} "
                        f"sent, {out.report.skipped} already there, {len(out.report.problems)} problem(s)")
        except (StorageError, OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
            self.failures += 1
            self._alert("backup_failed", Severity.WARNING, f"backup failed: {exc}")

    def _alert(self, kind: str, severity: Severity, message: str) -> None:
        k = self.kernel
        k.call_soon_threadsafe(lambda: k.publish_alert(Alert(kind, severity, message, k.clock.now(), {})))

    def close(self) -> None:
        self._poke(self._stop)
        self._thread.join(timeout=3600)


__all__ = ["BackupConfig", "BackupRun", "BackupSchedule", "run_backup", "sealer_from_env", "state_snapshot"]
