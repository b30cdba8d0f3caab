"""``SqlStateStore``: the ``ports.StateStore`` on SQLAlchemy 2 (SQLite WAL or PostgreSQL).

Saves only append to a bounded in-memory queue (a deque: no lock on the caller's side; the engine
thread never waits on the database). One writer thread drains it in batches, one transaction per
batch. Orders are upserted by ``order_id`` (the last save wins), fills are inserted once per
``fill_id`` (an identical duplicate is ignored; one with different content is a :class:`FillConflict`,
kept in ``conflicts`` and reported to ``on_conflict``, which halts the node), the risk state is one
current row plus a history, audit rows are appended. ``flush`` waits until everything saved before it is
committed; ``close`` flushes.
Loads read what is committed: call ``flush`` first to see your own queued saves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Insert, Text, any_, bindparam, case, func, insert, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from tradingsystem.adapters.sqlstore.codec import (
    FILL_FIELDS,
    ORDER_FIELDS,
    audit_from_row,
    audit_row,
    fill_row,
    fills_from_tuples,
    order_row,
    orders_from_tuples,
    risk_from_row,
    risk_row,
)
from tradingsystem.adapters.sqlstore.config import SqlStoreConfig
from tradingsystem.adapters.sqlstore.engine import make_engine, safe_url, write_transaction
from tradingsystem.adapters.sqlstore.errors import FillConflict, StoreClosed, StoreError, StoreOverflow
from tradingsystem.adapters.sqlstore.migrate import ensure_schema
from tradingsystem.adapters.sqlstore.positions import PositionKey
from tradingsystem.adapters.sqlstore.tables import AUDIT, FILLS, MANUAL_ACTIONS, ORDERS, RISK_HISTORY, RISK_STATE
from tradingsystem.domain.errors import InvalidRequest
from tradingsystem.domain.orders import Side
from tradingsystem.domain.records import AuditRecord, FillRecord, ManualActionRecord, OrderRecord, RiskStateRecord

if TYPE_CHECKING:
    from tradingsystem.ports.protocols import StateStore

__all__ = ["SqlStateStore", "SqlStoreStats"]

log = logging.getLogger(__name__)
_RISK_ID = 1


class _Flush:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


@dataclass(frozen=True, slots=True)
class SqlStoreStats:
    """A snapshot of the writer: queue depth, records committed, overflows, errors."""

    queued: int
    written: int
    batches: int
    overflows: int
    overflow_errors: int
    write_errors: int
    failed: int
    last_error: str
    duplicate_fills: int


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


class SqlStateStore:
    """Durable orders, fills, risk state and audit in SQL. Opening connects, checks the schema version
    and migrates to head (``SchemaMismatch`` if the database is newer than the code)."""

    def __init__(self, config: SqlStoreConfig | None = None) -> None:
        self.config = cfg = config or SqlStoreConfig()
        self.url = safe_url(cfg.url)
        self._engine = make_engine(cfg)
        try:
            self.revision = ensure_schema(self._engine, cfg.migrate)
        except BaseException:
            self._engine.dispose()
            raise
        self.backend = self._engine.dialect.name
        self._stmts = _statements(self.backend)
        self._q: deque[object] = deque()
        self._max = cfg.queue_size
        self._wake = threading.Event()  # set by a producer when the writer sleeps on an empty queue
        self._idle = False
        self._lock = threading.Lock()
        self._closing = False
        self._closed = False
        self._abandon = threading.Event()
        self._dead: BaseException | None = None
        self._written = self._batches = self._overflows = self._overflow_errors = 0
        self._write_errors = self._duplicates = 0
        self._last_error = ""
        self.failed: list[tuple[object, str]] = []  # records the database refused (not transient), kept here
        self.conflicts: list[str] = []  # fills whose id was stored with other content
        self.on_conflict: Callable[[FillConflict], None] | None = None  # called on the writer thread
        self._thread = threading.Thread(target=self._run, name="sqlstore-writer", daemon=True)
        self._thread.start()

    # ---- saves (any thread; never wait on the database) -------------------------------------------
    def save_order(self, record: OrderRecord) -> None:
        self._put(record)

    def save_fill(self, record: FillRecord) -> None:
        self._put(record)

    def save_risk_state(self, record: RiskStateRecord) -> None:
        self._put(record)

    def save_audit(self, records: list[AuditRecord]) -> None:
        if records:
            self._put(tuple(records))

    def save_manual_action(self, record: ManualActionRecord) -> None:
        self._put(record)

    def _put(self, item: object) -> None:
        if self._closing or self._dead is not None:
            self._refuse()
        q = self._q
        if len(q) >= self._max:
            self._put_slow(item)
            return
        q.append(item)
        if self._idle:
            self._wake.set()

    def _refuse(self) -> None:
        if self._dead is not None:
            raise StoreError(f"state store writer died: {self._dead!r}") from self._dead
        raise StoreClosed(f"state store {self.url} is closed")

    def _put_slow(self, item: object) -> None:
        with self._lock:
            self._overflows += 1
            n = self._overflows
        log.warning("state store queue full (%d records, overflow #%d): the database is not keeping up; "
                    "waiting up to %.1fs", self.config.queue_size, n, self.config.put_timeout_s)
        deadline = time.monotonic() + self.config.put_timeout_s
        while len(self._q) >= self._max:  # the overflow path may poll: it is already an incident
            if time.monotonic() >= deadline or self._dead is not None:
                with self._lock:
                    self._overflow_errors += 1
                msg = (f"state store queue stayed full for {self.config.put_timeout_s}s ({self._max} records): "
                       f"record NOT saved; last database error: {self._last_error or 'none'}")
                log.error(msg)
                raise StoreOverflow(msg)
            time.sleep(0.001)
        self._q.append(item)
        self._wake.set()

    # ---- flush and close ----------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> None:
        """Wait until every record saved before this call is committed (or raise ``StoreError``)."""
        if self._closed:
            return
        self._flush(self.config.flush_timeout_s if timeout is None else timeout)

    def _flush(self, timeout: float) -> None:
        if self._dead is not None:
            self._refuse()
        deadline = time.monotonic() + timeout
        marker = _Flush()
        self._q.append(marker)  # markers bypass the bound
        self._wake.set()
        while not marker.done.wait(0.05):
            if self._dead is not None:
                self._refuse()
            if time.monotonic() > deadline:
                raise StoreError(self._timeout_message(timeout))

    def _timeout_message(self, timeout: float) -> str:
        return (f"state store flush timed out after {timeout}s with {len(self._q)} records queued; "
                f"last database error: {self._last_error or 'none'}")

    def close(self) -> None:
        """Flush, stop the writer and release the connections. Raises if the flush fails (records lost)."""
        if self._closing:
            return
        self._closing = True
        try:
            if self._dead is None:
                self._flush(self.config.flush_timeout_s)
        finally:
            self._abandon.set()
            pending = len(self._q)
            self._q.append(_STOP)
            self._wake.set()
            self._thread.join(timeout=self.config.flush_timeout_s)
            self._closed = True
            self._engine.dispose()
            if pending:
                log.error("state store closed with %d records not written", pending)

    def __enter__(self) -> SqlStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> SqlStoreStats:
        return SqlStoreStats(len(self._q), self._written, self._batches, self._overflows,
                             self._overflow_errors, self._write_errors, len(self.failed), self._last_error,
                             self._duplicates)

    # ---- loads (read what is committed) ------------------------------------------------------------
    def _conn(self) -> Connection:
        if self._closed:
            raise StoreClosed(f"state store {self.url} is closed")
        return self._engine.connect()

    def load_orders(self, open_only: bool = False) -> list[OrderRecord]:
        q = select(*[ORDERS.c[f] for f in ORDER_FIELDS]).order_by(ORDERS.c.ts_init, ORDERS.c.order_id)
        if open_only:
            q = q.where(ORDERS.c.is_open == true())
        with self._conn() as c:
            return orders_from_tuples(c.execute(q))

    def load_fills(self, since_ts: int = 0) -> list[FillRecord]:
        q = select(*[FILLS.c[f] for f in FILL_FIELDS]).where(FILLS.c.ts >= since_ts).order_by(FILLS.c.ts,
                                                                                               FILLS.c.seq)
        with self._conn() as c:
            return fills_from_tuples(c.execute(q))

    def load_risk_state(self) -> RiskStateRecord | None:
        with self._conn() as c:
            row = c.execute(select(RISK_STATE).where(RISK_STATE.c.id == _RISK_ID)).mappings().first()
        return None if row is None else risk_from_row(row)

    def load_risk_history(self, since_ts: int = 0) -> list[RiskStateRecord]:
        q = select(RISK_HISTORY).where(RISK_HISTORY.c.ts >= since_ts).order_by(RISK_HISTORY.c.seq)
        with self._conn() as c:
            return [risk_from_row(r) for r in c.execute(q).mappings()]

    def load_audit(self, limit: int = 1000) -> list[AuditRecord]:
        """The latest ``limit`` audit records, oldest first."""
        q = select(AUDIT).order_by(AUDIT.c.seq.desc()).limit(limit)
        with self._conn() as c:
            rows = [audit_from_row(r) for r in c.execute(q).mappings()]
        rows.reverse()
        return rows

    def load_manual_actions(self, limit: int = 100) -> list[ManualActionRecord]:
        """The latest ``limit`` manual actions, oldest first."""
        q = select(MANUAL_ACTIONS).order_by(MANUAL_ACTIONS.c.seq.desc()).limit(limit)
        with self._conn() as c:
            rows = [ManualActionRecord(r["ts"], r["channel"], r["action"], r["detail"], r["result"])
                    for r in c.execute(q).mappings()]
        rows.reverse()
        return rows

    def load_positions(self, keep_flat: bool = False) -> dict[PositionKey, int]:
        """Net signed quantity per (strategy, symbol) summed from the stored fills, in SQL."""
        signed = case((FILLS.c.side == int(Side.BUY), FILLS.c.quantity), else_=-FILLS.c.quantity)
        q = select(FILLS.c.strategy_id, FILLS.c.symbol, func.sum(signed)).group_by(FILLS.c.strategy_id,
                                                                                   FILLS.c.symbol)
        with self._conn() as c:
            out = {(s, sym): int(n) for s, sym, n in c.execute(q)}
        return out if keep_flat else {k: v for k, v in out.items() if v != 0}

    def backup_sqlite(self, dest: str | Path) -> Path:
        """A consistent copy of a SQLite store taken while it runs (``VACUUM INTO``); PostgreSQL: use pg_dump."""
        if self.backend != "sqlite":
            raise InvalidRequest("backup_sqlite works on SQLite only: back PostgreSQL up with pg_dump")
        out = Path(dest)
        if out.exists():
            raise InvalidRequest(f"backup target {out} already exists")
        out.parent.mkdir(parents=True, exist_ok=True)
        raw = self._engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("VACUUM INTO ?", (str(out),))
            cur.close()
        finally:
            raw.close()
        return out

    # ---- writer thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        bs = self.config.batch_size
        q, wake = self._q, self._wake
        try:
            while True:
                if not q:
                    self._idle = True
                    while not q:
                        wake.wait(0.5)
                        wake.clear()
                    self._idle = False
                batch = [q.popleft() for _ in range(min(bs, len(q)))]
                records = [x for x in batch if x is not _STOP and type(x) is not _Flush]
                if records:
                    self._commit(records)
                stop = False
                for x in batch:
                    if isinstance(x, _Flush):
                        x.done.set()
                    elif x is _STOP:
                        stop = True
                if stop:
                    return
        except BaseException as exc:
            self._dead = exc
            log.critical("state store writer died: %r", exc)

    def _commit(self, records: list[object]) -> None:
        try:
            self._commit_retrying(records)
            self._written += len(records)
            self._batches += 1
            return
        except _Abandoned:
            return
        except Exception as exc:  # a record the database refuses: find it, keep the rest
            self._note_error(exc)
        for rec in records:
            try:
                self._commit_retrying([rec])
                self._written += 1
            except _Abandoned:
                return
            except Exception as exc:
                self.failed.append((rec, repr(exc)))
                log.error("state store refused a record %r: %r", rec, exc)

    def _commit_retrying(self, records: list[object]) -> None:
        delay = 0.01
        while True:
            try:
                with write_transaction(self._engine) as conn:
                    dups = self._write(conn, records)
                self._duplicates += dups
                return
            except Exception as exc:
                if not _transient(exc):
                    raise
                self._note_error(exc)
                if self._abandon.is_set():
                    raise _Abandoned from exc
                log.error("state store write failed (will retry in %.2fs): %s", delay, exc)
                self._abandon.wait(delay)
                delay = min(delay * 2, self.config.retry_max_s)

    def _note_error(self, exc: BaseException) -> None:
        self._write_errors += 1
        self._last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    def _known_fills(self, conn: Connection, ids: list[str]) -> dict[str, FillRecord]:
        """The stored fills among these ids (one indexed lookup per batch)."""
        if self.backend == "postgresql":
            found = fills_from_tuples(conn.execute(self._stmts["known_pg"], {"ids": ids}))
        else:
            cols = [FILLS.c[f] for f in FILL_FIELDS]
            found = []
            for i in range(0, len(ids), 500):
                found += fills_from_tuples(conn.execute(select(*cols).where(FILLS.c.fill_id.in_(ids[i:i + 500]))))
        return {f.fill_id: f for f in found}

    def _conflict(self, stored: FillRecord, new: FillRecord) -> None:
        exc = FillConflict(f"fill {new.fill_id!r} is stored as {stored!r} and arrived again as {new!r}")
        self.conflicts.append(str(exc))
        log.critical("%s", exc)
        if self.on_conflict is not None:
            self.on_conflict(exc)

    def _write(self, conn: Connection, records: list[object]) -> int:
        """Write one batch; return how many fills were already stored."""
        orders: dict[str, OrderRecord] = {}
        fills: dict[str, FillRecord] = {}
        risks: list[RiskStateRecord] = []
        audits: list[AuditRecord] = []
        manual: list[dict[str, Any]] = []
        n_fills = 0
        for r in records:
            if isinstance(r, OrderRecord):
                orders[r.order_id] = r
            elif isinstance(r, FillRecord):
                fills.setdefault(r.fill_id, r)
                n_fills += 1
            elif isinstance(r, tuple):
                audits.extend(r)
            elif isinstance(r, RiskStateRecord):
                risks.append(r)
            elif isinstance(r, ManualActionRecord):
                manual.append({f: getattr(r, f) for f in r.__struct_fields__})
            else:
                raise TypeError(f"not a state record: {r!r}")
        st = self._stmts
        dups = n_fills - len(fills)
        if orders:
            conn.execute(st["orders"], [order_row(o) for o in orders.values()])
        if fills:
            known = self._known_fills(conn, list(fills))
            for k, f in fills.items():
                if k in known and known[k] != f:
                    self._conflict(known[k], f)
            new = [fill_row(f) for k, f in fills.items() if k not in known]
            dups += len(fills) - len(new)
            if new:  # ON CONFLICT DO NOTHING still guards against another writer
                conn.execute(st["fills"], new)
        if risks:
            conn.execute(st["risk"], [{"id": _RISK_ID, **risk_row(risks[-1])}])
            if self.config.risk_history:
                conn.execute(insert(RISK_HISTORY), [risk_row(r) for r in risks])
        if audits:
            conn.execute(insert(AUDIT), [audit_row(a) for a in audits])
        if manual:
            conn.execute(insert(MANUAL_ACTIONS), manual)
        return dups


class _Abandoned(Exception):
    """The store is closing and the database is still failing: give up on the queued records."""


def _statements(backend: str) -> dict[str, Any]:
    mod: Any = postgresql if backend == "postgresql" else sqlite

    def upsert(table: Any, key: str) -> Insert:
        ins = mod.insert(table)
        new = {c.name: ins.excluded[c.name] for c in table.c if c.name != key}
        if "ts_ack" in new:  # a record without the ack time (an order restored after a restart) keeps the stored one
            new["ts_ack"] = case((ins.excluded.ts_ack != 0, ins.excluded.ts_ack), else_=table.c.ts_ack)
        return ins.on_conflict_do_update(index_elements=[key], set_=new)  # type: ignore[no-any-return]

    return {
        # no RETURNING: with it SQLAlchemy renders multi-row VALUES, which psycopg parses far slower than
        # its pipelined executemany
        "orders": upsert(ORDERS, "order_id"),
        "fills": mod.insert(FILLS).on_conflict_do_nothing(index_elements=["fill_id"]),
        "risk": upsert(RISK_STATE, "id"),
        "known_pg": select(*[FILLS.c[f] for f in FILL_FIELDS]).where(
            FILLS.c.fill_id == any_(bindparam("ids", type_=postgresql.ARRAY(Text())))),
    }


if TYPE_CHECKING:
    def _conforms(store: SqlStateStore) -> StateStore:  # mypy proves SqlStateStore implements the port
        return store
