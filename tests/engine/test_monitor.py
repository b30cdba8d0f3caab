"""Adapter counters become alerts: disconnect, reconnect, data gap, disk low."""

from pathlib import Path

from tests.engine.helpers import kernel, ticks
from tradingsystem.engine.monitor import Monitor

S = 1_000_000_000


def test_counters_and_disk_become_alerts(tmp_path: Path) -> None:
    counts = {"disconnects": 0, "reconnects": 0}
    rec = {"gaps": 0, "dropped": 0}
    disk = {"free": 50}
    k, _ = kernel(ticks("WINZ26", [125_000] * 10, gap_ns=S))
    seen = []
    k.bus.subscribe("alerts", seen.append)
    mon = Monitor(k, {"profitdll": lambda: counts, "recorder": lambda: rec}, tmp_path, disk_low_pct=5,
                  disk_usage=lambda p: (100, 100 - disk["free"], disk["free"]))
    k.run(max_events=1)
    mon.start()
    counts["disconnects"] = 1
    k.run(max_events=2)
    counts["reconnects"] = 1
    rec["gaps"] = 2
    disk["free"] = 3
    k.run(max_events=2)
    k.run(max_events=2)  # nothing new: no repeat alerts
    kinds = [a.kind for a in seen]
    assert kinds == ["feed_disconnected", "feed_reconnected", "data_gap", "disk_low"]
    assert seen[2].data["count"] == "2"
