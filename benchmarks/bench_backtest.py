"""Backtest benchmark: the spine's 1M-tick EMA(10)/EMA(30) cross through the queue-aware venue, the
vectorised research mode, and (when they install in throwaway venvs) vectorbt and NautilusTrader.

Prints JSON lines. Ratios are against references measured in the same run; the event-engine runs are timed
in CPU seconds of this process (``time.process_time``: on a shared machine wall time measures the neighbours):
* ``ratio_vs_pure_python``: the event engine vs a minimal pure-Python loop doing the same strategy;
* ``rate_last_vs_first_chunk``: throughput of the last 100k ticks over the first 100k (flat = ~1);
* ``vector_vs_vectorbt``: our research mode's time (EMA-cross signals, then the portfolio simulation) over
  vectorbt's (``vbt.MA`` EMAs, then ``Portfolio.from_signals``) on the same prices; each step also apart.

External tools run from ``VECTORBT_PYTHON`` / ``NAUTILUS_PYTHON`` (interpreters of throwaway venvs);
when unset or failing, a line says why.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from tradingsystem.backtest.feeds import MergedFeed, trade_events
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig
from tradingsystem.backtest.replay import TickReplayFeed
from tradingsystem.backtest.tick_venue import TickVenue, TickVenueConfig
from tradingsystem.backtest.vectorized import vector_backtest
from tradingsystem.domain.b3 import future
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.strategies.ema_cross import EmaCross, EmaCrossConfig
from tradingsystem.strategies.signals import ema_cross_targets
from workloads import win_ticks

N = int(os.environ.get("BENCH_TICKS", "1000000"))
CHUNK = 100_000


def weekdays(d: object) -> bool:
    return d.weekday() < 5  # type: ignore[attr-defined]


def build(feed: object, simple: bool = False) -> Kernel:
    inst = future("WINZ26", weekdays)
    fees = FeeSchedule()
    k = Kernel({inst.symbol: inst}, risk=RiskConfig(max_order_qty=10, max_position=10), fees=fees,
               is_session=weekdays)
    venue: object = (TickVenue({inst.symbol: inst}, k.clock, TickVenueConfig(latency_ns=0), tape=k.data) if simple
                     else QueueVenue({inst.symbol: inst}, k.clock, k.data, QueueVenueConfig(), books=k.cache,
                                     fees=fees))
    k.connect(feed, venue)  # type: ignore[arg-type]
    k.add_strategy(EmaCross(EmaCrossConfig(symbol="WINZ26", fast=10, slow=30, quantity=1)))
    return k


def reference(ticks: list) -> float:
    t0 = time.process_time()
    af, as_ = 2 / 11, 2 / 31
    fast = slow = float(ticks[0].price)
    pos = n = 0
    for t in ticks:
        p = t.price
        fast += af * (p - fast)
        slow += as_ * (p - slow)
        n += 1
        if n > 30 and fast != slow:
            target = 1 if fast > slow else -1
            if target != pos:
                pos = target
    return len(ticks) / (time.process_time() - t0)


def simple_run(ticks: list) -> float:
    k = build(TickReplayFeed(ticks), simple=True)
    gc.collect()
    t0 = time.process_time()
    k.run()
    return len(ticks) / (time.process_time() - t0)


def event_run(ticks: list) -> dict:
    ref = reference(ticks)
    simple = simple_run(ticks)
    k = build(TickReplayFeed(ticks))
    gc.collect()
    rates = []
    t0 = time.process_time()
    while True:
        c0 = time.process_time()
        n = k.run(max_events=CHUNK)
        if n:
            rates.append(n / (time.process_time() - c0))
        if n < CHUNK:
            break
    cpu = time.process_time() - t0
    s = k.summary()
    return {"bench": "backtest.ema_cross_queue_venue", "ticks": len(ticks), "ticks_per_s": round(len(ticks) / cpu),
            "cpu_s": round(cpu, 3), "orders": s["orders_submitted"], "net_pnl_brl": s["net_pnl_brl"],
            "first_chunk_ticks_per_s": round(rates[0]), "last_chunk_ticks_per_s": round(rates[-1]),
            "rate_last_vs_first_chunk": round(rates[-1] / rates[0], 3),
            "reference_ticks_per_s": round(ref), "ratio_vs_pure_python": round(len(ticks) / cpu / ref, 3),
            "simple_tick_venue_ticks_per_s": round(simple),
            "ratio_vs_simple_venue": round(len(ticks) / cpu / simple, 3)}


def columns_run(cols: dict) -> dict:
    """The catalog path: events built from numpy columns and merged (what ``tradingsystem backtest`` runs)."""
    k = build(MergedFeed([trade_events("WINZ26", cols)]))
    t0 = time.process_time()
    k.run()
    cpu = time.process_time() - t0
    return {"bench": "backtest.ema_cross_from_columns", "ticks": len(cols["price"]),
            "ticks_per_s": round(len(cols["price"]) / cpu), "cpu_s": round(cpu, 3)}


def memory_run(ticks: list) -> dict:
    out = {}
    for label, part in (("half", ticks[: len(ticks) // 2]), ("full", ticks)):
        k = build(TickReplayFeed(part))
        tracemalloc.start()
        k.run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out[label] = (peak, k.orders.submitted)
    return {"bench": "backtest.peak_memory_engine", "peak_mb_half": round(out["half"][0] / 2**20, 2),
            "orders_half": out["half"][1], "peak_mb_full": round(out["full"][0] / 2**20, 2),
            "orders_full": out["full"][1]}


def vector_run(cols: dict) -> tuple[dict, float, np.ndarray]:
    """Our research mode, both steps: EMA-cross targets from prices, then the portfolio simulation."""
    inst = future("WINZ26", weekdays)
    best_sig = best_sim = float("inf")
    res = targets = None
    for _ in range(3):
        t0 = time.perf_counter()
        targets = ema_cross_targets(cols["price"], 10, 30, 1)
        t1 = time.perf_counter()
        res = vector_backtest(inst, cols["ts_event"], cols["price"], targets, FeeSchedule())
        t2 = time.perf_counter()
        best_sig, best_sim = min(best_sig, t1 - t0), min(best_sim, t2 - t1)
    assert res is not None and targets is not None
    n = len(cols["price"])
    total = best_sig + best_sim
    return ({"bench": "backtest.vectorised", "ticks": n, "ticks_per_s": round(n / total), "wall_s": round(total, 4),
             "signal_s": round(best_sig, 4), "simulation_s": round(best_sim, 4), "fills": len(res.fills),
             "net_pnl_brl": str(res.net_brl)}, total, targets)


_VBT = """
import sys, time, json, numpy as np
import vectorbt as vbt
d = np.load(sys.argv[1])
price = d["price"].astype(float)
no = np.zeros(len(price), dtype=bool)
kw = dict(size=1, size_type="amount", fixed_fees=0.26, init_cash=1e9, freq="1s", upon_opposite_entry="reverse")

