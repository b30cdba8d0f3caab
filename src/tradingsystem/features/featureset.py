"""Feature sets: named expressions over bars, computed as a batch table or online from a bar stream.

YAML layout (see ``docs/features.md``)::

    name: trend
    timeframe: 1m            # base bars the set is fed (used when bars are built from trades)
    features:
      ema_gap: ema(close, 9) - ema(close, 21)
      signal: crossover(ema(close, 9), ema(close, 21))
      htf_rsi: {expr: "rsi(close, 14)", timeframe: 15m}   # on 15m bars, visible once each closes

Input columns: ``open high low close volume trades`` and, from trade-built bars, ``buy_volume
sell_volume buy_trades sell_trades``; derived: ``delta`` (buy - sell volume), ``cvd`` (its running sum
from the first row), ``session`` (B3 local day). A feature may use features defined above it on the same
timeframe. In both forms a bar is dropped (one row fewer) when its ``ts_event`` is not later than the
previous accepted bar's (duplicate, out of order) or when a price or the volume is not finite.

Alternative data (``features.altdata.ALT_COLUMNS``: ``ipca_surprise``, ``sent_mean``, ...) may be named
too; the set's ``alt_inputs`` lists those it uses, which the caller joins to the bars (``train`` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import isfinite
from typing import Any

import numpy as np
import yaml

from tradingsystem.domain.events import Bar
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.features.altdata import alt_columns_used
from tradingsystem.features.bars import FlowBar, local_day, parse_timeframe, session_ids
from tradingsystem.features.expr_compile import Plan, StreamProgram
from tradingsystem.features.expr_parse import ExprError
from tradingsystem.features.guards import BarGuard, bar_keep_mask
from tradingsystem.features.mtf import Resampler, align_index, resample_bars

__all__ = ["INPUT_COLUMNS", "FeatureSet", "FeatureSetError", "FeatureStream"]

INPUT_COLUMNS = (
    "open", "high", "low", "close", "volume", "trades", "buy_volume", "sell_volume", "buy_trades",
    "sell_trades", "delta", "cvd", "session",
)  # fmt: skip


class FeatureSetError(ValueError):
    """A feature set definition is invalid (the message names the feature and, for expressions, the spot)."""


@dataclass(frozen=True, slots=True)
class FeatureDef:
    name: str
    expr: str
    timeframe: str | None = None


def _derived(cols: Mapping[str, Any], alt: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    n = len(cols["close"])
    out = {c: np.asarray(cols[c], dtype=np.float64) for c in ("open", "high", "low", "close", "volume")}
    for c in ("trades", "buy_volume", "sell_volume", "buy_trades", "sell_trades"):
        out[c] = np.asarray(cols[c], dtype=np.float64) if c in cols else np.zeros(n)
    delta = np.asarray(cols.get("buy_volume", np.zeros(n)), dtype=np.int64) - np.asarray(
        cols.get("sell_volume", np.zeros(n)), dtype=np.int64
    )
    out["delta"] = delta.astype(np.float64)
    out["cvd"] = np.cumsum(delta).astype(np.float64)
    out["session"] = session_ids(cols["ts_open"])
    for c in alt:
        out[c] = np.asarray(cols[c], dtype=np.float64) if c in cols else np.full(n, np.nan)
    return out


class FeatureSet:
    """A validated, compiled feature set."""

    def __init__(self, name: str, features: list[FeatureDef], timeframe: str = "1m", description: str = "") -> None:
        self.name = name
        self.timeframe = timeframe
        self.description = description
        self.features = features
        self.base_ns = parse_timeframe(timeframe)
        self.alt_inputs = alt_columns_used(f.expr for f in features)
        groups: dict[str | None, dict[str, str]] = {}
        for f in features:
            tf = None if f.timeframe in (None, timeframe) else f.timeframe
            if tf is not None:
                ns = parse_timeframe(tf)
                if ns % self.base_ns or ns <= self.base_ns:
                    raise FeatureSetError(f"feature {f.name!r}: timeframe {tf} is not a multiple of {timeframe}")
            groups.setdefault(tf, {})[f.name] = f.expr
        self.plans: dict[str | None, Plan] = {}
        for tf, exprs in groups.items():
            try:
                self.plans[tf] = Plan(exprs, INPUT_COLUMNS + self.alt_inputs)
            except ExprError as exc:
                bad = next((n for n, e in exprs.items() if e == exc.text), exc.text)
                raise FeatureSetError(f"feature {bad!r}: {exc}") from exc
        self.names = tuple(f.name for f in features)

    # ---- construction ------------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FeatureSet:
        unknown = set(data) - {"name", "timeframe", "description", "features"}
        if unknown:
            raise FeatureSetError(f"unknown keys {sorted(unknown)} (allowed: name, timeframe, description, features)")
        feats = data.get("features")
        if not isinstance(feats, Mapping) or not feats:
            raise FeatureSetError("'features' must be a non-empty mapping of name to expression")
        defs: list[FeatureDef] = []
        for name, spec in feats.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise FeatureSetError(f"feature name {name!r} must be an identifier")
            if isinstance(spec, str):
                defs.append(FeatureDef(name, spec))
            elif isinstance(spec, Mapping) and isinstance(spec.get("expr"), str):
                extra = set(spec) - {"expr", "timeframe"}
                if extra:
                    raise FeatureSetError(f"feature {name!r}: unknown keys {sorted(extra)}")
                tf = spec.get("timeframe")
                defs.append(FeatureDef(name, spec["expr"], None if tf is None else str(tf)))
            else:
                raise FeatureSetError(f"feature {name!r}: give an expression or {{expr: ..., timeframe: ...}}")
        return cls(str(data.get("name", "unnamed")), defs, str(data.get("timeframe", "1m")),
                   str(data.get("description", "")))  # fmt: skip

    @classmethod
    def from_yaml(cls, text: str) -> FeatureSet:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise FeatureSetError(f"invalid YAML: {exc}") from exc
        if not isinstance(data, Mapping):
            raise FeatureSetError("a feature set is a YAML mapping")
        return cls.from_mapping(data)

    # ---- batch -------------------------------------------------------------------------------------
    def compute(self, bars: Mapping[str, Any], asset_class: AssetClass = AssetClass.STOCK) -> dict[str, np.ndarray]:
        """Feature table over bar columns (``ts_open``, ``ts_event``, OHLCV, optional flow columns).

        Returns ``ts_event`` plus one float64 column per feature, one row per accepted bar.
        """
        ok = np.ones(len(bars["ts_event"]), dtype=bool)
        for c in ("open", "high", "low", "close", "volume"):
            ok &= np.isfinite(np.asarray(bars[c], dtype=np.float64))
        idx = np.flatnonzero(ok)
        idx = idx[bar_keep_mask(np.asarray(bars["ts_event"], dtype=np.int64)[idx])]
        cols = {k: np.asarray(v)[idx] for k, v in bars.items()}
        out: dict[str, np.ndarray] = {"ts_event": np.asarray(cols["ts_event"], dtype=np.int64)}
        results: dict[str, np.ndarray] = {}
        for tf, plan in self.plans.items():
            if tf is None:
                results.update(plan.batch(_derived(cols, self.alt_inputs)))
                continue
            htf = resample_bars(cols, parse_timeframe(tf), asset_class)
            vals = plan.batch(_derived(htf, self.alt_inputs))
            idx = align_index(out["ts_event"], htf["ts_event"])
            ok = idx >= 0
            for name, v in vals.items():
                col = np.full(len(idx), np.nan)
                col[ok] = v[idx[ok]]
                results[name] = col
        for name in self.names:
            out[name] = results[name]
        return out

    def online(self, asset_class: AssetClass = AssetClass.STOCK) -> FeatureStream:
        return FeatureStream(self, asset_class)


class _Level:
    """One timeframe's streaming state: its program and running CVD."""

    __slots__ = ("cvd", "names", "prog", "resampler", "values")

    def __init__(self, plan: Plan, resampler: Resampler | None) -> None:
        self.prog: StreamProgram = plan.stream()
        self.resampler = resampler
        self.names = plan.names
        self.cvd = 0
        self.values: list[float] = [float("nan")] * len(self.names)

    def feed(self, x: FlowBar | Bar, alt: tuple[float, ...] = ()) -> None:
        if isinstance(x, FlowBar):
            b, bv, sv, bt, st = x.bar, x.buy_volume, x.sell_volume, x.buy_trades, x.sell_trades
        else:
            b, bv, sv, bt, st = x, 0, 0, 0, 0
        self.cvd += bv - sv
        row = (float(b.open), float(b.high), float(b.low), float(b.close), float(b.volume), float(b.trades),
               float(bv), float(sv), float(bt), float(st), float(bv - sv), float(self.cvd),
               float(local_day(b.ts_open)), *alt)  # fmt: skip
        self.values = self.prog.update(row)


