"""Feature-library benchmarks; prints one JSON object per line.

* ``batch``: every indicator on N rows (default 1,000,000), ours vs TA-Lib on the same arrays in the
  same run (best CPU time of ``--repeat`` alternating runs), with the ratio; then totals.
* ``expr_batch``: the default feature set as a batch table over N bars.
* ``stream_bar``: the default feature set fed bar by bar (µs per bar).
* ``stream_tick``: per trade: live 1-minute bar builder + trade order flow (window counts, CVD, VPIN,
  broker flow), plus the default set on each closed bar, divided by the number of trades.

Run: ``python benchmarks/bench_features.py [--rows 1000000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from datetime import time as dtime
from pathlib import Path

import numpy as np
import talib

import tradingsystem.features as F
from tradingsystem.domain.events import Bar, TradeTick
from tradingsystem.domain.sessions import local_ns
from tradingsystem.features import INDICATORS, BarBuilder, FeatureSet, TradeFlow

NS = 1_000_000_000


def emit(**kw: object) -> None:
    print(json.dumps(kw), flush=True)


def best(fn, repeat: int) -> float:
    """Best CPU time of ``repeat`` runs (process time: steadier than wall time on a shared machine)."""
    out = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        out.append(time.process_time() - t)
    return min(out)


def best_pair(f, g, repeat: int) -> tuple[float, float]:
    """Best CPU times of two functions, run alternately so that load changes hit both alike."""
    a, b = [], []
    for _ in range(repeat):
        a.append(best(f, 1))
        b.append(best(g, 1))
    return min(a), min(b)


def ohlcv(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 3000 + np.cumsum(rng.integers(-3, 4, n)).astype(np.float64)
    return {
        "open": close + rng.integers(-2, 3, n),
        "high": close + rng.integers(0, 5, n),
        "low": close - rng.integers(0, 5, n),
        "close": close,
        "volume": rng.integers(0, 10_000, n).astype(np.float64),
        "session": np.repeat(np.arange(n // 400 + 1, dtype=np.float64), 400)[:n],
    }


def bench_batch(n: int, repeat: int) -> None:
    cols = ohlcv(n)
    seen = set()
    tot_ours = tot_ta = 0.0
    for name, spec in sorted(INDICATORS.items()):
        if spec.stream in seen:
            continue
        seen.add(spec.stream)
        arrays = [cols[c] for c in spec.inputs]
        params = [d for _, d in spec.params]
        run_ours = lambda a=arrays, p=params, f=spec.batch: f(*a, *p)  # noqa: E731
        inst = spec.stream(*params)
        func = getattr(inst, "_func", None)
        if func is None:
            ours = best(run_ours, repeat)
            emit(bench="batch", indicator=name, rows=n, ours_ms=round(ours * 1e3, 2), talib_ms=None, ratio=None)
            continue
        kw = inst._params
        ours, ta = best_pair(run_ours, lambda a=arrays, f=getattr(talib, func), k=kw: f(*a, **k), repeat)
        tot_ours += ours
        tot_ta += ta
        emit(bench="batch", indicator=name, talib=func, rows=n, ours_ms=round(ours * 1e3, 2),
             talib_ms=round(ta * 1e3, 2), ratio=round(ours / ta, 3))  # fmt: skip
    emit(bench="batch_total", rows=n, indicators=len(seen), ours_ms=round(tot_ours * 1e3, 1),
         talib_ms=round(tot_ta * 1e3, 1), ratio=round(tot_ours / tot_ta, 3))  # fmt: skip


def default_set() -> FeatureSet:
    return FeatureSet.from_yaml((Path(F.__file__).parent / "sets" / "default.yaml").read_text())


def bars(n: int) -> dict[str, np.ndarray]:
    c = ohlcv(n)
    start = local_ns(date(2026, 3, 10), dtime(10, 0))
    day = np.arange(n) // 400
    minute = np.arange(n) % 400
    ts = start + day * 86_400 * NS + minute * 60 * NS
    out = {k: c[k].astype(np.int64) for k in ("open", "high", "low", "close", "volume")}
    out |= {"ts_open": ts, "ts_event": ts + 60 * NS, "trades": np.full(n, 10)}
    rng = np.random.default_rng(2)
    out["buy_volume"] = rng.integers(0, 5000, n)
    out["sell_volume"] = rng.integers(0, 5000, n)
    return out


def bench_expr(n: int, repeat: int) -> None:
    fs = default_set()
    cols = bars(n)
    t = time.perf_counter()
    cpu = best(lambda: fs.compute(cols), repeat)
    wall = (time.perf_counter() - t) / repeat
    emit(bench="expr_batch", set=fs.name, features=len(fs.names), rows=n, cpu_ms=round(cpu * 1e3, 1),
         wall_ms=round(wall * 1e3, 1))  # fmt: skip


def bench_stream(n_bars: int) -> None:
    fs = default_set()
    cols = bars(n_bars)
    objs = [
        Bar(
            "X",
            "1m",
            *(int(cols[c][i]) for c in ("open", "high", "low", "close", "volume", "trades", "ts_open", "ts_event")),
            0,
        )
        for i in range(n_bars)
    ]
    s = fs.online()
    t, c = time.perf_counter(), time.process_time()
    for b in objs:
        s.update(b)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    emit(bench="stream_bar", set=fs.name, features=len(fs.names), bars=n_bars,
         us_per_bar=round(dt / n_bars * 1e6, 2), cpu_us_per_bar=round(dc / n_bars * 1e6, 2))  # fmt: skip


def bench_tick(n_trades: int) -> None:
    fs = default_set()
    rng = np.random.default_rng(3)
    t0 = local_ns(date(2026, 3, 10), dtime(10, 0))
    ts = t0 + np.cumsum(rng.integers(1, 400, n_trades)) * 1_000_000  # ~5 trades/s: ~300 trades per bar
    price = 3000 + np.cumsum(rng.integers(-1, 2, n_trades))
    size = rng.choice([100, 200, 500, 1000], n_trades)
    side = rng.integers(1, 3, n_trades)
    ticks = [TradeTick("X", int(price[i]), int(size[i]), int(side[i]), i + 1, int(ts[i]), int(ts[i]),
                       int(rng.integers(1, 50)), int(rng.integers(1, 50))) for i in range(n_trades)]  # fmt: skip
    flow = TradeFlow(window_ns=60 * NS, large_size=1000, vpin_bucket=20_000, vpin_buckets=50)
    builder = BarBuilder("X", "time", 60 * NS, timeframe="1m")
    s = fs.online()
    t, c = time.perf_counter(), time.process_time()
    n_bars = 0
    for tick in ticks:
        flow.update(tick)
        for b in builder.update(tick):
            s.update(b)
            n_bars += 1
    dt, dc = time.perf_counter() - t, time.process_time() - c
    emit(bench="stream_tick", trades=n_trades, bars=n_bars, us_per_trade=round(dt / n_trades * 1e6, 2),
         cpu_us_per_trade=round(dc / n_trades * 1e6, 2), goal_us=30)  # fmt: skip
    flow = TradeFlow(window_ns=60 * NS, large_size=1000, vpin_bucket=20_000, vpin_buckets=50)
    t, c = time.perf_counter(), time.process_time()
    for tick in ticks:
        flow.update(tick)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    emit(bench="stream_orderflow_only", trades=n_trades, us_per_trade=round(dt / n_trades * 1e6, 2),
         cpu_us_per_trade=round(dc / n_trades * 1e6, 2))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bars", type=int, default=20_000)
    ap.add_argument("--trades", type=int, default=200_000)
    a = ap.parse_args()
    bench_batch(a.rows, a.repeat)
    bench_expr(a.rows, 1)
    bench_stream(a.bars)
    bench_tick(a.trades)


if __name__ == "__main__":
    main()
