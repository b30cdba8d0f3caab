"""Bar and trade files outside the catalog, read into raw integer columns: one reader for features, ML
and backtests.

Accepted: MetaTrader 5 files (both layouts, :mod:`~tradingsystem.adapters.storage.mt5`), the output of
``tradingsystem data bars --out`` (``time_open``/``time_close`` and real prices), and Parquet or CSV with
raw columns (``ts_open``/``ts_event`` + OHLCV bars, or ``ts_event``/``price``/``size`` trades).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradingsystem.adapters.storage.mt5 import parse_mt5
from tradingsystem.adapters.storage.schema import StorageError, scale_for

__all__ = ["read_bar_file"]


def _is_mt5(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(200).decode("latin-1", "replace").lower()
    return head.startswith("<date>") or head.startswith("time,open,high,low,close")


def _raw_prices(col: pa.ChunkedArray, scale: int) -> np.ndarray:
    if pa.types.is_decimal(col.type):
        return np.array([int(Decimal(v).scaleb(scale)) for v in col.to_pylist()], dtype=np.int64)
    out: np.ndarray = np.rint(col.to_numpy().astype(np.float64) * 10**scale).astype(np.int64)
    return out


def read_bar_file(path: Path, symbol: str, source_tz: str = "b3", timeframe: str | None = None
                  ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Columns of ``symbol`` from ``path`` and a note dict (``kind``: bars or trades, ``timeframe``,
    ``rejected``: lines dropped by the range checks, ``scale``)."""
    path = Path(path)
    if not path.is_file():
        raise StorageError(f"input file {path} not found")
    if path.stat().st_size == 0:
        raise StorageError(f"{path}: empty file (0 bytes)")
    scale = scale_for(symbol)
    if path.suffix.lower() != ".parquet" and _is_mt5(path):
        bars = parse_mt5(path.read_text(encoding="latin-1").splitlines(), scale, timeframe, source_tz, path.name)
        return bars.columns, {"kind": "bars", "timeframe": bars.timeframe, "rejected": len(bars.problems),
                              "problems": bars.problems[:5], "scale": scale}
    try:
        table = pq.read_table(path) if path.suffix.lower() == ".parquet" else pacsv.read_csv(path)
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(f"{path}: cannot read ({exc})") from exc
    for col in ("symbol", "instrument"):
        if col in table.column_names:
            table = table.filter(pc.equal(table.column(col), symbol))
    names = set(table.column_names)
    note: dict[str, Any] = {"kind": "bars", "timeframe": timeframe, "rejected": 0, "scale": scale}
    if {"time_open", "time_close"} <= names:  # ``data bars --out``
        out = {"ts_open": table.column("time_open").cast(pa.timestamp("ns", "UTC")).cast(pa.int64()).to_numpy(),
               "ts_event": table.column("time_close").cast(pa.timestamp("ns", "UTC")).cast(pa.int64()).to_numpy()}
        for c in ("open", "high", "low", "close"):
            out[c] = _raw_prices(table.column(c), scale)
        for c in ("volume", "trades"):
            out[c] = table.column(c).to_numpy().astype(np.int64)
        if "timeframe" in names and table.num_rows:
            note["timeframe"] = table.column("timeframe")[0].as_py()
        return out, note
    if "ts_event" not in names:
        raise StorageError(f"{path}: no ts_event or time_close column (columns: {sorted(names)})")
    cols = {c: table.column(c).to_numpy() for c in table.column_names if c not in ("symbol", "instrument")}
    if {"price", "size"} <= names:
        note["kind"] = "trades"
        return cols, note
    missing = {"ts_open", "open", "high", "low", "close", "volume"} - names
    if missing:
        raise StorageError(f"{path}: neither trades (price, size) nor bars: missing {sorted(missing)}")
    return cols, note
