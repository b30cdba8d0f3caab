"""SQL state store: orders, fills, risk state and audit on SQLAlchemy 2 (SQLite WAL by default, or
PostgreSQL via psycopg 3), with Alembic migrations packaged here and run at open."""

from tradingsystem.adapters.sqlstore.config import SqlStoreConfig
from tradingsystem.adapters.sqlstore.errors import (
    FillConflict,
    SchemaMismatch,
    StoreClosed,
    StoreError,
    StoreOverflow,
)
from tradingsystem.adapters.sqlstore.migrate import current_revision, ensure_schema, head_revision, upgrade
from tradingsystem.adapters.sqlstore.positions import PositionKey, net_positions
from tradingsystem.adapters.sqlstore.store import SqlStateStore, SqlStoreStats

__all__ = [
    "FillConflict", "PositionKey", "SchemaMismatch", "SqlStateStore", "SqlStoreConfig", "SqlStoreStats", "StoreClosed",
    "StoreError", "StoreOverflow", "current_revision", "ensure_schema", "head_revision", "net_positions",
    "upgrade",
]
