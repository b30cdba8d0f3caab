"""Spine benchmark: EMA(10)/EMA(30) cross on 1,000,000 WIN ticks through the whole engine path.

data engine -> strategy -> risk -> venue -> order manager -> portfolio. Prints JSON lines:
throughput of the full path, an empty-strategy run, the EMA without orders, a minimal pure-Python
loop as reference, the split per tick and per order, tick-to-order latency (median, p99) and peak
memory. Rates are per CPU second of this process (``time.process_time``): on a shared machine
wall time measures the neighbours.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(__file__))

from tradingsystem.backtest.replay import TickReplayFeed
from tradingsystem.backtest.tick_venue import TickVenue, TickVenueConfig
from tradingsystem.domain.b3 import future
from tradingsystem.domain.commands import SubmitOrder
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.strategy import Strategy
from tradingsystem.strategies.ema_cross import EmaCross, EmaCrossConfig
from workloads import SESSION, win_ticks

N = int(os.environ.get("BENCH_TICKS", "1000000"))


def weekdays(d: object) -> bool:
    return d.weekday() < 5  # type: ignore[attr-defined]


def build(ticks: list, strategy: Strategy | None, venue_cls: type = TickVenue) -> tuple[Kernel, TickVenue]:
    inst = future("WINZ26", weekdays)
    k = Kernel({inst.symbol: inst}, risk=RiskConfig(max_order_qty=10, max_position=10), is_session=weekdays)
    venue = venue_cls({inst.symbol: inst}, k.clock, TickVenueConfig(latency_ns=0), tape=k.data)
    k.connect(TickReplayFeed(ticks), venue)
    if strategy is not None:
        k.add_strategy(strategy)
    return k, venue


class _SignalOnly(EmaCross):
    """The EMA cross without its orders: what the strategy's arithmetic costs per tick."""

    def _rebalance(self) -> None:
        pass


def _timed_run(k: Kernel) -> float:
    gc.collect()
    t0 = time.process_time()
    k.run()
    return time.process_time() - t0


def run_full(ticks: list) -> dict:
    strat = EmaCross(EmaCrossConfig(symbol="WINZ26", fast=10, slow=30, quantity=1))
    k, _ = build(ticks, strat)
    cpu = _timed_run(k)
    s = k.summary()
    return {"bench": "engine.ema_cross_full_path", "ticks": len(ticks), "ticks_per_s": round(len(ticks) / cpu),
            "cpu_s": round(cpu, 3), "orders": s["orders_submitted"], "fills": s["fills"],
            "net_pnl_brl": s["net_pnl_brl"]}


def run_empty(ticks: list) -> dict:
    k, _ = build(ticks, Strategy("empty", ["WINZ26"]))
    cpu = _timed_run(k)
    return {"bench": "engine.empty_strategy", "ticks": len(ticks), "ticks_per_s": round(len(ticks) / cpu),
            "cpu_s": round(cpu, 3)}


def run_signal(ticks: list) -> dict:
    k, _ = build(ticks, _SignalOnly(EmaCrossConfig(symbol="WINZ26", fast=10, slow=30, quantity=1)))
    cpu = _timed_run(k)
    return {"bench": "engine.ema_no_orders", "ticks": len(ticks), "ticks_per_s": round(len(ticks) / cpu),
            "cpu_s": round(cpu, 3)}


def split(ref: dict, empty: dict, signal: dict, full: dict) -> dict:
    """Where the full path's time goes, from the runs above (same process, same ticks)."""
    n, orders = full["ticks"], full["orders"]
    us = 1e6
    return {"bench": "engine.split", "framework_us_per_tick": round(empty["cpu_s"] / n * us, 3),
            "ema_us_per_tick": round((signal["cpu_s"] - empty["cpu_s"]) / n * us, 3),
            "us_per_order": round((full["cpu_s"] - signal["cpu_s"]) / orders * us, 2),
            "full_vs_reference": round(full["ticks_per_s"] / ref["ticks_per_s"], 3),
            "goals": "full >= 2,000,000 ticks/s, <= 4 us per order, <= 0.3 us per tick of framework"}


def run_reference(ticks: list) -> dict:
    """A minimal pure-Python loop doing the same strategy: the floor for any event engine."""
    t0 = time.process_time()
    af, as_ = 2 / 11, 2 / 31
    fast = slow = float(ticks[0].price)
    pos, orders, n = 0, 0, 0
    for t in ticks:
        p = t.price
        fast += af * (p - fast)
        slow += as_ * (p - slow)
        n += 1
        if n > 30 and fast != slow:
            target = 1 if fast > slow else -1
            if target != pos:
                orders += 1
                pos = target
    cpu = time.process_time() - t0
    return {"bench": "engine.reference_pure_python_loop", "ticks": len(ticks),
            "ticks_per_s": round(len(ticks) / cpu), "cpu_s": round(cpu, 3), "orders": orders}


class _TimedVenue(TickVenue):
    def __init__(self, *a: object, **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.tick_start = 0
        self.latencies: list[int] = []

    def submit(self, command: SubmitOrder) -> None:
        self.latencies.append(time.perf_counter_ns() - self.tick_start)
        super().submit(command)


def run_latency(ticks: list) -> dict:
    strat = EmaCross(EmaCrossConfig(symbol="WINZ26", fast=10, slow=30, quantity=1))
    k, venue = build(ticks, strat, _TimedVenue)
    assert isinstance(venue, _TimedVenue)

    def start(tick: object) -> None:
        venue.tick_start = time.perf_counter_ns()

    k.data.watch("WINZ26", start)  # watchers run after the data engine took the tick, before strategies
    k.run()
    lat = sorted(venue.latencies)
    return {"bench": "engine.tick_to_order_latency", "orders": len(lat),
            "median_us": round(lat[len(lat) // 2] / 1000, 2), "p99_us": round(lat[int(len(lat) * 0.99)] / 1000, 2)}


def run_memory(ticks: list) -> dict:
    """Peak traced memory of the engine over the first half and the whole run: flat means no growth."""
    half = len(ticks) // 2
    out = {}
    for label, part in (("half", ticks[:half]), ("full", ticks)):
        strat = EmaCross(EmaCrossConfig(symbol="WINZ26", fast=10, slow=30, quantity=1))
        k, _ = build(part, strat)
        tracemalloc.start()
        k.run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out[label] = (peak, k.orders.submitted)
    return {"bench": "engine.peak_memory", "peak_mb_half": round(out["half"][0] / 2**20, 2),
            "orders_half": out["half"][1], "peak_mb_full": round(out["full"][0] / 2**20, 2),
            "orders_full": out["full"][1]}


def main() -> None:
    ticks = win_ticks(N)
    assert ticks[0].ts_event // 86_400_000_000_000 >= 0 and SESSION
    runs = []
    for fn in (run_reference, run_empty, run_signal, run_full):
        runs.append(fn(ticks))
        print(json.dumps(runs[-1]), flush=True)
    print(json.dumps(split(*runs)), flush=True)
    for fn in (run_latency, run_memory):
        print(json.dumps(fn(ticks)), flush=True)


if __name__ == "__main__":
    main()
