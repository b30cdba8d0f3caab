"""Simulated-market benchmarks: matching-engine orders/s and generator events/s (JSON lines)."""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import date

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


def main() -> None:
    quick = "--quick" in sys.argv
    print(json.dumps(bench_matching(50_000 if quick else 200_000)), flush=True)
    print(json.dumps(bench_generator(600 if quick else 3600)), flush=True)


if __name__ == "__main__":
    main()
