"""Simulated-market benchmarks: matching-engine orders/s and generator events/s (JSON lines).

``--against REF`` (a git ref, default ``main``; ``--against none`` to skip) also runs the generator
benchmark on that ref's source (``git archive`` into a temporary folder, run in a subprocess) and prints
the ratio of this tree's events/s to it: the same machine, the same run.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path

from tradingsystem.adapters.simulator import SimMarketConfig, SimulatedMarket, default_instruments
from tradingsystem.backtest.matching import BUY, IOC, LIMIT, SELL, MatchingEngine
from tradingsystem.domain import b3
from tradingsystem.domain.events import BookDelta, TradeTick


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def bench_matching(n: int = 200_000, seed: int = 7) -> dict[str, object]:
    """A random stream on one WIN book: 60% passive limits, 25% marketable IOC, 15% cancels."""
    inst = b3.future("WINJ26", weekdays)
    trades = deltas = 0

    def on_trade(t: TradeTick) -> None:
        nonlocal trades
        trades += 1

    def on_delta(d: BookDelta) -> None:
        nonlocal deltas
        deltas += 1

    eng = MatchingEngine(inst, on_trade, on_delta)
    rng = random.Random(seed)
    centre = 25_000
    resting = []
    ops = []
    for _ in range(n):
        r = rng.random()
        side = BUY if rng.random() < 0.5 else SELL
        centre += rng.choice((-1, 0, 0, 0, 1)) if rng.random() < 0.05 else 0
        ops.append((r, side, centre, 1 + int(rng.expovariate(0.3)), rng.randint(1, 10), rng.random()))
    t0 = time.perf_counter()
    for ts, (r, side, c, k, q, pick) in enumerate(ops):
        if r < 0.60:
            px = (c - k if side == BUY else c + 1 + k) * 5
            resting.append(eng.submit(side, LIMIT, q, px, 0, 1, 0, ts))
        elif r < 0.85:
            px = (eng.best_ask + 10) if side == BUY else (eng.best_bid - 10)
            if px > 0:
                eng.submit(side, LIMIT, q, px, 0, IOC, 0, ts)
        elif resting:
            i = int(pick * len(resting))
            o = resting[i]
            resting[i] = resting[-1]
            resting.pop()
            if o.live:
                eng.cancel(o, ts)
    wall = time.perf_counter() - t0
    return {"bench": "matching_engine", "orders": n, "trades": trades, "deltas": deltas,
            "wall_s": round(wall, 3), "orders_per_s": round(n / wall)}


def bench_generator(seconds: int = 3600, seed: int = 7) -> dict[str, object]:
    """The default 10-instrument market from 09:45 for ``seconds`` of market time, counting sink."""
    cfg = SimMarketConfig(seed=seed)
    market = SimulatedMarket(cfg, default_instruments(cfg, weekdays), _Weekdays())
    counts = {"trades": 0, "deltas": 0}

    class Sink:
        def on_trade(self, t: TradeTick) -> None:
            counts["trades"] += 1

        def on_book_delta(self, d: BookDelta) -> None:
            counts["deltas"] += 1

    market.feed.connect(Sink())  # type: ignore[arg-type]
    end = market.start_ns + seconds * 1_000_000_000
    feed = market.feed
    steps = 0
    t0 = time.perf_counter()
    while (ts := feed.next_ts()) is not None and ts <= end:
        feed.step()
        steps += 1
    wall = time.perf_counter() - t0
    return {"bench": "market_generator", "market_seconds": seconds, "instruments": len(market.instruments),
            "steps": steps, "agent_events": market.generator.events, **counts, "wall_s": round(wall, 3),
            "events_per_s": round(steps / wall), "trades_per_s": round(counts["trades"] / wall)}


class _Weekdays:
    def is_session(self, day: date) -> bool:
        return weekdays(day)


def _reference(ref: str, seconds: int) -> dict[str, object]:
    """``bench_generator`` on ``ref``'s source, in a subprocess."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        tar = Path(tmp) / "src.tar"
        subprocess.run(["git", "-C", str(root), "archive", "-o", str(tar), ref, "src", "benchmarks"], check=True)
        with tarfile.open(tar) as t:
            t.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        code = ("import json, sys; sys.path.insert(0, 'benchmarks'); import bench_simulator as b; "
                f"print(json.dumps(b.bench_generator({seconds})))")
        res = subprocess.run([sys.executable, "-c", code], cwd=tmp, env=env, capture_output=True, text=True,
                             check=True)
        return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    quick = "--quick" in sys.argv
    ref = "main"
    if "--against" in sys.argv:
        ref = sys.argv[sys.argv.index("--against") + 1]
    seconds = 600 if quick else 3600
    print(json.dumps(bench_matching(50_000 if quick else 200_000)), flush=True)
    now = bench_generator(seconds)
    print(json.dumps(now), flush=True)
    if ref != "none":
        base = _reference(ref, seconds)
        print(json.dumps({"bench": "market_generator_vs_ref", "ref": ref, "events_per_s": now["events_per_s"],
                          "ref_events_per_s": base["events_per_s"],
                          "ratio": round(float(now["events_per_s"]) / float(base["events_per_s"]), 3)}), flush=True)


if __name__ == "__main__":
    main()
