"""``tradingsystem sim``: calibrate the simulated market on real bars; compare a capture's stylised facts.

Data comes from a catalog (a capture's or an import's data directory) or from MetaTrader 5 1-minute
bar exports (a file or a folder of ``*.csv``), which are imported into a temporary catalog first, so
both are read through the catalog.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from pprint import pformat
from typing import Annotated, Any

import numpy as np
import typer
import yaml
from rich.console import Console
from rich.table import Table

from tradingsystem.adapters.simulator import calibrate as calib
from tradingsystem.adapters.simulator import facts as sf
from tradingsystem.adapters.storage import Catalog, StorageConfig, StorageError, import_file
from tradingsystem.domain import b3
from tradingsystem.runtime.cli_errors import fail

sim_app = typer.Typer(help="The simulated market: calibrate it on real data, compare its stylised facts.",
                      no_args_is_help=True, add_completion=False)
err = Console(stderr=True)
out = Console()


@contextmanager
def _catalog(path: Path) -> Iterator[Catalog]:
    """A catalog over ``path``: a data directory as is, or MetaTrader 5 bar files imported into a temp one."""
    if not path.exists():
        raise StorageError(f"{path}: no such file or directory")
    if path.is_dir() and any((path / k).is_dir() for k in ("trades", "bars")):
        cat = Catalog(path)
        try:
            yield cat
        finally:
            cat.close()
        return
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files:
        raise StorageError(f"{path}: neither a catalog (trades/ or bars/) nor MetaTrader 5 bar files (*.csv)")
    with tempfile.TemporaryDirectory(prefix="ts-sim-") as tmp:
        for f in files:
            import_file(StorageConfig(data_dir=Path(tmp), fsync=False), "mt5", f)
        cat = Catalog(Path(tmp))
        try:
            yield cat
        finally:
            cat.close()


def _symbols(cat: Catalog, wanted: list[str] | None) -> list[str]:
    have = sorted({p.instrument for p in cat.partitions("trades")} | {p.instrument for p in cat.partitions("bars")})
    if wanted:
        missing = [s for s in wanted if s not in have]
        if missing:
            raise StorageError(f"not in the catalog: {', '.join(missing)} (it has {', '.join(have) or 'nothing'})")
        return wanted
    return have


def read_bars(cat: Catalog, symbols: list[str]) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, int]]:
    """1-minute bars per symbol as arrays (prices raw integers), and each symbol's price scale."""
    bars: dict[str, dict[str, np.ndarray]] = {}
    scales: dict[str, int] = {}
    for sym in symbols:
        t = cat.bars(sym, "1m")
        if t.num_rows < 2:
            continue
        bars[sym] = {k: t.column(k).to_numpy() for k in ("ts_open", "open", "close", "volume", "trades")}
        scales[sym] = int(t.column("scale")[0].as_py())
    return bars, scales


def read_trades(cat: Catalog, symbols: list[str]) -> dict[str, dict[str, np.ndarray]]:
    trades = {}
    for sym in symbols:
        t = cat.read_trades(sym, columns=["ts_event", "size", "aggressor"])
        if t.num_rows:
            trades[sym] = {"ts": t.column("ts_event").to_numpy(), "size": t.column("size").to_numpy(),
                           "aggressor": t.column("aggressor").to_numpy()}
    return trades


def load_facts(path: Path, symbols: list[str] | None) -> sf.Facts:
    """Stylised facts of the market in ``path`` (catalog or bar files)."""
    with _catalog(path) as cat:
        syms = _symbols(cat, symbols)
        bars, _ = read_bars(cat, syms)
        if not bars:
            raise StorageError(f"{path}: no 1-minute bars could be built for {', '.join(syms) or 'any instrument'}")
        return sf.compute(bars, read_trades(cat, syms))


