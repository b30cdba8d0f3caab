"""SIGKILL a capture of the simulated market at 20 seeded moments; after each restart nothing is lost."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from tradingsystem.adapters.calendar import BvmfCalendar
from tradingsystem.adapters.simulator import SimMarketConfig, SimulatedMarket, default_instruments, generate_trades
from tradingsystem.adapters.storage import Catalog, StorageConfig, recover, verify_catalog

SEED, EPS, DURATION, KILLS = 11, 300.0, 60.0, 20

pytestmark = pytest.mark.slow


def _expected_trades() -> list[tuple[str, int]]:
    cfg = SimMarketConfig(seed=SEED, events_per_second=EPS)
    cal = BvmfCalendar(date(cfg.session_date.year - 1, 1, 1), date(cfg.session_date.year + 1, 12, 31))
    insts = default_instruments(cfg, cal.is_session)
    start = SimulatedMarket(cfg, insts, cal).start_ns
    return [(t.symbol, t.trade_id) for t in generate_trades(cfg, insts, cal, start + int(DURATION * 1e9))]


def _capture(data_dir: Path) -> subprocess.Popen[str]:
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.Popen(
        [sys.executable, "-m", "tradingsystem.runtime.cli_data", "capture", "--feed", "sim", "--seed", str(SEED),
         "--duration", str(DURATION), "--events-per-second", str(EPS), "--flush-ms", "20", "--part-rows", "8000",
         "--progress-lines", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    q: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put(line)
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


def test_sigkill_at_20_moments_loses_nothing_flushed_and_duplicates_nothing(tmp_path):
    rng = random.Random(20261127)
    data = tmp_path / "data"
    expected = _expected_trades()
    expected_set = set(expected)
    cfg = StorageConfig(data_dir=data)
    killed = recovered = 0
    for round_ in range(KILLS):
        proc = _capture(data)
        lines = _lines(proc)
        wanted_flushes = rng.randint(1, 6)  # early enough that a fast machine has not finished the run
        flushed, seen, eof = 0, 0, False
        while seen < wanted_flushes:
            line = lines.get(timeout=120)
            if line is None:
                eof = True
                break
            if line.startswith('{"flushed_trades_in"'):
                flushed = json.loads(line)["flushed_trades_in"]
                seen += 1
        time.sleep(rng.uniform(0, 0.1))  # land anywhere: mid-batch, mid-fsync, mid-roll
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        while not eof and (line := lines.get(timeout=60)) is not None:  # lines written before the kill count
            if line.startswith('{"flushed_trades_in"'):
                flushed = json.loads(line)["flushed_trades_in"]
        # restart: the recorder's start-up recovery, then `data verify`
        recovered += recover(cfg).rows > 0
        report = verify_catalog(data)
        assert report.ok, f"round {round_}: {report.problems}"
        rows = Catalog(data).query("SELECT instrument, trade_id FROM trades").to_pylist()
        stored = [(r["instrument"], r["trade_id"]) for r in rows]
        assert len(stored) == len(set(stored)), f"round {round_}: a trade number appears twice"
        assert set(stored) <= expected_set, f"round {round_}: a trade the generator never emitted"
        book_dups = Catalog(data).query(
            "SELECT count(*) - count(DISTINCT (instrument, date, sequence)) AS d FROM book WHERE action < 2")
        assert book_dups.to_pylist() == [{"d": 0}], f"round {round_}: a book event stored twice"
        missing = [t for t in expected[:flushed] if t not in set(stored)]
        assert not missing, f"round {round_}: {len(missing)} flushed trades lost, e.g. {missing[:3]}"
    assert killed >= KILLS // 4  # rounds really died mid-capture (the rest finished first: timing varies)
    assert recovered >= 1  # and some left a write-ahead log that recovery rolled into Parquet
    assert len(stored) > 100
