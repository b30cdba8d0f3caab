"""The engine's kernel runs live on the ProfitDLL adapter (both ports), against the double."""

from __future__ import annotations

import pytest

from tests.profitdll.helpers import Double, config, settle, weekdays
from tradingsystem.adapters.profitdll import open_profitdll
from tradingsystem.domain import b3
from tradingsystem.domain.orders import OrderStatus, OrderType, Side

pytestmark = pytest.mark.integration


def test_kernel_streams_and_routes_through_the_adapter(double: Double, dll_path: str) -> None:
    engine = pytest.importorskip("tradingsystem.engine.kernel")
    feed, execution = open_profitdll(config(dll_path), weekdays)
    kernel = engine.Kernel({"WINZ26": b3.instrument("WINZ26", weekdays)}, is_session=weekdays)
    try:
        kernel.connect(feed, execution)
        double.TestStream(50)
        double.TestWaitIdle()
        assert kernel.run(live=True, max_events=50) == 50
        assert kernel.data_count() == 50

        order = kernel.orders.new_order("WINZ26", Side.BUY, 2, OrderType.LIMIT, price=120000)
        kernel.orders.submit(order)
        settle(double, execution)  # the DLL accepts it; the kernel's loop delivers it
        local = execution.order_ids()[order.order_id]
        double.TestFill(local, 2, 119995.0)
        double.TestStream(1)
        double.TestWaitIdle()
        kernel.run(live=True, max_events=1)
        assert order.status is OrderStatus.FILLED and order.filled_qty == 2
        assert kernel.position("WINZ26") == 2
    finally:
        feed.session.dll.finalize()
