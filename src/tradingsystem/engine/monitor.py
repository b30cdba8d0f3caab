"""Turns adapters' counters into alerts: feed disconnected/reconnected, data gaps, disk low; disconnects
and adapter errors also count toward the guard's adapter-error breaker.

Runs on the engine thread from a clock timer, so it works the same in live and simulated time. Each
source is a callable returning a dict of counters (``feed.stats``, the recorder's stats); a counter
that grows becomes one alert.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.engine.kernel import Kernel

Counters = Callable[[], Mapping[str, object]]

# counter name -> (alert kind, severity, message)
WATCHED = {
    "disconnects": ("feed_disconnected", Severity.CRITICAL, "market data disconnected"),
    "reconnects": ("feed_reconnected", Severity.INFO, "market data reconnected; resubscribed and backfilling"),
    "gaps": ("data_gap", Severity.WARNING, "data gap recorded in the catalog"),
    "dropped": ("data_gap", Severity.WARNING, "recorder queue overflow: events dropped and recorded as a gap"),
    "errors": ("adapter_error", Severity.WARNING, "adapter error"),
}
ADAPTER_ERRORS = frozenset({"disconnects", "errors"})
"""Counters that also feed the guard's adapter-error breaker (``breakers.max_adapter_errors``)."""


class Monitor:
    """Polls ``sources`` every ``interval_s`` of engine time; watches free disk under ``data_dir``."""

    def __init__(self, kernel: Kernel, sources: Mapping[str, Counters], data_dir: Path | None = None,
                 disk_low_pct: float = 5.0, interval_s: float = 1.0,
                 disk_usage: Callable[[Path], tuple[int, int, int]] = shutil.disk_usage) -> None:
        self.kernel, self.sources = kernel, dict(sources)
        self.data_dir, self.disk_low_pct = data_dir, disk_low_pct
        self.interval_ns = int(interval_s * 1e9)
        self._disk_usage = disk_usage
        self._seen: dict[tuple[str, str], int] = {}
        self._disk_low = False
        self.alerts = 0

    def start(self) -> Monitor:
        self.poll(self.kernel.clock.now(), publish=False)
        self.kernel.clock.every(self.interval_ns, self.poll)
        return self

    def poll(self, ts: int, publish: bool = True) -> None:
        for source, counters in self.sources.items():
            values = counters()
            for name, (kind, severity, message) in WATCHED.items():
                value = values.get(name)
                if not isinstance(value, int):
                    continue
                before = self._seen.get((source, name), 0)
                self._seen[(source, name)] = value
                if publish and value > before:
                    if name in ADAPTER_ERRORS:
                        for _ in range(min(value - before, 100)):
                            self.kernel.guard.adapter_error(f"{source}: {message}", publish=False)
                    self._publish(Alert(kind, severity, f"{source}: {message}", ts,
                                        {"count": str(value - before), "total": str(value)}))
        if self.data_dir is not None and self.data_dir.exists():
            total, _used, free = self._disk_usage(self.data_dir)
            pct = 100.0 * free / total if total else 100.0
            low = pct < self.disk_low_pct
            if low and not self._disk_low and publish:
                self._publish(Alert("disk_low", Severity.WARNING, f"{pct:.1f}% disk free under {self.data_dir}", ts,
                                    {"free_bytes": str(free)}))
            self._disk_low = low

    def _publish(self, alert: Alert) -> None:
        self.alerts += 1
        self.kernel.publish_alert(alert)
