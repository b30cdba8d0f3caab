"""Where a backtest's benchmark series come from: the altdata cache, SGS when asked, or a CSV file.

The cache is the alternative-data store (``{data_dir}/altdata/series/{cdi,ibovespa}``, what ``tradingsystem
altdata fetch`` writes). With ``benchmark.fetch: true`` the days the cache lacks are asked from SGS and
stored there, so the next run works offline. Any failure becomes the series' note, never an exception.
"""

from __future__ import annotations

import csv
import io
import time as _time
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tradingsystem.adapters.altdata import SERIES, AltStore, SourceError
from tradingsystem.adapters.altdata.http import HttpClient
from tradingsystem.adapters.altdata.series import Series as SgsSeries
from tradingsystem.adapters.altdata.sgs import SgsClient, SgsError, parse_sgs_csv
from tradingsystem.adapters.storage import StorageError
from tradingsystem.backtest.benchmark import Series, benchmark, daily_pnl_by_day

__all__ = ["backtest_benchmark", "read_series_csv"]

_LOOKBACK = timedelta(days=15)  # the Ibovespa base is the close before the first day


def _sgs_series(code: int, kind: str) -> SgsSeries:
    if kind == "cdi" and code == SERIES["cdi"].code:
        return SERIES["cdi"]
    name = "ibovespa" if kind == "ibovespa" and code == 7 else f"sgs_{code}"
    return SgsSeries(name, code, "daily", f"SGS series {code}", 0, release_time=time(18, 0))


def _covers(values: dict[date, Decimal], first: date, last: date) -> bool:
    return bool(values) and min(values) < first and max(values) >= last


def _from_sgs(settings: Any, kind: str, code: int, first: date, last: date) -> Series:
    series = _sgs_series(code, kind)
    root = Path(settings.data_dir)
    source = f"SGS {code}, cached in {root / 'altdata' / 'series' / series.name}"
    try:
        store = AltStore(root)
        values = store.latest(series.name)
    except (StorageError, OSError) as exc:
        return Series(kind, {}, source, f"cannot read the cache: {exc}")
    note = ""
    if not _covers(values, first, last) and settings.fetch:
        http = HttpClient(timeout_s=settings.timeout_s, attempts=2, backoff_s=0.5)
        try:
            rows = SgsClient(settings.sgs_url, http).fetch(code, first - _LOOKBACK, last)
            store.record_series(series, rows, _time.time_ns())
            values = store.latest(series.name)
        except (SourceError, SgsError, StorageError, OSError) as exc:
            note = f"SGS series {code} could not be fetched ({exc}) and the cache does not cover the period"
        finally:
            http.close()
    elif not values and not settings.fetch:
        note = (f"no {series.name} series cached in {root} (run `tradingsystem altdata fetch --series "
                f"{series.name} --data-dir {root}` or set benchmark.fetch: true)" if series.name in SERIES else
                f"no {series.name} series cached in {root} (set benchmark.fetch: true to fetch it once)")
    return Series(kind, {d: v for d, v in values.items() if first - _LOOKBACK <= d <= last}, source, note)


def read_series_csv(path: Path) -> dict[date, Decimal]:
    """A series file: the SGS download (``data;valor``, dd/mm/yyyy, decimal comma) or ``date,value`` (ISO)."""
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().lower().startswith(('"data";', "data;")):
        return dict(parse_sgs_csv(text))
    out: dict[date, Decimal] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2 or not row[0].strip() or row[0].strip().lower() in ("date", "data"):
            continue
        try:
            out[datetime.strptime(row[0].strip()[:10], "%Y-%m-%d").date()] = Decimal(row[1].strip())
        except (ValueError, InvalidOperation):
            raise ValueError(f"{path}: not a date,value row: {row!r}") from None
    return out


def _from_csv(path: Path, kind: str) -> Series:
    try:
        return Series(kind, read_series_csv(path), f"file {path}")
    except (OSError, ValueError, SgsError) as exc:
        return Series(kind, {}, f"file {path}", f"cannot read {path}: {exc}")


def backtest_benchmark(settings: Any, equity: list[tuple[int, Decimal]]) -> dict[str, Any] | None:
    """The summary's ``benchmark`` block for ``settings`` (a ``BenchmarkSettings``); None when disabled."""
    if not settings.enabled:
        return None
    days = sorted(daily_pnl_by_day(equity))
    if not days:
        return benchmark(equity, settings.capital_brl, Series("cdi", {}, ""), None)
    first, last = days[0], days[-1]
    cdi = (_from_csv(settings.cdi_csv, "cdi") if settings.cdi_csv is not None
           else _from_sgs(settings, "cdi", settings.cdi_sgs, first, last))
    ibov: Series | None = None
    if settings.ibovespa_csv is not None:
        ibov = _from_csv(settings.ibovespa_csv, "ibovespa")
    elif settings.ibovespa_sgs is not None:
        ibov = _from_sgs(settings, "ibovespa", settings.ibovespa_sgs, first, last)
    return benchmark(equity, settings.capital_brl, cdi, ibov)
