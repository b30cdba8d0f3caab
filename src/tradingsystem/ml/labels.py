"""Labels for bar-based classifiers, net of B3 costs, and sample weights for overlapping labels.

A label for the decision at bar ``i`` (taken at that bar's close, ``ts_event[i]``) looks only at bars
``i+1 .. t1[i]`` of the same B3 session; ``t1`` is the index of the bar whose close ends the label.
Rows whose label would cross the session end, or is inside the cost band, get ``label = -1`` (unusable);
usable labels are 1 (up) and 0 (down). Daily bars (one bar per session) have no intraday end to respect:
their labels span sessions (``across_sessions``: ``None`` decides from the bars, ``True``/``False`` force it).

* ``direction``: the close-to-close return over ``horizon`` bars; up if above ``+threshold``, down if
  below ``-threshold``, else neutral (not a direction worth trading after costs).
* ``triple_barrier``: take profit at ``+tp``, stop at ``-sl`` (both in bps of the entry close, hit by a
  later bar's high or low; if one bar touches both, the stop is assumed first), timeout after
  ``horizon`` bars, where the timeout return must still clear ``threshold`` or the row is neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument

__all__ = ["LabelSpec", "Labels", "instrument_costs", "make_labels", "overlap_weights", "round_trip_cost_bps",
           "session_days"]  # fmt: skip

NS = 1_000_000_000
DAY_NS = 86_400 * NS
_UTC_OFFSET = 3 * 3600 * NS  # B3 is UTC-3 all year


def session_days(ts_ns: np.ndarray) -> np.ndarray:
    """B3 local day (days since 1970-01-01) of each instant."""
    return (np.asarray(ts_ns, dtype=np.int64) - _UTC_OFFSET) // DAY_NS


STOCK_FEE_BPS = 2.30  # B3 stock day-trade fee per side (domain.fees default)
STOCK_SPREAD_BPS = 5.0  # about one tick on PETR4


def instrument_costs(instrument: Instrument, fees: FeeSchedule, price_raw: float, day_trade: bool = True
                     ) -> dict[str, float]:
    """Per-side fee and one-tick spread of ``instrument`` at a price level, in bps, and the round trip in
    bps, in points (raw price units over the scale) and in BRL per lot."""
    price = max(round(price_raw), 1)
    notional = float(instrument.brl(price * instrument.lot))
    fee = float(fees.exchange_fee(instrument, instrument.lot, price, day_trade))
    fee_bps = fee / notional * 1e4 if notional > 0 else 0.0
    spread_bps = instrument.tick / price * 1e4
    rt_bps = round_trip_cost_bps(fee_bps, spread_bps)
    return {"fee_bps": fee_bps, "spread_bps": spread_bps, "round_trip_bps": rt_bps,
            "round_trip_points": rt_bps / 1e4 * price / 10**instrument.scale,
            "round_trip_brl_per_lot": rt_bps / 1e4 * notional, "price_level": price / 10**instrument.scale}


def round_trip_cost_bps(fee_bps_per_side: float = 2.30, spread_bps: float = 0.0) -> float:
    """Cost of entering and leaving once: exchange fee on both sides plus one spread crossing."""
    return 2.0 * fee_bps_per_side + spread_bps


class LabelSpec(BaseModel):
    """How labels are made. ``threshold_bps`` defaults to the round trip: 2 x fee + spread.

    ``fee_bps`` and ``spread_bps`` left out are filled per instrument by :func:`instrument_costs`
    (``train`` does it from the fee model); a spec used as is falls back to the B3 stock values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["direction", "triple_barrier"] = "direction"
    horizon: int = Field(15, ge=1, le=10_000)  # bars
    fee_bps: float | None = Field(None, ge=0)  # exchange fee per side (stocks: 2.30, domain.fees)
    spread_bps: float | None = Field(None, ge=0)  # one spread crossing per round trip (1 tick)
    threshold_bps: float | None = Field(None, ge=0)  # override the cost-derived threshold
    take_profit_bps: float = Field(30.0, gt=0)  # triple barrier
    stop_loss_bps: float = Field(30.0, gt=0)
    across_sessions: bool | None = None  # None: only when every session has one bar (daily bars)

    @property
    def cost_bps(self) -> float:
        fee = STOCK_FEE_BPS if self.fee_bps is None else self.fee_bps
        return round_trip_cost_bps(fee, STOCK_SPREAD_BPS if self.spread_bps is None else self.spread_bps)

    @property
    def threshold(self) -> float:
        """Threshold in bps a move must clear to count as a direction."""
        return self.cost_bps if self.threshold_bps is None else self.threshold_bps


