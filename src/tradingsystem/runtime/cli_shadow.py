"""``tradingsystem shadow`` and ``tradingsystem calibrate``: a live session against its replay.

``shadow`` loads a day's orders and fills from the state store and the day's captured market data from the
catalog, replays the configured strategies through the queue-aware venue (parameters: the ``venue`` section of
the backtest config named by ``--backtest`` or ``shadow.backtest``), and writes a per-order comparison with a
summary to ``{data_dir}/reports/shadow/`` (JSON and HTML: the dashboard's Reports page lists it). When the P&L
gap passes ``shadow.alert_gap_brl`` an alert goes out through the configured channels. With
``shadow.nightly: true`` ``run`` does the same for its session when it ends.

``calibrate`` fits the venue's latency, slippage and queue parameters per instrument and session phase from
the same records (``backtest.calibration``), writes them into the backtest config (``venue.calibrated``) and
reports the shadow gap before and after.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig, StoreError
from tradingsystem.adapters.storage import Catalog, StorageError
from tradingsystem.adapters.storage.replay import day_sources
from tradingsystem.backtest.calibration import calibrate
from tradingsystem.backtest.feeds import Event, MergedFeed
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig
from tradingsystem.backtest.shadow import RecordedFill, RecordedOrder, compare_sessions
from tradingsystem.domain import b3
from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.errors import TradingSystemError
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order, OrderEventKind
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.clock import SimulatedClock
from tradingsystem.engine.kernel import Kernel
from tradingsystem.runtime.backtest_setup import VenueSettings, load_backtest_config
from tradingsystem.runtime.config import AppConfig, ConfigError, load_config, state_url
from tradingsystem.runtime.node import add_strategies, calendar_for

__all__ = ["ShadowRun", "nightly_shadow", "register", "shadow_session"]

console = Console(stderr=True)
_OFFSET_NS = 3 * 3600 * 10**9
_DAY_NS = 86_400 * 10**9
_EPOCH = date(1970, 1, 1).toordinal()


def _day_of(ts: int) -> date:
    return date.fromordinal(_EPOCH + (ts - _OFFSET_NS) // _DAY_NS)


def load_session(store: SqlStateStore, day: date, strategy: str | None = None
                 ) -> tuple[list[RecordedOrder], list[RecordedFill]]:
    """A day's orders (sent that B3 day) and their fills, from the state store."""
    orders = [RecordedOrder(o.order_id, o.symbol, o.side, o.order_type, o.quantity, o.price, o.ts_init,
                            o.trigger_price, o.tif, o.strategy_id, o.ts_ack)
              for o in store.load_orders() if _day_of(o.ts_init) == day and strategy in (None, o.strategy_id)]
    ids = {o.order_id for o in orders}
    fills = [RecordedFill(f.order_id, f.quantity, f.price, f.ts, f.fee) for f in store.load_fills()
             if f.order_id in ids]
    return orders, fills


class _Orders:
    """Listener collecting a replay's orders and fills as records."""

    def __init__(self) -> None:
        self.orders: dict[str, RecordedOrder] = {}
        self.fills: list[RecordedFill] = []

    def __call__(self, order: Order, event: OrderEvent) -> None:
        if order.order_id not in self.orders:
            self.orders[order.order_id] = RecordedOrder(
                order.order_id, order.symbol, int(order.side), int(order.order_type), order.quantity, order.price,
                order.ts_init, order.trigger_price, int(order.tif), order.strategy_id)
        if event.kind == OrderEventKind.FILLED:
            self.fills.append(RecordedFill(order.order_id, event.fill_qty, event.fill_price, event.ts_event,
                                           event.fee))


@dataclass
class ShadowRun:
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    instruments: dict[str, Instrument]
    live_orders: list[RecordedOrder]
    live_fills: list[RecordedFill]


def _instruments(cfg: AppConfig, day: date) -> dict[str, Instrument]:
    is_session = calendar_for(day).is_session
    out = {}
    for sym in cfg.sim.symbols:
        inst = b3.instrument(b3.resolve_generic(sym, day, is_session, cfg.sim.roll_sessions), is_session)
        out[inst.symbol] = inst
    return out


