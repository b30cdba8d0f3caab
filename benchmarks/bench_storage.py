"""Storage benchmarks (JSON lines): durable ingest, 1M ticks to 1-minute bars vs pandas, capture memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tradingsystem.adapters.storage import Catalog, Recorder, StorageConfig
from tradingsystem.domain.events import TradeTick
from tradingsystem.runtime.cli_data import bars_table
from workloads import win_ticks


def emit(**kw: object) -> None:
    print(json.dumps(kw), flush=True)


def bench_ingest(ticks: list[TradeTick], root: Path) -> None:
    """Producer enqueues every tick; durable = fsynced in the write-ahead log (flush returned)."""
    symbols = [f"SYM{i}" for i in range(10)]
    mixed = [TradeTick(symbols[i % 10], t.price, t.size, t.aggressor, t.trade_id // 10 + 1, t.ts_event, t.ts_init)
             for i, t in enumerate(ticks)]
    for name, stream in (("1_instrument", ticks), ("10_instruments", mixed)):
        d = root / f"ingest_{name}"
        rec = Recorder(StorageConfig(data_dir=d, flush_interval_ms=100, fsync=True))
        rec.start()
        t0, c0 = time.perf_counter(), time.process_time()
        for t in stream:
            rec.on_trade(t)
        t_enq = time.perf_counter() - t0
        rec.flush()
        t_durable = time.perf_counter() - t0
        rec.stop()
        t_parquet, cpu = time.perf_counter() - t0, time.process_time() - c0
        n = len(stream)
        emit(bench="storage.ingest", stream=name, ticks=n, fsync=True, flush_interval_ms=100,
             enqueue_s=round(t_enq, 3), durable_s=round(t_durable, 3), ticks_per_s_durable=round(n / t_durable),
             parquet_s=round(t_parquet, 3), ticks_per_s_to_parquet=round(n / t_parquet),
             cpu_s=round(cpu, 3), ticks_per_cpu_s=round(n / cpu), load_avg_1m=os.getloadavg()[0],
             dropped=rec.stats.dropped, written=rec.stats.written)


def bench_bars(ticks: list[TradeTick], root: Path, repeats: int = 5) -> None:
    d = root / "bars"
    rec = Recorder(StorageConfig(data_dir=d, part_rows=2_000_000, fsync=False))
    rec.start()
    for t in ticks:
        rec.on_trade(t)
    rec.stop()
    files = list((d / "trades").rglob("*.parquet"))
    assert len(files) == 1, files
    cat = Catalog(d)
    raw, full, pdt = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        b = cat.bars("WINZ26", "1m")
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        table = bars_table(cat, "WINZ26", "1m", None, None)
        full.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        df = pd.read_parquet(files[0], columns=["ts_event", "price", "size"])
        df.index = pd.to_datetime(df["ts_event"], unit="ns")
        ohlc = df["price"].resample("1min").ohlc()
        ohlc["volume"] = df["size"].resample("1min").sum()
        ohlc = ohlc.dropna()
        pdt.append(time.perf_counter() - t0)
    assert len(ohlc) == b.num_rows == table.num_rows
    assert np.array_equal(ohlc["close"].to_numpy(dtype=np.int64), b.column("close").to_numpy())
    emit(bench="storage.bars_1m", ticks=len(ticks), bars=b.num_rows, file_mb=round(files[0].stat().st_size / 1e6, 1),
         ours_raw_ms=round(min(raw) * 1e3, 1), ours_data_bars_ms=round(min(full) * 1e3, 1),
         pandas_ms=round(min(pdt) * 1e3, 1), pandas_over_ours=round(min(pdt) / min(full), 2))


def bench_capture_memory(root: Path, seconds: float = 40.0) -> None:
    """RSS of `capture --feed sim` (10 instruments) sampled over time."""
    d = root / "capture"
    proc = subprocess.Popen([sys.executable, "-m", "tradingsystem.runtime.cli_data", "capture", "--feed", "sim",
                             "--duration", "27000", "--events-per-second", "300", "--part-seconds", "5",
                             "--data-dir", str(d)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ps = psutil.Process(proc.pid)
    samples = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds and proc.poll() is None:
        time.sleep(1.0)
        try:
            samples.append(ps.memory_info().rss)
        except psutil.Error:
            break
    proc.kill()
    proc.wait()
    cat = Catalog(d) if (d / "trades").exists() else None
    rows = sum(s["rows"] for s in cat.summary()) if cat else 0
    q = len(samples) // 4 or 1
    emit(bench="storage.capture_rss", instruments=10, wall_s=round(time.perf_counter() - t0, 1), rows_stored=rows,
         rss_mb_quarters=[round(samples[min(i * q, len(samples) - 1)] / 2**20, 1) for i in range(1, 5)] if samples
         else [], peak_rss_mb=round(max(samples) / 2**20, 1) if samples else None)


def bench_recorder_rss(root: Path, chunks: int = 12, chunk: int = 250_000) -> None:
    """RSS of the recorder alone over a long synthetic 10-instrument stream (no simulator)."""
    rec = Recorder(StorageConfig(data_dir=root / "rss", part_rows=500_000, fsync=True))
    rec.start()
    proc = psutil.Process()
    base = win_ticks(chunk, seed=3)
    samples = []
    for k in range(chunks):
        off = k * 10**12
        for i, t in enumerate(base):
            rec.on_trade(TradeTick(f"SYM{i % 10}", t.price, t.size, t.aggressor, k * chunk + i + 1, t.ts_event + off,
                                   t.ts_init + off))
        rec.flush()
        samples.append(proc.memory_info().rss)
    rec.stop()
    emit(bench="storage.recorder_rss", instruments=10, ticks=chunks * chunk,
         rss_mb_per_chunk=[round(s / 2**20, 1) for s in samples], peak_rss_mb=round(max(samples) / 2**20, 1))


def main() -> None:
    ticks = win_ticks(1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_ingest(ticks, root)
        bench_bars(ticks, root)
        bench_recorder_rss(root)
        bench_capture_memory(root, float(os.environ.get("BENCH_CAPTURE_SECONDS", "40")))


if __name__ == "__main__":
    main()
