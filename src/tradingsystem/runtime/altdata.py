"""Alternative data for research and the node: the store's series and posts joined to bars, PTAX for fees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tradingsystem.adapters.altdata import AltStore, ptax_rates
from tradingsystem.domain import b3
from tradingsystem.domain.copom import CopomCalendar, parse_calendar
from tradingsystem.features import FeatureSet
from tradingsystem.features.altdata import INDICATORS, Vintages, alt_columns_used, altdata_columns

__all__ = ["LiveAltData", "compare_oos", "copom_calendar", "instrument_key", "load_ptax", "series_arrays",
           "with_altdata"]

_EPOCH = date(1970, 1, 1).toordinal()


def instrument_key(symbol: str) -> str:
    """The name posts are linked by: a future's root (WINJ26 -> WIN), else the ticker."""
    parsed = b3.parse_future(symbol)
    if parsed:
        return parsed[0]
    return symbol.upper().removesuffix("FUT") if symbol.upper().endswith("FUT") else symbol.upper()


def copom_calendar(data_dir: Path | None) -> CopomCalendar:
    """The built-in Copom calendar plus ``{data_dir}/altdata/copom_calendar.csv`` when present (lines
    ``YYYY-MM-DD[,published YYYY-MM-DD]``); a bad line raises ``ValueError`` naming it."""
    path = Path(data_dir) / "altdata" / "copom_calendar.csv" if data_dir is not None else None
    if path is None or not path.is_file():
        return CopomCalendar()
    return CopomCalendar(parse_calendar(path.read_text(encoding="utf-8"), str(path)))


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
                           post_arrays(store, symbol), copom_calendar(data_dir))
    return {**bars, **cols}


class LiveAltData:
    """The alternative-data columns a live bar sees: the store's series and posts known at the bar's
    ``ts_event`` (the same as-of join as ``with_altdata``), re-read when a part was added (the node's poller
    or `altdata fetch` writing to the same store)."""

    def __init__(self, names: tuple[str, ...], symbol: str, data_dir: Path) -> None:
        self.names, self.symbol = tuple(names), symbol
        self.store = AltStore(data_dir)
        self.calendar = copom_calendar(data_dir)
        self._parts: tuple[str, ...] | None = None
        self._series: dict[str, Vintages] = {}
        self._posts: tuple[np.ndarray, np.ndarray] | None = None

    def _reload(self) -> None:
        root = self.store.root
        parts = tuple(sorted(str(p) for p in root.rglob("part-*.parquet"))) if root.is_dir() else ()
        if parts != self._parts:
            self._parts = parts
            self._series = series_arrays(self.store)
            self._posts = post_arrays(self.store, self.symbol)

    def __call__(self, ts_event: int) -> dict[str, float]:
        self._reload()
        cols = altdata_columns(self.names, np.array([ts_event], dtype=np.int64), self._series, self._posts,
                               self.calendar)
        return {k: float(v[0]) for k, v in cols.items()}


def load_ptax(data_dir: Path) -> Mapping[date, Decimal]:
    """PTAX per day for the fee schedule (empty when nothing was fetched: the fallback rate applies)."""
    try:
        return ptax_rates(data_dir)
    except Exception:
        return {}


REPORT_KEYS = ("n_predictions", "hit_rate", "hit_rate_ci_low", "hit_rate_ci_high", "baseline_hit_rate", "log_loss",
               "brier", "pnl_after_costs")


def compare_oos(cfg: Any, base: Path) -> dict[str, Any]:
    """Walk-forward out-of-sample results of a train config with its alternative-data features and without."""
    from tradingsystem.ml import train_and_evaluate
    from tradingsystem.runtime.ml import (
        asset_class_of,
        feature_set_at,
        label_with_costs,
        load_bars,
        load_feature_set,
        make_dataset,
    )

    fs0, _ = load_feature_set(cfg.feature_set, base)
    fs = feature_set_at(fs0, cfg.timeframe)
    if not fs.alt_inputs:
        raise ValueError(f"feature set {fs.name!r} names no alternative-data column; nothing to compare")
    ac = asset_class_of(cfg.instrument, cfg.asset_class)
    inp = (base / cfg.input) if cfg.input else None
    ddir = (base / cfg.data_dir) if cfg.data_dir else None
    bars = load_bars(cfg.instrument, cfg.start, cfg.end, fs.timeframe, ac, inp, ddir, cfg.source_tz)
    if len(bars.get("ts_event", ())) == 0:
        raise ValueError(f"no {cfg.instrument} data between {cfg.start} and {cfg.end}")
    bars = with_altdata(fs, bars, cfg.instrument, (base / cfg.altdata_dir) if cfg.altdata_dir else ddir)
    label, _ = label_with_costs(cfg.label, cfg.instrument, bars)
    alt_feats = {f.name for f in fs.features if set(alt_columns_used([f.expr])) & set(fs.alt_inputs)}
    ds, dropped = make_dataset(fs, bars, label, cfg.features, ac, cfg.min_finite_share)
    with_names = tuple(ds.names)
    without = tuple(n for n in with_names if n not in alt_feats)
    if not without:
        raise ValueError("every feature uses alternative data; add market features to compare against")
    out: dict[str, Any] = {"instrument": cfg.instrument, "period": [str(cfg.start), str(cfg.end)],
                           "altdata_features": sorted(alt_feats & set(with_names)),
                           "altdata_features_dropped_not_finite": sorted(alt_feats & set(dropped))}
    out["note"] = "both runs on the same rows: the bars where every with-altdata feature is known"
    for run, names in (("with_altdata", with_names), ("without_altdata", without)):
        sub, _ = make_dataset(fs, bars, label, names, ac, cfg.min_finite_share)
        sub = sub.take(np.flatnonzero(np.isin(sub.ts, ds.ts)))
        res = train_and_evaluate(sub, cfg.model, cfg.walk_forward, cfg.tuning, fit_final_model=False)
        out[run] = {k: res.evaluation.get(k) for k in REPORT_KEYS}
        pnl = out[run].get("pnl_after_costs")
        if isinstance(pnl, dict):
            out[run]["pnl_after_costs"] = {k: v for k, v in pnl.items() if k != "cumulative_net_bps"}
    a, b = out["with_altdata"], out["without_altdata"]
    out["hit_rate_difference"] = (a["hit_rate"] - b["hit_rate"]) if a["hit_rate"] is not None and \
        b["hit_rate"] is not None else None
    return out