def _sources(root: Path, instruments: dict[str, Instrument], day: date) -> list[Event]:
    cat = Catalog(root)
    try:
        sources: list[Any] = []
        for symbol in instruments:
            sources += day_sources(cat, symbol, day, day)
        return [ev for src in sources for ev in src]  # materialised: the catalog closes here
    finally:
        cat.close()


def _by_time(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.ts_event)  # stable: trades before book rows at equal times


def venue_settings(cfg: AppConfig, backtest: Path | None) -> tuple[VenueSettings, Path | None]:
    path = backtest or cfg.shadow.backtest
    if path is None:
        return VenueSettings(), None
    return load_backtest_config(path).venue, path


def shadow_session(cfg: AppConfig, root: Path, store: SqlStateStore, day: date, venue: QueueVenueConfig,
                   strategy: str | None = None, events: list[Event] | None = None) -> ShadowRun:
    """Replay the configured strategies on the day's capture and compare with the live records."""
    live_orders, live_fills = load_session(store, day, strategy)
    instruments = _instruments(cfg, day)
    for o in live_orders:
        if o.symbol not in instruments:
            instruments[o.symbol] = b3.instrument(o.symbol, calendar_for(day).is_session)
    if events is None:
        events = _by_time(_sources(root, instruments, day))
    if not events:
        raise ConfigError(f"no captured market data for {day} under {root}")
    is_session = calendar_for(day).is_session
    fees = cfg.fee_schedule()
    k = Kernel(instruments, SimulatedClock(min(events[0].ts_event, local_ns(day, time(0)))), cfg.risk, fees,
               is_session, breakers=cfg.breakers)
    v = QueueVenue(instruments, k.clock, k.data, venue, books=k.cache, fees=fees)
    k.connect(MergedFeed([events]), v)
    for symbol in instruments:
        k.data.subscribe_book(symbol, v.on_book_delta)
    add_strategies(k, cfg, day, is_session)
    got = _Orders()
    k.orders.add_listener(got)
    k.run()
    k.clock.advance_to(k.clock.now() + 10 * 10**9)  # acks still in flight after the last event
    k.finish()
    replay_orders = [o for o in got.orders.values() if strategy in (None, o.strategy_id)]
    ids = {o.order_id for o in replay_orders}
    marks = {s: p for s in instruments if (p := k.data.last_price(s)) is not None}
    rows, summary = compare_sessions(instruments, live_orders, live_fills, replay_orders,
                                     [f for f in got.fills if f.order_id in ids], marks,
                                     int(cfg.shadow.window_ms * 1e6))
    summary = {"date": day.isoformat(), "strategy": strategy or "all", **summary}
    return ShadowRun(rows, summary, instruments, live_orders, live_fills)


def write_report(out: Path, name: str, run: ShadowRun, extra: dict[str, Any] | None = None) -> Path:
    """``{out}/{name}.json`` and ``{name}.html`` (one file, no scripts); returns the HTML path."""
    out.mkdir(parents=True, exist_ok=True)
    summary = {**run.summary, **(extra or {})}
    (out / f"{name}.json").write_text(json.dumps({"summary": summary, "orders": run.rows}, indent=2,
                                                 default=str) + "\n")
    keys = ["live_order_id", "replay_order_id", "symbol", "side", "quantity", "live_filled", "replay_filled",
            "live_avg_price", "replay_avg_price", "price_diff_ticks", "time_diff_ms", "pnl_gap_brl", "cause"]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(k, '')))}</td>" for k in keys) + "</tr>"
                   for r in run.rows)
    facts = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, default=str))}</td></tr>"
                    for k, v in summary.items() if k != "largest")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:2px 6px;font-size:12px}</style></head><body>"
            f"<h1>Shadow backtest {html.escape(summary['date'])} ({html.escape(str(summary['strategy']))})</h1>"
            f"<table>{facts}</table><h2>Orders</h2><table><tr>{head}</tr>{body}</table></body></html>")
    path = out / f"{name}.html"
    path.write_text(page)
    return path


