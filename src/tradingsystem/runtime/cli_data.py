"""``tradingsystem data …`` and ``tradingsystem capture``: the catalog from the command line.

Mount with ``app.add_typer(data_app, name="data")`` and ``app.command("capture")(capture)``.
Every command takes ``--data-dir`` (default: env ``TRADINGSYSTEM_DATA_DIR``, else ``./data``).
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from tradingsystem.adapters.calendar import BvmfCalendar
from tradingsystem.adapters.simulator import SimMarketConfig, SimulatedMarket, default_instruments
from tradingsystem.adapters.storage import (
    FORMATS,
    Catalog,
    Recorder,
    RecorderStats,
    Sealer,
    StorageConfig,
    StorageError,
    import_file,
    restore,
    verify_backup,
    verify_catalog,
)
from tradingsystem.adapters.storage.backup import closed_files
from tradingsystem.adapters.storage.replay import ReplayFeed
from tradingsystem.adapters.storage.schema import scale_for
from tradingsystem.domain.errors import TradingSystemError
from tradingsystem.runtime.backup_setup import (
    PG_NAME,
    SQLITE_NAME,
    BackupConfig,
    remote_for,
    run_backup,
    sealer_from_env,
)
from tradingsystem.runtime.cli_errors import fail, option_date
from tradingsystem.runtime.corporate_actions import adjustment_factors, read_corporate_actions

data_app = typer.Typer(help="Market-data catalog: list, query, bars, import, backup, verify, restore.",
                       no_args_is_help=True, add_completion=False)
capture_app = typer.Typer(help="Capture market data into the catalog.", add_completion=False)
err = Console(stderr=True)
B3 = timezone(timedelta(hours=-3))

DataDir = Annotated[Path, typer.Option("--data-dir", envvar="TRADINGSYSTEM_DATA_DIR",
                                       help="catalog directory (env TRADINGSYSTEM_DATA_DIR)")]
Fmt = Annotated[str, typer.Option("--format", help="table, csv or json (one object per line)")]


_fail = fail


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except StorageError as exc:
        _fail(str(exc))


def _open(data_dir: Path) -> Catalog:
    """The catalog, printing a warning for each part it quarantined (failed checksums)."""
    cat = Catalog(data_dir)
    for w in cat.warnings:
        err.print(f"warning: {w}", highlight=False, markup=False)
    return cat


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.hex()
    return v


def _print_rows(rows: list[dict[str, Any]], fmt: str, title: str | None = None) -> None:
    if fmt == "json":
        for r in rows:
            sys.stdout.write(json.dumps({k: _plain(v) for k, v in r.items()}) + "\n")
    elif fmt == "csv":
        if rows:
            w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: _plain(v) for k, v in r.items()})
    elif fmt == "table":
        table = Table(title=title)
        for c in rows[0] if rows else []:
            table.add_column(str(c))
        for r in rows:
            table.add_row(*("" if v is None else str(_plain(v)) for v in r.values()))
        Console(width=200).print(table)
    else:
        _fail(f"unknown --format {fmt!r}: use table, csv or json")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                    console=err, transient=True, disable=not err.is_terminal)


@data_app.command("ls")
def ls(data_dir: DataDir = Path("data"), fmt: Fmt = "table") -> None:
    """Instruments, days, rows and gaps in the catalog."""
    with _errors():
        rows = _open(data_dir).summary()
    if not rows and fmt == "table":
        err.print(f"{data_dir}: the catalog is empty")
        return
    _print_rows(rows, fmt, f"catalog {data_dir}")


@data_app.command("query")
def query(sql: Annotated[str, typer.Argument(help="SQL over views trades, book, bars, gaps, orders")],
          data_dir: DataDir = Path("data"), fmt: Fmt = "table") -> None:
    """Run SQL over the catalog and print the rows."""
    with _errors():
        rows = _open(data_dir).query(sql).to_pylist()
    _print_rows(rows, fmt)


def _need_catalog(data_dir: Path) -> None:
    if not data_dir.is_dir():
        _fail(f"no data folder {data_dir} (pass --data-dir, or record one with `tradingsystem capture`)")


def _day(text: str | None, what: str) -> date | None:
    return option_date(text[:10] if text else None, f"--{what}")


def bars_table(catalog: Catalog, instrument: str, timeframe: str, start: date | None, end: date | None,
               adjust: str = "none", roll_sessions: int = 2, roll_on: str = "expiry",
               corporate_actions: Path | None = None) -> pa.Table:  # fmt: skip
    """Bars with real (Decimal) prices and B3-local times, ready to print or write. A generic futures code
    (``WINFUT``) is stitched from its dated contracts (``runtime/continuous.py``); a stock's prices are
    adjusted for splits and dividends with ``adjust="ratio"`` and a corporate-action file."""
    extra: dict[str, pa.ChunkedArray | pa.Array] = {}
    factor: np.ndarray | None = None
    if corporate_actions is not None and (instrument.endswith("FUT") or adjust != "ratio"):
        raise ValueError("--corporate-actions adjusts stocks, with --adjust ratio")
    if instrument.endswith("FUT"):
        from tradingsystem.runtime.backtest_setup import _calendar
        from tradingsystem.runtime.continuous import continuous_bars

        raw = continuous_bars(catalog, instrument, timeframe, start, end, _calendar("bvmf"), roll_sessions, roll_on,
                              adjust)
        extra = {"contract": raw.column("contract"), "adjustment": raw.column("adjustment")}
    elif adjust != "none" and (adjust != "ratio" or corporate_actions is None):
        raise ValueError("--adjust applies to generic futures codes such as WINFUT, and to stocks as "
                         "--adjust ratio --corporate-actions FILE")
    else:
        actions = read_corporate_actions(corporate_actions) if corporate_actions is not None else None
        rejected: dict[str, int] = {}
        raw = catalog.bars(instrument, timeframe, start, end, rejected)
        if sum(rejected.values()):
            why = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rejected.items() if v)
            err.print(f"warning: {sum(rejected.values())} stored trades rejected ({why})", highlight=False)
        if actions is not None:
            factor = adjustment_factors(actions, instrument, raw.column("ts_open").to_numpy(),
                                        raw.column("close").to_numpy(), scale_for(instrument))
            extra = {"adjustment": pa.array(factor)}
    scale = int(raw.column("scale")[0].as_py()) if raw.num_rows else 2
    dec = pa.decimal128(18, scale if factor is None else scale + 4)

    def prices(col: str) -> pa.Array:
        vals = [Decimal(v).scaleb(-scale) for v in raw.column(col).to_pylist()]
        if factor is not None:
            q = Decimal(1).scaleb(-scale - 4)
            vals = [(v * Decimal(float(f))).quantize(q) for v, f in zip(vals, factor, strict=True)]
        return pa.array(vals, dec)

    tz = "America/Sao_Paulo"
    return pa.table({
        "instrument": raw.column("instrument"), "timeframe": raw.column("timeframe"),
        "time_open": raw.column("ts_open").cast(pa.timestamp("ns", tz)),
        "time_close": raw.column("ts_event").cast(pa.timestamp("ns", tz)),
        "open": prices("open"), "high": prices("high"), "low": prices("low"), "close": prices("close"),
        "volume": raw.column("volume"), "trades": raw.column("trades"), **extra,
    })


@data_app.command("bars")
def bars(
    instrument: Annotated[str, typer.Option(help="symbol, e.g. PETR4 or WINZ26")],
    timeframe: Annotated[str, typer.Option(help="1m 5m 15m 1h 1d ticks:N volume:N dollar:N")] = "1m",
    start: Annotated[str | None, typer.Option(help="first B3 session date, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last B3 session date, YYYY-MM-DD")] = None,
    out: Annotated[Path | None, typer.Option(help="write .parquet or .csv (default: CSV to stdout)")] = None,
    adjust: Annotated[str, typer.Option(help="generic futures (WINFUT): none, difference or ratio back-adjustment; "
                                             "stocks: ratio, with --corporate-actions")] = "none",
    corporate_actions: Annotated[Path | None, typer.Option(
        help="stocks: CSV date,symbol,kind,value of splits and dividends (docs/data.md)")] = None,
    roll_sessions: Annotated[int, typer.Option(help="generic futures: roll this many sessions before expiry")] = 2,
    roll_on: Annotated[str, typer.Option(help="generic futures: expiry or volume")] = "expiry",
    data_dir: DataDir = Path("data"),
) -> None:
    """Build bars from stored trades (or from finer stored bars) and write them; WINFUT/WDOFUT are stitched
    from the stored dated contracts."""
    if roll_on not in ("expiry", "volume"):
        _fail("--roll-on takes expiry or volume")
    with _errors():
        try:
            table = bars_table(_open(data_dir), instrument, timeframe, _day(start, "start"), _day(end, "end"),
                               adjust, roll_sessions, roll_on, corporate_actions)
        except ValueError as exc:
            _fail(str(exc))
            return
    if out is None:
        _print_rows(table.to_pylist(), "csv")
        return
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        pq.write_table(table, out, compression="zstd")
    elif suffix == ".csv":
        with open(out, "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(table.column_names)
            for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
                w.writerow([_plain(v) for v in row])
    else:
        _fail(f"--out {out}: use a .parquet or .csv file name")
    err.print(f"{table.num_rows} {timeframe} bars of {instrument} written to {out}")


@data_app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="files to import (zip/gz accepted)")],
    fmt: Annotated[str, typer.Option("--format", help="neg, b3-orders, mt5 or cotahist")],
    strict: Annotated[bool, typer.Option(help="fail on the first malformed line, importing nothing")] = False,
    instrument: Annotated[str | None, typer.Option(help="symbol for mt5 files (default: from the file name)")]
    = None,
    source_tz: Annotated[str, typer.Option(help="mt5: clock of the bar times: b3 (default), utc or an IANA "
                                                "zone of the broker's server")] = "b3",
    timeframe: Annotated[str | None, typer.Option(help="mt5: bar timeframe (default: from the file name "
                                                       "_M1/_M30/_H1, else the bars' spacing)")] = None,
    data_dir: DataDir = Path("data"),
) -> None:
    """Import B3 NEG trade files, B3 order messages, MetaTrader 5 bars or COTAHIST into the catalog."""
    if fmt not in FORMATS:
        _fail(f"unknown --format {fmt!r}; known: {', '.join(FORMATS)}")
    cfg = StorageConfig(data_dir=data_dir)
    bad = conflicts = 0
    with _progress() as prog:
        for f in files:
            task = prog.add_task(f"import {f.name}", total=None)


            def advance(n: int, t: TaskID = task) -> None:
                prog.advance(t, n)

            with _errors():
                rep = import_file(cfg, fmt, f, strict=strict, instrument=instrument, progress=advance,
                                  source_tz=source_tz, timeframe=timeframe)
            prog.remove_task(task)
            for p in rep.problems:
                err.print(f"malformed: {p}", highlight=False, markup=False)
            for p in rep.conflict_details:
                err.print(f"conflict: {p}", highlight=False, markup=False)
            for n in rep.notes:
                err.print(f"note: {rep.file}: {n}", highlight=False, markup=False)
            bad += len(rep.problems)
            typer.echo(json.dumps({"file": rep.file, "format": fmt, "rows_read": rep.rows_read,
                                   "rows_written": rep.rows_written, "duplicates": rep.duplicates,
                                   "conflicts": rep.conflicts, "partitions": rep.partitions,
                                   "malformed": len(rep.problems)}))
            conflicts += rep.conflicts
    if bad:
        err.print(f"{bad} malformed line(s) rejected (use --strict to fail instead)")
    if conflicts:
        err.print(f"{conflicts} row(s) conflict with stored rows of the same key; the stored rows were kept")


Target = Annotated[str | None, typer.Option(help="a folder, s3://bucket/prefix or rclone:remote:path "
                                                 "(default: backup.to of --config)")]
CfgFile = Annotated[Path | None, typer.Option("--config", help="node config whose backup: section applies")]


def _backup_config(config: Path | None, **overrides: Any) -> BackupConfig:
    from tradingsystem.runtime.config import ConfigError, load_config
    try:
        base = load_config(config).backup if config is not None else BackupConfig()
    except ConfigError as exc:
        _fail(str(exc))
        raise
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


def _remote_and_key(target: str | None, cfg: BackupConfig) -> tuple[Any, Sealer]:
    dest = target or cfg.to
    if not dest:
        _fail("no backup target: pass --to/--from or set backup.to in the config")
    return remote_for(str(dest), cfg), sealer_from_env(cfg.key_env)


@data_app.command("backup")
def backup_(to: Target = None, data_dir: DataDir = Path("data"), config: CfgFile = None,
            state_url: Annotated[str | None, typer.Option(help="state store URL (default: "
                                                          "sqlite:///DATA_DIR/state.db when it exists)")] = None,
            state: Annotated[bool, typer.Option(help="include a snapshot of the state database")] = True,
            endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint (B2, R2, MinIO)")] = None,
            keep_daily: Annotated[int | None, typer.Option(min=1, help="snapshots kept, one a day")] = None,
            keep_monthly: Annotated[int | None, typer.Option(min=0, help="snapshots kept, one a month")] = None,
            ) -> None:
    """Send what the backup lacks (by content hash), the state database included; apply retention.

    Encrypted when the variable named by backup.key_env (default TRADINGSYSTEM_BACKUP_KEY) holds a key
    (`tradingsystem data backup-key` makes one)."""
    _need_catalog(data_dir)
    cfg = _backup_config(config, s3_endpoint_url=endpoint_url, keep_daily=keep_daily, keep_monthly=keep_monthly,
                         state=state)
    url = state_url or (f"sqlite:///{data_dir / SQLITE_NAME}" if (data_dir / SQLITE_NAME).exists() else None)
    total = sum(p.stat().st_size for p in closed_files(data_dir))
    with _progress() as prog, _errors():
        task = prog.add_task("backup", total=total)
        out = run_backup(cfg, data_dir, to, url, progress=lambda n: prog.advance(task, n))
    rep = out.report
    for p in rep.problems:
        err.print(f"problem: {p}", markup=False)
    typer.echo(json.dumps({"remote": out.remote, "copied": len(rep.copied), "skipped": rep.skipped,
                           "bytes": rep.bytes_copied, "problems": len(rep.problems),
                           "snapshots_pruned": out.pruned.snapshots_removed,
                           "objects_pruned": out.pruned.objects_removed}))
    if rep.problems:
        raise typer.Exit(1)


@data_app.command("backup-key")
def backup_key() -> None:
    """Print a new random backup key (base64); keep it safe: without it an encrypted backup is lost."""
    typer.echo(Sealer.new_key())


@data_app.command("verify")
def verify(backup_target: Annotated[str | None, typer.Option("--backup", help="verify this backup instead "
                                                             "(folder, s3://… or rclone:…)")] = None,
           data_dir: DataDir = Path("data"), config: CfgFile = None,
           endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint (B2, R2, MinIO)")] = None) -> None:
    """Check files against checksums and manifests; report missing or corrupt ones (exit 1 if any)."""
    with _progress() as prog, _errors():
        if backup_target is not None:
            remote, sealer = _remote_and_key(backup_target, _backup_config(config, s3_endpoint_url=endpoint_url))
            task = prog.add_task("verify backup", total=None)
            rep = verify_backup(remote, sealer, lambda n: prog.advance(task, n))
        else:
            _need_catalog(data_dir)
            total = sum(p.stat().st_size for p in closed_files(data_dir))
            task = prog.add_task("verify catalog", total=total)
            rep = verify_catalog(data_dir, lambda n: prog.advance(task, n))
    for p in rep.problems:
        typer.echo(f"PROBLEM {p}")
    for n in rep.notes:
        err.print(f"note: {n}", markup=False)
    typer.echo(json.dumps({"checked": rep.checked, "rows": rep.rows, "problems": len(rep.problems),
                           "ok": rep.ok}))
    if not rep.ok:
        raise typer.Exit(1)


@data_app.command("restore")
def restore_(src: Annotated[str | None, typer.Option("--from", help="the backup (folder, s3://… or rclone:…)")]
             = None, data_dir: DataDir = Path("data"), config: CfgFile = None,
             endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint (B2, R2, MinIO)")] = None) -> None:
    """Bring the catalog and the state database back from a backup's latest snapshot (all checked)."""
    remote, sealer = _remote_and_key(src, _backup_config(config, s3_endpoint_url=endpoint_url))
    with _progress() as prog, _errors():
        task = prog.add_task("restore", total=None)
        rep = restore(remote, data_dir, sealer, lambda n: prog.advance(task, n))
    for p in rep.problems:
        err.print(f"problem: {p}", markup=False)
    if PG_NAME in rep.copied:
        err.print(f"the PostgreSQL state is in {data_dir / PG_NAME}: load it with "
                  f"pg_restore --clean --dbname URL {data_dir / PG_NAME}", markup=False)
    typer.echo(json.dumps({"restored": len(rep.copied), "skipped": rep.skipped, "problems": len(rep.problems)}))
    if any(p.startswith(("missing", "corrupt")) for p in rep.problems):
        raise typer.Exit(1)


