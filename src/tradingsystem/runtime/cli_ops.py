"""Operations commands: ``tradingsystem gateway`` (split deployment) and ``tradingsystem soak``."""

from __future__ import annotations

import json
import signal
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tradingsystem.runtime.cli_errors import fail
from tradingsystem.runtime.config import ConfigError, load_config
from tradingsystem.runtime.logs import configure_logging, get_logger

__all__ = ["gateway", "soak"]

console = Console(stderr=True)


_fail = fail


def gateway(
    config: Annotated[Path | None, typer.Option(help="YAML config file (redis, gateway, sim sections)")] = None,
    max_wall_s: Annotated[float | None, typer.Option(help="stop after this many wall seconds")] = None,
) -> None:
    """Run the gateway of a split deployment: publish market data and order events to Redis, execute commands."""
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(str(exc))
        return
    configure_logging(json=cfg.gateway.log_json, level=cfg.observability.log_level)
    log = get_logger("gateway", prefix=cfg.redis.prefix)
    import redis

    from tradingsystem.adapters.redisbus import Gateway
    from tradingsystem.runtime.node import build_sim_venue

    client = redis.Redis.from_url(cfg.redis.url, socket_timeout=5, socket_connect_timeout=2)
    symbols: list[str] = []
    if cfg.gateway.feed == "profitdll":  # pragma: no cover - Windows with the DLL
        from datetime import date

        from tradingsystem.domain import b3
        from tradingsystem.runtime.node import calendar_for
        from tradingsystem.runtime.profitdll_setup import build_profitdll

        today = date.today()
        calendar = calendar_for(today)
        symbols = [b3.resolve_generic(s, today, calendar.is_session, cfg.sim.roll_sessions) for s in cfg.sim.symbols]
        feed, execution = build_profitdll(cfg.profitdll, calendar)
        venue: Any = type("Venue", (), {"feed": feed, "execution": execution})
        make = lambda: venue  # noqa: E731
        replay, until, live = False, None, True
    else:
        probe = build_sim_venue(cfg)
        until = probe.start_ns + int(cfg.gateway.duration_s * 1e9) if cfg.gateway.duration_s else None
        probe.close()
        make, replay, live = (lambda: build_sim_venue(cfg)), True, False
    gw = Gateway(client, make, cfg.redis, symbols=symbols, speed=cfg.gateway.speed, until_ns=until, replay=replay,
                 live=live,
                 log=lambda msg, **kw: log.warning(msg, **kw))
    previous = signal.signal(signal.SIGTERM, lambda *_: gw.stop())
    log.info("gateway starting", url=_safe_url(cfg.redis.url), feed=cfg.gateway.feed, speed=cfg.gateway.speed)
    try:
        stats = gw.run(max_wall_s=max_wall_s)
    except KeyboardInterrupt:
        stats = gw.stats
    finally:
        signal.signal(signal.SIGTERM, previous)
    log.info("gateway stopped", steps=stats.steps, published=stats.published, commands=stats.commands,
             duplicates=stats.duplicates, reconnects=stats.reconnects, replayed_steps=stats.replayed_steps)


def _safe_url(url: str) -> str:
    """The Redis URL without its password (for logs)."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def soak(
    sessions: Annotated[int, typer.Option(help="simulated sessions to run back to back")] = 3,
    speed: Annotated[str, typer.Option(help="only 'max' (as fast as the CPU allows)")] = "max",
    out: Annotated[Path | None, typer.Option(help="write the JSON report here")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config file (sim, risk, strategies)")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the first session (then +1 per session)")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="where the state stores live (default: a temp dir)")] = None,
) -> None:
    """Run N simulated sessions with faults injected (feed disconnects, venue rejects, a restart per session)."""
    if speed != "max":
        _fail("--speed takes only 'max' for a soak")
    if sessions < 1:
        _fail("--sessions must be at least 1")
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(str(exc))
        return
    from tradingsystem.runtime.soak import SoakReport, run_soak

    def progress(i: int, rep: SoakReport) -> None:
        console.print(f"session {i + 1}/{sessions}: events {rep.events_processed}  errors {rep.errors}  "
                      f"faults {rep.faults_recovered}/{rep.faults_injected}  rss {rep.rss_mb_end} MB")

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        report = run_soak(cfg, sessions, work_dir or Path(tmp), seed=seed, progress=progress)
    data = report.as_dict()
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    typer.echo(json.dumps({k: v for k, v in data.items() if k != "rss_mb_by_session"}, sort_keys=True))
    ok = report.errors == 0 and report.risk_violations == 0 and report.faults_recovered == report.faults_injected
    if not ok:
        raise typer.Exit(1)