def _gap_alert(cfg: AppConfig, summary: dict[str, Any], ts: int) -> Alert | None:
    gap = abs(Decimal(summary["pnl_gap_brl"]))
    if gap <= cfg.shadow.alert_gap_brl:
        return None
    causes = ", ".join(f"{c['cause']} R${c['abs_gap_brl']}" for c in summary["causes"][:3]) or "none"
    return Alert("shadow_gap", Severity.WARNING,
                 f"shadow {summary['date']}: replay P&L R${summary['pnl_replay_brl']} vs live "
                 f"R${summary['pnl_live_brl']} (gap R${summary['pnl_gap_brl']}); causes: {causes}", ts,
                 {"gap_brl": str(gap), "threshold_brl": str(cfg.shadow.alert_gap_brl)})


def nightly_shadow(kernel: Kernel, cfg: AppConfig, store: SqlStateStore | None, root: Path, day: date) -> None:
    """``shadow.nightly``: shadow the session that just ended; the alert goes out on the live kernel."""
    if store is None:
        console.print("[yellow]shadow.nightly needs the state store (persist: true); skipped[/yellow]")
        return
    try:
        store.flush()
        venue, _ = venue_settings(cfg, None)
        run = shadow_session(cfg, root, store, day, venue.venue_config())
        path = write_report(root / "reports" / "shadow", f"shadow-{day.isoformat()}", run)
    except (ConfigError, StorageError, StoreError, TradingSystemError, ValueError, OSError) as exc:
        console.print(f"[yellow]nightly shadow failed:[/yellow] {exc}")
        return
    console.print(f"shadow report: {path}")
    alert = _gap_alert(cfg, run.summary, kernel.clock.now())
    if alert is not None:
        kernel.publish_alert(alert)


# --- commands ----------------------------------------------------------------------------------------
def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _open(config: Path | None, data_dir: Path | None, session_date: str) -> tuple[AppConfig, Path, SqlStateStore, date]:
    try:
        day = date.fromisoformat(session_date)
    except ValueError:
        _fail(f"--date takes YYYY-MM-DD, not {session_date!r}")
        raise
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(str(exc))
        raise
    root = data_dir or cfg.data_dir
    if not Path(root).is_dir():
        _fail(f"data folder {root} not found")
    try:
        store = SqlStateStore(SqlStoreConfig(url=state_url(cfg, root)))
    except (StoreError, ValueError) as exc:
        _fail(f"cannot open the state store: {exc}")
        raise
    return cfg, Path(root), store, day


_Config = Annotated[Path | None, typer.Option(help="the node's YAML config (strategies, risk, fees, sim)")]
_Backtest = Annotated[Path | None, typer.Option(help="backtest config whose venue section models the venue "
                                                     "(default: shadow.backtest)")]
_DataDir = Annotated[Path | None, typer.Option(help="data folder (catalog and state store; default: config)")]
_Date = Annotated[str, typer.Option("--date", help="session day, YYYY-MM-DD")]
_Strategy = Annotated[str | None, typer.Option(help="compare only this strategy id (default: all)")]
_Out = Annotated[Path | None, typer.Option(help="report folder (default: {data_dir}/reports/shadow)")]


def shadow_command(session_date: _Date, strategy: _Strategy = None, config: _Config = None,
                   backtest: _Backtest = None, data_dir: _DataDir = None, out: _Out = None) -> None:
    """Replay a live session's strategies through the backtest venue and compare order by order."""
    cfg, root, store, day = _open(config, data_dir, session_date)
    try:
        venue, _ = venue_settings(cfg, backtest)
        run = shadow_session(cfg, root, store, day, venue.venue_config(), strategy)
        name = f"shadow-{day.isoformat()}" + (f"-{strategy}" if strategy else "")
        path = write_report(out or root / "reports" / "shadow", name, run)
        alert = _gap_alert(cfg, run.summary, local_ns(day, time(18, 30)))
        if alert is not None and cfg.alerts.enabled:
            _send_alert(cfg, run, alert)
    except (ConfigError, StorageError, StoreError, TradingSystemError, ValueError, OSError) as exc:
        _fail(str(exc))
        return
    finally:
        store.close()
    if alert is not None:
        console.print(f"[yellow]alert:[/yellow] {alert.message}")
    console.print(f"report: {path}")
    typer.echo(json.dumps({k: v for k, v in run.summary.items() if k != "largest"}, default=str))


