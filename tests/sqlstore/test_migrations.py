"""Alembic migrations build the schema from empty on both backends; the version is checked at open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.sqlstore.helpers import order
from tradingsystem.adapters.sqlstore import (
    SchemaMismatch,
    SqlStateStore,
    SqlStoreConfig,
    current_revision,
    head_revision,
    upgrade,
)
from tradingsystem.adapters.sqlstore.engine import make_engine
from tradingsystem.adapters.sqlstore.migrate import VERSION_TABLE
from tradingsystem.adapters.sqlstore.tables import METADATA
from tradingsystem.domain.errors import InvalidRequest
from tradingsystem.domain.records import ManualActionRecord

TABLES = {"orders", "fills", "risk_state", "risk_state_history", "audit", "manual_actions", VERSION_TABLE}


def test_upgrade_head_from_empty_creates_the_schema_the_code_uses(db_url: str) -> None:
    engine = make_engine(SqlStoreConfig(url=db_url))
    try:
        with engine.connect() as c:
            assert current_revision(c) is None
        upgrade(engine)
        insp = inspect(engine)
        assert set(insp.get_table_names()) == TABLES
        assert {ix["name"] for ix in insp.get_indexes("orders")} >= {"ix_orders_open", "ix_orders_venue_order_id"}
        assert {ix["name"] for ix in insp.get_indexes("fills")} >= {"ix_fills_ts", "ix_fills_order_id"}
        with engine.connect() as c:
            assert current_revision(c) == head_revision()
            ctx = MigrationContext.configure(c, opts={"compare_type": False, "version_table": VERSION_TABLE})
            diff = compare_metadata(ctx, METADATA)
        assert diff == []
    finally:
        engine.dispose()


def test_open_migrates_an_empty_database_and_reopen_is_a_no_op(db_url: str) -> None:
    with SqlStateStore(SqlStoreConfig(url=db_url)) as s:
        assert s.revision == head_revision()
        s.save_order(_order())
    with SqlStateStore(SqlStoreConfig(url=db_url, migrate=False)) as s:
        assert [o.order_id for o in s.load_orders()] == ["o1"]


def test_a_database_newer_than_the_code_is_refused(db_url: str) -> None:
    SqlStateStore(SqlStoreConfig(url=db_url)).close()
    engine = create_engine(db_url)
    with engine.begin() as c:
        c.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f00dfeed9999'"))
    engine.dispose()
    with pytest.raises(SchemaMismatch, match="newer"):
        SqlStateStore(SqlStoreConfig(url=db_url))


def test_without_migrate_an_old_database_is_refused(db_url: str) -> None:
    with pytest.raises(SchemaMismatch, match="run the migrations"):
        SqlStateStore(SqlStoreConfig(url=db_url, migrate=False))


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.db"
    with SqlStateStore(SqlStoreConfig(url=f"sqlite:///{path}")) as s:
        assert s.backend == "sqlite"
        con = sqlite3.connect(path)
        try:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            con.close()


def test_postgres_url_without_driver_uses_psycopg3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with SqlStateStore(SqlStoreConfig(url=plain)) as s:
        assert s.backend == "postgresql" and s._engine.dialect.driver == "psycopg"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest):
        SqlStateStore(SqlStoreConfig(url=url))


def test_config_is_frozen_and_strict() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SqlStoreConfig(url="sqlite:///x.db", queue_sise=3)  # type: ignore[call-arg]
    assert SqlStoreConfig().url == "sqlite:///data/state.db"


def _order():  # type: ignore[no-untyped-def]
    from tests.sqlstore.helpers import order

    return order("o1")


def test_nodes_opening_an_empty_database_together_all_succeed(db_url: str) -> None:
    import threading

    errors: list[BaseException] = []
    revisions: list[str] = []
    start = threading.Barrier(3)

    def open_one() -> None:
        try:
            start.wait(30)
            with SqlStateStore(SqlStoreConfig(url=db_url)) as s:
                revisions.append(s.revision)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and revisions == [head_revision()] * 3


def test_a_database_at_0001_gains_the_manual_actions_table_and_keeps_its_rows(db_url: str) -> None:
    engine = make_engine(SqlStoreConfig(url=db_url))
    try:
        upgrade(engine, "0001")  # a state store written before manual actions were audited
        with engine.begin() as c:
            c.execute(text("INSERT INTO audit (ts, order_id, rule, value, limit_value, passed, detail) "
                           "VALUES (1, 'o1', 'max_order_qty', '1', '10', true, '')"))
    finally:
        engine.dispose()
    with pytest.raises(SchemaMismatch):
        SqlStateStore(SqlStoreConfig(url=db_url, migrate=False)).close()
    record = ManualActionRecord(5, "cli", "kill", "reason=x", "cancelled=0")
    with SqlStateStore(SqlStoreConfig(url=db_url)) as s:  # migrates to head at open
        assert s.revision == head_revision() == "0004"
        s.save_manual_action(record)
        s.flush()
        assert [a.order_id for a in s.load_audit()] == ["o1"]
        assert s.load_manual_actions() == [record]


def test_a_database_at_0003_gains_order_ack_times_and_keeps_its_orders(db_url: str) -> None:
    engine = make_engine(SqlStoreConfig(url=db_url))
    try:
        upgrade(engine, "0003")  # orders stored before the ack time was kept
        with engine.begin() as c:
            c.execute(text(
                "INSERT INTO orders (order_id, symbol, side, order_type, quantity, price, trigger_price, tif, "
                "strategy_id, status, is_open, filled_qty, filled_cost, venue_order_id, ts_init, ts_last, reason, "
                "parent_id, group_id, tags) VALUES ('o1', 'WINJ26', 1, 1, 2, 0, 0, 1, 's', 5, false, 2, 250000, "
                "'v1', 10, 20, '', '', '', '[]')"))
    finally:
        engine.dispose()
    with SqlStateStore(SqlStoreConfig(url=db_url)) as s:
        assert s.revision == "0004"
        (o,) = s.load_orders()
        assert (o.order_id, o.filled_qty, o.ts_last, o.ts_ack) == ("o1", 2, 20, 0)



def test_an_order_saved_again_without_its_ack_time_keeps_the_stored_one(db_url: str) -> None:
    with SqlStateStore(SqlStoreConfig(url=db_url)) as s:
        s.save_order(order(ts=10, ts_ack=15))
        s.flush()
        s.save_order(order(ts=10, ts_last=30))  # the same order after a restart: no ack time in memory
        s.flush()
        (o,) = s.load_orders()
        assert (o.ts_last, o.ts_ack) == (30, 15)
