"""The gateway process: drives a venue (feed + execution), publishes what it prints, executes commands.

Delivery is at-least-once and idempotent:

- events are numbered (``s``) and written with the count of steps done in one MULTI/EXEC; after a
  connection error the gateway re-reads that count before retrying, so nothing is written twice;
- a command is applied and journalled (``{prefix}:gw:journal``, with the step it was applied at), its id
  remembered and the stream entry acknowledged in one MULTI/EXEC; a redelivered command id is skipped;
- on restart, a deterministic venue (the simulated market) is rebuilt from its seed and fast-forwarded
  to the last published step, re-applying journalled commands at the same steps, so the market goes on
  exactly where it was; the events it re-prints are not published again.

A live venue (ProfitDLL) cannot be replayed: set ``replay=False`` and the gateway only skips commands
already journalled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_fixed

from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick

from .config import RedisConfig
from .messages import decode_event, encode_event, field

_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)


class _Feed(Protocol):
    def connect(self, sink: Any) -> None: ...

    def subscribe(self, symbols: Iterable[str]) -> None: ...

    def next_ts(self) -> int | None: ...

    def step(self) -> None: ...


class _Execution(Protocol):
    def connect(self, sink: Any) -> None: ...

    def submit(self, command: SubmitOrder) -> None: ...

    def modify(self, command: ModifyOrder) -> None: ...

    def cancel(self, command: CancelOrder) -> None: ...


class Venue(Protocol):
    feed: Any
    execution: Any


@dataclass
class GatewayStats:
    steps: int = 0
    published: int = 0
    commands: int = 0
    duplicates: int = 0
    reconnects: int = 0
    replayed_steps: int = 0


class _Capture:
    """DataSink + ExecutionSink that buffers what the venue prints (dropped while replaying)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway

    def on_trade(self, tick: TradeTick) -> None:
        self.gw.emit("trade", tick, tick.ts_event)

    def on_book_delta(self, delta: BookDelta) -> None:
        self.gw.emit("delta", delta, delta.ts_event)

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None:
        self.gw.emit("snap", snapshot, snapshot.ts_event)

    def on_bar(self, bar: Bar) -> None:
        return None

    def on_order_event(self, event: OrderEvent) -> None:
        self.gw.emit("order", event, self.gw.now)


