"""CLI start-up benchmark: wall time of the control commands against a running node.

Starts ``tradingsystem run`` (simulated market, the node's HTTP server without the dashboard pages, on a free
port) in a temporary data directory, then times BENCH_RUNS (default 5) runs of each command as a user types
it, each a fresh process: ``risk status``, ``risk kill`` + ``risk reset``, ``orders``, ``positions`` and
``--help``. References in the same run: ``python -c pass`` (the interpreter alone) and importing every
command module at once (what each command cost before the command modules were imported lazily). Prints one
JSON line per command: median and max seconds and the ratio of the median to ``python -c pass``.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SCRIPT = Path(sys.executable).with_name("tradingsystem")
CLI = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tradingsystem.runtime.cli"]
ALL_MODULES = ("from tradingsystem.runtime.cli import _Root\n"
               "for name in _Root.lazy:\n    _Root.load(name)")


def timed(cmd: list[str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def start_node(data_dir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([*CLI, "run", "--speed", "1", "--no-status", "--no-dashboard", "--port", "0",
                             "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (data_dir / "node.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"node did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.1)
    return proc


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = ["--data-dir", tmp]
        proc = start_node(Path(tmp))
        try:
            cases = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "import every command module (before: each command)": [sys.executable, "-c", ALL_MODULES],
                "tradingsystem --help": [*CLI, "--help"],
                "tradingsystem risk status": [*CLI, "risk", "status", *d],
                "tradingsystem risk kill": [*CLI, "risk", "kill", "--reason", "bench", *d],
                "tradingsystem risk reset": [*CLI, "risk", "reset", *d],
                "tradingsystem orders": [*CLI, "orders", *d],
                "tradingsystem positions": [*CLI, "positions", *d],
            }
            results = {name: timed(cmd) for name, cmd in cases.items()}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    ref = statistics.median(results["python -c pass"])
    for name, times in results.items():
        median = statistics.median(times)
        print(json.dumps({"bench": "cli", "command": name, "runs": RUNS, "median_s": round(median, 3),
                          "max_s": round(max(times), 3), "vs_python_pass": round(median / ref, 1)}))


if __name__ == "__main__":
    main()
