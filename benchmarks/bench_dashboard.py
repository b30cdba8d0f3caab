"""Dashboard benchmark: engine event -> browser paint latency with 10 instruments at 100 events/s each.

A kernel replays 10 instruments x 100 events/s (70% trades, 30% book changes) paced to the wall clock;
the dashboard serves it on 127.0.0.1 and Debian's headless chromium shows a page. The engine-side
collector stamps the wall time of the oldest and newest event not yet pushed; the page stamps the
time when the frame that drew them has been painted (the next requestAnimationFrame after the DOM
update). Prints JSON lines per page: p50/p95/p99 of oldest-event->paint (the figure the issue bounds),
engine-read->paint and server-send->paint, messages and paints per second, and long main-thread tasks.
The candle chart redraws at most every 100 ms (its canvas is the costly paint); its own event->paint
p95 is printed as ``candle_chart_p95_ms``.

BENCH_SECONDS (default 20) sets the measured time per page; BENCH_PUSH_MS (default 100) the push interval;
BENCH_CHART_MS (default 100) the candle chart's redraw cap.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import sys
import threading
import time
from datetime import date
from datetime import time as dtime

from tradingsystem.backtest.replay import TickReplayFeed
from tradingsystem.backtest.tick_venue import TickVenue, TickVenueConfig
from tradingsystem.domain import b3
from tradingsystem.domain.events import BookDelta, TradeTick
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.kernel import Kernel
from tradingsystem.runtime.server import start_server

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
PUSH_MS = float(os.environ.get("BENCH_PUSH_MS", "100"))
CHART_MS = int(os.environ.get("BENCH_CHART_MS", "100"))
RATE = 100  # events per second per instrument
STOCKS = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3", "B3SA3", "BBAS3", "WEGE3"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def weekdays(d: date) -> bool:
    return d.weekday() < 5


def events(instruments: dict, start_ns: int, seconds: float, seed: int = 5) -> list:
    rng = random.Random(seed)
    symbols = sorted(instruments)
    price = {s: 100 * instruments[s].tick * 1000 for s in symbols}
    step_ns = 1_000_000_000 // (RATE * len(symbols))
    out: list = []
    seq = 0
    for i in range(int(seconds * RATE * len(symbols))):
        s = symbols[i % len(symbols)]
        inst = instruments[s]
        ts = start_ns + i * step_ns
        seq += 1
        if rng.random() < 0.7:
            price[s] += rng.choice((-1, 0, 1)) * inst.tick
            out.append(TradeTick(s, price[s], rng.randint(1, 10), rng.choice((1, 2)), seq, ts, ts))
        else:
            side = rng.choice((1, 2))
            px = price[s] + (-1 if side == 1 else 1) * rng.randint(1, 5) * inst.tick
            out.append(BookDelta(s, side, px, rng.randint(0, 50), 0, seq, ts, ts))
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def main() -> None:
    exe = shutil.which("chromium")
    if exe is None:
        print(json.dumps({"bench": "dashboard", "skipped": "Debian chromium is not installed"}))
        return
    from playwright.sync_api import sync_playwright

    day = date(2026, 3, 2)
    instruments = {s: b3.stock(s) for s in STOCKS}
    for fut in ("WINJ26", "WDOJ26"):
        instruments[fut] = b3.future(fut, weekdays)
    start_ns = local_ns(day, dtime(10, 30))
    pages = ["overview", "instrument"]
    total_s = (SECONDS + 8) * len(pages) + 10
    kernel = Kernel(instruments, is_session=weekdays)
    venue = TickVenue(instruments, kernel.clock, TickVenueConfig(latency_ns=0), tape=kernel.data)
    kernel.connect(TickReplayFeed(events(instruments, start_ns, total_s)), venue)
    handle = start_server(kernel, "127.0.0.1", 0, "bench-token", push_interval_s=PUSH_MS / 1000)
    engine = threading.Thread(target=lambda: kernel.run(speed=1.0), daemon=True)
    engine.start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=ARGS)
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            ctx.add_init_script("window.__long = 0; new PerformanceObserver(l => { window.__long += "
                                "l.getEntries().length; }).observe({type: 'longtask', buffered: true}); "
                                f"localStorage.setItem('ts.chartMs', '{CHART_MS}');")
            page = ctx.new_page()
            page.goto(f"{handle.url}/login?token=bench-token")
            for name in pages:
                path = "/" if name == "overview" else "/instrument/WINJ26"
                page.goto(handle.url + path)
                page.wait_for_function("() => window.__paints > 10", timeout=30_000)
                page.evaluate("() => { window.__lat.length = 0; window.__long = 0; "
                              "window.__p0 = window.__paints; window.__m0 = window.__msgs; "
                              "if (window.__chartLat) window.__chartLat.length = 0; }")
                t0 = time.perf_counter()
                time.sleep(SECONDS)
                res = page.evaluate("() => ({lat: window.__lat.slice(), paints: window.__paints - window.__p0, "
                                    "msgs: window.__msgs - window.__m0, long: window.__long, "
                                    "chart: window.__chartLat || []})")
                wall = time.perf_counter() - t0
                first = [x["first"] for x in res["lat"]]
                last = [x["last"] for x in res["lat"] if x["last"] is not None]
                srv = [x["srv"] for x in res["lat"]]
                print(json.dumps({
                    "bench": f"dashboard.event_to_paint.{name}", "instruments": len(instruments),
                    "events_per_s_per_instrument": RATE, "push_interval_ms": PUSH_MS, "chart_redraw_ms": CHART_MS,
                    "seconds": round(wall, 1),
                    "samples": len(first), "p50_ms": pct(first, 0.5), "p95_ms": pct(first, 0.95),
                    "p99_ms": pct(first, 0.99), "max_ms": round(max(first), 1) if first else None,
                    "engine_read_to_paint_p95_ms": pct(last, 0.95), "send_to_paint_p95_ms": pct(srv, 0.95),
                    "mean_ms": round(statistics.fmean(first), 1) if first else None,
                    "messages_per_s": round(res["msgs"] / wall, 1), "paints_per_s": round(res["paints"] / wall, 1),
                    "long_tasks": res["long"], "target_p95_ms": 250,
                    **({"candle_chart_p95_ms": pct(res["chart"], 0.95), "candle_chart_samples": len(res["chart"])}
                       if res["chart"] else {}),
                }), flush=True)
            browser.close()
    finally:
        kernel.stop()
        engine.join(10)
        handle.stop()
    s = kernel.summary()
    print(json.dumps({"bench": "dashboard.engine", "trades_seen": s["trades_seen"], "book_events": s["book_events"]}))


if __name__ == "__main__":
    sys.exit(main())
