"""Risk benchmarks: pre-trade check latency with every rule on, and kill switch with 100 working orders.

Prints JSON lines. The reference is an empty function call measured in the same run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tests.engine.helpers import kernel, ticks

from tradingsystem.domain.commands import CancelOrder
from tradingsystem.domain.orders import OrderType, Side
from tradingsystem.engine.risk import RiskConfig

N = int(os.environ.get("BENCH_ORDERS", "20000"))

ALL_RULES = RiskConfig(max_order_qty=50, max_position=10_000, max_gross_exposure_brl=Decimal("1e12"),
                       max_working_orders=1_000_000, max_orders_per_second=10_000_000, price_band_pct=Decimal(5),
                       daily_loss_limit_brl=Decimal("1e9"), max_drawdown_brl=Decimal("1e9"))


def pct(values: list[int], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] / 1000


def check_latency() -> dict:
    k, _ = kernel(ticks("WINZ26", [125_000, 125_005, 125_010]), risk=ALL_RULES)
    k.run()
    risk, om = k.risk, k.orders
    orders = [om.new_order("WINZ26", Side.BUY if i % 2 else Side.SELL, 1 + i % 5, OrderType.LIMIT,
                           125_000 - 5 * (i % 20)) for i in range(N)]
    ts = k.clock.now()
    lat = []
    for o in orders:
        t0 = time.perf_counter_ns()
        risk.check(o, ts)
        lat.append(time.perf_counter_ns() - t0)
    empty = []
    for _ in range(N):
        t0 = time.perf_counter_ns()
        empty.append(time.perf_counter_ns() - t0)
    return {"bench": "risk.pre_trade_check_all_rules", "orders": N, "median_us": pct(lat, 0.5),
            "p99_us": pct(lat, 0.99), "timer_overhead_median_us": pct(empty, 0.5), "goal_p99_us": 20}


def kill_switch() -> dict:
    k, venue = kernel(ticks("WINZ26", [125_000, 125_005]), latency_ns=0,
                      risk=RiskConfig(max_working_orders=0, max_position=100_000, max_order_qty=100))
    k.run()
    for i in range(100):
        k.orders.submit(k.orders.new_order("WINZ26", Side.BUY, 1, OrderType.LIMIT, 124_000 - 5 * i))
    assert len(k.cache.open_orders) == 100
    sent: list[int] = []
    cancel = venue.cancel

    def timed(cmd: CancelOrder) -> None:
        sent.append(time.perf_counter_ns())
        cancel(cmd)

    venue.cancel = timed  # type: ignore[method-assign]
    t0 = time.perf_counter_ns()
    k.guard.kill("benchmark")
    return {"bench": "risk.kill_switch_100_working_orders", "cancels_sent": len(sent),
            "trigger_to_last_cancel_ms": round((sent[-1] - t0) / 1e6, 3), "goal_ms": 5}


def main() -> None:
    for fn in (check_latency, kill_switch):
        print(json.dumps(fn()), flush=True)


if __name__ == "__main__":
    main()
