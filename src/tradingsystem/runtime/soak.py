"""Soak and fault test: simulated B3 sessions back to back with faults injected, memory watched.

Each session builds a simulated market for the next session day (seed ``seed + i``) and a node on it,
then injects three faults and checks that each was recovered:

- feed disconnect: market data is dropped for ``disconnect_s`` market seconds; recovered when data flows
  again and every subscribed book got a fresh snapshot on reconnect;
- venue rejects: the next ``rejects`` submissions are rejected by the venue; recovered when every one of
  them is closed in the order cache (nothing left working);
- process restart: the node is thrown away mid-session, the market runs on without it for ``outage_s``,
  and a new node is restored from the state store (``engine.state.restore``) and reconciled with the
  venue; recovered when positions match the venue's fills and the new node trades on.

Nodes are built as ``tradingsystem run`` builds them (``runtime.node.build_sim_node``). With ``record: true``
one recorder runs through the whole soak (as a capture runs for weeks) and records every node's market data
into ``{work_dir}/catalog``; at the end every row it wrote must be in the catalog's Parquet parts.

Risk violations are positions beyond the configured limits seen after any order event.
"""

from __future__ import annotations

import gc
import resource
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import msgspec

from tradingsystem.adapters.simulator import SimulatedMarket
from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.adapters.storage import Catalog, Recorder, StorageConfig
from tradingsystem.adapters.storage.recorder import release_memory
from tradingsystem.domain import b3
from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick
from tradingsystem.domain.orders import Order, OrderEventKind
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.state import StateKeeper, restore
from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.node import build_sim_node, calendar_for, sim_market

__all__ = ["SoakReport", "rss_mb", "run_soak"]

NS = 1_000_000_000
_FILLED = int(OrderEventKind.FILLED)
_REJECT_SYMBOL = "?INJECTED-REJECT"


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 1e6
    except OSError:  # pragma: no cover - not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


