"""Typed configuration of the SQL state store."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SqlStoreConfig"]


class SqlStoreConfig(BaseModel):
    """Where the state lives and how the writer thread behaves.

    ``url`` is a SQLAlchemy URL: ``sqlite:///data/state.db`` (relative to the working directory; the
    folder is created) or ``postgresql+psycopg://user:pass@host:5432/db``. Writes go to a bounded queue
    of ``queue_size`` records; when it is full a save waits up to ``put_timeout_s`` and then raises
    ``StoreOverflow`` (a record is never dropped silently). ``flush_timeout_s`` bounds ``flush``/``close``.
    ``migrate`` runs the packaged Alembic migrations up to head at open; with ``False`` the store refuses a
    database that is not already at head. ``sqlite_synchronous`` is the SQLite ``synchronous`` pragma
    (``NORMAL`` survives a process crash in WAL mode; ``FULL`` also a power loss).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = "sqlite:///data/state.db"
    queue_size: int = Field(default=100_000, ge=1)
    batch_size: int = Field(default=2_000, ge=1)
    put_timeout_s: float = Field(default=2.0, ge=0)
    flush_timeout_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=2.0, gt=0)
    migrate: bool = True
    risk_history: bool = True
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    sqlite_busy_timeout_ms: int = Field(default=5_000, ge=0)
    echo: bool = False
