"""Composition root for backtests: config file -> data, kernel, venue, strategy -> result and reports.

The same kernel and strategies as live; only the feed (history), the venue (``QueueVenue``) and the
clock (simulated) change. Data sources: an MT5 bar export (``mt5_csv``), the Parquet catalog
(``catalog``: trades, book, bars; generic ``WINFUT``-style symbols roll between contracts), or a
seeded synthetic WIN random walk (``synthetic``).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tradingsystem.adapters.altdata.sgs import DEFAULT_BASE_URL
from tradingsystem.backtest.feeds import Event, MergedFeed, bar_events, session_filter, trade_events
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig, VenueParams
from tradingsystem.backtest.results import BacktestResult, daily_pnl, metrics, run_kernel
from tradingsystem.domain import b3
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderType, Side
from tradingsystem.domain.sessions import Phase
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.strategy import Strategy
from tradingsystem.runtime.altdata import load_ptax
from tradingsystem.runtime.config import ConfigError, FeesConfig, read_utf8
from tradingsystem.runtime.continuous import roll_plan
from tradingsystem.strategies import (
    DonchianBreakout,
    DonchianConfig,
    EmaCross,
    EmaCrossConfig,
    MlSignalConfig,
    MlSignalFollower,
    OrderFlowConfig,
    OrderFlowScalper,
    ZScoreConfig,
    ZScoreReversion,
)

__all__ = ["STRATEGIES", "BacktestConfig", "evaluate", "load_backtest_config", "load_dataset", "run_backtest"]

_OFFSET_NS = 3 * 3600 * 10**9
_DAY_NS = 86_400 * 10**9
_EPOCH = date(1970, 1, 1).toordinal()

STRATEGIES: dict[str, tuple[type[BaseModel], Callable[[Any], Strategy]]] = {
    "ema_cross": (EmaCrossConfig, EmaCross),
    "donchian": (DonchianConfig, DonchianBreakout),
    "zscore": (ZScoreConfig, ZScoreReversion),
    "ml_signal": (MlSignalConfig, MlSignalFollower),
    "orderflow": (OrderFlowConfig, OrderFlowScalper),
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataConfig(_Frozen):
    source: Literal["mt5_csv", "catalog", "synthetic"] = "synthetic"
    path: Path | None = None
    """mt5_csv: a bar file (MT5 tab export or Python-package CSV, ``data bars --out`` output, Parquet/CSV)."""
    source_tz: str = "b3"
    """mt5_csv: clock of the file's bar times: b3, utc or an IANA zone of the broker's server."""
    data_dir: Path | None = None
    """catalog: the catalog root."""
    symbols: list[str] = Field(default_factory=lambda: ["WINZ26"])
    kinds: list[Literal["trades", "book", "bars"]] = Field(default_factory=lambda: ["trades"])  # type: ignore[arg-type]
    timeframe: str = "1m"
    start: date | None = None
    end: date | None = None
    calendar: Literal["bvmf", "weekdays"] = "weekdays"
    roll_sessions: int = Field(default=2, ge=0)
    roll_on: Literal["expiry", "volume"] = "expiry"
    """Generic symbols: roll ``roll_sessions`` before expiry, or to the contract trading the most volume."""
    ticks: int = Field(default=100_000, gt=0)
    """synthetic: number of ticks."""
    days: int = Field(default=1, gt=0)
    """synthetic: spread the ticks over this many session days (from ``start``, weekdays)."""
    seed: int = 42


class VenueParamsSettings(_Frozen):
    """Venue parameters of one instrument and session phase (written by ``tradingsystem calibrate``)."""

    latency_ms: float = Field(default=0, ge=0)
    ack_latency_ms: float = Field(default=0, ge=0)
    slippage_ticks: int = Field(default=0, ge=0)
    queue_factor: float = Field(default=1.0, ge=0, le=1)


class VenueSettings(VenueParamsSettings):
    queue_ahead_default: int = Field(default=0, ge=0)
    count_unknown_aggressor: bool = True
    fee_mode: Literal["day_trade", "swing", "auto"] = "auto"
    """auto: day-trade fees for a position opened and closed in one session, swing fees otherwise."""
    calibrated: dict[str, dict[str, VenueParamsSettings]] = Field(default_factory=dict)
    """symbol -> session phase (``continuous``, ``opening_call``...) -> parameters; the rest use the above."""

    def venue_config(self) -> QueueVenueConfig:
        over = {(sym, int(Phase[phase.upper()])): VenueParams(int(p.latency_ms * 1e6), int(p.ack_latency_ms * 1e6),
                                                            p.slippage_ticks, p.queue_factor)
                for sym, phases in self.calibrated.items() for phase, p in phases.items()}
        return QueueVenueConfig(int(self.latency_ms * 1e6), int(self.ack_latency_ms * 1e6), self.slippage_ticks,
                                self.queue_ahead_default, self.count_unknown_aggressor, self.fee_mode,
                                self.queue_factor, over)

    @field_validator("calibrated")
    @classmethod
    def _phases(cls, v: dict[str, dict[str, VenueParamsSettings]]) -> dict[str, dict[str, VenueParamsSettings]]:
        for phases in v.values():
            for phase in phases:
                if phase.upper() not in Phase.__members__:
                    raise ValueError(f"unknown session phase {phase!r}; known: "
                                     f"{', '.join(p.lower() for p in Phase.__members__)}")
        return v


class StrategySettings(_Frozen):
    name: str = "ema_cross"
    params: dict[str, Any] = Field(default_factory=dict)


class ReportSettings(_Frozen):
    equity_interval_s: float = Field(default=60, gt=0)
    deterministic: bool = False
    """True: ``wall_seconds`` and ``events_per_sec`` are 0 in summary.json so reruns are byte-identical."""
    candles: int = Field(default=300, ge=0)


class BenchmarkSettings(_Frozen):
    """The report's CDI and Ibovespa comparison (``backtest.benchmark``; sources in ``runtime.benchmark_source``)."""

    enabled: bool = True
    capital_brl: Decimal = Field(default=Decimal("100000"), gt=0)
    """The capital the strategy's return is measured on (and the benchmarks' P&L)."""
    data_dir: Path = Path("data")
    """Cache: the altdata store ``{data_dir}/altdata/series`` (relative paths: the config file's folder)."""
    fetch: bool = False
    """Ask SGS for the days the cache lacks and store them there."""
    sgs_url: str = DEFAULT_BASE_URL
    timeout_s: float = Field(default=10.0, gt=0)
    cdi_sgs: int = 12
    cdi_csv: Path | None = None
    ibovespa_sgs: int | None = 7
    """BCB SGS 7 is the Ibovespa close; null with no ``ibovespa_csv``: no Ibovespa comparison."""
    ibovespa_csv: Path | None = None
    """A CSV (the SGS download ``data;valor`` or ``date,value``) used instead of SGS."""