def _plots(sim: sf.Facts, real: sf.Facts | None, path: Path) -> None:
    """|returns| autocorrelation by lag and the intraday volatility profile, one HTML file (plotly)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("autocorrelation of |1-min returns|",
                                                        "std of 1-min returns by 10 minutes from the open"))
    for name, f in (("simulated", sim), ("real", real)):
        if f is None:
            continue
        fig.add_trace(go.Scatter(x=list(range(1, len(f.abs_acf) + 1)), y=f.abs_acf, name=f"{name} |r| acf"), 1, 1)
        fig.add_trace(go.Scatter(x=[10 * k for k in range(len(f.intraday))], y=f.intraday,
                                 name=f"{name} intraday"), 1, 2)
    fig.update_layout(title="Stylised facts: real vs simulated", template="plotly_white")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(path, include_plotlyjs="cdn")


@sim_app.command("facts")
def facts_command(
    data_dir: Annotated[Path, typer.Option(help="catalog of the simulated capture (or any market)")],
    against: Annotated[Path | None, typer.Option(help="real market to compare: catalog or MT5 bar files")] = None,
    symbols: Annotated[str | None, typer.Option(help="comma-separated instruments (default: all)")] = None,
    plots: Annotated[Path | None, typer.Option(help="write the plots here (HTML)")] = Path("sim_facts.html"),
    as_json: Annotated[bool, typer.Option("--json", help="print the facts as one JSON line instead")] = False,
) -> None:
    """Print the stylised-facts table of a capture, against a real market when given."""
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else None
    try:
        sim = load_facts(data_dir, wanted)
        real = load_facts(against, None) if against is not None else None
    except (StorageError, OSError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"simulated": sim.values, "real": real.values if real else None}, sort_keys=True))
    else:
        table = Table("fact", "real", "simulated")
        for label, a, b in sf.table(sim, real):
            table.add_row(label, a, b)
        out.print(table)
    if plots is not None:
        _plots(sim, real, plots)
        err.print(f"plots: {plots}")


def _lot(sym: str) -> int:
    try:
        return b3.stock(sym).lot
    except ValueError:
        return 1


def _python(section: dict[str, Any], source: str) -> str:
    lines = ['"""Market parameters fitted on real bars; regenerate, do not edit:', "",
             f"    tradingsystem sim calibrate --from {source} --out <this file>", '"""', "",
             "from typing import Any", "",
             "CALIBRATED: dict[str, dict[str, Any]] = " + pformat(section["instruments"], width=110, sort_dicts=True),
             "", "CALIBRATED_VOL: dict[str, Any] = " + pformat(section["vol"], width=110, sort_dicts=True), ""]
    return "\n".join(lines)


@sim_app.command("calibrate")
def calibrate_command(
    source: Annotated[Path, typer.Option("--from", help="real bars: a catalog or MT5 1-minute bar files")],
    out_path: Annotated[Path, typer.Option("--out", help="market config to write (.yaml; .py for the package)")]
    = Path("market.yaml"),
    symbols: Annotated[str | None, typer.Option(help="comma-separated instruments (default: all)")] = None,
) -> None:
    """Fit the simulated market per instrument on real data and write a market config (the ``sim`` section)."""
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else None
    try:
        with _catalog(source) as cat:
            bars, scales = read_bars(cat, _symbols(cat, wanted))
        section = calib.fit(bars, {s: _lot(s) for s in bars}, scales)
    except (StorageError, OSError, ValueError) as exc:
        fail(str(exc))
    if out_path.suffix == ".py":
        text = _python(section, source.as_posix())
    else:
        text = "# written by tradingsystem sim calibrate; use as (or merge into) a config's sim section\n" + \
            yaml.safe_dump({"sim": section}, sort_keys=True)
    try:
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{out_path}: {exc}")
    vols = {s: p["vol_daily"] for s, p in section["instruments"].items()}
    typer.echo(json.dumps({"written": str(out_path), "instruments": len(vols), "vol_daily": vols,
                           "garch_persistence": round(section["vol"]["garch_alpha"] + section["vol"]["garch_beta"], 4)
                           if not math.isnan(section["vol"]["garch_beta"]) else None}))
