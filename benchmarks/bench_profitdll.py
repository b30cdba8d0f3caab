"""ProfitDLL adapter benchmark against the C double (Linux): prints one JSON object per line.

Every line but ``reference`` is measured for both hand-off paths in the same run (``"handoff"``): "c",
the C ring the session uses when gcc is there, and "ctypes", one Python callback per trade (the fallback,
and the reference the C path is compared with).

- ``reference``: the same stream into a ctypes callback that does nothing (the floor cost of one Python
  callback per trade on this machine); ``handoff`` reports the adapter's drained rate as a ratio of it.
- ``handoff``: the targets in one line: trades/s drained end to end (DLL thread to the engine sink, both
  threads in one process) against 200k/s, and p99 callback-to-engine at 10k and 50k trades/s (switch
  interval 0.5 ms, what ``build_profitdll`` sets for live runs) against 1 ms.

- ``components``: each side alone (the DLL thread streaming into the queue, then the engine draining
  it), as rates and as CPU time per trade (less sensitive to a loaded machine than the rates).
- ``latency``: callback-to-engine latency (``ts_init`` stamped in the DLL-thread callback, read by the
  sink on the engine thread) for a paced stream, median and p99 in microseconds.
- ``burst``: a 1,000,000-trade burst streamed as fast as the double can while the engine drains.
- ``sustained``: paced streams at rising rates; ``max_backlog`` is how far the DLL thread fell behind
  its schedule (the DLL's own queue), ``md6`` whether it raised market-data state 6.

Run: ``.venv/bin/python benchmarks/bench_profitdll.py [--quick]``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.profitdll.helpers import Double, build_double, config, weekdays  # noqa: E402

from tradingsystem.adapters.profitdll import open_profitdll  # noqa: E402
from tradingsystem.domain.events import TradeTick  # noqa: E402


class LatencySink:
    def __init__(self) -> None:
        self.lat: list[int] = []
        self.n = 0
        self.last = 0

    def on_trade(self, tick: TradeTick) -> None:
        self.lat.append(time.time_ns() - tick.ts_init)
        self.n += 1
        self.last = tick.trade_id

    def on_book_delta(self, delta: object) -> None:
        pass


def session(lib: Path, tmp: Path, name: str, handoff: str, capacity: int = 1 << 18):
    path = tmp / f"{name}_{handoff}.so"
    shutil.copy(lib, path)
    d = Double(str(path))
    d.define_all()
    cfg = config(str(path), market_only=True, queue_capacity=capacity, handoff="auto" if handoff == "c" else handoff)
    feed, _ = open_profitdll(cfg, weekdays)
    sink = LatencySink()
    feed.connect(sink)  # type: ignore[arg-type]
    if feed.stats()["c_handoff"] != (handoff == "c"):
        raise SystemExit(f"asked for the {handoff} hand-off, the session runs the other one")
    feed.subscribe(["WINZ26"])
    return d, feed, sink


def drain(feed, sink: LatencySink, n: int) -> None:
    while sink.n < n:
        if feed.next_ts() is None:
            feed.wait(1.0)
        else:
            feed.step()


def reference(lib: Path, tmp: Path, n: int) -> float:
    """Trades/s the double delivers into a no-op ctypes trade callback (no copy, no queue, no engine)."""
    import ctypes

    from tradingsystem.adapters.profitdll import structs as s
    from tradingsystem.adapters.profitdll.binding import _pin_thread_state

    path = tmp / "reference.so"
    shutil.copy(lib, path)
    d = Double(str(path))
    d.define_all()
    dll = ctypes.CDLL(str(path))
    pinned: list[int] = []

    def noop(*_: object) -> None:  # pins a thread state once, as the adapter's trampolines do
        if not pinned:
            _pin_thread_state()
            pinned.append(1)

    state = s.STATE_CALLBACK(lambda *_: None)
    trade = s.TRADE_CALLBACK(noop)
    dll.DLLInitializeMarketLogin.argtypes = [ctypes.c_wchar_p] * 3 + [s.STATE_CALLBACK] + [ctypes.c_void_p] * 7
    dll.SetTradeCallbackV2.argtypes = [s.TRADE_CALLBACK]
    dll.SubscribeTicker.argtypes = [ctypes.c_wchar_p, ctypes.c_wchar_p]
    assert dll.DLLInitializeMarketLogin("k", "u", "p", state, None, None, None, None, None, None, None) == 0
    dll.SetTradeCallbackV2(trade)
    d.TestWaitIdle()
    assert dll.SubscribeTicker("WINZ26", "F") == 0
    t0 = time.perf_counter()
    d.TestStream(n)
    d.TestWaitIdle()
    rate = n / (time.perf_counter() - t0)
    dll.DLLFinalize()
    return rate


def pct(values: list[int], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] / 1000.0


def path_bench(lib: Path, tmp: Path, handoff: str, quick: bool, ref: float) -> None:
    """Every measure for one hand-off path ("c": the C ring; "ctypes": one Python callback per trade)."""
    n = 100_000 if quick else 500_000
    d, feed, sink = session(lib, tmp, "parts", handoff, capacity=1 << 21)
    t0, c0 = time.perf_counter(), time.process_time()
    d.TestStream(n)
    d.TestWaitIdle()  # this thread sleeps in C meanwhile: the process's CPU time is the DLL thread's
    t1, c1, e1 = time.perf_counter(), time.process_time(), time.thread_time()
    drain(feed, sink, n)
    t2, e2 = time.perf_counter(), time.thread_time()
    print(json.dumps({"bench": "components", "handoff": handoff, "trades": n,
                      "callback_enqueue_per_s": round(n / (t1 - t0)), "engine_drain_per_s": round(n / (t2 - t1)),
                      "dll_thread_cpu_us_per_trade": round((c1 - c0) / n * 1e6, 3),
                      "engine_cpu_us_per_trade": round((e2 - e1) / n * 1e6, 3)}))
    feed.session.dll.finalize()

    p99 = {}
    for rate, switch in ((10_000, 0.005), (50_000, 0.005), (10_000, 0.0005), (50_000, 0.0005)):
        sys.setswitchinterval(switch)
        n = rate // (4 if quick else 1)
        d, feed, sink = session(lib, tmp, f"lat{rate}_{switch}", handoff)
        d.TestStreamPaced(n, float(rate))
        drain(feed, sink, n)
        d.TestWaitIdle()
        print(json.dumps({
            "bench": "latency", "handoff": handoff, "rate_per_s": rate, "switch_interval_s": switch, "trades": n,
            "median_us": round(statistics.median(sink.lat) / 1000.0, 1), "p99_us": round(pct(sink.lat, 0.99), 1),
            "max_us": round(max(sink.lat) / 1000.0, 1), "max_dll_backlog": d.stat("max_backlog"),
        }))
        if switch == 0.0005:
            p99[rate] = pct(sink.lat, 0.99)
        feed.session.dll.finalize()
    sys.setswitchinterval(0.005)

    n = 200_000 if quick else 1_000_000
    d, feed, sink = session(lib, tmp, "burst", handoff, capacity=1 << 21)
    t0 = time.perf_counter()
    d.TestStream(n)
    drain(feed, sink, n)
    dt = time.perf_counter() - t0
    st = feed.stats()
    print(json.dumps({
        "bench": "burst", "handoff": handoff, "trades": n, "seconds": round(dt, 3), "trades_per_s": round(n / dt),
        "complete_in_order": sink.n == n and sink.last == n, "max_queue_depth": st["max_queue_depth"],
        "overflow": st["overflow"],
    }))
    print(json.dumps({
        "bench": "handoff", "handoff": handoff, "drained_per_s": round(n / dt), "target_per_s": 200_000,
        "drained_met": n / dt >= 200_000, "ratio_to_noop_callback": round(n / dt / ref, 3),
        "p99_us_at_10k": p99[10_000], "p99_us_at_50k": p99[50_000], "p99_target_us": 1000,
        "p99_met": max(p99.values()) < 1000,
    }))
    feed.session.dll.finalize()

    for rate in (50_000, 100_000, 150_000, 200_000, 250_000):
        n = rate // (4 if quick else 1)
        d, feed, sink = session(lib, tmp, f"sus{rate}", handoff)
        d.TestSetBacklogThreshold(rate // 100)  # state 6 when 10 ms behind schedule
        t0 = time.perf_counter()
        d.TestStreamPaced(n, float(rate))
        drain(feed, sink, n)
        dt = time.perf_counter() - t0
        print(json.dumps({
            "bench": "sustained", "handoff": handoff, "target_per_s": rate, "trades": n,
            "achieved_per_s": round(n / dt), "max_dll_backlog": d.stat("max_backlog"), "md6": d.stat("md6"),
            "p99_us": round(pct(sink.lat, 0.99), 1), "max_queue_depth": feed.stats()["max_queue_depth"],
        }))
        feed.session.dll.finalize()


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        lib = build_double(tmp / "libprofitdll_double.so")
        n = 100_000 if quick else 500_000
        ref = reference(lib, tmp, n)
        print(json.dumps({"bench": "reference", "trades": n, "noop_callback_per_s": round(ref)}))
        for handoff in ("ctypes", "c"):
            path_bench(lib, tmp, handoff, quick, ref)


if __name__ == "__main__":
    main()
