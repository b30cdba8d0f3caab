"""``tradingsystem altdata fetch|ls|show|copom|report``: economic series, news and posts in the point-in-time store.

Sources come from the config's ``altdata:`` section; the store lives under ``{data_dir}/altdata``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from tradingsystem.adapters.altdata import SERIES, AltDataSync, AltStore, SourceError
from tradingsystem.adapters.storage import StorageError
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.runtime.cli_data import _fail, _print_rows
from tradingsystem.runtime.config import ConfigError, load_config

altdata_app = typer.Typer(help="Alternative data: BCB series, news and posts with sentiment, point in time.",
                          no_args_is_help=True, add_completion=False)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML config (its altdata: section)")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="data directory (default: the config's)")]
Fmt = Annotated[str, typer.Option("--format", help="table, csv or json (one object per line)")]


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=B3_TZ).isoformat(timespec="seconds")


def _now_ns(text: str | None) -> int:
    if text is None:
        return time.time_ns()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"expected an ISO time such as 2026-03-02T10:00:00-03:00, got {text!r}")
        raise
    return int((dt if dt.tzinfo else dt.replace(tzinfo=B3_TZ)).timestamp() * 1e9)


def _setup(config: Path | None, data_dir: Path | None) -> tuple[Any, Path]:
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(str(exc))
        raise
    return cfg, data_dir or cfg.data_dir


@altdata_app.command("fetch")
def fetch(config: ConfigOpt = None, data_dir: DataDirOpt = None,
          series: Annotated[str | None, typer.Option(help="comma-separated series (default: the config's)")] = None,
          feeds: Annotated[bool, typer.Option(help="fetch the configured feeds")] = True,
          posts: Annotated[list[Path] | None, typer.Option("--posts", help="a JSON-lines or CSV file of posts")] = None,
          now: Annotated[str | None, typer.Option(help="time of the fetch (default: now), ISO")] = None) -> None:
    """Fetch series (incrementally, revisions as vintages), feeds and files of posts into the store."""
    cfg, root = _setup(config, data_dir)
    names = [s.strip() for s in series.split(",")] if series else None
    unknown = [n for n in names or [] if n not in SERIES]
    if unknown:
        _fail(f"unknown series {', '.join(unknown)}; available: {', '.join(SERIES)}")
    alt = cfg.altdata.model_copy(update={"posts": [*cfg.altdata.posts, *(posts or [])]})
    ts = _now_ns(now)
    try:
        sync = AltDataSync(AltStore(root), alt)
        try:
            report = sync.run(datetime.fromtimestamp(ts / 1e9, tz=UTC).astimezone(B3_TZ).date(), ts, names, feeds)
        finally:
            sync.close()
    except (SourceError, StorageError) as exc:
        _fail(str(exc))
        return
    rows: list[dict[str, Any]] = [{"source": f"series {n}", "new": sum(not c.revised for c in ch),
                                   "revised": sum(c.revised for c in ch)} for n, ch in report.series.items()]
    rows.append({"source": "posts", "new": len(report.posts), "revised": 0})
    _print_rows(rows, "table", f"altdata fetch into {root}")
    for e in report.errors:
        typer.echo(f"error: {e}", err=True)
    if report.errors:
        raise typer.Exit(1)


@altdata_app.command("ls")
def ls(config: ConfigOpt = None, data_dir: DataDirOpt = None, fmt: Fmt = "table") -> None:
    """Stored series (values, vintages, first and last reference dates) and posts per source."""
    _, root = _setup(config, data_dir)
    store = AltStore(root)
    rows: list[dict[str, Any]] = []
    try:
        for name in store.series_names():
            t = store.vintages(name)
            refs = t.column("ref").to_pylist()
            rows.append({"name": name, "values": len(set(refs)), "vintages": t.num_rows,
                         "first": min(refs), "last": max(refs),
                         "last_published": _iso(max(t.column("published_ns").to_pylist()))})
        p = store.posts()
        for source in sorted(set(p.column("source").to_pylist())):
            n = p.column("source").to_pylist().count(source)
            rows.append({"name": f"posts:{source}", "values": n, "vintages": n, "first": None, "last": None,
                         "last_published": None})
    except StorageError as exc:
        _fail(str(exc))
    if not rows and fmt == "table":
        typer.echo(f"{root}: no alternative data yet (tradingsystem altdata fetch)", err=True)
        return
    _print_rows(rows, fmt, f"altdata {root}")


@altdata_app.command("show")
def show(name: Annotated[str, typer.Argument(help="a series name, or 'posts'")],
         config: ConfigOpt = None, data_dir: DataDirOpt = None,
         as_of: Annotated[str | None, typer.Option(help="only what was known at this ISO time")] = None,
         instrument: Annotated[str | None, typer.Option(help="posts naming this instrument")] = None,
         last: Annotated[int, typer.Option(help="rows to show (from the end)", min=1)] = 20,
         fmt: Fmt = "table") -> None:
    """A series' values as known at a time (with every vintage's publication time), or the latest posts."""
    _, root = _setup(config, data_dir)
    store = AltStore(root)
    cut = _now_ns(as_of) if as_of else None
    try:
        if name == "posts":
            t = store.posts()
            rows = [r for r in t.to_pylist() if (cut is None or r["known_ns"] <= cut)
                    and (instrument is None or instrument.upper() in (r["instruments"] or "").split(","))]
            out = [{"known": _iso(r["known_ns"]), "source": r["source"], "lang": r["lang"],
                    "score": round(r["score"], 3), "instruments": r["instruments"], "text": r["text"][:100]}
                   for r in rows[-last:]]
        else:
            if name not in store.series_names():
                _fail(f"no series {name!r} stored; stored: {', '.join(store.series_names()) or 'none'}")
            t = store.vintages(name)
            vint = [r for r in t.to_pylist() if cut is None or r["published_ns"] <= cut]
            latest: dict[Any, dict[str, Any]] = {}
            count: dict[Any, int] = {}
            for r in vint:
                latest[r["ref"]] = r
                count[r["ref"]] = count.get(r["ref"], 0) + 1
            out = [{"ref": ref, "value": r["value"], "published": _iso(r["published_ns"]), "vintages": count[ref]}
                   for ref, r in sorted(latest.items())[-last:]]
    except StorageError as exc:
        _fail(str(exc))
        return
    _print_rows(out, fmt, f"{name} ({'as of ' + as_of if as_of else 'latest'})")


@altdata_app.command("copom")
def copom(config: ConfigOpt = None, data_dir: DataDirOpt = None,
          as_of: Annotated[str | None, typer.Option(help="ISO time to look from (default: now)")] = None,
          last: Annotated[int, typer.Option(help="meetings to show around that time", min=1)] = 10,
          fmt: Fmt = "table") -> None:
    """The Copom meeting calendar (built-in years plus altdata/copom_calendar.csv) and the next decision."""
    from tradingsystem.runtime.altdata import copom_calendar

    _, root = _setup(config, data_dir)
    try:
        cal = copom_calendar(root)
    except ValueError as exc:
        _fail(str(exc))
        return
    now = _now_ns(as_of)
    nxt = cal.next_after(now)
    past = [m for m in cal.meetings if m.decision_ns <= now]
    ahead = [m for m in cal.meetings if m.decision_ns > now]
    shown = past[-(last // 2):] + ahead[: last - min(len(past), last // 2)]
    rows = [{"decision": _iso(m.decision_ns), "known_from": m.known_from.isoformat(), "source": m.source,
             "next": "<- next" if nxt is not None and m.day == nxt.day else ""} for m in shown]
    _print_rows(rows, fmt, f"Copom decisions, years {cal.years()[0]}-{cal.years()[-1]} "
                           f"(known: {', '.join(map(str, cal.years()))})")
    if nxt is None:
        typer.echo(f"no scheduled decision known after {_iso(now)}: add the next year's calendar to "
                   f"{root / 'altdata' / 'copom_calendar.csv'}", err=True)
    elif fmt == "table":
        typer.echo(f"next decision {_iso(nxt.decision_ns)}, in {(nxt.decision_ns - now) / 86_400e9:.1f} days")


@altdata_app.command("report")
def report(train_config: Annotated[Path, typer.Option("--config", help="a train YAML whose feature set names "
                                                                         "alternative-data columns")]) -> None:
    """Out-of-sample walk-forward results with the alternative-data features and without them, printed as is."""
    import json

    import yaml
    from pydantic import ValidationError

    from tradingsystem.features import FeatureSetError
    from tradingsystem.runtime.altdata import compare_oos
    from tradingsystem.runtime.ml import TrainConfig

    if not train_config.exists():
        _fail(f"config {train_config} not found")
    try:
        cfg = TrainConfig.model_validate(yaml.safe_load(train_config.read_text()))
        out = compare_oos(cfg, train_config.resolve().parent)
    except ValidationError as exc:
        _fail(f"{train_config}: {exc}")
        return
    except (ValueError, FileNotFoundError, FeatureSetError, StorageError, yaml.YAMLError) as exc:
        _fail(str(exc))
        return
    typer.echo(json.dumps(out, indent=2, default=str))
