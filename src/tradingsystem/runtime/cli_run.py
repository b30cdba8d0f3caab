"""``tradingsystem run`` and ``follow``: the trading node with its HTTP server (dashboard, control API, /health and
/metrics on one address and one token), recorder and state."""

from __future__ import annotations

import dataclasses
import errno
import json
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.live import Live

from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig, StoreError
from tradingsystem.adapters.storage import Recorder, StorageConfig, StorageError
from tradingsystem.domain.errors import TradingSystemError
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.monitor import Monitor
from tradingsystem.engine.state import StateKeeper, restore, restored_summary
from tradingsystem.interfaces.status import render, status_snapshot
from tradingsystem.runtime.alerts_setup import attach_alerts
from tradingsystem.runtime.backup_setup import BackupSchedule
from tradingsystem.runtime.cli_errors import fail, option_date
from tradingsystem.runtime.cli_shadow import nightly_shadow
from tradingsystem.runtime.config import AppConfig, ConfigError, load_config, state_url
from tradingsystem.runtime.lock import DataDirLock, DataDirLocked
from tradingsystem.runtime.logs import configure_logging, get_logger
from tradingsystem.runtime.node import (
    attach_altdata,
    build_profitdll_node,
    build_redis_node,
    build_replay_node,
    build_sim_node,
)
from tradingsystem.runtime.sharing_setup import attach_sharing

if TYPE_CHECKING:
    from tradingsystem.runtime.server import NodeServer

console = Console(stderr=True)


def _speed(value: str) -> float | None:
    if value.lower() == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        raise typer.BadParameter("--speed takes a positive number or 'max'") from None
    if speed <= 0:
        raise typer.BadParameter("--speed takes a positive number or 'max'")
    return speed


def _listen(cfg: AppConfig, host: str | None, port: int | None) -> socket.socket:
    """The socket of the node's HTTP server: ``--host/--port``, else ``observability.control_host/control_port``;
    a taken port falls back to a free one with a warning (the printed URL and ``node.json`` say which)."""
    from tradingsystem.runtime.server import listen

    at = (host or cfg.observability.control_host, cfg.observability.control_port if port is None else port)
    try:
        return listen(*at)
    except OSError as exc:
        if at[1] == 0 or exc.errno != errno.EADDRINUSE:  # not an address here, or not ours to bind: an error
            raise
        console.print(f"[yellow]port {at[1]} on {at[0]} is taken ({exc.strerror or exc}); "
                      "serving on a free port instead[/yellow]")
        return listen(at[0], 0)


def _serve(kernel: Kernel, cfg: AppConfig, sock: socket.socket, host: str, *, control: bool, dashboard: bool,
           root: Path, reports_dir: Path, metric_sources: list[Any]) -> NodeServer:
    """Start the node's one HTTP server (runtime/server.py) and say where it is."""
    from tradingsystem.runtime.server import start_server  # fastapi and uvicorn only when serving

    obs = cfg.observability
    web = start_server(kernel, host, sock=sock, dashboard=dashboard, control=control, node_file=root / "node.json",
                       data_dir=root, reports_dir=reports_dir, metric_sources=metric_sources,
                       token_max_failures=obs.token_max_failures, token_lockout_s=obs.token_lockout_s)
    if dashboard:
        console.print(f"dashboard: {web.url}  token: {web.token}  (open {web.login_url})")
    else:
        console.print(f"control api: {web.url}  token in {root / 'node.json'}")
    return web


