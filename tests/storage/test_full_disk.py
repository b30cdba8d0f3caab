"""A full disk (here: a file-size limit, which fails writes the same way) stops capture cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tradingsystem.adapters.storage import Catalog, StorageConfig, recover, verify_catalog

SCRIPT = textwrap.dedent("""
    import json, resource, signal, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from tests.storage.helpers import ticks
    from tradingsystem.adapters.storage import Recorder, StorageConfig
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over-limit writes fail with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))
    errors, flushed = [], []
    rec = Recorder(StorageConfig(data_dir=Path(sys.argv[1]), part_rows=10**9, part_interval_s=3600),
                   on_error=errors.append, on_flush=lambda s: flushed.append(s.trades_in))
    rec.start()
    tt = ticks(n=20_000)
    for i in range(0, len(tt), 500):
        for t in tt[i:i + 500]:
            rec.on_trade(t)
        rec.flush()
        if rec.failed:
            break
    rec.stop()
    print(json.dumps({"errors": errors, "failed": rec.failed, "flushed": max(flushed or [0]),
                      "dropped": rec.stats.dropped}))
""")


def test_full_disk_stops_with_an_error_and_keeps_what_was_flushed(tmp_path):
    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "fill.py"
    script.write_text(SCRIPT)
    data = tmp_path / "data"
    out = subprocess.run([sys.executable, str(script), str(data), str(root)], capture_output=True, text=True,
                         timeout=120, cwd=root)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["failed"] and "recorder stopped" in res["errors"][0]
    assert "File too large" in res["errors"][0] or "27" in res["errors"][0]
    assert 0 < res["flushed"] < 20_000
    rep = recover(StorageConfig(data_dir=data))  # the next start, with room on the disk again
    assert verify_catalog(data).ok
    n = Catalog(data).query("SELECT count(*) n, count(DISTINCT trade_id) d FROM trades").to_pylist()[0]
    assert n["n"] == n["d"] >= res["flushed"]  # every trade acknowledged by a flush is readable
    assert rep.rows >= res["flushed"]