class WalkForwardSettings(_Frozen):
    in_sample_days: int = Field(default=40, gt=0)
    out_sample_days: int = Field(default=10, gt=0)
    trials: int = Field(default=20, gt=0)
    anchored: bool = False
    seed: int = 7


class OptimizeSettings(_Frozen):
    params: dict[str, Any] = Field(default_factory=dict)
    objective: Literal["sharpe", "pnl_brl", "profit_factor"] = "sharpe"
    workers: int = Field(default=2, gt=0)
    walk_forward: WalkForwardSettings | None = WalkForwardSettings()
    pbo_splits: int = Field(default=8, ge=2)


class BacktestConfig(_Frozen):
    data: DataConfig = DataConfig()
    strategy: StrategySettings = StrategySettings()
    venue: VenueSettings = VenueSettings()
    risk: RiskConfig = RiskConfig(max_order_qty=10_000, max_position=100_000)
    fees: FeesConfig = FeesConfig()
    report: ReportSettings = ReportSettings()
    benchmark: BenchmarkSettings = BenchmarkSettings()
    optimize: OptimizeSettings = OptimizeSettings()


def load_backtest_config(path: Path) -> BacktestConfig:
    """Read a YAML backtest config; relative data paths resolve against the file's folder."""
    try:
        raw = yaml.safe_load(read_utf8(path)) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    data = raw.get("data") or {}
    for key in ("path", "data_dir"):
        if data.get(key) and not Path(data[key]).is_absolute():
            given = data[key]
            data[key] = str((path.parent / given).resolve())
            if not Path(data[key]).exists():
                raise ConfigError(f"{path}: data.{key}: {data[key]} does not exist ({given!r} is relative to "
                                  f"the config file's folder {path.parent}); fix the path or make it absolute")
    bench: dict[str, Any] = raw["benchmark"] if isinstance(raw.get("benchmark"), dict) else {}
    for key in ("data_dir", "cdi_csv", "ibovespa_csv"):
        if bench.get(key) and not Path(bench[key]).is_absolute():
            bench[key] = str((path.parent / bench[key]).resolve())
    try:
        return BacktestConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# --- data ----------------------------------------------------------------------------------------