@data_app.command("compact")
def compact(before: Annotated[str | None, typer.Option(help="compact days before this date (default today)")]
            = None, data_dir: DataDir = Path("data")) -> None:
    """Merge each closed instrument-day into one file (replays and corrections resolved)."""
    day = _day(before, "before") or datetime.now(B3).date()
    with _errors():
        cat = _open(data_dir)
        n = cat.compact(day)
    for p in cat.problems:
        err.print(f"problem: {p}", highlight=False, markup=False)
    typer.echo(json.dumps({"compacted": n, "problems": len(cat.problems)}))
    if cat.problems:
        raise typer.Exit(1)


def capture(
    feed: Annotated[str, typer.Option(help="sim (simulated B3 market), replay (another catalog) or profitdll")] = "sim",
    instruments: Annotated[str | None, typer.Option(help="comma-separated symbols (default: all)")] = None,
    duration: Annotated[float, typer.Option(help="market seconds to capture")] = 3600.0,
    seed: Annotated[int, typer.Option(help="seed of the simulated market")] = 7,
    session_date: Annotated[str | None, typer.Option("--date", help="sim session day, YYYY-MM-DD")] = None,
    events_per_second: Annotated[float, typer.Option(help="sim agent actions per second")] = 200.0,
    source: Annotated[Path | None, typer.Option(help="catalog to replay with --feed replay")] = None,
    flush_ms: Annotated[int, typer.Option(help="fsync the write-ahead log at least this often")] = 100,
    part_rows: Annotated[int, typer.Option(help="roll the log into Parquet every N rows")] = 2_000_000,
    part_seconds: Annotated[float, typer.Option(help="... or every N wall seconds")] = 300.0,
    progress_lines: Annotated[bool, typer.Option(help="print a JSON line on every flush")] = False,
    data_dir: DataDir = Path("data"),
    config: Annotated[Path | None, typer.Option(help="YAML config file (its profitdll: section for --feed "
                                                     "profitdll)")] = None,
    book: Annotated[str | None, typer.Option(help="profitdll: none, price_depth or offer_book "
                                                  "(default: profitdll.book_depth/book_source in the config)")] = None,
) -> None:
    """Capture-only node: record a feed into the catalog until the duration ends."""
    cfg = StorageConfig(data_dir=data_dir, flush_interval_ms=flush_ms, part_rows=part_rows,
                        part_interval_s=part_seconds)
    symbols = [s.strip() for s in instruments.split(",") if s.strip()] if instruments else None
    errors: list[str] = []

    def on_flush(stats: RecorderStats) -> None:
        if progress_lines:
            sys.stdout.write(json.dumps({"flushed_trades_in": stats.trades_in, "written": stats.written}) + "\n")
            sys.stdout.flush()

    source_feed: SimulatedMarket | ReplayFeed
    end: int | None = None
    if feed == "sim":
        source_feed = _build_sim(seed, session_date, events_per_second)
        end = source_feed.start_ns + int(duration * 1e9)
    elif feed == "profitdll":
        from tradingsystem.runtime.config import load_config
        from tradingsystem.runtime.profitdll_setup import build_profitdll

        with _errors():
            try:
                section = load_config(config).profitdll
                source_feed, _execution = build_profitdll(section, book=book)  # type: ignore[assignment]
            except (ValueError, TradingSystemError) as exc:  # ConfigError, a DLL without a required export
                raise StorageError(str(exc)) from exc
        end = time.time_ns() + int(duration * 1e9)
    elif feed == "replay":
        if source is None:
            _fail("--feed replay needs --source DIR (a catalog to replay)")
        assert source is not None
        with _errors():
            source_feed = ReplayFeed(source)
    else:
        _fail(f"unknown --feed {feed!r}: use sim, replay or profitdll")
        return
    recorder = Recorder(cfg, overflow="block", on_error=errors.append, on_flush=on_flush)
    with _errors():
        rec = recorder.start()
    if rec.segments:
        err.print(f"recovered {rec.rows} rows from {rec.segments} write-ahead segment(s)")
    for p in rec.problems:
        err.print(f"note: {p}", markup=False)
    started = time.monotonic()
    try:
        if isinstance(source_feed, SimulatedMarket):
            source_feed.feed.connect(recorder)
        else:
            with _errors():
                try:
                    source_feed.connect(recorder)
                except TradingSystemError as exc:  # ProfitDLL login or activation refused
                    raise StorageError(str(exc)) from exc
        if symbols:
            with _errors():
                try:
                    source_feed.subscribe(symbols)
                except ValueError as exc:
                    raise StorageError(str(exc)) from exc
        steps = _drive(source_feed, recorder, end, errors, live=feed == "profitdll")
    finally:
        recorder.stop()
    s = recorder.stats
    summary = {"feed": feed, "events": steps, "trades_in": s.trades_in, "written": s.written,
               "duplicates": s.duplicates, "dropped": s.dropped, "gaps": s.gaps, "parts": s.parts,
               "wall_seconds": round(time.monotonic() - started, 3), "errors": s.errors}
    typer.echo(json.dumps(summary))
    if s.errors:
        raise typer.Exit(1)


