"""Bars of any timeframe for ``features compute``, ``train``, ``evaluate`` and backtests, from a file or the
catalog, all through the one bar engine (``features.bars``).

Trades (a file or the catalog) are built into bars of the timeframe; stored or file bars are resampled
to it, aligned to the B3 session, when they are finer, and refused when they are coarser. Every bar is
stamped at its close (``ts_event``) with its open kept (``ts_open``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tradingsystem.adapters.storage import Catalog, StorageError
from tradingsystem.adapters.storage.barfiles import read_bar_file
from tradingsystem.domain.b3 import asset_class_of
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.features.bars import BAR_COLUMNS, Timeframe, bars_from_trades
from tradingsystem.features.guards import trade_order
from tradingsystem.features.mtf import resample_bars

__all__ = ["BarLoad", "asset_class_for", "day_ns", "load_bars"]

NS = 1_000_000_000


@dataclass
class BarLoad:
    """What :func:`load_bars` did: source kind, the source timeframe, rows rejected (by reason)."""

    source: str = ""
    source_timeframe: str | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # catalog parts quarantined on this read

    def message(self) -> str | None:
        n = sum(self.rejected.values())
        why = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.rejected.items() if v)
        lines = ([f"{n} input rows rejected ({why})"] if n else []) + self.warnings
        return "; ".join(lines) or None


def asset_class_for(symbol: str, given: str = "auto") -> AssetClass:
    """``given`` (stock, index_future, fx_future) or, for ``auto``, the class the symbol's code says."""
    if given == "auto":
        return asset_class_of(symbol)
    try:
        return AssetClass(given)
    except ValueError as exc:
        raise ValueError(f"asset class must be auto or one of {[a.value for a in AssetClass]}") from exc


def day_ns(d: date) -> int:
    """UTC ns of a B3 local midnight."""
    return int(datetime.combine(d, time(0), tzinfo=B3_TZ).timestamp()) * NS


def _tf_ns(text: str | None, cols: dict[str, np.ndarray]) -> int | None:
    if text:
        try:
            tf = Timeframe.parse(text)
            return tf.n if tf.kind == "time" else None
        except ValueError:
            return None
    d = np.diff(np.asarray(cols["ts_open"], dtype=np.int64))
    d = d[d > 0]
    return int(np.min(d)) if len(d) else None


def _to_timeframe(cols: dict[str, np.ndarray], src_tf: str | None, tf: Timeframe, ac: AssetClass
                  ) -> dict[str, np.ndarray]:
    if tf.kind != "time":
        raise ValueError(f"{tf.text} bars need trades; the input holds bars")
    src = _tf_ns(src_tf, cols)
    order = np.argsort(np.asarray(cols["ts_open"], dtype=np.int64), kind="stable")
    cols = {k: np.asarray(v)[order] for k, v in cols.items()}
    if src is not None and src > tf.n:
        raise ValueError(f"the input holds {src_tf or f'{src // NS}s'} bars: cannot build finer {tf.text} bars")
    if src == tf.n:
        return {c: np.asarray(cols[c]) for c in BAR_COLUMNS if c in cols}
    if src is not None and tf.n < 86_400 * NS and tf.n % src:
        raise ValueError(f"{tf.text} is not a whole multiple of the input's {src_tf} bars")
    return resample_bars(cols, tf.n, ac)


def load_bars(instrument: str, start: date, end: date, timeframe: str | int, asset_class: AssetClass,
              input_: Path | None = None, data_dir: Path | None = None, source_tz: str = "b3",
              load: BarLoad | None = None) -> dict[str, np.ndarray]:
    """Bar columns of ``instrument`` at ``timeframe`` (text, or ns for time bars) opening in ``[start, end]``
    (B3 dates). Raises ``ValueError`` with a one-line reason on bad input."""
    if (input_ is None) == (data_dir is None):
        raise ValueError("give exactly one of an input file or a catalog directory")
    tf = Timeframe.parse(timeframe if isinstance(timeframe, str) else f"{timeframe // NS}s")
    load = load if load is not None else BarLoad()
    lo, hi = day_ns(start), day_ns(end + timedelta(days=1))
    try:
        if input_ is not None:
            cols, note = read_bar_file(input_, instrument, source_tz)
            load.source, load.source_timeframe = f"file:{note['kind']}", note.get("timeframe")
            if note.get("rejected"):
                load.rejected["out_of_range_rows"] = int(note["rejected"])
            ts = np.asarray(cols["ts_event" if note["kind"] == "trades" else "ts_open"], dtype=np.int64)
            keep = (ts >= lo) & (ts < hi)
            cols = {k: np.asarray(v)[keep] for k, v in cols.items()}
            if note["kind"] == "trades":
                return _from_trades(cols, tf, asset_class, int(note["scale"]), load)
            out = _to_timeframe(cols, note.get("timeframe"), tf, asset_class)
        else:
            cat = Catalog(data_dir)  # type: ignore[arg-type]
            load.warnings += cat.warnings
            try:
                trades = cat.read_trades(instrument, start, end, ["ts_event", "trade_id", "price", "scale", "size",
                                                                  "aggressor"])
                if trades.num_rows:
                    load.source = "catalog:trades"
                    cols = {c: trades.column(c).to_numpy() for c in trades.column_names}
                    return _from_trades(cols, tf, asset_class, int(cols["scale"][0]), load)
                load.source = "catalog:bars"
                table = cat.bars(instrument, tf.text, start, end)
            finally:
                cat.close()
            out = {c: table.column(c).to_numpy() for c in BAR_COLUMNS}
    except StorageError as exc:
        raise ValueError(str(exc)) from exc
    ts_open = np.asarray(out["ts_open"], dtype=np.int64)
    keep = (ts_open >= lo) & (ts_open < hi)  # a bar belongs to the day it opens in
    return {k: np.asarray(v)[keep] for k, v in out.items()}


def _from_trades(cols: dict[str, Any], tf: Timeframe, ac: AssetClass, scale: int, load: BarLoad
                 ) -> dict[str, np.ndarray]:
    n = len(cols["ts_event"])
    tid = np.asarray(cols.get("trade_id", np.zeros(n, dtype=np.int64)))
    order = trade_order(cols["ts_event"], tid)
    agg = np.asarray(cols.get("aggressor", np.zeros(n, dtype=np.int64)))
    rejected: dict[str, int] = {}
    out = bars_from_trades(np.asarray(cols["ts_event"])[order], np.asarray(cols["price"])[order],
                           np.asarray(cols["size"])[order], agg[order], tid[order], tf.kind, tf.n, ac, scale,
                           rejected)
    load.rejected.update({k: v for k, v in rejected.items() if v})
    return out
