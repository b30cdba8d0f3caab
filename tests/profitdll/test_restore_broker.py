"""The restore path against the ProfitDLL double, in one process: a node stops with a partly filled working
order, the broker fills more while it is down, and a new node (a new load of the DLL on the same broker
account) restores from the state store, catches the fill up, and adopts the broker's orders and positions so
that the kill switch cancels and flattens all of them."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.profitdll.helpers import Double, config, settle, weekdays
from tradingsystem.adapters.profitdll import open_profitdll
from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.domain import b3
from tradingsystem.domain.orders import OrderStatus, OrderType, Side
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.state import StateKeeper, restore

pytestmark = pytest.mark.integration


def _node(lib: Path, tmp_path: Path, name: str, account: Path):
    path = tmp_path / f"ProfitDLL_{name}.so"
    shutil.copy(lib, path)
    double = Double(str(path))
    double.define_all()
    double.TestSetAutoFill(1)
    double.TestSetAccountFile(str(account).encode())
    feed, execution = open_profitdll(config(str(path)), weekdays)
    kernel = Kernel({"WINZ26": b3.instrument("WINZ26", weekdays)}, risk=RiskConfig(check_session=False),
                    is_session=weekdays)
    kernel.orders.id_prefix = f"R{name}"
    kernel.connect(feed, execution)
    return double, execution, kernel


def test_restore_catches_up_and_kill_flattens_what_the_broker_holds(double_lib: Path, tmp_path: Path) -> None:
    account, url = tmp_path / "account.bin", f"sqlite:///{tmp_path}/state.db"
    double, execution, kernel = _node(double_lib, tmp_path, "a", account)
    try:
        store = SqlStateStore(SqlStoreConfig(url=url))
        StateKeeper(kernel, store, run_id="a")
        order = kernel.orders.new_order("WINZ26", Side.BUY, 5, OrderType.LIMIT, price=119000, strategy_id="s")
        kernel.orders.submit(order)
        settle(double, execution)
        local = execution.order_ids()[order.order_id]
        double.TestFill(local, 2, 119000.0)
        settle(double, execution)
        assert order.filled_qty == 2 and kernel.position("WINZ26") == 2
        store.close()  # the node dies here; the broker goes on:
        double.TestFill(local, 1, 118995.0)
        double.TestSeedPosition("WDOZ26", "F", -2, 5010.0)  # traded on the broker's screen meanwhile
        double.TestWaitIdle()
    finally:
        execution.session.dll.finalize()

    double, execution, kernel = _node(double_lib, tmp_path, "b", account)
    try:
        store = SqlStateStore(SqlStoreConfig(url=url))
        StateKeeper(kernel, store, run_id="b")
        report = restore(kernel, store, execution)
        again = kernel.cache.order(order.order_id)
        assert again is not None and again.status is OrderStatus.PARTIALLY_FILLED and again.filled_qty == 3
        assert again.filled_cost == 2 * 119000 + 118995  # the fill made while down, at its own price
        assert report.fills_recovered == 1 and report.broker is not None
        assert report.broker.positions_adopted == {"WDOZ26": -2}
        assert kernel.position("WINZ26") == 3 and kernel.position("WDOZ26") == -2
        assert kernel.risk.state.value == "REDUCING" and any(a.kind == "reconcile" for a in kernel.alerts)

        out = kernel.guard.kill("end of test", flatten=True)
        assert out["cancelled"] == 1  # the restored order, now routed under our id
        for _ in range(20):
            settle(double, execution)
            if not kernel.cache.open_orders and not any(p.quantity for p in kernel.portfolio.positions.values()):
                break
        assert again.status is OrderStatus.CANCELLED
        assert kernel.position("WINZ26") == 0 and kernel.position("WDOZ26") == 0
        assert execution.reconcile().positions == ()  # flat at the broker too
        store.flush()
        kernel2 = Kernel({s: b3.instrument(s, weekdays) for s in ("WINZ26", "WDOZ26")}, is_session=weekdays)
        assert restore(kernel2, store).positions == {}  # the store agrees: everything adopted was stored
        assert kernel2.portfolio.fees_brl() > Decimal(0)
        store.close()
    finally:
        execution.session.dll.finalize()