def _weekdays(d: date) -> bool:
    return d.weekday() < 5


@functools.lru_cache(maxsize=4)
def _calendar(kind: str) -> Callable[[date], bool]:
    if kind == "bvmf":
        from tradingsystem.adapters.calendar.bvmf import BvmfCalendar

        return BvmfCalendar(start=date(2005, 1, 1)).is_session
    return _weekdays


def _day_of(ts: np.ndarray) -> np.ndarray:
    return (ts - _OFFSET_NS) // _DAY_NS


def _window_mask(ts: np.ndarray, start: date | None, end: date | None) -> np.ndarray:
    d = _day_of(ts)
    mask = np.ones(len(ts), dtype=bool)
    if start is not None:
        mask &= d >= start.toordinal() - _EPOCH
    if end is not None:
        mask &= d <= end.toordinal() - _EPOCH
    return mask


@functools.lru_cache(maxsize=8)
def _read_bars(path: str, symbol: str, timeframe: str, source_tz: str) -> dict[str, np.ndarray]:
    """A bar file at ``timeframe`` through the one reader and bar engine (``runtime/bar_source.py``)."""
    from tradingsystem.runtime.bar_source import asset_class_for, load_bars

    try:
        return load_bars(symbol, date(1990, 1, 1), date(2100, 1, 1), timeframe, asset_class_for(symbol),
                         Path(path), None, source_tz)
    except ValueError as exc:
        raise ConfigError(f"data.path {path}: {exc}") from exc