@dataclass
class SoakReport:
    sessions: int = 0
    sessions_completed: int = 0
    errors: int = 0
    faults_injected: int = 0
    faults_recovered: int = 0
    risk_violations: int = 0
    events_processed: int = 0
    orders_submitted: int = 0
    fills: int = 0
    recorded_rows: int = 0  # rows the recorder wrote (record: true)
    catalog_rows: int = 0  # of which found in the catalog's Parquet parts at the end
    rss_mb_before: float = 0.0
    rss_mb_start: float = 0.0  # after the first session
    rss_mb_end: float = 0.0
    rss_mb_peak: float = 0.0
    rss_mb_by_session: list[float] = field(default_factory=list)
    error_messages: list[str] = field(default_factory=list)
    unrecovered: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _GateSink:
    """The feed's data sink with a switch: while down, market data is lost (a disconnected feed)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.down = False
        self.delivered = 0

    def on_trade(self, tick: TradeTick) -> None:
        if not self.down:
            self.delivered += 1
            self.sink.on_trade(tick)

    def on_book_delta(self, delta: BookDelta) -> None:
        if not self.down:
            self.delivered += 1
            self.sink.on_book_delta(delta)

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None:
        if not self.down:
            self.sink.on_book_snapshot(snapshot)

    def on_bar(self, bar: Bar) -> None:
        if not self.down:
            self.sink.on_bar(bar)


class _FaultyFeed:
    """A SimFeed that disconnects between two market times and resends the books when it reconnects."""

    def __init__(self, market: SimulatedMarket, down_from: int, down_until: int) -> None:
        self.market = market
        self.down_from, self.down_until = down_from, down_until
        self.gate: _GateSink | None = None
        self.symbols: list[str] = []
        self.injected = self.reconnected = False
        self.snapshots_sent = 0
        self.delivered_at_reconnect = 0

    def connect(self, sink: Any) -> None:
        self.gate = _GateSink(sink)
        self.market.connect_data(self.gate)

    def subscribe(self, symbols: Iterable[str]) -> None:
        self.symbols = list(symbols)
        self.market.subscribe(self.symbols)

    def next_ts(self) -> int | None:
        return self.market.next_ts()

    def step(self) -> None:
        gate, now = self.gate, self.market.now
        if gate is not None:
            if not self.injected and now >= self.down_from:
                self.injected, gate.down = True, True
            elif gate.down and now >= self.down_until:
                gate.down, self.reconnected = False, True
                self.delivered_at_reconnect = gate.delivered
                for sym in self.symbols:
                    gate.on_book_snapshot(self.market.book(sym, 1_000))
                    self.snapshots_sent += 1
        self.market.step()

    def close(self) -> None:
        self.market.close()


class _VenueJournal:
    """Execution client + sink in front of the simulated venue: injects rejects, remembers what it saw,
    and answers ``engine.state.VenueState`` after a restart."""

    def __init__(self, market: SimulatedMarket, rejects: int) -> None:
        self.market = market
        self.execution = market.execution
        self.rejects_left = rejects
        self.rejected: list[str] = []
        self.known: list[SubmitOrder] = []
        self.fills: list[OrderEvent] = []
        self.sink: Any = None
        market.connect_execution(self)

    def on_order_event(self, event: OrderEvent) -> None:
        if event.kind == _FILLED:
            self.fills.append(event)
        if self.sink is not None:
            self.sink.on_order_event(event)

    # ExecutionClient
    def connect(self, sink: Any) -> None:
        self.sink = sink

    def submit(self, command: SubmitOrder) -> None:
        if self.rejects_left > 0 and command.strategy_id != "risk":
            self.rejects_left -= 1
            self.rejected.append(command.order_id)
            command = msgspec.structs.replace(command, symbol=_REJECT_SYMBOL)  # the venue rejects it
        else:
            self.known.append(command)
        self.execution.submit(command)

    def modify(self, command: ModifyOrder) -> None:
        self.execution.modify(command)

    def cancel(self, command: CancelOrder) -> None:
        self.execution.cancel(command)

    # VenueState
    def known_orders(self) -> list[SubmitOrder]:
        return list(self.known)

    def open_order_ids(self) -> set[str]:
        return set(self.market._orders)

    def fills_since(self, ts: int) -> list[OrderEvent]:
        return [f for f in self.fills if f.ts_event >= ts]


class _RiskWatch:
    """Counts positions beyond the configured limits after every order event."""

    def __init__(self, config: AppConfig) -> None:
        self.cfg = config.risk
        self.violations = 0
        self.kernel: Kernel | None = None

    def __call__(self, order: Order, event: OrderEvent) -> None:
        if self.kernel is None or event.kind != _FILLED:
            return
        qty = abs(self.kernel.position(order.symbol))
        limit = self.kernel.risk.max_position(order.symbol)
        if limit and qty > limit:
            self.violations += 1


def _node(config: AppConfig, market: SimulatedMarket, feed: _FaultyFeed, venue: _VenueJournal, watch: _RiskWatch,
          store: SqlStateStore, recorder: Recorder | None, run_id: str) -> tuple[Kernel, StateKeeper]:
    kernel = build_sim_node(config, run_id=run_id, market=market, feed=feed, execution=venue,
                            venue_state=venue).kernel
    if recorder is not None:
        kernel.add_sink(recorder)
    keeper = StateKeeper(kernel, store)
    watch.kernel = kernel
    kernel.orders.add_listener(watch)
    return kernel, keeper


def _session(config: AppConfig, i: int, day: date, seed: int, work: Path, report: SoakReport, opts: dict[str, Any],
             recorder: Recorder | None = None) -> None:
    market = sim_market(config, seed + i, day)
    start, end = market.start_ns, local_ns(market.start_day, time(18, 40))
    span = end - start
    feed = _FaultyFeed(market, start + span // 3, start + span // 3 + int(opts["disconnect_s"] * NS))
    venue = _VenueJournal(market, opts["rejects"])
    watch = _RiskWatch(config)
    db = work / f"state-{i}.db"
    db.unlink(missing_ok=True)
    store = SqlStateStore(SqlStoreConfig(url=f"sqlite:///{db}"))
    try:
        kernel, keeper = _node(config, market, feed, venue, watch, store, recorder, f"S{i}A")
        report.faults_injected += 2  # the disconnect and the rejects
        restart_at = start + span // 2
        kernel.run(until_ts=restart_at)
        gate = feed.gate
        feed_ok = feed.reconnected and feed.snapshots_sent == len(feed.symbols) and gate is not None \
            and gate.delivered > feed.delivered_at_reconnect
        # --- process restart: the node goes away, the market does not --------------------------
        report.faults_injected += 1
        keeper.flush()
        killed = kernel.guard.kill_switch  # a loss limit may have halted the first half: it must stay halted
        events = kernel.events_processed
        kernel.finish()
        venue.sink = None
        market._data_sink = None  # nobody listens while the node is down
        market._rewire()
        feed.gate, watch.kernel = None, None
        del kernel, keeper, gate
        _release()  # the old node is garbage now; Kernel.start's gc.freeze() must not keep it
        market.run_until(market.now + int(opts["outage_s"] * NS))
        kernel, keeper = _node(config, market, feed, venue, watch, store, recorder, f"S{i}B")
        rep = restore(kernel, store, venue)
        restored = {s: p.quantity for s, p in kernel.portfolio.positions.items() if p.quantity}
        venue_at_restore = _positions(venue)
        kernel.run(until_ts=end)
        kernel.finish()
        keeper.flush()
        events += kernel.events_processed
        report.events_processed += events
        report.orders_submitted += len(venue.known) + len(venue.rejected)
        report.fills += len(venue.fills)
        # --- recovery checks -------------------------------------------------------------------
        if feed_ok:
            report.faults_recovered += 1
        else:
            report.unrecovered.append(f"session {i}: feed disconnect")
        stuck = [oid for oid in venue.rejected if (o := kernel.cache.order(oid)) is not None and o.is_open]
        if not stuck:
            report.faults_recovered += 1
        else:
            report.unrecovered.append(f"session {i}: rejected orders still open {stuck}")
        now_pos = {s: p.quantity for s, p in kernel.portfolio.positions.items() if p.quantity}
        if rep.kill_switch is killed and restored == venue_at_restore and now_pos == _positions(venue) \
                and kernel.events_processed > 0:
            report.faults_recovered += 1
        else:
            report.unrecovered.append(f"session {i}: restart (restored {restored} venue {venue_at_restore}, "
                                      f"end {now_pos} venue {_positions(venue)})")
        report.risk_violations += watch.violations
        report.sessions_completed += 1
    finally:
        market.close()
        store.close()
        db.unlink(missing_ok=True)


def _release() -> None:
    """Collect garbage, frozen objects included (``Kernel.start`` calls ``gc.freeze()``, which would keep a
    discarded node's reference cycles alive for the life of the process), and hand the freed pages back to
    the OS: RSS is then what the process holds, not its allocator's high-water mark."""
    gc.unfreeze()
    gc.collect()
    release_memory()


def _positions(venue: _VenueJournal) -> dict[str, int]:
    """Net positions by symbol from the venue's own fills of our orders."""
    sides = {c.order_id: (c.symbol, 1 if c.side == 1 else -1) for c in venue.known}
    pos: dict[str, int] = {}
    for f in venue.fills:
        sym, sign = sides.get(f.order_id, (f.symbol, 0))
        pos[f.symbol or sym] = pos.get(f.symbol or sym, 0) + sign * f.fill_qty
    return {s: q for s, q in pos.items() if q}


def run_soak(config: AppConfig, sessions: int, work_dir: Path, seed: int | None = None, disconnect_s: float = 120,
             rejects: int = 2, outage_s: float = 30, progress: Callable[[int, SoakReport], None] | None = None
             ) -> SoakReport:
    """Run ``sessions`` simulated sessions back to back with faults; see the module docstring."""
    work_dir.mkdir(parents=True, exist_ok=True)
    report = SoakReport(sessions=sessions)
    config = config.model_copy(update={"sim": config.sim.model_copy(update={"record_trades": False})})
    recorder, rows_before = None, 0
    if config.record:  # overflow blocks: the simulated market waits for the recorder, nothing is dropped
        recorder = Recorder(StorageConfig(data_dir=work_dir / "catalog"), overflow="block")
        rows_before = _catalog_rows(recorder.config.data_dir)  # a work dir used before
        recorder.start()
    gc.collect()
    report.rss_mb_before = report.rss_mb_peak = round(rss_mb(), 1)
    base = config.sim.seed if seed is None else seed
    calendar = calendar_for(config.sim.session_date)
    day = b3.next_session(config.sim.session_date, calendar.is_session)
    opts = {"disconnect_s": disconnect_s, "rejects": rejects, "outage_s": outage_s}
    for i in range(sessions):
        try:
            _session(config, i, day, base, work_dir, report, opts, recorder)
        except Exception as exc:  # counted and reported; the soak goes on
            report.errors += 1
            report.error_messages.append(f"session {i}: {exc!r}\n{traceback.format_exc(limit=5)}")
        day = b3.next_session(day + timedelta(days=1), calendar_for(day).is_session)
        if recorder is not None:
            recorder.flush(roll=True)  # the day in Parquet at its end: measured at the same point each session
        _release()
        mb = round(rss_mb(), 1)
        report.rss_mb_by_session.append(mb)
        report.rss_mb_peak = max(report.rss_mb_peak, mb)
        if i == 0:
            report.rss_mb_start = mb
        report.rss_mb_end = mb
        if progress is not None:
            progress(i, report)
    if recorder is not None:
        recorder.stop()
        _check_recorder(recorder, _catalog_rows(recorder.config.data_dir) - rows_before, report)
    return report


def _catalog_rows(data_dir: Path) -> int:
    if not data_dir.is_dir():
        return 0
    catalog = Catalog(data_dir)
    try:
        return sum(p.rows for p in catalog.partitions())
    finally:
        catalog.close()


def _check_recorder(recorder: Recorder, catalog_rows: int, report: SoakReport) -> None:
    """Every row the recorder wrote is in the catalog; nothing dropped, no write error."""
    stats = recorder.stats
    report.recorded_rows, report.catalog_rows = stats.written, catalog_rows
    problems = list(stats.errors)
    if stats.dropped:
        problems.append(f"recorder dropped {stats.dropped} events")
    if catalog_rows != stats.written:
        problems.append(f"recorder wrote {stats.written} rows, the catalog has {catalog_rows}")
    report.errors += len(problems)
    report.error_messages.extend(f"recorder: {p}" for p in problems)
