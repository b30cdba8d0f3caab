"""Order routing through the double: lifecycle, rejection with the DLL's reason, cancel, reconcile."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.profitdll.helpers import Double, settle
from tradingsystem.domain.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder
from tradingsystem.domain.errors import InvalidRequest, OffGrid
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus, OrderType, Side

pytestmark = pytest.mark.integration
K = OrderEventKind


def _limit(order_id: str, symbol: str = "WINZ26", qty: int = 5, price: int = 120000, side: Side = Side.BUY):
    return SubmitOrder(order_id, symbol, int(side), int(OrderType.LIMIT), qty, price=price)


def _apply(order: Order, events) -> None:
    for e in events:
        order.apply(OrderEventKind(e.kind), e.ts_event, e.fill_qty, e.fill_price)


def test_order_is_accepted_partially_filled_then_filled(profit, double: Double) -> None:
    _, execution, sink = profit
    execution.connect(sink)
    execution.submit(_limit("o-1"))
    settle(double, execution)
    local = execution.order_ids()["o-1"]
    double.TestFill(local, 2, 120000.0)
    double.TestFill(local, 3, 119995.0)
    settle(double, execution)

    kinds = [(K(e.kind).name, e.fill_qty, e.fill_price) for e in sink.orders]
    assert kinds == [("ACCEPTED", 0, 0), ("FILLED", 2, 120000), ("FILLED", 3, 119995)]
    assert all(e.order_id == "o-1" and e.symbol == "WINZ26" and e.venue_order_id == f"CL{local}"
               for e in sink.orders)
    order = Order("o-1", "WINZ26", Side.BUY, OrderType.LIMIT, 5, 120000)
    order.apply(K.SUBMITTED, 0)
    statuses = []
    for e in sink.orders:
        _apply(order, [e])
        statuses.append(order.status)
    assert statuses == [OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]


def test_rejected_order_carries_the_dlls_reason(profit, double: Double) -> None:
    _, execution, sink = profit
    execution.connect(sink)
    double.TestRejectNext("Saldo insuficiente para a operacao")
    execution.submit(_limit("o-2", qty=50))
    execution.submit(_limit("o-3"))
    settle(double, execution)
    rejected = [e for e in sink.orders if e.order_id == "o-2"]
    assert [K(e.kind) for e in rejected] == [K.REJECTED]
    assert "Saldo insuficiente para a operacao" in rejected[0].reason
    assert [K(e.kind) for e in sink.orders if e.order_id == "o-3"] == [K.ACCEPTED]


def test_modify_then_cancel_is_idempotent(profit, double: Double) -> None:
    _, execution, sink = profit
    execution.connect(sink)
    execution.submit(_limit("o-4", symbol="WDOZ26", qty=2, price=50005))
    settle(double, execution)
    execution.modify(ModifyOrder("o-4", quantity=3, price=50010))
    settle(double, execution)
    execution.cancel(CancelOrder("o-4"))
    execution.cancel(CancelOrder("o-4"))  # second cancel while pending: no call
    settle(double, execution)
    execution.cancel(CancelOrder("o-4"))  # after it is cancelled: still nothing
    settle(double, execution)
    assert [K(e.kind) for e in sink.orders] == [K.ACCEPTED, K.UPDATED, K.CANCELLED]
    assert execution.counters["duplicate_cancels"] == 2
    with pytest.raises(InvalidRequest):
        execution.cancel(CancelOrder("nope"))


def test_cancel_all_and_zero_position(profit, double: Double) -> None:
    _, execution, sink = profit
    execution.connect(sink)
    execution.submit(_limit("a", qty=1))
    execution.submit(_limit("b", symbol="PETR4", qty=100, price=3850))
    execution.submit(SubmitOrder("c", "WINZ26", int(Side.BUY), int(OrderType.MARKET), 2))
    settle(double, execution)
    double.TestFill(execution.order_ids()["c"], 2, 120005.0)
    settle(double, execution)
    execution.cancel_all(CancelAllOrders())
    settle(double, execution)
    cancelled = {e.order_id for e in sink.orders if e.kind == K.CANCELLED}
    assert cancelled == {"a", "b"}

    zero_id = execution.zero_position("WINZ26")
    settle(double, execution)
    zero = [e for e in sink.orders if e.order_id == zero_id]
    assert [K(e.kind) for e in zero] == [K.ACCEPTED, K.FILLED]
    assert zero[1].fill_qty == 2
    assert execution.reconcile().positions == ()  # flat again


def test_commands_are_checked_before_they_reach_the_dll(profit, double: Double) -> None:
    _, execution, sink = profit
    execution.connect(sink)
    with pytest.raises(OffGrid):
        execution.submit(_limit("x", price=120003))
    with pytest.raises(OffGrid):
        execution.submit(_limit("y", symbol="PETR4", qty=150, price=3850))  # lot 100
    with pytest.raises(InvalidRequest, match="stop-limit"):
        execution.submit(SubmitOrder("z", "WINZ26", 1, int(OrderType.STOP_MARKET), 1, trigger_price=120000))
    execution.submit(_limit("dup"))
    with pytest.raises(InvalidRequest, match="already"):
        execution.submit(_limit("dup"))


def test_start_reconciles_open_orders_and_positions(double: Double, dll_path: str) -> None:
    from tests.profitdll.helpers import Sink, config, weekdays
    from tradingsystem.adapters.profitdll import open_profitdll

    local = double.TestSeedOrder("WDOZ26", "F", 2, 3, 5012.5)
    double.TestSeedPosition("WINZ26", "F", -4, 119850.0)
    _, execution = open_profitdll(config(dll_path), weekdays)
    sink = Sink()
    try:
        execution.connect(sink)
        rec = execution.reconciliation
        assert rec is not None
        assert [(o.order_id, o.symbol, o.side, o.quantity, o.price) for o in rec.open_orders] == [
            (f"profit-{local}", "WDOZ26", Side.SELL, 3, 50125)
        ]
        assert [(p.symbol, p.quantity, p.avg_price) for p in rec.positions] == [("WINZ26", -4, Decimal("119850.0"))]
        execution.cancel(CancelOrder(f"profit-{local}"))  # adopted orders can be managed
        settle(double, execution)
        assert [(e.order_id, K(e.kind)) for e in sink.orders] == [(f"profit-{local}", K.CANCELLED)]
    finally:
        execution.session.dll.finalize()


def test_a_kernel_polling_only_the_feed_still_gets_order_events(profit, double: Double) -> None:
    feed, execution, sink = profit
    feed.connect(sink)
    execution.connect(sink)
    execution.submit(_limit("k-1"))
    double.TestWaitIdle()
    assert feed.next_ts() is None  # no market data, but the order event was delivered on the way
    assert [(e.order_id, K(e.kind)) for e in sink.orders] == [("k-1", K.ACCEPTED)]


def test_modify_of_a_partially_filled_order_reaches_the_engine(double: Double, dll_path: str) -> None:
    """Replace of a partial order: the DLL reports it PartiallyFilled again; the order manager leaves
    PENDING_UPDATE with the new price and quantity and accepts a second modify."""
    from tests.profitdll.helpers import config, weekdays
    from tradingsystem.adapters.profitdll import open_profitdll
    from tradingsystem.domain import b3
    from tradingsystem.engine.kernel import Kernel

    feed, execution = open_profitdll(config(dll_path), weekdays)
    kernel = Kernel({"WINZ26": b3.instrument("WINZ26", weekdays)}, is_session=weekdays)
    try:
        kernel.connect(feed, execution)
        feed.subscribe(["WINZ26"])
        double.TestStream(10)  # the kernel's clock is market time: in session from the first trades
        double.TestWaitIdle()
        kernel.run(live=True, max_events=10)
        order = kernel.orders.new_order("WINZ26", Side.BUY, 5, OrderType.LIMIT, price=120000)
        kernel.orders.submit(order)
        settle(double, execution)
        double.TestFill(execution.order_ids()[order.order_id], 2, 120000.0)
        settle(double, execution)
        assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled_qty == 2

        assert kernel.orders.modify(order.order_id, quantity=8, price=119995)
        assert order.status is OrderStatus.PENDING_UPDATE
        settle(double, execution)
        assert order.status is not OrderStatus.PENDING_UPDATE
        assert (order.quantity, order.price, order.filled_qty, order.leaves_qty) == (8, 119995, 2, 6)

        assert kernel.orders.modify(order.order_id, price=119990)  # a second modify is accepted
        settle(double, execution)
        assert order.price == 119990 and order.quantity == 8
        double.TestFill(execution.order_ids()[order.order_id], 6, 119990.0)
        settle(double, execution)
        assert order.status is OrderStatus.FILLED and order.filled_qty == 8
        assert kernel.position("WINZ26") == 8
    finally:
        feed.session.dll.finalize()


def test_stop_limit_through_the_adapter(profit, double: Double) -> None:
    feed, execution, sink = profit
    feed.connect(sink)
    execution.connect(sink)
    feed.subscribe(["WINZ26"])
    execution.submit(SubmitOrder("s-1", "WINZ26", int(Side.BUY), int(OrderType.STOP_LIMIT), 3, price=120100,
                                 trigger_price=120050))
    settle(double, feed, execution)
    assert [K(e.kind) for e in sink.orders] == [K.ACCEPTED]
    rows = []
    acct = execution._acct()

    def on_order(p, _param):
        o = p.contents
        rows.append((o.OrderType, o.Price, o.StopPrice, o.Quantity))
        return 1

    execution.session.dll.enumerate_orders(acct, on_order)
    assert rows == [(4, 120100.0, 120050.0, 3)]  # SendOrder type 4 with its stop and its limit
    double.TestStream(200)  # the tape crosses 120050: the double triggers the stop and fills at the trade
    settle(double, feed, execution)
    fills = [e for e in sink.orders if e.kind == K.FILLED]
    trigger_trade = next(t for t in sink.trades if t.price >= 120050)
    assert [(e.fill_qty, e.fill_price) for e in fills] == [(3, trigger_trade.price)]
    with pytest.raises(InvalidRequest, match="emulated"):
        execution.submit(SubmitOrder("s-2", "WINZ26", int(Side.SELL), int(OrderType.STOP_MARKET), 1,
                                     trigger_price=119900))


def test_emulated_stop_market_is_triggered_by_the_engine_and_sent_as_market(double: Double, dll_path: str) -> None:
    from tests.profitdll.helpers import config, weekdays
    from tradingsystem.adapters.profitdll import open_profitdll
    from tradingsystem.domain import b3
    from tradingsystem.engine.kernel import Kernel

    feed, execution = open_profitdll(config(dll_path), weekdays)
    kernel = Kernel({"WINZ26": b3.instrument("WINZ26", weekdays)}, is_session=weekdays)
    try:
        kernel.connect(feed, execution)
        feed.subscribe(["WINZ26"])
        group = kernel.emulator.oco("WINZ26", Side.SELL, 2, stop=119950)  # a sell stop-market at 119950
        double.TestStream(200)
        double.TestWaitIdle()
        kernel.run(live=True, max_events=200)
        child_id = group.active_child or group.children[0]
        child = kernel.cache.order(child_id)
        assert child.order_type is OrderType.MARKET and child.side is Side.SELL and child.quantity == 2
        settle(double, execution)
        double.TestFill(execution.order_ids()[child_id], 2, 119950.0)
        double.TestStream(1)
        double.TestWaitIdle()
        kernel.run(live=True, max_events=1)  # the feed's loop delivers the fill before the trade
        assert child.status is OrderStatus.FILLED and group.done
        assert kernel.position("WINZ26") == -2
    finally:
        feed.session.dll.finalize()
