"""SQLAlchemy engine construction: SQLite in WAL mode with real transactions, or PostgreSQL via psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from tradingsystem.adapters.sqlstore.config import SqlStoreConfig
from tradingsystem.domain.errors import InvalidRequest

__all__ = ["make_engine", "safe_url", "write_transaction"]


def safe_url(url: str) -> str:
    """The URL with its password masked, for logs and errors."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


def make_engine(cfg: SqlStoreConfig) -> Engine:
    """An engine for ``cfg.url``. SQLite: the file's folder is created, WAL mode, ``synchronous`` and
    ``busy_timeout`` set on every connection, and BEGIN emitted by us so DDL and DML are transactional."""
    url = make_url(cfg.url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(url, echo=cfg.echo, pool_pre_ping=True)
    if backend != "sqlite":
        raise InvalidRequest(f"unsupported state store backend {backend!r} in {safe_url(cfg.url)}: "
                             "use sqlite:///path or postgresql+psycopg://...")
    db = url.database or ""
    if db in ("", ":memory:") or url.query.get("mode") == "memory":
        raise InvalidRequest("the state store needs a SQLite file (an in-memory database is not shared between "
                             "the writer thread and readers): use sqlite:///path/state.db")
    Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=cfg.echo)
    pragmas = (f"PRAGMA busy_timeout={cfg.sqlite_busy_timeout_ms}", f"PRAGMA synchronous={cfg.sqlite_synchronous}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's implicit one skips DDL)
        cur = dbapi_conn.cursor()
        try:
            cur.execute(pragmas[0])
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(pragmas[1])
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # a writer takes the write lock up front: no deadlock-prone read-to-write upgrade between processes
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlstore_write") else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes: ``BEGIN IMMEDIATE`` on SQLite (waits ``busy_timeout`` for the lock)."""
    with engine.connect() as conn:
        conn.execution_options(sqlstore_write=True)
        with conn.begin():
            yield conn
