"""Errors of the SQL state store, typed by what the caller must do."""

from __future__ import annotations

from tradingsystem.domain.errors import HaltRequired, TradingSystemError

__all__ = ["FillConflict", "SchemaMismatch", "StoreClosed", "StoreError", "StoreOverflow"]


class StoreError(TradingSystemError):
    """The state store failed (a flush timed out, the writer died, the database is unreachable)."""


class StoreClosed(StoreError):
    """A save or flush on a closed store."""


class StoreOverflow(StoreError, HaltRequired):
    """The write queue stayed full past the timeout: the database cannot keep up or is down.

    The record was not accepted; the caller still holds it. Trading on without persistence is unsafe."""


class SchemaMismatch(StoreError, HaltRequired):
    """The database schema is newer than this code (or older, with migrations off)."""


class FillConflict(StoreError, HaltRequired):
    """A fill arrived with the id of a stored fill but different content: one of them is wrong and the
    positions built from the store would be. Never dropped silently; the node halts."""