def _synthetic(n: int, seed: int, start_day: date, days: int = 1) -> dict[str, np.ndarray]:
    """A random walk on WIN's 5-point grid, 1-20 lots, 1-50 ms apart, from 09:00 (the spine's workload),
    cut into ``days`` weekdays of equal tick counts."""
    rng = np.random.default_rng(seed)
    steps = rng.choice(np.array([-5, 0, 5]), size=n, p=[0.3, 0.4, 0.3])
    gaps = rng.integers(1, 51, size=n) * 1_000_000
    sessions: list[date] = []
    d = start_day
    while len(sessions) < days:
        if d.weekday() < 5:
            sessions.append(d)
        d = date.fromordinal(d.toordinal() + 1)
    day_idx = np.minimum(np.arange(n) * days // max(n, 1), days - 1)
    starts = np.array([(s.toordinal() - _EPOCH) * _DAY_NS + 9 * 3600 * 10**9 + _OFFSET_NS for s in sessions])
    first = np.searchsorted(day_idx, np.arange(days))
    csum = np.cumsum(gaps)
    base = np.where(first > 0, csum[np.maximum(first - 1, 0)], 0)
    ts = starts[day_idx] + csum - base[day_idx]
    return {"price": 125_000 + np.cumsum(steps), "size": rng.integers(1, 21, size=n), "ts_event": ts,
            "aggressor": rng.integers(1, 3, size=n), "trade_id": np.arange(1, n + 1)}


@dataclass
class Dataset:
    instruments: dict[str, Instrument]
    sources: list[Iterable[Event]]
    days: list[date]
    candles: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    rolls: list[tuple[int, str, int]] = field(default_factory=list)  # (flatten at, symbol, reopen at)


def _candles(ts: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
             n: int) -> dict[str, list[int]]:
    if not len(ts) or not n:
        return {}
    groups = np.array_split(np.arange(len(ts)), min(n, len(ts)))
    return {"ts": [int(ts[g[0]]) for g in groups], "open": [int(o[g[0]]) for g in groups],
            "high": [int(h[g].max()) for g in groups], "low": [int(lo[g].min()) for g in groups],
            "close": [int(c[g[-1]]) for g in groups]}


def _days(ts: np.ndarray) -> list[date]:
    return [date.fromordinal(int(d) + _EPOCH) for d in np.unique(_day_of(ts))]


def load_dataset(cfg: BacktestConfig, window: tuple[date, date] | None = None) -> Dataset:
    """Build the replay sources (time-ordered per source) for ``cfg.data`` over ``window`` (session days)."""
    d = cfg.data
    is_session = _calendar(d.calendar)
    start, end = window if window else (None if d.source == "synthetic" else d.start, d.end)
    n_candles = cfg.report.candles
    if d.source == "mt5_csv":
        if d.path is None:
            raise ConfigError("data.path is required for source mt5_csv")
        symbol = d.symbols[0]
        cols = _read_bars(str(d.path), symbol, d.timeframe, d.source_tz)
        m = _window_mask(cols["ts_open"], start, end)
        sub = {k: v[m] for k, v in cols.items()}
        if not len(sub["ts_open"]):
            raise ConfigError(f"data.path {d.path}: no {symbol} bars between {start} and {end}")
        inst = _instrument(symbol, is_session, _days(sub["ts_open"])[0])
        src = session_filter(bar_events(symbol, d.timeframe, sub, close_as_trade=True), is_session)
        candles = {symbol: _candles(sub["ts_open"], sub["open"], sub["high"], sub["low"], sub["close"], n_candles)}
        rolls = _file_rolls(symbol, sub["ts_event"], is_session, d.roll_sessions) if symbol.endswith("FUT") else []
        return Dataset({symbol: inst}, [src], [x for x in _days(sub["ts_open"]) if is_session(x)], candles, rolls)
    if d.source == "synthetic":
        symbol = d.symbols[0]
        inst = b3.instrument(symbol, is_session)
        cols = _synthetic(d.ticks, d.seed, d.start or date(2026, 11, 26), d.days)
        m = _window_mask(cols["ts_event"], start, end)
        sub = {k: v[m] for k, v in cols.items()}
        p = sub["price"]
        candles = {symbol: _candles(sub["ts_event"], p, p, p, p, n_candles)}
        return Dataset({symbol: inst}, [trade_events(symbol, sub)], _days(sub["ts_event"]), candles)
    return _catalog_dataset(cfg, start, end, is_session)


def _catalog_dataset(cfg: BacktestConfig, start: date | None, end: date | None,
                     is_session: Callable[[date], bool]) -> Dataset:
    from tradingsystem.adapters.storage.catalog import Catalog
    from tradingsystem.adapters.storage.replay import day_sources

    d = cfg.data
    if d.data_dir is None:
        raise ConfigError("data.data_dir is required for source catalog")
    cat = Catalog(d.data_dir)
    instruments: dict[str, Instrument] = {}
    sources: list[Iterable[Event]] = []
    candles: dict[str, dict[str, list[int]]] = {}
    days: set[date] = set()
    rolls: list[tuple[int, str, int]] = []
    for symbol in d.symbols:
        generic = symbol.endswith("FUT")
        plan = roll_plan(cat, symbol, start, end, is_session, d.roll_sessions, d.kinds, d.roll_on) if generic \
            else [(symbol, start, end)]
        if generic and not plan:
            raise ConfigError(f"catalog {d.data_dir}: no dated {symbol[:-3]} contracts stored for {symbol}")
        first_day = plan[0][1] if generic else start
        instruments[symbol] = _instrument(plan[0][0] if generic else symbol, is_session, first_day, symbol)
        if "trades" in d.kinds:
            pieces = []
            for contract, lo, hi in plan:
                t = cat.read_trades(contract, lo, hi)
                if t.num_rows:
                    pieces.append({c: t.column(c).to_numpy() for c in
                                   ("ts_event", "ts_init", "price", "size", "aggressor", "trade_id", "buyer",
                                    "seller")})
            if pieces:
                cols = {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
                if generic and len(pieces) > 1:
                    rolls += [_roll_times(int(a["ts_event"][-1]), int(b["ts_event"][0]), symbol)
                              for a, b in itertools.pairwise(pieces)]
                sources.append(trade_events(symbol, cols))
                days.update(_days(cols["ts_event"]))
                p = cols["price"]
                candles[symbol] = _candles(cols["ts_event"], p, p, p, p, cfg.report.candles)
        if "book" in d.kinds:  # after the trades: on equal times trades come first (issue 19)
            for contract, lo, hi in plan:
                sources += day_sources(cat, contract, lo, hi, symbol, trades=False)
        if "bars" in d.kinds:
            last_ts = 0
            for contract, lo, hi in plan:
                t = cat.bars(contract, d.timeframe, lo, hi)
                if t.num_rows:
                    cols = {c: t.column(c).to_numpy() for c in ("ts_open", "ts_event", "open", "high", "low",
                                                               "close", "volume", "trades")}
                    if generic and last_ts and "trades" not in d.kinds:
                        rolls.append(_roll_times(last_ts, int(cols["ts_event"][0]), symbol))
                    last_ts = int(cols["ts_event"][-1])
                    sources.append(bar_events(symbol, d.timeframe, cols, close_as_trade="trades" not in d.kinds))
                    days.update(_days(cols["ts_event"]))
                    candles.setdefault(symbol, _candles(cols["ts_open"], cols["open"], cols["high"], cols["low"],
                                                        cols["close"], cfg.report.candles))
    cat.close()
    if not sources:
        raise ConfigError(f"catalog {d.data_dir}: no {'/'.join(d.kinds)} for {', '.join(d.symbols)} in the period")
    sources = [session_filter(s, is_session) for s in sources]
    return Dataset(instruments, sources, sorted(x for x in days if is_session(x)), candles, rolls)


def _instrument(contract: str, is_session: Callable[[date], bool], day: date | None, symbol: str | None = None
                ) -> Instrument:
    """The instrument traded under ``symbol``: a dated code as is; a generic code (``WINFUT``) as the
    continuous series with the front contract's rules on ``day`` and no expiry (rolls flatten it)."""
    symbol = symbol or contract
    if contract.endswith("FUT"):
        contract = b3.resolve_generic(contract, day or date.today(), is_session)
    base = b3.instrument(contract, is_session)
    if symbol == contract:
        return base
    return Instrument(symbol, base.root, base.asset_class, base.scale, base.tick, base.lot, base.brl_per_raw)


# --- running -------------------------------------------------------------------------------------
def build_strategy(cfg: BacktestConfig, params: dict[str, Any] | None = None) -> Strategy:
    name = cfg.strategy.name
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}; available: {', '.join(sorted(STRATEGIES))}")
    model, cls = STRATEGIES[name]
    merged = {"symbol": cfg.data.symbols[0], **cfg.strategy.params, **(params or {})}
    try:
        return cls(model.model_validate(merged))
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"strategy {name}: {exc}") from exc


