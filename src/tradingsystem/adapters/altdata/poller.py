"""The node's poller: fetches on its own thread, publishes on the engine thread.

Every ``poll_interval_s`` (wall time) a fetch pass runs; after a failing pass the wait doubles up to
``max_backoff_s`` and goes back to the interval once a pass succeeds. Results are queued; a clock timer on
the engine thread drains them and publishes ``IndicatorRelease`` and ``NewsItem`` on topic ``altdata``,
plus alerts (releases, sentiment spikes, source unreachable/back). The first pass of a series that had
nothing stored publishes only its latest value (a back-fill is not news).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tradingsystem.adapters.altdata.config import AltDataConfig
from tradingsystem.adapters.altdata.sync import AltDataSync, FetchReport
from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.altdata import IndicatorRelease, NewsItem
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.engine.alerts import AltDataAlerts

__all__ = ["TOPIC", "AltDataPoller"]

TOPIC = "altdata"
log = logging.getLogger(__name__)


class AltDataPoller:
    def __init__(self, kernel: Any, sync: AltDataSync, config: AltDataConfig,
                 wall_ns: Callable[[], int] = time.time_ns, drain_interval_s: float = 1.0) -> None:
        self.kernel, self.sync, self.config = kernel, sync, config
        self._wall_ns = wall_ns
        self._queue: queue.SimpleQueue[FetchReport] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="altdata-poller", daemon=True)
        self._drain_ns = int(drain_interval_s * 1e9)
        self._empty = {name: sync.store.last_ref(name) is None for name in config.series}
        self._down = False
        sp = config.spike
        self.alerts = AltDataAlerts(sp.recent, sp.history, sp.min_history, sp.z)
        self.stats: dict[str, int | float] = {"polls": 0, "failed_polls": 0, "releases": 0, "items": 0,
                                              "wait_s": config.poll_interval_s}

    def start(self) -> AltDataPoller:
        self.kernel.clock.every(self._drain_ns, self.drain)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop after the pass in progress; what it fetched is still published."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.drain(self.kernel.clock.now())
        self.sync.close()

    # ---- fetch thread ----
    def poll_once(self) -> FetchReport:
        now = self._wall_ns()
        day = datetime.fromtimestamp(now / 1e9, tz=UTC).astimezone(B3_TZ).date()
        report = self.sync.run(day, now, posts=False)
        self._queue.put(report)
        return report

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                report = self.poll_once()
                ok = not report.errors
            except Exception as exc:
                log.warning("altdata poll failed: %s", exc)
                self._queue.put(FetchReport(errors=[str(exc)]))
                ok = False
            failures = 0 if ok else failures + 1
            wait = min(self.config.max_backoff_s, self.config.poll_interval_s * 2 ** failures)
            self.stats["wait_s"] = wait
            self._stop.wait(wait)

    # ---- engine thread ----
    def drain(self, ts: int) -> None:
        while True:
            try:
                report = self._queue.get_nowait()
            except queue.Empty:
                return
            self._publish(report, ts)

    def _publish(self, report: FetchReport, ts: int) -> None:
        bus = self.kernel.bus
        self.stats["polls"] += 1
        if report.errors:
            self.stats["failed_polls"] += 1
            if not self._down:
                self._down = True
                self.kernel.publish_alert(Alert("altdata_unreachable", Severity.WARNING,
                                                f"alternative data: {report.errors[0]}", ts,
                                                {"errors": str(len(report.errors))}))
        elif self._down:
            self._down = False
            self.kernel.publish_alert(Alert("altdata_unreachable", Severity.INFO, "alternative data sources back", ts))
        for name, changes in report.series.items():
            first = self._empty.get(name, False)
            if changes:
                self._empty[name] = False
            for c in changes[-1:] if first else changes:
                ev = IndicatorRelease(name, c.ref.isoformat(), str(c.value),
                                      "" if c.previous is None else str(c.previous), c.revised, ts)
                bus.publish(TOPIC, ev)
                self.stats["releases"] += 1
                if not first:
                    self.kernel.publish_alert(self.alerts.on_release(ev.series, ev.ref, ev.value, ev.previous,
                                                                     ev.revised, ts))
        for p in report.posts:
            insts = tuple(i for i in p.instruments.split(",") if i)
            bus.publish(TOPIC, NewsItem(p.id, p.source, p.text, p.lang, p.score, insts, ts, p.url))
            self.stats["items"] += 1
            for alert in self.alerts.on_item(insts, p.score, ts):
                self.kernel.publish_alert(alert)
