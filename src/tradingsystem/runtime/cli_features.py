"""``tradingsystem features``: list the indicator catalogue and compute a feature table from a set.

Input is a bar or trade file (``--input``: Parquet, CSV, or a MetaTrader 5 tab-separated export) or the
catalog directory (``--data-dir``: trades when stored, else stored bars). Trades are first built into
time bars at the set's timeframe (with the aggressor split, so order-flow columns are filled).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Table

from tradingsystem.adapters.storage import Catalog
from tradingsystem.domain.b3 import FUTURES, parse_future
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.features import BUILTINS, INDICATORS, FeatureSet, FeatureSetError, bars_from_trades
from tradingsystem.features.bars import BAR_COLUMNS
from tradingsystem.runtime.cli_errors import fail, option_date

__all__ = ["features_app"]

features_app = typer.Typer(help="Indicators, expressions and feature sets.", no_args_is_help=True,
                           add_completion=False)  # fmt: skip
console = Console()
err = Console(stderr=True)
SETS_DIR = Path(__file__).resolve().parents[1] / "features" / "sets"
NS = 1_000_000_000


_fail = fail


@features_app.command("list")
def list_cmd() -> None:
    """List the indicators, built-in functions and bundled feature sets."""
    t = Table("function", "inputs (default)", "parameters", "description", title="Indicators")
    for name, s in sorted(INDICATORS.items()):
        params = ", ".join(f"{p}={d}" for p, d in s.params)
        t.add_row(name, ", ".join(s.inputs), params, s.doc)
    console.print(t)
    console.print("Built-ins: " + ", ".join(sorted(BUILTINS)))
    console.print("Operators: + - * / < <= > >= == != and or not")
    for p in sorted(SETS_DIR.glob("*.yaml")):
        fs = FeatureSet.from_yaml(p.read_text())
        console.print(f"Set [bold]{p.stem}[/bold] ({fs.timeframe}, {len(fs.names)} features): {fs.description}")


def _asset_class(symbol: str, given: str) -> AssetClass:
    if given != "auto":
        try:
            return AssetClass(given)
        except ValueError:
            _fail(f"--asset-class must be auto or one of {[a.value for a in AssetClass]}")
    root = symbol[:3]
    fut = parse_future(symbol) or (symbol.endswith("FUT") and root in FUTURES)
    return FUTURES[root].asset_class if fut else AssetClass.STOCK


def _read_table(path: Path) -> pa.Table:
    if not path.exists():
        _fail(f"input file {path} not found")
    if path.suffix == ".parquet":
        return pq.read_table(path)
    head = path.read_text(errors="replace")[:200]
    if head.startswith("<DATE>"):
        return _read_mt5(path)
    return pacsv.read_csv(path)


def _read_mt5(path: Path) -> pa.Table:
    """MetaTrader 5 bar export (B3 local times, prices with 2 decimals) to raw-centavo bar columns."""
    as_text = pacsv.ConvertOptions(column_types={"<DATE>": pa.string(), "<TIME>": pa.string()})
    t = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="\t"), convert_options=as_text)
    names = [c.strip("<>").lower() for c in t.column_names]
    t = t.rename_columns(names)
    stamp = pc.binary_join_element_wise(t.column("date"), t.column("time"), " ")
    naive = pc.strptime(stamp, format="%Y.%m.%d %H:%M:%S", unit="s").cast(pa.int64()).to_numpy()
    ts = (naive + 3 * 3600) * NS  # B3 local (UTC-3) to UTC
    out: dict[str, Any] = {"ts_open": ts, "ts_event": ts + 60 * NS}
    for c in ("open", "high", "low", "close"):
        out[c] = np.round(t.column(c).to_numpy() * 100).astype(np.int64)
    out["volume"] = t.column("vol").to_numpy().astype(np.int64)
    out["trades"] = t.column("tickvol").to_numpy().astype(np.int64)
    return pa.table(out)


def _day_ns(d: date) -> int:
    return int(datetime.combine(d, time(0), tzinfo=B3_TZ).timestamp()) * NS


def _bars(table: pa.Table, symbol: str, start: date, end: date, fs: FeatureSet, ac: AssetClass) -> dict[str, Any]:
    names = set(table.column_names)
    for col in ("symbol", "instrument"):
        if col in names:
            table = table.filter(pc.equal(table.column(col), symbol))
    ts_col = "ts_event"
    if ts_col not in names:
        _fail(f"input has no ts_event column (columns: {sorted(names)})")
    ts = table.column(ts_col).to_numpy()
    lo, hi = _day_ns(start), _day_ns(end + timedelta(days=1))
    keep = (ts >= lo) & (ts < hi)
    cols = {c: table.column(c).to_numpy()[keep] for c in table.column_names if c not in ("symbol", "instrument")}
    if {"price", "size"} <= names:
        z = np.zeros(int(keep.sum()), dtype=np.int64)
        return bars_from_trades(cols["ts_event"], cols["price"], cols["size"], cols.get("aggressor", z),
                                cols.get("trade_id", np.arange(len(z))), "time", fs.base_ns, ac)  # fmt: skip
    missing = {"ts_open", "open", "high", "low", "close", "volume"} - names
    if missing:
        _fail(f"input is neither trades (price, size) nor bars: missing {sorted(missing)}")
    return {c: cols[c] for c in BAR_COLUMNS if c in cols}


def _load_set(spec: str) -> FeatureSet:
    path = Path(spec)
    if not path.exists() and (SETS_DIR / f"{spec}.yaml").exists():
        path = SETS_DIR / f"{spec}.yaml"
    if not path.exists():
        _fail(f"feature set {spec} not found (a YAML file, or one of {[p.stem for p in SETS_DIR.glob('*.yaml')]})")
    try:
        return FeatureSet.from_yaml(path.read_text())
    except FeatureSetError as exc:
        _fail(f"{path}: {exc}")
        raise


@features_app.command("compute")
def compute_cmd(
    set_: Annotated[str, typer.Option("--set", help="feature set YAML file, or a bundled set name")],
    instrument: Annotated[str, typer.Option(help="symbol, e.g. PETR4 or WINZ26")],
    start: Annotated[str, typer.Option(help="first B3 date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="last B3 date, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="output file: .parquet or .csv")],
    input_: Annotated[Path | None, typer.Option("--input", help="bar or trade file (Parquet, CSV, MT5)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="catalog directory")] = None,
    asset_class: Annotated[str, typer.Option(help="auto, stock, index_future or fx_future")] = "auto",
) -> None:
    """Compute a feature table for one instrument over [start, end]."""
    d0, d1 = option_date(start, "--start"), option_date(end, "--end")
    if d0 is None or d1 is None:
        _fail("--start and --end take YYYY-MM-DD")
        return
    if d1 < d0:
        _fail("--end is before --start")
    if (input_ is None) == (data_dir is None):
        _fail("give exactly one of --input or --data-dir")
    fs = _load_set(set_)
    ac = _asset_class(instrument, asset_class)
    if input_ is not None:
        bars = _bars(_read_table(input_), instrument, d0, d1, fs, ac)
    else:
        cat = Catalog(data_dir)  # type: ignore[arg-type]
        try:
            trades = cat.read_trades(instrument, d0, d1, ["ts_event", "trade_id", "price", "size", "aggressor"])
            table = trades if trades.num_rows else cat.bars(instrument, fs.timeframe, d0, d1)
        finally:
            cat.close()
        bars = _bars(table, instrument, d0, d1, fs, ac)
    n_in = len(bars["ts_event"])
    if n_in == 0:
        _fail(f"no {instrument} data between {d0} and {d1}")
    result = fs.compute(bars, ac)
    table = pa.table({"ts_event": result["ts_event"],
                      "date": pa.array(((result["ts_event"] - 1 - 3 * 3600 * NS) // (86400 * NS))
                                       .astype("datetime64[D]")),
                      **{n: result[n] for n in fs.names}})  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        pq.write_table(table, out, compression="zstd")
    ready = int(np.all(np.isfinite(np.column_stack([result[n] for n in fs.names])), axis=1).sum())
    err.print(f"{fs.name}: {table.num_rows} rows x {len(fs.names)} features ({ready} rows fully ready) -> {out}")
