"""``tradingsystem features``: list the indicator catalogue and compute a feature table from a set.

Input is a bar or trade file (``--input``: Parquet, CSV, ``data bars --out`` output, or a MetaTrader 5
file in either layout) or the catalog directory (``--data-dir``: trades when stored, else stored bars).
Trades are built into bars at the set's timeframe (with the aggressor split, so order-flow columns are
filled); finer bars are resampled to it (``runtime/bar_source.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Table

from tradingsystem.domain.instruments import AssetClass
from tradingsystem.features import BUILTINS, INDICATORS, FeatureSet, FeatureSetError
from tradingsystem.runtime.bar_source import BarLoad, asset_class_for, load_bars
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
    try:
        return asset_class_for(symbol, given)
    except ValueError as exc:
        _fail(str(exc))
        raise


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
    source_tz: Annotated[str, typer.Option(help="MT5 input: clock of the bar times: b3, utc or an IANA zone")]
    = "b3",
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
    load = BarLoad()
    try:
        bars = load_bars(instrument, d0, d1, fs.timeframe, ac, input_, data_dir, source_tz, load)
    except ValueError as exc:
        _fail(str(exc))
        return
    if load.message():
        err.print(f"warning: {load.message()}", highlight=False)
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
