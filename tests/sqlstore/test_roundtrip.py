"""Every record type survives a save/flush/load round trip exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from decimal import Decimal

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sqlstore.helpers import AUDIT_ST, RISK_ST, audit, fill, fills_st, order, orders_st, risk
from tradingsystem.adapters.sqlstore import SqlStateStore, net_positions
from tradingsystem.domain.records import AuditRecord, FillRecord, OrderRecord, RiskStateRecord

_ids = itertools.count()
PROPS = settings(max_examples=25, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_empty_store_loads_nothing(store: SqlStateStore) -> None:
    assert store.load_orders() == []
    assert store.load_fills() == []
    assert store.load_risk_state() is None
    assert store.load_audit() == []
    assert store.load_positions() == {}


@PROPS
@given(data=st.data())
def test_any_records_round_trip_exactly(store: SqlStateStore, data: st.DataObject) -> None:
    tag = f"x{next(_ids)}-"
    orders = data.draw(st.lists(orders_st(st.integers(0, 1000).map(lambda i: f"{tag}{i}")), max_size=5,
                                unique_by=lambda o: o.order_id))
    fills = data.draw(st.lists(fills_st(st.integers(0, 1000).map(lambda i: f"{tag}{i}")), max_size=5,
                               unique_by=lambda f: f.fill_id))
    state: RiskStateRecord = data.draw(RISK_ST)
    audits: list[AuditRecord] = data.draw(st.lists(AUDIT_ST, min_size=1, max_size=4))
    for o in orders:
        store.save_order(o)
    for f in fills:
        store.save_fill(f)
    store.save_risk_state(state)
    store.save_audit(audits)
    store.flush()
    by_id = {o.order_id: o for o in store.load_orders() if o.order_id.startswith(tag)}
    assert by_id == {o.order_id: o for o in orders}
    got_fills = {f.fill_id: f for f in store.load_fills(since_ts=-(2**63)) if f.fill_id.startswith(tag)}
    assert got_fills == {f.fill_id: f for f in fills}
    assert store.load_risk_state() == state
    assert store.load_audit(limit=len(audits)) == audits


def test_decimals_keep_every_digit(store: SqlStateStore) -> None:
    fee = Decimal("0.0000000000000000000000000001")
    big = Decimal("123456789012345678901234567890.123456789012345678901234567890")
    store.save_fill(fill("f-small", fee=fee))
    store.save_fill(fill("f-big", fee=big))
    state = msgspec.structs.replace(risk(), day_start_equity_brl=big, peak_equity_brl=-fee)
    store.save_risk_state(state)
    store.flush()
    fees = {f.fill_id: f.fee for f in store.load_fills()}
    assert fees == {"f-small": fee, "f-big": big}
    assert str(fees["f-big"]) == str(big)
    assert store.load_risk_state() == state


def test_open_only_returns_working_orders(store: SqlStateStore) -> None:
    statuses = {"init": 0, "submitted": 1, "accepted": 2, "rejected": 3, "partial": 4, "filled": 5,
                "cancelled": 6, "expired": 7, "pending_update": 8, "pending_cancel": 9, "triggered": 10}
    for ts, (name, status) in enumerate(statuses.items()):
        store.save_order(order(name, status=status, ts=ts))
    store.flush()
    open_ids = [o.order_id for o in store.load_orders(open_only=True)]
    assert open_ids == ["init", "submitted", "accepted", "partial", "pending_update", "pending_cancel", "triggered"]
    assert [o.order_id for o in store.load_orders()] == list(statuses)


def test_fills_since_ts_in_time_order(store: SqlStateStore) -> None:
    for i, ts in enumerate([30, 10, 20, 40]):
        store.save_fill(fill(f"f{i}", ts=ts))
    store.flush()
    assert [f.ts for f in store.load_fills()] == [10, 20, 30, 40]
    assert [f.fill_id for f in store.load_fills(since_ts=20)] == ["f2", "f0", "f3"]


def test_audit_limit_returns_latest_oldest_first(store: SqlStateStore) -> None:
    store.save_audit([audit(ts=i, order_id=f"o{i}", passed=i % 2 == 0) for i in range(5)])
    store.save_audit([audit(ts=5, order_id="o5")])
    store.save_audit([])
    store.flush()
    assert [a.order_id for a in store.load_audit(limit=3)] == ["o3", "o4", "o5"]
    assert len(store.load_audit()) == 6


def test_risk_state_is_the_last_saved_and_history_keeps_all(store: SqlStateStore) -> None:
    store.save_risk_state(risk(ts=1))
    store.save_risk_state(risk(ts=2, state="HALTED", kill=True))
    store.flush()
    store.save_risk_state(risk(ts=3, state="REDUCING", kill=True))
    store.flush()
    now = store.load_risk_state()
    assert now is not None and (now.ts, now.trading_state, now.kill_switch) == (3, "REDUCING", True)
    assert [r.ts for r in store.load_risk_history()] == [1, 2, 3]


def test_duplicate_fill_is_ignored_and_counted_once(store: SqlStateStore) -> None:
    first = fill("dup", qty=3)
    store.save_fill(first)
    store.save_fill(fill("dup", qty=99))  # same batch: the first one wins
    store.flush()
    store.save_fill(fill("dup", qty=7))  # a later batch: ignored, no error
    store.save_fill(fill("other", qty=2, side=2))
    store.flush()
    assert [f for f in store.load_fills() if f.fill_id == "dup"] == [first]
    assert store.load_positions() == {("s1", "WINZ26"): 1}
    st = store.stats()
    assert (st.failed, st.write_errors, st.duplicate_fills) == (0, 0, 2)


@PROPS
@given(data=st.data())
def test_any_interleaving_of_order_upserts_leaves_the_last_state(store: SqlStateStore, data: st.DataObject) -> None:
    tag = f"u{next(_ids)}-"
    steps = data.draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10), st.booleans()), min_size=1,
                               max_size=40))
    last: dict[str, OrderRecord] = {}
    for version, (i, status, flush) in enumerate(steps):
        rec = order(f"{tag}{i}", status=status, ts=version, filled=version, ts_last=version)
        store.save_order(rec)
        last[rec.order_id] = rec
        if flush:
            store.flush()
    store.flush()
    got = {o.order_id: o for o in store.load_orders() if o.order_id.startswith(tag)}
    assert got == last
    open_got = {o.order_id for o in store.load_orders(open_only=True) if o.order_id.startswith(tag)}
    assert open_got == {k for k, o in last.items() if o.status not in (3, 5, 6, 7)}


@PROPS
@given(data=st.data())
def test_positions_equal_the_sum_of_fills(store: SqlStateStore, data: st.DataObject) -> None:
    tag = f"p{next(_ids)}"
    fills: list[FillRecord] = data.draw(st.lists(
        st.builds(fill, fill_id=st.integers(0, 30).map(lambda i: f"{tag}-{i}"), side=st.integers(1, 2),
                  qty=st.integers(1, 10**12), strategy=st.sampled_from([f"{tag}a", f"{tag}b"]),
                  symbol=st.sampled_from(["WINZ26", "WDOZ26", "PETR4"])), max_size=30))
    for f in fills:
        store.save_fill(f)
    store.flush()
    unique = list({f.fill_id: f for f in reversed(fills)}.values())  # the first save of an id wins
    expected = {}
    for f in unique:
        key = (f.strategy_id, f.symbol)
        expected[key] = expected.get(key, 0) + (f.quantity if f.side == 1 else -f.quantity)
    expected = {k: v for k, v in expected.items() if v}
    got = {k: v for k, v in store.load_positions().items() if k[0].startswith(tag)}
    assert got == expected
    stored = [f for f in store.load_fills() if f.fill_id.startswith(f"{tag}-")]
    assert net_positions(stored) == expected