def _build_sim(seed: int, session_date: str | None, eps: float) -> SimulatedMarket:
    updates: dict[str, Any] = {"seed": seed, "events_per_second": eps}
    if session_date:
        updates["session_date"] = option_date(session_date, "--date")
    cfg = SimMarketConfig().model_copy(update=updates)
    calendar = BvmfCalendar(date(cfg.session_date.year - 1, 1, 1), date(cfg.session_date.year + 1, 12, 31))
    return SimulatedMarket(cfg, default_instruments(cfg, calendar.is_session), calendar)


def _drive(feed: SimulatedMarket | ReplayFeed, recorder: Recorder, end: int | None, errors: list[str],
           live: bool = False) -> int:
    """Step the feed as fast as it goes until ``end`` (market ns; wall ns for a live feed) or exhaustion."""
    n = 0
    next_ts, step = feed.next_ts, feed.step
    while not errors and not recorder.failed:
        ts = next_ts()
        if live and ts is None:
            if end is not None and time.time_ns() > end:
                break
            time.sleep(0.001)
            continue
        if ts is None or (end is not None and ts > end):
            break
        step()
        n += 1
    feed.close()
    return n


capture_app.command("capture")(capture)


def main() -> None:
    """``python -m tradingsystem.runtime.cli_data``: ``data …`` commands and ``capture``."""
    app = typer.Typer(no_args_is_help=True, add_completion=False)
    app.add_typer(data_app, name="data")
    app.command("capture")(capture)
    app()


if __name__ == "__main__":
    main()