def signals(p):
    fast = vbt.MA.run(p, 10, ewm=True, adjust=False).ma.to_numpy()
    slow = vbt.MA.run(p, 30, ewm=True, adjust=False).ma.to_numpy()
    target = np.sign(fast - slow)
    target[:30] = 0
    prev = np.r_[0, target[:-1]]
    return (target > 0) & (prev <= 0), (target < 0) & (prev >= 0)

li, si = signals(price[:1000])
vbt.Portfolio.from_signals(price[:1000], li, no[:1000], si, no[:1000], **kw)  # warm-up (numba compiles)
best_sig = best_sim = 1e9
for _ in range(3):
    t0 = time.perf_counter()
    long_in, short_in = signals(price)
    t1 = time.perf_counter()
    pf = vbt.Portfolio.from_signals(price, long_in, no, short_in, no, **kw)
    t2 = time.perf_counter()
    best_sig, best_sim = min(best_sig, t1 - t0), min(best_sim, t2 - t1)
print(json.dumps({"signal_s": best_sig, "simulation_s": best_sim, "orders": int(pf.orders.count()),
                  "version": vbt.__version__}))
"""


def vectorbt_run(cols: dict, ours: dict) -> dict:
    py = os.environ.get("VECTORBT_PYTHON")
    if not py:
        return {"bench": "backtest.vectorbt", "skipped": "set VECTORBT_PYTHON to a venv with vectorbt "
                "(make bench-peers does)"}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sig.npz")
        np.savez(path, price=cols["price"])
        script = os.path.join(tmp, "vbt.py")
        with open(script, "w") as fh:
            fh.write(_VBT)
        proc = subprocess.run([py, script, path], capture_output=True, text=True, timeout=600)
    if proc.returncode:
        return {"bench": "backtest.vectorbt", "skipped": proc.stderr.strip().splitlines()[-1:]}
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    n = len(cols["price"])
    total = r["signal_s"] + r["simulation_s"]
    return {"bench": "backtest.vectorbt_from_signals", "ticks": n, "ticks_per_s": round(n / total),
            "wall_s": round(total, 4), "signal_s": round(r["signal_s"], 4),
            "simulation_s": round(r["simulation_s"], 4), "orders": r["orders"], "version": r["version"],
            "vector_vs_vectorbt": round(ours["wall_s"] / total, 3),
            "signal_vs_vectorbt": round(ours["signal_s"] / r["signal_s"], 3),
            "simulation_vs_vectorbt": round(ours["simulation_s"] / r["simulation_s"], 3),
            "same_orders": r["orders"] == ours["fills"], "goal": "vector_vs_vectorbt < 1.0"}


def nautilus_run(cols: dict, ours_ticks_per_s: int) -> dict:
    """NautilusTrader's BacktestEngine on the same ticks (``benchmarks/nautilus_ema.py``), same strategy."""
    py = os.environ.get("NAUTILUS_PYTHON")
    if not py:
        return {"bench": "backtest.nautilus", "skipped": "set NAUTILUS_PYTHON to a venv with nautilus_trader"}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ticks.npz")
        np.savez(path, **cols)
        script = os.path.join(os.path.dirname(__file__), "nautilus_ema.py")
        proc = subprocess.run([py, script, path], capture_output=True, text=True, timeout=1800)
    if proc.returncode:
        return {"bench": "backtest.nautilus", "skipped": proc.stderr.strip().splitlines()[-1:]}
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    n = len(cols["price"])
    return {"bench": "backtest.nautilus_backtest_engine", "ticks": n, "ticks_per_s": round(n / r["wall_s"]),
            "wall_s": round(r["wall_s"], 3), "orders": r["orders"], "version": r["version"],
            "ours_vs_nautilus": round(ours_ticks_per_s / (n / r["wall_s"]), 2)}


def main() -> None:
    ticks = win_ticks(N)
    cols = {"ts_event": np.array([t.ts_event for t in ticks]), "price": np.array([t.price for t in ticks]),
            "size": np.array([t.size for t in ticks]), "aggressor": np.array([t.aggressor for t in ticks])}
    event_line = event_run(ticks)
    print(json.dumps(event_line), flush=True)
    print(json.dumps(columns_run(cols)), flush=True)
    print(json.dumps(memory_run(ticks)), flush=True)
    line, _ours_s, targets = vector_run(cols)
    ev = build(TickReplayFeed(ticks[:200_000]))
    ev.run()
    vec = vector_backtest(future("WINZ26", weekdays), cols["ts_event"][:200_000], cols["price"][:200_000],
                          targets[:200_000], FeeSchedule())
    line["agrees_with_event_engine_200k"] = Decimal(ev.summary()["net_pnl_brl"]) == vec.net_brl
    print(json.dumps(line), flush=True)
    print(json.dumps(vectorbt_run(cols, line)), flush=True)
    print(json.dumps(nautilus_run(cols, event_line["ticks_per_s"])), flush=True)


if __name__ == "__main__":
    main()