class FeatureStream:
    """Online form of a :class:`FeatureSet`: ``update(bar)`` returns the row the batch table would hold."""

    def __init__(self, fs: FeatureSet, asset_class: AssetClass = AssetClass.STOCK) -> None:
        self.fs = fs
        self.asset_class = asset_class
        self.reset()

    def reset(self) -> None:
        """Forget everything: warm-up starts again."""
        fs = self.fs
        self.guard = BarGuard()
        self.levels: list[_Level] = []
        for tf, plan in fs.plans.items():
            res = None if tf is None else Resampler(parse_timeframe(tf), self.asset_class, tf)
            self.levels.append(_Level(plan, res))
        self._order = [(li, k) for name in fs.names for li, lv in enumerate(self.levels)
                       for k, n in enumerate(lv.names) if n == name]  # fmt: skip

    def update(self, x: FlowBar | Bar, alt: Mapping[str, float] | None = None) -> dict[str, float] | None:
        """Feed one base bar; returns ``{feature: value}`` (NaN = not ready), or None if the bar was dropped.

        ``alt``: the bar's alternative-data values (``alt_inputs``; missing ones are NaN)."""
        b = x.bar if isinstance(x, FlowBar) else x
        if not isfinite(b.open + b.high + b.low + b.close + b.volume):
            self.guard.rejected += 1
            return None
        if not self.guard.accept(b.ts_event):
            return None
        extra = tuple((alt or {}).get(c, float("nan")) for c in self.fs.alt_inputs) if self.fs.alt_inputs else ()
        for lv in self.levels:
            if lv.resampler is None:
                lv.feed(x, extra)
            else:
                for hb in lv.resampler.update(x):
                    lv.feed(hb, extra)
        lv_ = self.levels
        return {n: lv_[li].values[k] for n, (li, k) in zip(self.fs.names, self._order, strict=True)}
