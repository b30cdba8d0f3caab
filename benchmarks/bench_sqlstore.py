"""SQL state store benchmarks (JSON lines): fills/s persisted through the write queue, the cost of one
save on the caller's thread, and the time to reload 10,000 orders; on SQLite (WAL, synchronous=FULL)
and on a private PostgreSQL server with fsync on (skipped when its binaries are missing).

``--quick`` shrinks the fill count. ``BENCH_PG_URL`` points at an existing PostgreSQL database instead.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sqlstore.pg import PostgresUnavailable, create_database, start_postgres

from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.domain.records import FillRecord, OrderRecord


def _fills(n: int) -> list[FillRecord]:
    return [FillRecord(f"f{i}", f"o{i // 4}", "WINZ26", 1 + (i & 1), 1 + i % 5, 125_000 + 5 * (i % 40),
                       Decimal("0.25"), 1_700_000_000_000_000_000 + i, "ema") for i in range(n)]


def _orders(n: int) -> list[OrderRecord]:
    return [OrderRecord(f"o{i}", "WINZ26", 1 + (i & 1), 2, 5, 125_000, 0, 1, "ema", 2 if i % 10 else 5, 0, 0,
                        f"v{i}", i, i, tags=("bench",)) for i in range(n)]


def bench(backend: str, url: str, n_fills: int, n_orders: int = 10_000) -> dict[str, object]:
    fills = _fills(n_fills)
    with SqlStateStore(SqlStoreConfig(url=url, queue_size=n_fills + 10)) as store:
        t0 = time.perf_counter()
        for f in fills:
            store.save_fill(f)
        t_enq = time.perf_counter() - t0
        store.flush()
        wall = time.perf_counter() - t0
        assert len(store.load_fills()) == n_fills
        # one commit per fill: what a node sees when fills trickle in and each is flushed
        t1 = time.perf_counter()
        k = min(500, n_fills)
        for f in _fills(n_fills + k)[n_fills:]:
            store.save_fill(f)
            store.flush()
        single = time.perf_counter() - t1
        for o in _orders(n_orders):
            store.save_order(o)
        store.flush()
        reloads = []
        for _ in range(3):  # the first is what a restart sees (statement compiled, caches cold)
            t2 = time.perf_counter()
            loaded = store.load_orders()
            reloads.append(time.perf_counter() - t2)
        t3 = time.perf_counter()
        open_ = store.load_orders(open_only=True)
        reload_open = time.perf_counter() - t3
        t4 = time.perf_counter()
        pos = store.load_positions(keep_flat=True)
        t_pos = time.perf_counter() - t4
        assert len(loaded) == n_orders and pos
    return {"bench": "sqlstore", "backend": backend, "fills": n_fills, "fills_per_s": round(n_fills / wall),
            "save_us": round(t_enq / n_fills * 1e6, 2), "flushed_fills_per_s": round(k / single),
            "reload_orders": n_orders, "reload_orders_first_ms": round(reloads[0] * 1e3, 1),
            "reload_orders_best_ms": round(min(reloads) * 1e3, 1),
            "reload_open_orders": len(open_), "reload_open_ms": round(reload_open * 1e3, 1),
            "positions_from_fills_ms": round(t_pos * 1e3, 1)}


def main() -> None:
    n = 20_000 if "--quick" in sys.argv else 100_000
    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(bench("sqlite", f"sqlite:///{d}/state.db", n)), flush=True)
    with ExitStack() as stack:
        url = os.environ.get("BENCH_PG_URL")
        if not url:
            try:
                url = create_database(stack.enter_context(start_postgres(fsync=True)), "bench")
            except PostgresUnavailable as exc:
                print(json.dumps({"bench": "sqlstore", "backend": "postgresql", "skipped": str(exc)}), flush=True)
                return
        print(json.dumps(bench("postgresql", url, n)), flush=True)


if __name__ == "__main__":
    main()
