"""Alembic migrations run programmatically (no alembic.ini at run time) and the schema version check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text

from tradingsystem.adapters.sqlstore.engine import write_transaction
from tradingsystem.adapters.sqlstore.errors import SchemaMismatch

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "alembic_config", "current_revision", "ensure_schema",
           "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "sqlstore_version"
_PG_LOCK_KEY = 0x7453_7153  # advisory lock serialising concurrent migrations on one PostgreSQL database


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, bound to a connection or a URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_table", VERSION_TABLE)
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at (None for an empty database)."""
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` in one transaction (serialised by an advisory lock on PG)."""
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        command.upgrade(alembic_config(conn), revision)


def ensure_schema(engine: Engine, migrate: bool = True) -> str:
    """Check the schema version at open; migrate to head if allowed. Returns the revision now in force.

    Raises ``SchemaMismatch`` when the database was migrated by newer code (a revision this code does not
    know), or when it is behind head and ``migrate`` is off."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    with engine.connect() as conn:
        current = current_revision(conn)
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError as exc:
            raise SchemaMismatch(
                f"database schema revision {current!r} is unknown to this code (head {head!r}): the database "
                "was migrated by a newer TradingSystem; upgrade the code or point it at another database"
            ) from exc
    if current == head:
        return head
    if not migrate:
        raise SchemaMismatch(f"database schema is at {current!r}, the code needs {head!r}: run the migrations "
                             "(open the store with migrate=True)")
    upgrade(engine)
    return head
