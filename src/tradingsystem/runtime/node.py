"""Composition root: builds a trading node (market, kernel, strategies, recorder) from config."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from tradingsystem.adapters.calendar import BvmfCalendar
from tradingsystem.adapters.simulator import SimulatedMarket, default_instruments
from tradingsystem.domain import b3
from tradingsystem.domain.commands import OrderEvent, SubmitOrder
from tradingsystem.engine.bars import BarAggregator
from tradingsystem.engine.clock import SimulatedClock, WallClock
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.reconcile import BrokerState
from tradingsystem.engine.state import VenueState
from tradingsystem.engine.strategy import Strategy
from tradingsystem.runtime.config import AppConfig
from tradingsystem.strategies.ema_cross import EmaCross


class _Closable(Protocol):
    def close(self) -> None: ...


@dataclass
class Node:
    kernel: Kernel
    market: _Closable
    strategies: list[Strategy]
    start_ns: int
    session_date: date
    seed: int | None = None
    feed_name: str = "sim"
    sinks: list[Any] = field(default_factory=list)
    venue_state: VenueState | BrokerState | None = None
    """What the venue says on restart (its orders and fills, or a broker's orders and positions), reconciled
    by ``engine.state.restore``; None when the venue cannot tell (restored working orders stay as stored)."""


class FreshVenue:
    """The simulated market restarts with the node: it knows no order and no fill from before, so restored
    working orders are closed as lost (never resent) and positions stand as the store's fills made them."""

    def known_orders(self) -> list[SubmitOrder]:
        return []

    def open_order_ids(self) -> set[str]:
        return set()

    def fills_since(self, ts: int) -> list[OrderEvent]:
        return []


def calendar_for(day: date) -> BvmfCalendar:
    return BvmfCalendar(date(min(day.year - 1, 2015), 1, 1), date(day.year + 2, 12, 31))


def sim_market(config: AppConfig, seed: int | None = None, session_date: date | None = None) -> SimulatedMarket:
    """The simulated B3 market of ``config.sim``; ``seed`` and ``session_date`` override it."""
    updates: dict[str, Any] = {}
    if seed is not None:
        updates["seed"] = seed
    if session_date is not None:
        updates["session_date"] = session_date
    sim_cfg = config.sim.model_copy(update=updates) if updates else config.sim
    calendar = calendar_for(sim_cfg.session_date)
    return SimulatedMarket(sim_cfg, default_instruments(sim_cfg, calendar.is_session), calendar,
                           config.fee_schedule())


def build_sim_node(config: AppConfig, seed: int | None = None, session_date: date | None = None,
                   run_id: str | None = None, market: SimulatedMarket | None = None, feed: Any = None,
                   execution: Any = None, venue_state: VenueState | None = None) -> Node:
    """The default node: the simulated B3 market as feed and venue, the configured strategies.

    ``market`` is one already running (a node restarted on it, as the soak does); ``feed``/``execution``
    stand in front of it (the soak's injected faults), ``venue_state`` is what it says after a restart."""
    if market is None:
        market = sim_market(config, seed, session_date)
    calendar = calendar_for(market.start_day)
    kernel = Kernel(dict(market.instruments), SimulatedClock(market.now), config.risk, config.fee_schedule(),
                    calendar.is_session, breakers=config.breakers, equity_interval_s=60)
    kernel.orders.id_prefix = run_id or "O"
    kernel.connect(market.feed if feed is None else feed, market.execution if execution is None else execution)
    strategies = add_strategies(kernel, config, market.start_day, calendar.is_session)
    return Node(kernel, market, strategies, market.start_ns, market.start_day, market.config.seed,
                venue_state=venue_state or FreshVenue())


def add_strategies(kernel: Kernel, config: AppConfig, day: date, is_session: Any) -> list[Strategy]:
    strategies: list[Strategy] = []
    for i, scfg in enumerate(config.strategies):
        symbol = b3.resolve_generic(scfg.symbol, day, is_session, config.sim.roll_sessions)
        if symbol not in kernel.instruments:
            raise ValueError(f"strategy {i}: {scfg.symbol} is not traded by the market "
                             f"({', '.join(sorted(kernel.instruments))})")
        strat = EmaCross(scfg.model_copy(update={"symbol": symbol}), strategy_id=f"ema_cross_{i}" if i else "ema_cross")
        kernel.add_strategy(strat)
        strategies.append(strat)

    def _resolve(symbol: str, what: str) -> str:
        return _traded(kernel, b3.resolve_generic(symbol, day, is_session, config.sim.roll_sessions), what)

    for i, bcfg in enumerate(config.bars):
        BarAggregator(kernel, _resolve(bcfg.symbol, f"bars {i}"), bcfg.timeframe)
    for i, tcfg in enumerate(config.templates):
        from tradingsystem.runtime.backtest_setup import STRATEGIES

        if tcfg.name not in STRATEGIES:
            known = ", ".join(sorted(STRATEGIES))
            raise ValueError(f"templates {i}: unknown strategy {tcfg.name!r}; available: {known}")
        model, cls = STRATEGIES[tcfg.name]
        params = {**tcfg.params, "symbol": _resolve(tcfg.symbol, f"templates {i}")}
        template: Strategy = cls(model.model_validate(params), f"{tcfg.name}_{i}")  # type: ignore[call-arg]
        kernel.add_strategy(template)
        strategies.append(template)
    for scfg2 in config.signals:
        from tradingsystem.runtime.ml import build_signal_publisher

        build_signal_publisher(scfg2.registry, scfg2.model, kernel.bus, kernel.clock,
                               scfg2.altdata_dir or config.data_dir).attach(kernel.data)
    return strategies


def attach_altdata(node: Node, config: AppConfig, data_dir: Path) -> Any:
    """The alternative-data poller (``altdata.poll``), started on the node's kernel; None when off."""
    if not config.altdata.poll:
        return None
    from tradingsystem.adapters.altdata import AltDataPoller, AltDataSync, AltStore, SourceError

    try:
        sync = AltDataSync(AltStore(data_dir), config.altdata)
    except SourceError as exc:
        raise ValueError(f"altdata: {exc}") from None
    poller = AltDataPoller(node.kernel, sync, config.altdata).start()
    node.sinks.append(poller)
    return poller


def _traded(kernel: Kernel, symbol: str, what: str) -> str:
    if symbol not in kernel.instruments:
        raise ValueError(f"{what}: {symbol} is not traded by the market ({', '.join(sorted(kernel.instruments))})")
    return symbol


class _Session:
    def __init__(self, feed: Any) -> None:
        self.feed = feed

    def close(self) -> None:
        self.feed.close()


def build_profitdll_node(config: AppConfig, run_id: str | None = None, today: date | None = None,
                         book: str | None = None) -> Node:
    """Live trading through ProfitDLL (the ``profitdll:`` section, ``TRADINGSYSTEM_PROFITDLL_*``, ``--book``)."""
    import time

    from tradingsystem.runtime.profitdll_setup import build_profitdll

    day = today or date.today()
    calendar = calendar_for(day)
    instruments = {}
    for sym in config.sim.symbols:
        inst = b3.instrument(b3.resolve_generic(sym, day, calendar.is_session, config.sim.roll_sessions),
                             calendar.is_session)
        instruments[inst.symbol] = inst
    feed, execution = build_profitdll(config.profitdll, calendar, book)
    now = time.time_ns()
    kernel = Kernel(instruments, WallClock(now), config.risk, config.fee_schedule(), calendar.is_session,
                    breakers=config.breakers, equity_interval_s=60)
    kernel.orders.id_prefix = run_id or "O"
    kernel.connect(feed, execution)
    strategies = add_strategies(kernel, config, day, calendar.is_session)
    return Node(kernel, _Session(feed), strategies, now, day, None, "profitdll", venue_state=execution)


def build_sim_venue(config: AppConfig) -> SimulatedMarket:
    """The simulated market alone (the gateway's venue); deterministic per ``sim.seed``."""
    return sim_market(config)


def build_redis_node(config: AppConfig, run_id: str | None = None) -> Node:
    """The engine of a split deployment: market data, order events and commands over Redis Streams.

    Instruments come from ``sim.symbols`` resolved on ``sim.session_date`` (as the gateway does); the
    engine's clock follows the gateway's event time. The run stops when the gateway publishes ``end``.
    """
    import redis

    from tradingsystem.adapters.redisbus import RedisBus
    from tradingsystem.domain.sessions import local_ns

    calendar = calendar_for(config.sim.session_date)
    instruments = default_instruments(config.sim, calendar.is_session)
    day = b3.next_session(config.sim.session_date, calendar.is_session)
    start = local_ns(day, config.sim.start_time)
    kernel = Kernel(instruments, SimulatedClock(start), config.risk, config.fee_schedule(), calendar.is_session,
                    breakers=config.breakers, equity_interval_s=60)
    kernel.orders.id_prefix = run_id or "O"
    client = redis.Redis.from_url(config.redis.url, socket_timeout=5, socket_connect_timeout=2)
    bus = RedisBus(client, config.redis, on_end=kernel.stop)
    kernel.connect(bus.feed, bus.execution)
    strategies = add_strategies(kernel, config, day, calendar.is_session)
    node = Node(kernel, bus.feed, strategies, start, day, None, "redis")
    node.sinks.append(bus)
    return node


def build_replay_node(config: AppConfig, data_dir: Path, run_id: str | None = None) -> Node:
    """Paper trading on the catalog: recorded trades and book rows from ``sim.session_date`` on, orders to the
    journalled queue-aware paper venue (``{data_dir}/paper/journal.jsonl``). Nothing reaches a broker."""
    from tradingsystem.adapters.paper import QueuePaperVenue
    from tradingsystem.adapters.storage.replay import ReplayFeed
    from tradingsystem.domain.sessions import local_ns

    calendar = calendar_for(config.sim.session_date)
    instruments = default_instruments(config.sim, calendar.is_session)
    day = b3.next_session(config.sim.session_date, calendar.is_session)
    start = local_ns(day, config.sim.start_time)
    fees = config.fee_schedule()
    kernel = Kernel(instruments, SimulatedClock(start), config.risk, fees, calendar.is_session,
                    breakers=config.breakers, equity_interval_s=60)
    kernel.orders.id_prefix = run_id or "O"
    feed = ReplayFeed(data_dir, start=day)
    venue = QueuePaperVenue(dict(instruments), kernel.clock, data_dir / "paper" / "journal.jsonl", kernel.data,
                            replay_venue_config(config), books=kernel.cache, fees=fees)
    kernel.connect(feed, venue)
    for symbol in instruments:
        kernel.data.subscribe_book(symbol, venue.on_book_delta)
    strategies = add_strategies(kernel, config, day, calendar.is_session)
    node = Node(kernel, _Closer(feed, venue), strategies, start, day, None, "replay", venue_state=venue)
    node.sinks.append(venue)
    return node


def replay_venue_config(config: AppConfig) -> Any:
    """The queue-aware venue of a replay of the simulated market: its latencies, its fee table."""
    from tradingsystem.backtest.queue_venue import QueueVenueConfig

    sim = config.sim
    return QueueVenueConfig(latency_ns=sim.latency_in_ns, ack_latency_ns=sim.latency_out_ns,
                            fee_mode="day_trade" if sim.fees_day_trade else "swing")


class _Closer:
    def __init__(self, *parts: _Closable) -> None:
        self.parts = parts

    def close(self) -> None:
        for part in self.parts:
            part.close()