class Gateway:
    """Publishes a venue's events to ``{prefix}:events`` and executes ``{prefix}:cmd`` commands."""

    def __init__(self, client: redis.Redis, make_venue: Callable[[], Venue], config: RedisConfig | None = None,
                 symbols: Iterable[str] = (), speed: float | None = None, until_ns: int | None = None,
                 replay: bool = True, live: bool = False, log: Callable[..., Any] | None = None) -> None:
        self.r: Any = client  # redis.Redis (its stubs type stream replies loosely)
        self.cfg = config or RedisConfig()
        p = self.cfg.prefix
        self.k_events, self.k_cmd = f"{p}:events", f"{p}:cmd"
        self.k_step, self.k_journal, self.k_seen, self.k_end = f"{p}:gw:step", f"{p}:gw:journal", f"{p}:gw:seen", \
            f"{p}:gw:ended"
        self.make_venue = make_venue
        self.symbols = list(symbols)
        self.speed = speed
        self.until_ns = until_ns
        self.replay = replay
        self.live = live  # a live feed has nothing waiting at times without being finished
        self.log = log or (lambda *a, **k: None)
        self.stats = GatewayStats()
        self.now = 0
        self.seq = 0
        self._buffer: list[dict[str, Any]] = []
        self._published_steps = 0
        self._suppress = False
        self._stop = False
        self.venue: Any = None

    # ----------------------------------------------------------------- events
    def emit(self, kind: str, obj: Any, ts: int) -> None:
        self.seq += 1
        if not self._suppress:
            self._buffer.append({"s": self.seq, "t": ts, "k": kind, "b": encode_event(obj)})

    def _retry(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn`` until Redis answers (tenacity, fixed wait); give up only when stopping."""

        def before_sleep(state: RetryCallState) -> None:
            self.stats.reconnects += 1
            self.log("redis unavailable, retrying", error=str(state.outcome.exception() if state.outcome else ""))

        return Retrying(retry=retry_if_exception_type(_ERRORS), stop=lambda _s: self._stop,
                        wait=wait_fixed(self.cfg.retry_s), before_sleep=before_sleep, reraise=True)(fn)

    def _flush(self) -> None:
        """Publish the buffered events and the step count, exactly once."""
        if not self._buffer and self.stats.steps == self._published_steps:
            return
        steps, events = self.stats.steps, self._buffer

        def write() -> None:
            done = int(self.r.get(self.k_step) or 0)
            if done >= steps:  # an earlier attempt went through before the connection dropped
                return
            pipe = self.r.pipeline(transaction=True)
            for e in events:
                pipe.xadd(self.k_events, e, maxlen=self.cfg.maxlen, approximate=True)
            pipe.set(self.k_step, steps)
            pipe.execute()

        self._retry(write)
        self.stats.published += len(events)
        self._buffer = []
        self._published_steps = steps

    # ----------------------------------------------------------------- commands
    def _setup(self) -> None:
        try:
            self.r.xgroup_create(self.k_cmd, "gateway", id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _apply(self, kind: str, cmd: Any) -> None:
        ex = self.venue.execution
        if kind == "submit":
            ex.submit(cmd)
        elif kind == "modify":
            ex.modify(cmd)
        elif kind == "cancel":
            ex.cancel(cmd)

    def _commands(self) -> None:
        """Apply the commands waiting (our unacknowledged ones first, then new ones)."""
        def read() -> list[Any]:
            self._setup()
            out = self.r.xreadgroup("gateway", self.cfg.gateway_consumer, {self.k_cmd: "0"}, count=self.cfg.batch)
            pending = out[0][1] if out else []
            if pending:
                return list(pending)
            out = self.r.xreadgroup("gateway", self.cfg.gateway_consumer, {self.k_cmd: ">"}, count=self.cfg.batch)
            return list(out[0][1]) if out else []

        for entry_id, fields in self._retry(read):
            cid, kind = field(fields, "c"), field(fields, "k")
            body = fields.get(b"b", b"")

            def journal(entry_id: bytes = entry_id, cid: str = cid, kind: str = kind, body: bytes = body) -> bool:
                if self.r.sismember(self.k_seen, cid):
                    self.r.xack(self.k_cmd, "gateway", entry_id)
                    return False
                pipe = self.r.pipeline(transaction=True)
                pipe.xadd(self.k_journal, {"step": self.stats.steps, "c": cid, "k": kind, "b": body})
                pipe.sadd(self.k_seen, cid)
                pipe.xack(self.k_cmd, "gateway", entry_id)
                pipe.execute()
                return True

            if self._retry(journal):
                self.stats.commands += 1
                self._apply(kind, decode_event(kind, body))
            else:
                self.stats.duplicates += 1

    # ----------------------------------------------------------------- lifecycle
    def _start_venue(self) -> None:
        """Build the venue; fast-forward a deterministic one to where the published stream ends."""
        self.venue = self.make_venue()
        self.seq, self.stats.steps, self._buffer = 0, 0, []
        capture = _Capture(self)
        self.venue.feed.connect(capture)
        self.venue.execution.connect(capture)
        if self.symbols:
            self.venue.feed.subscribe(self.symbols)
        done = int(self._retry(lambda: self.r.get(self.k_step)) or 0)
        self._published_steps = done
        if not done:
            return
        journal = self._retry(lambda: self.r.xrange(self.k_journal))
        entries = [(int(field(f, "step")), field(f, "k"), f.get(b"b", b"")) for _, f in journal]
        if not self.replay:
            self.stats.steps = done
            return
        self._suppress = True
        feed, i = self.venue.feed, 0
        while self.stats.steps < done:
            while i < len(entries) and entries[i][0] <= self.stats.steps:
                self._apply(entries[i][1], decode_event(entries[i][1], entries[i][2]))
                i += 1
            ts = feed.next_ts()
            if ts is None:
                break
            self.now = ts
            feed.step()
            self.stats.steps += 1
        while i < len(entries):  # applied after the last published step
            self._apply(entries[i][1], decode_event(entries[i][1], entries[i][2]))
            i += 1
        self.stats.replayed_steps = self.stats.steps
        self._suppress = False
        self.log("gateway resumed", steps=self.stats.steps, events=self.seq, commands=len(entries))

    def stop(self) -> None:
        self._stop = True

    def run(self, max_wall_s: float | None = None, max_steps: int | None = None) -> GatewayStats:
        """Serve until the venue ends or ``until_ns`` passes (then publish ``end``), or until ``stop()``,
        ``max_wall_s`` or ``max_steps`` (a total, replayed steps included)."""
        self._start_venue()
        feed = self.venue.feed
        wall0 = time.perf_counter()
        ts0: int | None = None
        ended = False
        while not self._stop:
            self._commands()
            budget = self.cfg.batch
            if max_steps is not None:
                budget = min(budget, max_steps - self.stats.steps)
            while budget > 0:
                ts = feed.next_ts()
                if ts is None and self.live:
                    time.sleep(0.001)
                    break
                if ts is None or (self.until_ns is not None and ts > self.until_ns):
                    ended = True
                    break
                if self.speed is not None:
                    ts0 = ts if ts0 is None else ts0
                    if (ts - ts0) / 1e9 / self.speed > time.perf_counter() - wall0:
                        time.sleep(0.002)
                        break
                self.now = ts
                feed.step()
                self.stats.steps += 1
                budget -= 1
            self._flush()
            if ended:
                break
            if max_wall_s is not None and time.perf_counter() - wall0 > max_wall_s:
                break
            if max_steps is not None and self.stats.steps >= max_steps:
                break
        if ended:
            self._retry(self._publish_end)
        return self.stats

    def _publish_end(self) -> None:
        if not self.r.exists(self.k_end):  # a repeated ``end`` is harmless: the engine stops on the first
            pipe = self.r.pipeline(transaction=True)
            pipe.xadd(self.k_events, {"s": 0, "t": self.now, "k": "end", "b": b""})
            pipe.set(self.k_end, 1)
            pipe.execute()
