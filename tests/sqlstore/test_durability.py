"""Writes never block the caller, overflow is loud, flush/close persist, and a crash loses nothing flushed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sqlstore.helpers import audit, fill, order, risk
from tradingsystem.adapters.sqlstore import (
    SqlStateStore,
    SqlStoreConfig,
    StoreClosed,
    StoreOverflow,
)
from tradingsystem.domain.errors import HaltRequired

ROOT = Path(__file__).resolve().parents[2]


class Gate:
    """Holds the writer thread inside its next commit until released."""

    def __init__(self, store: SqlStateStore) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        inner = store._commit

        def commit(records: list[object]) -> None:
            self.entered.set()
            assert self.release.wait(60)
            inner(records)

        store._commit = commit  # type: ignore[method-assign]


@pytest.fixture
def small(db_url: str) -> Iterator[SqlStateStore]:
    s = SqlStateStore(SqlStoreConfig(url=db_url, queue_size=8, put_timeout_s=0.01))
    yield s
    s.close()


def test_saves_only_enqueue_and_overflow_raises_instead_of_dropping(small: SqlStateStore) -> None:
    gate = Gate(small)
    small.save_order(order("first"))
    assert gate.entered.wait(30)  # the writer holds "first" and is stuck in the database
    for i in range(8):  # fills the queue while the database is stuck: no save waits
        small.save_fill(fill(f"f{i}"))
    assert small.stats().queued == 8
    with pytest.raises(StoreOverflow, match="NOT saved") as err:
        small.save_order(order("refused"))
    assert isinstance(err.value, HaltRequired)
    st = small.stats()
    assert (st.overflows, st.overflow_errors) == (1, 1)
    gate.release.set()
    small.flush()
    assert [o.order_id for o in small.load_orders()] == ["first"]
    assert len(small.load_fills()) == 8
    assert small.stats().written == 9


def test_overflow_waits_for_room_when_the_writer_catches_up(db_url: str) -> None:
    store = SqlStateStore(SqlStoreConfig(url=db_url, queue_size=2, put_timeout_s=60))
    gate = Gate(store)
    store.save_order(order("a"))
    assert gate.entered.wait(30)
    store.save_order(order("b"))
    store.save_order(order("c"))
    threading.Thread(target=gate.release.set).start()  # the writer drains while we wait for room
    store.save_order(order("d"))
    store.close()
    reopened = SqlStateStore(SqlStoreConfig(url=db_url))
    assert [o.order_id for o in reopened.load_orders()] == ["a", "b", "c", "d"]
    assert store.stats().overflows == 1 and store.stats().overflow_errors == 0
    reopened.close()


def test_close_flushes_and_a_closed_store_refuses_saves(db_url: str) -> None:
    store = SqlStateStore(SqlStoreConfig(url=db_url))
    for i in range(500):
        store.save_order(order(f"o{i}", ts=i))
        store.save_fill(fill(f"f{i}", ts=i))
    store.save_risk_state(risk(ts=9, kill=True))
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreClosed):
        store.save_order(order("late"))
    with pytest.raises(StoreClosed):
        store.load_orders()
    with SqlStateStore(SqlStoreConfig(url=db_url)) as again:
        assert len(again.load_orders()) == 500 and len(again.load_fills()) == 500
        state = again.load_risk_state()
        assert state is not None and state.kill_switch


def test_abandoned_store_keeps_everything_flushed(db_url: str) -> None:
    first = SqlStateStore(SqlStoreConfig(url=db_url))
    first.save_order(order("o1", status=4, filled=3))
    first.save_fill(fill("f1", qty=3))
    first.save_risk_state(risk(kill=True))
    first.flush()
    del first  # no close: the process would just go on or die here
    with SqlStateStore(SqlStoreConfig(url=db_url)) as second:
        assert [o.order_id for o in second.load_orders(open_only=True)] == ["o1"]
        assert second.load_positions() == {("s1", "WINZ26"): 3}
        state = second.load_risk_state()
        assert state is not None and state.kill_switch


def test_sigkill_after_flush_loses_nothing_flushed(db_url: str) -> None:
    n = 200
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-m", "tests.sqlstore.crash_writer", db_url, str(n)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "flushed", proc.stderr.read() if proc.stderr else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    with SqlStateStore(SqlStoreConfig(url=db_url)) as store:
        ids = {o.order_id for o in store.load_orders()}
        assert {f"o{i}" for i in range(n)} <= ids <= {f"o{i}" for i in range(2 * n)}
        assert len(store.load_fills()) == n
        assert store.load_positions() == {("s1", "WINZ26"): n}
        state = store.load_risk_state()
        assert state is not None and (state.trading_state, state.kill_switch) == ("HALTED", True)
        assert len(store.load_audit(limit=10 * n)) == n
        store.save_order(order("after-restart"))  # the reopened store writes normally
        store.flush()
        assert "after-restart" in {o.order_id for o in store.load_orders()}


def test_a_record_the_database_refuses_is_kept_aside_and_the_rest_is_written(store: SqlStateStore) -> None:
    gate = Gate(store)
    store.save_order(order("held"))
    assert gate.entered.wait(30)
    store.save_order(order("ok1"))
    store.save_order(order("too-big", quantity=2**70))  # out of BIGINT range on both backends
    store.save_audit([audit(ts=5)])
    gate.release.set()
    store.flush()
    assert {o.order_id for o in store.load_orders()} == {"held", "ok1"}
    assert len(store.load_audit()) == 1
    st = store.stats()
    assert st.failed == 1 and st.write_errors >= 1 and st.last_error
    assert store.failed[0][0] == order("too-big", quantity=2**70)


def test_postgres_connection_loss_is_survived(postgres_url: str) -> None:
    from sqlalchemy import create_engine, text

    with SqlStateStore(SqlStoreConfig(url=postgres_url)) as store:
        store.save_order(order("before"))
        store.flush()
        admin = create_engine(postgres_url)
        with admin.connect() as c:
            killed = c.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        admin.dispose()
        assert killed and killed >= 1
        store.save_order(order("after"))
        store.flush()
        assert {o.order_id for o in store.load_orders()} == {"before", "after"}


def test_sqlite_backup_while_running_is_a_complete_store(tmp_path: Path) -> None:
    with SqlStateStore(SqlStoreConfig(url=f"sqlite:///{tmp_path}/live.db")) as live:
        live.save_order(order("o1"))
        live.save_fill(fill("f1", qty=2))
        live.flush()
        out = live.backup_sqlite(tmp_path / "bk" / "copy.db")
        live.save_order(order("o2"))  # after the backup: not in it
    with SqlStateStore(SqlStoreConfig(url=f"sqlite:///{out}", migrate=False)) as copy:
        assert [o.order_id for o in copy.load_orders()] == ["o1"]
        assert copy.load_positions() == {("s1", "WINZ26"): 2}


def test_backup_sqlite_refuses_postgres(postgres_url: str) -> None:
    from tradingsystem.domain.errors import InvalidRequest

    with SqlStateStore(SqlStoreConfig(url=postgres_url)) as s, pytest.raises(InvalidRequest, match="pg_dump"):
        s.backup_sqlite("/nonexistent/x.db")


def test_a_stuck_database_makes_flush_fail_loudly_and_nothing_is_lost(db_url: str) -> None:
    import sqlite3

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tradingsystem.adapters.sqlstore import StoreError

    store = SqlStateStore(SqlStoreConfig(url=db_url, sqlite_busy_timeout_ms=10, retry_max_s=0.05))
    if store.backend == "sqlite":  # another process holds the write lock
        lock = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        release = lock.close
    else:  # a DBA's session holds a table lock
        engine = create_engine(db_url)
        conn = engine.connect()
        conn.execute(text("LOCK TABLE fills IN ACCESS EXCLUSIVE MODE"))

        def release() -> None:
            conn.rollback()
            conn.close()
            engine.dispose()

    store.save_fill(fill("f1"))
    store.save_order(order("o1"))
    with pytest.raises(StoreError, match="flush timed out"):
        store.flush(timeout=0.3)
    store.save_fill(fill("f2"))  # saves are still accepted while the database is stuck
    release()
    store.flush()
    assert [f.fill_id for f in store.load_fills()] == ["f1", "f2"]
    assert [o.order_id for o in store.load_orders()] == ["o1"]
    if store.backend == "sqlite":
        assert "locked" in store.stats().last_error
    store.close()