def run(
    config: Annotated[Path | None, typer.Option(help="YAML config file (defaults apply when omitted)")] = None,
    duration: Annotated[float | None, typer.Option(help="market seconds to run; default until Ctrl-C")] = None,
    speed: Annotated[str, typer.Option(help="market seconds per wall second, or 'max'")] = "1",
    seed: Annotated[int | None, typer.Option(help="seed of the simulated market")] = None,
    session_date: Annotated[str | None, typer.Option("--date", help="first session day, YYYY-MM-DD")] = None,
    summary_out: Annotated[Path | None, typer.Option(help="write the run summary as JSON here")] = None,
    feed: Annotated[str, typer.Option(help="sim (the simulated B3 market), profitdll (live, Windows) "
                                           "redis (the engine of a split deployment) or replay "
                                           "(paper trading on the catalog)")] = "sim",
    book: Annotated[str | None, typer.Option(help="profitdll: none, price_depth or offer_book "
                                                  "(default: profitdll.book_depth/book_source in the config)")] = None,
    status: Annotated[bool, typer.Option(help="show the live status view")] = True,
    control: Annotated[bool, typer.Option(help="serve the control API (risk, orders, positions, kill...)")] = True,
    dashboard: Annotated[bool, typer.Option(help="serve the browser dashboard")] = True,
    host: Annotated[str | None, typer.Option(help="address of the node's HTTP server, dashboard and control API "
                                                  "(default: observability.control_host, 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="its port, 0 picks a free one (default: "
                                                                    "observability.control_port, 8000)")] = None,
    reports_dir: Annotated[Path | None, typer.Option(help="backtest reports shown by the dashboard")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where data and node state live (default: config)")] = None,
) -> None:
    """Run the trading node: the market, the strategies, risk and portfolio, with a live status view."""
    pace = _speed(speed)
    if duration is not None and duration <= 0:
        fail("--duration must be positive")
    if feed not in ("sim", "profitdll", "redis", "replay"):
        fail(f"unknown feed {feed!r}; available: sim, profitdll, redis, replay")
    try:
        cfg = load_config(config)
        day = option_date(session_date, "--date")
        run_id = f"R{time.time_ns():x}"
        if feed == "profitdll":
            pace = None
            node = build_profitdll_node(cfg, run_id=run_id, book=book)
        elif feed == "redis":  # split deployment (issue 11): the gateway paces the market
            pace = None
            node = build_redis_node(cfg, run_id=run_id)
        elif feed == "replay":  # paper trading on recorded data at --speed (issue 11)
            node = build_replay_node(cfg, data_dir or cfg.data_dir, run_id=run_id)
        else:
            node = build_sim_node(cfg, seed=seed, session_date=day, run_id=run_id)
    except ConfigError as exc:
        fail(str(exc))
        return
    except (ValueError, TradingSystemError) as exc:
        fail(str(exc))
        return
    configure_logging(json=cfg.observability.log_json, level=cfg.observability.log_level)  # issue 11
    log = get_logger("node", feed=node.feed_name, run_id=run_id)
    kernel = node.kernel
    is_live = feed in ("profitdll", "redis")
    root = data_dir or cfg.data_dir
    try:
        lock = DataDirLock(root).acquire()  # one node per data directory
    except DataDirLocked as exc:
        node.market.close()
        fail(str(exc))
        return
    sock = None
    if control or dashboard:  # one server, one token; bound now so a bad address fails before anything starts
        try:
            sock = _listen(cfg, host, port)
        except OSError as exc:
            lock.release()
            node.market.close()
            fail(f"cannot serve on {host or cfg.observability.control_host}: {exc.strerror or exc}")
            return
    store = keeper = None
    restored: dict[str, Any] = {}
    if cfg.persist:
        try:
            store = SqlStateStore(SqlStoreConfig(url=state_url(cfg, root)))
        except StoreError as exc:
            lock.release()
            fail(f"cannot open the state store: {exc}")
            return
        # Orders, fills, positions, P&L, settlements, the day's start equity and the kill switch, reconciled with
        # the venue (a broker's orders and positions adopted). The keeper listens first: what the venue did
        # while we were down, and what we adopt, is stored like any other event.
        try:
            keeper = StateKeeper(kernel, store, run_id=run_id)
            report = restore(kernel, store, node.venue_state)
        except TradingSystemError as exc:  # StoreError included
            store.close()
            lock.release()
            fail(f"cannot restore the node state from {store.url}: {exc}")
            return
        restored = restored_summary(kernel, report)
        if report.fills_replayed or report.broker is not None:
            console.print(f"restored {report.fills_replayed} fills, positions {restored['positions'] or 'flat'}, "
                          f"{report.open_orders} working orders ({len(report.orders_lost)} closed as not at the venue)")
        if report.broker is not None and report.broker.mismatches:
            console.print(f"[red]broker and state store differ[/red]: {'; '.join(report.broker.mismatches[:3])}")
        if kernel.guard.kill_switch:
            console.print(f"[red]kill switch engaged[/red] ({kernel.guard.kill_reason}); "
                          "`tradingsystem risk reset` clears it")
        elif kernel.risk.state.value != "ACTIVE":
            console.print(f"[yellow]trading state {kernel.risk.state.value}[/yellow] ({kernel.risk.state_reason}); "
                          "`tradingsystem risk reset` clears it")
    recorder: Recorder | None = None
    if cfg.record and node.feed_name != "replay":  # never re-record what is being replayed
        recorder = Recorder(StorageConfig(data_dir=root))
        try:
            recorder.start()  # also rolls leftover write-ahead segments from a crash into Parquet
        except StorageError as exc:
            lock.release()
            fail(f"cannot start the recorder: {exc}")
        kernel.add_sink(recorder)
    alerts = attach_alerts(kernel, cfg.alerts) if cfg.alerts.enabled else None
    try:
        sharing = attach_sharing(kernel, cfg.share, cfg.follow)  # issue 23: leader and/or follower
        poller = attach_altdata(node, cfg, root)  # issue 21: SGS and feeds on the bus (altdata.poll)
    except ValueError as exc:
        fail(str(exc))
        return
    backups = BackupSchedule(kernel, cfg.backup, root, state_url(cfg, root) if cfg.persist else None) \
        if cfg.backup.to else None  # issue 23: scheduled, off the engine thread
    sources: dict[str, Any] = {}
    feed_stats = getattr(kernel.feed, "stats", None)
    if callable(feed_stats):
        sources[feed] = feed_stats
    if recorder is not None:
        sources["recorder"] = lambda: dataclasses.asdict(recorder.stats)
    Monitor(kernel, sources, root).start()  # disconnects, gaps and low disk become alerts
    web = None
    if sock is not None:  # --no-control --no-dashboard: no server
        web = _serve(kernel, cfg, sock, host or cfg.observability.control_host, control=control, dashboard=dashboard,
                     root=root, reports_dir=reports_dir or root / "reports",
                     metric_sources=[s.metrics for s in node.sinks if hasattr(s, "metrics")])  # issue 11
        log.info("http server", url=web.url, health=f"{web.url}/health", metrics=f"{web.url}/metrics",
                 dashboard=dashboard, control=control)
    until = node.start_ns + int(duration * 1e9) if duration is not None else None
    show = status and console.is_terminal
    interrupted = False
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: kernel.stop())
    try:
        if show:
            with Live(render(status_snapshot(kernel)), console=console, refresh_per_second=4, transient=False) as live:
                def refresh(k: Kernel) -> None:
                    live.update(render(status_snapshot(k)))

                try:
                    kernel.run(until_ts=until, speed=pace, on_idle=refresh, live=is_live)
                except KeyboardInterrupt:
                    interrupted = True
                live.update(render(status_snapshot(kernel)))
        else:
            try:
                kernel.run(until_ts=until, speed=pace, live=is_live)
            except KeyboardInterrupt:
                interrupted = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        if web is not None:
            web.stop()  # also removes node.json
        kernel.finish()
        node.market.close()
        if poller is not None:
            poller.close()
        if cfg.shadow.nightly and node.feed_name != "replay":  # issue 19: shadow the session that ended
            if recorder is not None:
                recorder.stop()  # the capture must be in the catalog first
                recorder = None
            nightly_shadow(kernel, cfg, store, root, node.session_date)
        if alerts is not None:
            alerts.close()
        if recorder is not None:
            recorder.stop()
        if keeper is not None and store is not None:
            keeper.flush()
            store.close()
        lock.release()
        sharing.close()
        if backups is not None:
            backups.close()  # a backup due at the stop still runs, after the last flush
    summary: dict[str, Any] = {"session_date": node.session_date.isoformat(), "seed": node.seed, "feed": node.feed_name,
                               **kernel.summary(), **sharing.summary(), "restored": restored, "run_id": run_id}
    if poller is not None:
        summary["altdata"] = dict(poller.stats)
    log.info("node stopped", **{k: v for k, v in summary.items() if k != "instruments"})
    if summary_out is not None:
        summary_out.parent.mkdir(parents=True, exist_ok=True)
        summary_out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if interrupted:
        console.print("stopped by Ctrl-C")
    if not show:
        typer.echo(json.dumps(summary, sort_keys=True))


def follow(
    config: Annotated[Path, typer.Option(help="YAML config with a follow: section (leader, public_key, mirror)")],
    duration: Annotated[float | None, typer.Option(help="market seconds to run; default until Ctrl-C")] = None,
    speed: Annotated[str, typer.Option(help="market seconds per wall second, or 'max'")] = "1",
    seed: Annotated[int | None, typer.Option(help="seed of the simulated market")] = None,
    feed: Annotated[str, typer.Option(help="sim, profitdll, redis or replay, as for run")] = "sim",
    summary_out: Annotated[Path | None, typer.Option(help="write the run summary as JSON here")] = None,
    status: Annotated[bool, typer.Option(help="show the live status view")] = True,
    dashboard: Annotated[bool, typer.Option(help="serve the browser dashboard")] = True,
    control: Annotated[bool, typer.Option(help="serve the control API")] = True,
    data_dir: Annotated[Path | None, typer.Option(help="where data and node state live (default: config)")] = None,
) -> None:
    """Follower mode: mirror a leader's signed signals with our own sizing, through our own risk engine."""
    try:
        has_follow = load_config(config).follow is not None
    except ConfigError as exc:
        fail(str(exc))
        return
    if not has_follow:
        fail(f"{config}: follow needs a follow: section (leader, public_key, redis, mirror)")
    run(config=config, duration=duration, speed=speed, seed=seed, session_date=None, summary_out=summary_out,
        feed=feed, status=status, control=control, dashboard=dashboard, host=None, port=None, reports_dir=None,
        data_dir=data_dir)