def build_kernel(cfg: BacktestConfig, data: Dataset, params: dict[str, Any] | None = None) -> Kernel:
    fees = cfg.fees.schedule(load_ptax(cfg.data.data_dir) if cfg.data.data_dir else None)  # PTAX for USD fees
    is_session = _calendar(cfg.data.calendar)
    k = Kernel(data.instruments, risk=cfg.risk, fees=fees, is_session=is_session)
    venue = QueueVenue(data.instruments, k.clock, k.data, cfg.venue.venue_config(), books=k.cache, fees=fees)
    k.connect(MergedFeed(data.sources), venue)
    if "book" in cfg.data.kinds:
        for symbol in data.instruments:
            k.data.subscribe_book(symbol, venue.on_book_delta)
    k.add_strategy(build_strategy(cfg, params))
    for ts, symbol, reopen_at in data.rolls:
        k.clock.schedule(ts, functools.partial(_roll, k, symbol, reopen_at))
    return k


def _file_rolls(symbol: str, ts_event: np.ndarray, is_session: Callable[[date], bool], roll_sessions: int
                ) -> list[tuple[int, str, int]]:
    """Rolls of a stitched continuous file (an MT5 ``WIN$N`` export as ``WINFUT``): where B3's rule moves
    the front contract between two sessions of the file, roll after the last bar of the earlier one."""
    days = _day_of(ts_event)
    change = np.flatnonzero(np.diff(days) != 0)
    out = []
    for i in change:
        a, b = (date.fromordinal(int(days[j]) + _EPOCH) for j in (i, i + 1))
        if b3.resolve_generic(symbol, a, is_session, roll_sessions) != b3.resolve_generic(symbol, b, is_session,
                                                                                           roll_sessions):
            out.append(_roll_times(int(ts_event[i]), int(ts_event[i + 1]), symbol))
    return out


