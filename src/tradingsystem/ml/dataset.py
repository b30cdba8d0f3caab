"""Point-in-time datasets: a feature table joined to bars and labels, with timestamps audited.

The decision for row ``i`` is taken at ``ts[i]``, the close of bar ``i``. Its features must carry a
timestamp ``<= ts[i]`` (they are the feature table's row for that bar), and its label starts after
``ts[i]`` and ends at ``ts_end[i]``, the close of bar ``t1[i]``. :func:`audit` checks both, and
:func:`lookahead_probe` catches a feature that peeks at later bars by recomputing it on truncated input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tradingsystem.ml.labels import LabelSpec, make_labels, overlap_weights

__all__ = ["Dataset", "LeakageError", "audit", "build_dataset", "lookahead_probe"]

NS = 1_000_000_000
_UTC_OFFSET = 3 * 3600 * NS


class LeakageError(AssertionError):
    """A row would use information not available at its decision time."""


@dataclass(frozen=True)
class Dataset:
    """Rows with finite features and a label window inside the session, sorted by decision time.

    ``y`` is 1 (up), 0 (down) or -1 (the move stayed inside the cost band); models train and hit rates
    are scored on ``usable`` rows (``y >= 0``) only, while P&L after costs is taken over every row.

    ``t0``/``t1`` are bar indices of the decision and label end in the source bars; ``ts``/``ts_end`` the
    matching instants; ``ts_feature`` the timestamp of the feature row used; ``ret_bps`` the label-window
    return; ``prev_ret_bps`` the return over the ``horizon`` bars up to the decision (for the persistence
    baseline); ``hour`` the B3 local hour of the decision.
    """

    names: tuple[str, ...]
    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    ts: np.ndarray
    ts_feature: np.ndarray
    ts_end: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    ret_bps: np.ndarray
    prev_ret_bps: np.ndarray
    hour: np.ndarray
    spec: LabelSpec
    n_bars: int

    def __len__(self) -> int:
        return len(self.y)

    @property
    def usable(self) -> np.ndarray:
        """Rows with a direction label (outside the cost band)."""
        return self.y >= 0

    def take(self, idx: np.ndarray) -> Dataset:
        """Rows ``idx`` (weights kept as computed on the full set)."""
        arrays = {k: getattr(self, k)[idx] for k in ("X", "y", "weight", "ts", "ts_feature", "ts_end", "t0", "t1",
                                                       "ret_bps", "prev_ret_bps", "hour")}  # fmt: skip
        return replace(self, **arrays)

    def between(self, start_ns: int | None, end_ns: int | None) -> Dataset:
        """Rows whose decision time lies in ``[start_ns, end_ns)``."""
        m = np.ones(len(self), dtype=bool)
        if start_ns is not None:
            m &= self.ts >= start_ns
        if end_ns is not None:
            m &= self.ts < end_ns
        return self.take(np.flatnonzero(m))


def build_dataset(features: Mapping[str, Any], bars: Mapping[str, Any], spec: LabelSpec,
                  names: Sequence[str] | None = None) -> Dataset:  # fmt: skip
    """Join a feature table (``ts_event`` + columns) to bars (``ts_event``, ``close``, ``high``, ``low``).

    Each feature row is matched to the bar with the same ``ts_event`` (a feature row with no such bar is
    dropped); rows with any non-finite feature, or whose label window would leave the session, are dropped.
    """
    bts = np.asarray(bars["ts_event"], dtype=np.int64)
    if len(bts) > 1 and not np.all(np.diff(bts) > 0):
        keep = np.concatenate([[True], np.diff(bts) > 0])
        keep &= np.maximum.accumulate(bts) == bts
        bars = {k: np.asarray(v)[keep] for k, v in bars.items()}
        bts = bts[keep]
    close = np.asarray(bars["close"], dtype=np.float64)
    lab = make_labels(bts, close, np.asarray(bars.get("high", close)), np.asarray(bars.get("low", close)), spec)
    fts = np.asarray(features["ts_event"], dtype=np.int64)
    cols = tuple(names) if names is not None else tuple(k for k in features if k != "ts_event")
    X_all = np.column_stack([np.asarray(features[c], dtype=np.float64) for c in cols]) if cols else np.zeros(
        (len(fts), 0))
    pos = np.searchsorted(bts, fts)
    pos_c = np.minimum(pos, max(len(bts) - 1, 0))
    matched = (pos < len(bts)) & (bts[pos_c] == fts) if len(bts) else np.zeros(len(fts), dtype=bool)
    rows = np.flatnonzero(matched & np.all(np.isfinite(X_all), axis=1))
    t0 = pos_c[rows]
    windowed = lab.t1[t0] >= 0
    rows, t0 = rows[windowed], t0[windowed]
    t1 = lab.t1[t0]
    h = spec.horizon
    prev = np.full(len(t0), np.nan)
    has_prev = t0 >= h
    prev[has_prev] = (close[t0[has_prev]] / close[t0[has_prev] - h] - 1.0) * 1e4
    ts = bts[t0]
    hour = ((ts - _UTC_OFFSET) // (3600 * NS)) % 24
    ds = Dataset(
        names=cols, X=X_all[rows], y=lab.label[t0], weight=overlap_weights(t0, t1, len(bts)), ts=ts,
        ts_feature=fts[rows], ts_end=bts[t1], t0=t0, t1=t1, ret_bps=lab.ret_bps[t0], prev_ret_bps=prev,
        hour=hour.astype(np.int64), spec=spec, n_bars=len(bts),
    )  # fmt: skip
    audit(ds)
    return ds


def audit(ds: Dataset) -> None:
    """Raise :class:`LeakageError` if a feature is later than its decision or a label not after it."""
    if np.any(ds.ts_feature > ds.ts):
        i = int(np.argmax(ds.ts_feature > ds.ts))
        raise LeakageError(f"row {i}: feature timestamp {ds.ts_feature[i]} is after the decision {ds.ts[i]}")
    if np.any(ds.ts_end <= ds.ts) or np.any(ds.t1 <= ds.t0):
        i = int(np.argmax(ds.ts_end <= ds.ts))
        raise LeakageError(f"row {i}: label ends at {ds.ts_end[i]}, not after the decision {ds.ts[i]}")
    if len(ds.ts) > 1 and np.any(np.diff(ds.ts) <= 0):
        raise LeakageError("decision times are not strictly increasing")


def lookahead_probe(compute: Callable[[Mapping[str, np.ndarray]], Mapping[str, Any]],
                    bars: Mapping[str, Any], cuts: Sequence[int] | None = None,
                    names: Sequence[str] | None = None) -> None:  # fmt: skip
    """Recompute features on bars truncated at each cut; a row must not change when later bars vanish.

    ``compute`` maps bar columns to a feature table (``ts_event`` + columns). Raises :class:`LeakageError`
    naming the first feature whose value at a kept row depends on a later bar (NaN equals NaN).
    """
    cols = {k: np.asarray(v) for k, v in bars.items()}
    n = len(cols["ts_event"])
    full = compute(cols)
    cols_to_check = tuple(names) if names is not None else tuple(k for k in full if k != "ts_event")
    if cuts is None:
        cuts = sorted({max(2, n // 3), max(2, n // 2), max(2, 2 * n // 3), max(2, n - 1)})
    fts = np.asarray(full["ts_event"], dtype=np.int64)
    for cut in cuts:
        part = compute({k: v[:cut] for k, v in cols.items()})
        pts = np.asarray(part["ts_event"], dtype=np.int64)
        m = len(pts)
        if not np.array_equal(pts, fts[:m]):
            raise LeakageError(f"cut {cut}: feature rows differ in their timestamps")
        for name in cols_to_check:
            a = np.asarray(full[name], dtype=np.float64)[:m]
            b = np.asarray(part[name], dtype=np.float64)
            same = (a == b) | (np.isnan(a) & np.isnan(b))
            if not np.all(same):
                i = int(np.argmin(same))
                raise LeakageError(f"feature {name!r} looks ahead: row {i} changes when bars after index {cut - 1} "
                                   f"are removed ({a[i]!r} vs {b[i]!r})")  # fmt: skip
