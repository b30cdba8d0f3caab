"""The notification manager: fans notifications out to channels, one thread and bounded queue per channel.

``submit`` never blocks (the engine thread calls it): a full queue drops the message and counts it.
Each channel's thread retries a failed send with exponential backoff, then logs and moves on, so a
slow or dead channel delays neither the engine nor the other channels.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, stop_after_attempt, stop_when_event_set, wait_exponential

from tradingsystem.ports.notify import Notification, Notifier

__all__ = ["ChannelStats", "Dispatcher", "DispatcherConfig"]

log = logging.getLogger(__name__)


class DispatcherConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    queue_size: int = Field(default=1000, gt=0)
    attempts: int = Field(default=4, ge=1)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_backoff_seconds: float = Field(default=60.0, ge=0)


@dataclass
class ChannelStats:
    sent: int = 0
    failed: int = 0
    retries: int = 0
    dropped: int = 0
    last_error: str = ""


class _Lane:
    def __init__(self, channel: Notifier, cfg: DispatcherConfig, stop: threading.Event) -> None:
        self.channel = channel
        self.cfg = cfg
        self.stop = stop
        self.q: queue.Queue[Notification | None] = queue.Queue(cfg.queue_size)
        self.stats = ChannelStats()
        self.pending = 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name=f"notify-{channel.name}", daemon=True)

    def put(self, note: Notification) -> None:
        if note.severity < self.channel.min_severity:
            return
        with self.cond:
            self.pending += 1
        try:
            self.q.put_nowait(note)
        except queue.Full:
            with self.cond:
                self.pending -= 1
                self.cond.notify_all()
            self.stats.dropped += 1
            if self.stats.dropped == 1 or not self.stats.dropped % 100:
                log.warning("notify channel %s: queue full, %d dropped", self.channel.name, self.stats.dropped)

    def _run(self) -> None:
        while True:
            note = self.q.get()
            if note is None:
                return
            try:
                if self.stop.is_set():
                    self.stats.dropped += 1  # closing: do not wait on a slow channel
                else:
                    self._deliver(note)
            finally:
                with self.cond:
                    self.pending -= 1
                    self.cond.notify_all()

    def _deliver(self, note: Notification) -> None:
        """Send with tenacity's exponential backoff; a closing dispatcher stops retrying at once."""
        cfg, name = self.cfg, self.channel.name

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            self.stats.retries += 1
            log.warning("notify channel %s: send failed (%s), retry in %.1fs", name, self.stats.last_error,
                        state.upcoming_sleep)

        retrying = Retrying(stop=stop_after_attempt(cfg.attempts) | stop_when_event_set(self.stop),
                            wait=wait_exponential(multiplier=cfg.backoff_seconds, max=cfg.max_backoff_seconds),
                            sleep=self._sleep, before_sleep=before_sleep, reraise=True)
        try:
            retrying(self.channel.send, note)
        except Exception as exc:  # a channel failure is logged, never fatal
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            if self.stop.is_set() and retrying.statistics.get("attempt_number", 1) < cfg.attempts:
                self.stats.dropped += 1
                return
            self.stats.failed += 1
            log.error("notify channel %s: giving up on %r after %d attempts: %s", name, note.kind,
                      cfg.attempts, self.stats.last_error)
            return
        self.stats.sent += 1

    def _sleep(self, seconds: float) -> None:
        self.stop.wait(seconds)  # a closing dispatcher wakes at once

    def wait_idle(self, deadline: float) -> bool:
        with self.cond:
            while self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


class Dispatcher:
    """One notification manager for all channels. ``start`` it, ``submit`` from anywhere, ``close`` at exit."""

    def __init__(self, channels: Sequence[Notifier], config: DispatcherConfig | None = None) -> None:
        self.config = config or DispatcherConfig()
        self._stop = threading.Event()
        self._lanes = [_Lane(ch, self.config, self._stop) for ch in channels]
        self._started = False
        self._closed = False

    @property
    def channels(self) -> list[Notifier]:
        return [lane.channel for lane in self._lanes]

    def start(self) -> None:
        if not self._started:
            self._started = True
            for lane in self._lanes:
                lane.thread.start()

    def submit(self, note: Notification) -> None:
        """Queue ``note`` for every channel whose ``min_severity`` it reaches; never blocks."""
        if self._closed:
            return
        for lane in self._lanes:
            lane.put(note)

    def submit_all(self, notes: Iterable[Notification]) -> None:
        for note in notes:
            self.submit(note)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notification was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        return all(lane.wait_idle(deadline) for lane in self._lanes)

    def stats(self) -> dict[str, ChannelStats]:
        return {lane.channel.name: lane.stats for lane in self._lanes}

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to ``timeout``), stop retrying, end the threads, close channels."""
        if self._closed:
            return
        self._closed = True
        if self._started:
            self.flush(timeout)
            self._stop.set()
            for lane in self._lanes:
                try:
                    lane.q.put(None, timeout=1.0)
                except queue.Full:
                    pass
            deadline = time.monotonic() + timeout
            for lane in self._lanes:
                lane.thread.join(max(0.0, deadline - time.monotonic()))
        for lane in self._lanes:
            try:
                lane.channel.close()
            except Exception as exc:
                log.warning("notify channel %s: close failed: %s", lane.channel.name, exc)