def _roll_times(last_old: int, first_new: int, symbol: str) -> tuple[int, str, int]:
    """(flatten at, symbol, reopen at) for a contract switch: the closing leg goes out 1 ns after the old
    contract's last print and the opening leg 1 ns after the new one's first (a timer at an event's own
    instant runs before it), so each fills on its own contract's prices and the gap is never P&L."""
    return last_old + 1, symbol, first_new + 1


def _roll(kernel: Kernel, symbol: str, reopen_at: int, _ts: int) -> None:
    """Before a generic symbol switches contract: cancel working orders, close the position on the old
    contract and schedule the same position opened on the new one (both legs pay fees)."""
    pos = kernel.portfolio.positions.get(symbol)
    qty = pos.quantity if pos is not None else 0
    kernel.orders.cancel_all(symbol)
    kernel.flatten("contract roll", symbol)
    if qty:
        kernel.clock.schedule(reopen_at, functools.partial(_reopen, kernel, symbol, qty))


def _reopen(kernel: Kernel, symbol: str, qty: int, _ts: int) -> None:
    side = Side.BUY if qty > 0 else Side.SELL
    order = kernel.orders.new_order(symbol, side, abs(qty), OrderType.MARKET, strategy_id="roll",
                                    tags=("roll",))
    order.reason = "contract roll: opening leg"
    kernel.orders.submit(order)


def run_backtest(cfg: BacktestConfig, params: dict[str, Any] | None = None, window: tuple[date, date] | None = None,
                 progress: Callable[[int], None] | None = None) -> BacktestResult:
    data = load_dataset(cfg, window)
    k = build_kernel(cfg, data, params)
    result = run_kernel(k, progress=progress, equity_interval_s=cfg.report.equity_interval_s)
    result.candles = data.candles
    return result


def evaluate(cfg_json: str, params: dict[str, Any], window: tuple[date, date] | None = None) -> dict[str, Any]:
    """One backtest for sweeps and walk-forward (top level, picklable): metrics, objective, daily P&L."""
    cfg = BacktestConfig.model_validate_json(cfg_json)
    result = run_backtest(cfg, params, window)
    m = metrics(result, deterministic=True)
    objective = {"sharpe": m["sharpe"], "pnl_brl": float(m["pnl_brl"]), "profit_factor": m["profit_factor"]}
    return {"params": params, "objective": objective[cfg.optimize.objective], "metrics": m,
            "daily": [str(x) for x in daily_pnl(result.equity)],
            "days": sorted({date.fromordinal(int((ts - _OFFSET_NS) // _DAY_NS) + _EPOCH).isoformat()
                            for ts, _ in result.equity})}
