"""Fixtures of the SQL state store tests: every store test runs on SQLite (temp file) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sqlstore.pg import postgres_server, postgres_url
from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig

__all__ = ["db_url", "postgres_server", "postgres_url", "store"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state/state.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStateStore]:
    s = SqlStateStore(SqlStoreConfig(url=db_url))
    yield s
    s.close()