@dataclass(frozen=True, slots=True)
class Labels:
    """Per-bar labels: ``label`` (1 up, 0 down, -1 unusable), ``t1`` (end bar index, -1 if none) and
    ``ret_bps`` (the return in bps from this close to the close at ``t1``; NaN if none)."""

    label: np.ndarray
    t1: np.ndarray
    ret_bps: np.ndarray


def _session_end(days: np.ndarray) -> np.ndarray:
    """Index of the last bar of each bar's session (bars sorted by time)."""
    n = len(days)
    last = np.empty(n, dtype=np.int64)
    if n == 0:
        return last
    change = np.flatnonzero(np.diff(days) != 0)
    ends = np.append(change, n - 1)
    starts = np.insert(change + 1, 0, 0)
    for s, e in zip(starts, ends, strict=True):
        last[s : e + 1] = e
    return last


def make_labels(ts_event: np.ndarray, close: np.ndarray, high: np.ndarray, low: np.ndarray,
                spec: LabelSpec) -> Labels:  # fmt: skip
    """Labels for bars sorted by ``ts_event`` (prices in any consistent unit)."""
    ts = np.asarray(ts_event, dtype=np.int64)
    c = np.asarray(close, dtype=np.float64)
    n = len(c)
    days = session_days(ts)
    across = spec.across_sessions
    if across is None:  # daily bars: one bar per session, a label must reach into later sessions
        across = n > 1 and bool(np.all(np.diff(days) != 0))
    end = np.full(n, n - 1, dtype=np.int64) if across else _session_end(days)
    h = spec.horizon
    idx = np.arange(n)
    label = np.full(n, -1, dtype=np.int64)
    t1 = np.full(n, -1, dtype=np.int64)
    ret = np.full(n, np.nan)
    ok = idx + h <= end
    j = idx[ok] + h
    r = (c[j] / c[idx[ok]] - 1.0) * 1e4
    thr = spec.threshold
    if spec.kind == "direction":
        t1[ok] = j
        ret[ok] = r
        lab = np.where(r > thr, 1, np.where(r < -thr, 0, -1))
        label[ok] = lab
        return Labels(label, t1, ret)
    hi = np.asarray(high, dtype=np.float64)
    lo = np.asarray(low, dtype=np.float64)
    for i in np.flatnonzero(ok):
        up = c[i] * (1 + spec.take_profit_bps / 1e4)
        dn = c[i] * (1 - spec.stop_loss_bps / 1e4)
        for k in range(i + 1, i + h + 1):
            if lo[k] <= dn:  # stop first when one bar touches both
                label[i], t1[i], ret[i] = 0, k, -spec.stop_loss_bps
                break
            if hi[k] >= up:
                label[i], t1[i], ret[i] = 1, k, spec.take_profit_bps
                break
        else:
            rk = (c[i + h] / c[i] - 1.0) * 1e4
            t1[i], ret[i] = i + h, rk
            label[i] = 1 if rk > thr else (0 if rk < -thr else -1)
    return Labels(label, t1, ret)


def overlap_weights(t0: np.ndarray, t1: np.ndarray, n_bars: int) -> np.ndarray:
    """Average uniqueness of each label over the bars it spans, ``(t0, t1]`` (Lopez de Prado, ch. 4).

    A bar covered by ``c`` labels gives each of them ``1/c``; a label's weight is the mean over its bars,
    so labels that share their bars with many others weigh less. Weights are scaled to mean 1.
    """
    t0 = np.asarray(t0, dtype=np.int64)
    t1 = np.asarray(t1, dtype=np.int64)
    if len(t0) == 0:
        return np.zeros(0)
    cover = np.zeros(n_bars + 1, dtype=np.int64)
    np.add.at(cover, t0 + 1, 1)
    np.add.at(cover, t1 + 1, -1)
    conc = np.cumsum(cover)[:n_bars]
    inv = np.where(conc > 0, 1.0 / np.maximum(conc, 1), 0.0)
    csum = np.concatenate([[0.0], np.cumsum(inv)])
    w = (csum[t1 + 1] - csum[t0 + 1]) / np.maximum(t1 - t0, 1)
    mean = w.mean()
    return w / mean if mean > 0 else np.ones_like(w)