def _send_alert(cfg: AppConfig, run: ShadowRun, alert: Alert) -> None:
    """Through the configured channels (an alerts handle on a bare kernel, closed at once)."""
    from tradingsystem.runtime.alerts_setup import attach_alerts

    k = Kernel(run.instruments)
    handle = attach_alerts(k, cfg.alerts.model_copy(update={"rules": cfg.alerts.rules.model_copy(
        update={"daily_summary": False})}), start_commands=False)
    k.publish_alert(alert)
    handle.close()


def calibrate_command(session_date: _Date, backtest: Annotated[Path, typer.Option(
                          help="backtest config to write the fitted venue parameters into")],
                      strategy: _Strategy = None, config: _Config = None, data_dir: _DataDir = None,
                      out: _Out = None) -> None:
    """Fit venue latency, slippage and queue parameters from a live session; write them into the backtest config."""
    cfg, root, store, day = _open(config, data_dir, session_date)
    try:
        before_settings = load_backtest_config(backtest).venue
        before_cfg = before_settings.venue_config()
        live_orders, live_fills = load_session(store, day, strategy)
        if not live_fills:
            raise ConfigError(f"no live fills recorded on {day}: nothing to calibrate from")
        instruments = _instruments(cfg, day)
        for o in live_orders:
            instruments.setdefault(o.symbol, b3.instrument(o.symbol, calendar_for(day).is_session))
        events = _by_time(_sources(root, instruments, day))
        if not events:
            raise ConfigError(f"no captured market data for {day} under {root}")
        fit = calibrate(instruments, lambda: [events], live_orders, live_fills, before_cfg, cfg.fee_schedule())
        before = shadow_session(cfg, root, store, day, before_cfg, strategy, events)
        raw = yaml.safe_load(backtest.read_text()) or {}
        venue_raw = dict(raw.get("venue") or {})
        venue_raw["calibrated"] = fit.as_settings()
        raw["venue"] = venue_raw
        after_settings = VenueSettings.model_validate(venue_raw)
        backtest.write_text(yaml.safe_dump(raw, sort_keys=False))
        after = shadow_session(cfg, root, store, day, after_settings.venue_config(), strategy, events)
        name = f"calibrate-{day.isoformat()}" + (f"-{strategy}" if strategy else "")
        gaps = {"gap_before_brl": before.summary["pnl_gap_brl"], "gap_after_brl": after.summary["pnl_gap_brl"],
                "time_diff_before_ms": before.summary["mean_abs_time_diff_ms"],
                "time_diff_after_ms": after.summary["mean_abs_time_diff_ms"],
                "price_diff_before_ticks": before.summary["mean_abs_price_diff_ticks"],
                "price_diff_after_ticks": after.summary["mean_abs_price_diff_ticks"],
                "calibrated": fit.as_settings(), "samples": {f"{s}/{p}": n for (s, p), n in fit.samples.items()}}
        path = write_report(out or root / "reports" / "shadow", name, after, gaps)
    except (ConfigError, StorageError, StoreError, TradingSystemError, ValueError, OSError) as exc:
        _fail(str(exc))
        return
    finally:
        store.close()
    console.print(f"wrote venue.calibrated into {backtest}; report: {path}")
    typer.echo(json.dumps(gaps, default=str))


def register(app: typer.Typer) -> None:
    """Add ``shadow`` and ``calibrate`` to the main CLI."""
    app.command("shadow")(shadow_command)
    app.command("calibrate")(calibrate_command)
