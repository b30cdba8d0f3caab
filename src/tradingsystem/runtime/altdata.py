"""Alternative data for research and the node: the store's series and posts joined to bars, PTAX for fees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradingsystem.adapters.altdata import AltStore, ptax_rates
from tradingsystem.domain import b3
from tradingsystem.features import FeatureSet
from tradingsystem.features.altdata import INDICATORS, Vintages, altdata_columns

__all__ = ["instrument_key", "load_ptax", "series_arrays", "with_altdata"]

_EPOCH = date(1970, 1, 1).toordinal()


def instrument_key(symbol: str) -> str:
    """The name posts are linked by: a future's root (WINJ26 -> WIN), else the ticker."""
    parsed = b3.parse_future(symbol)
    if parsed:
        return parsed[0]
    return symbol.upper().removesuffix("FUT") if symbol.upper().endswith("FUT") else symbol.upper()


def series_arrays(store: AltStore, names: tuple[str, ...] = INDICATORS) -> dict[str, Vintages]:
    out = {}
    for name in names:
        t = store.vintages(name)
        if t.num_rows:
            ref = np.array([d.toordinal() - _EPOCH for d in t.column("ref").to_pylist()], dtype=np.int64)
            out[name] = (ref, np.array([float(v) for v in t.column("value").to_pylist()]),
                         t.column("published_ns").to_numpy())
    return out


def post_arrays(store: AltStore, symbol: str) -> tuple[np.ndarray, np.ndarray]:
    t = store.posts()
    key = instrument_key(symbol)
    keep = [key in (s or "").split(",") for s in t.column("instruments").to_pylist()]
    mask = np.asarray(keep, dtype=bool)
    return t.column("known_ns").to_numpy()[mask], t.column("score").to_numpy()[mask]


def with_altdata(fs: FeatureSet, bars: Mapping[str, np.ndarray], symbol: str, data_dir: Path | None
                 ) -> dict[str, np.ndarray]:
    """``bars`` plus the alternative-data columns the feature set names, joined as of each bar's ``ts_event``."""
    if not fs.alt_inputs:
        return dict(bars)
    if data_dir is None:
        raise ValueError(f"feature set {fs.name!r} uses alternative data ({', '.join(fs.alt_inputs)}): "
                         "give altdata_dir (where `tradingsystem altdata fetch` stored it)")
    store = AltStore(data_dir)
    cols = altdata_columns(fs.alt_inputs, np.asarray(bars["ts_event"]), series_arrays(store),
                           post_arrays(store, symbol))
    return {**bars, **cols}


def load_ptax(data_dir: Path) -> Mapping[date, Decimal]:
    """PTAX per day for the fee schedule (empty when nothing was fetched: the fallback rate applies)."""
    try:
        return ptax_rates(data_dir)
    except Exception:
        return {}
