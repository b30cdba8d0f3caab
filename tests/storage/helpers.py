"""A small deterministic stand-in market for storage tests (no wall clock, seeded)."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from tradingsystem.adapters.storage import Recorder, StorageConfig
from tradingsystem.adapters.storage.schema import b3_ns
from tradingsystem.domain.events import BookDelta, TradeTick

DAY = date(2026, 11, 26)
T0 = b3_ns(DAY, 10, 0)


def ticks(symbol: str = "WINZ26", n: int = 1000, seed: int = 1, start_id: int = 1, t0: int = T0,
          step_ns: int = 50_000_000, tick: int = 5, base: int = 120_000) -> list[TradeTick]:
    rng = random.Random(seed)
    out, price, ts = [], base, t0
    for i in range(n):
        price = max(tick, price + tick * rng.choice((-1, 0, 1)))
        ts += rng.randint(1, step_ns)
        out.append(TradeTick(symbol, price, rng.randint(1, 20), rng.choice((0, 1, 2)), start_id + i, ts, ts + 1000,
                             rng.randint(1, 300), rng.randint(1, 300)))
    return out


def deltas(symbol: str = "WINZ26", n: int = 100, seed: int = 2, t0: int = T0) -> list[BookDelta]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(BookDelta(symbol, rng.choice((1, 2)), 120_000 + 5 * rng.randint(-5, 5), rng.randint(0, 50),
                             0, i + 1, t0 + i * 1_000_000, t0 + i * 1_000_000 + 10, rng.randint(0, 5)))
    return out


def config(tmp: Path, **kw: object) -> StorageConfig:
    return StorageConfig(data_dir=tmp, fsync=False, **kw)  # type: ignore[arg-type]


def record(cfg: StorageConfig, events: list[object]) -> Recorder:
    rec = Recorder(cfg)
    rec.start()
    for e in events:
        if isinstance(e, TradeTick):
            rec.on_trade(e)
        else:
            rec.on_book_delta(e)  # type: ignore[arg-type]
    rec.stop()
    return rec
