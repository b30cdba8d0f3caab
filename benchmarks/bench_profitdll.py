"""ProfitDLL adapter benchmark against the C double (Linux): prints one JSON object per line.

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.profitdll.helpers import Double, config, weekdays  # noqa: E402

from tradingsystem.adapters.profitdll import open_profitdll  # noqa: E402
from tradingsystem.domain.events import TradeTick  # noqa: E402

SRC = ROOT / "tests" / "profitdll" / "double"


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


def build(tmp: Path) -> Path:
    out = tmp / "libprofitdll_double.so"
    sources = [str(p) for p in sorted(SRC.glob("*.c"))]
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-pthread", "-o", str(out), *sources, "-lm"], check=True)
    return out


def session(lib: Path, tmp: Path, name: str, capacity: int = 1 << 18):
    path = tmp / f"{name}.so"
    shutil.copy(lib, path)
    d = Double(str(path))
    d.define_all()
    feed, _ = open_profitdll(config(str(path), market_only=True, queue_capacity=capacity), weekdays)
    sink = LatencySink()
    feed.connect(sink)  # type: ignore[arg-type]
    feed.subscribe(["WINZ26"])
    return d, feed, sink


def drain(feed, sink: LatencySink, n: int) -> None:
    while sink.n < n:
        if feed.next_ts() is None:
            feed.wait(1.0)
        else:
            feed.step()


def pct(values: list[int], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] / 1000.0


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        lib = build(tmp)
        n = 100_000 if quick else 500_000
        d, feed, sink = session(lib, tmp, "parts", capacity=1 << 21)
        t0 = time.perf_counter()
        d.TestStream(n)
        d.TestWaitIdle()
        t1 = time.perf_counter()
        drain(feed, sink, n)
        t2 = time.perf_counter()
        print(json.dumps({"bench": "components", "trades": n, "callback_enqueue_per_s": round(n / (t1 - t0)),
                          "engine_drain_per_s": round(n / (t2 - t1))}))
        feed.session.dll.finalize()

        for rate, switch in ((10_000, 0.005), (50_000, 0.005), (10_000, 0.0005), (50_000, 0.0005)):
            sys.setswitchinterval(switch)
            n = rate // (4 if quick else 1)
            d, feed, sink = session(lib, tmp, f"lat{rate}_{switch}")
            d.TestStreamPaced(n, float(rate))
            drain(feed, sink, n)
            d.TestWaitIdle()
            print(json.dumps({
                "bench": "latency", "rate_per_s": rate, "switch_interval_s": switch, "trades": n,
                "median_us": round(statistics.median(sink.lat) / 1000.0, 1), "p99_us": round(pct(sink.lat, 0.99), 1),
                "max_us": round(max(sink.lat) / 1000.0, 1), "max_dll_backlog": d.stat("max_backlog"),
            }))
            feed.session.dll.finalize()
        sys.setswitchinterval(0.005)

        n = 200_000 if quick else 1_000_000
        d, feed, sink = session(lib, tmp, "burst", capacity=1 << 21)
        t0 = time.perf_counter()
        d.TestStream(n)
        drain(feed, sink, n)
        dt = time.perf_counter() - t0
        st = feed.stats()
        print(json.dumps({
            "bench": "burst", "trades": n, "seconds": round(dt, 3), "trades_per_s": round(n / dt),
            "complete_in_order": sink.n == n and sink.last == n, "max_queue_depth": st["max_queue_depth"],
            "overflow": st["overflow"],
        }))
        feed.session.dll.finalize()

        for rate in (50_000, 100_000, 150_000, 200_000, 250_000):
            n = rate // (4 if quick else 1)
            d, feed, sink = session(lib, tmp, f"sus{rate}")
            d.TestSetBacklogThreshold(rate // 100)  # state 6 when 10 ms behind schedule
            t0 = time.perf_counter()
            d.TestStreamPaced(n, float(rate))
            drain(feed, sink, n)
            dt = time.perf_counter() - t0
            print(json.dumps({
                "bench": "sustained", "target_per_s": rate, "trades": n, "achieved_per_s": round(n / dt),
                "max_dll_backlog": d.stat("max_backlog"), "md6": d.stat("md6"),
                "p99_us": round(pct(sink.lat, 0.99), 1), "max_queue_depth": feed.stats()["max_queue_depth"],
            }))
            feed.session.dll.finalize()


if __name__ == "__main__":
    main()
