"""Purged and embargoed walk-forward splits, expanding or rolling.

Samples are rows of a :class:`~tradingsystem.ml.dataset.Dataset`, sorted by decision bar ``t0``; each
label spans bars ``(t0, t1]``. The test windows are consecutive blocks at the end of the data. A training
sample is kept only if it comes before its test window and its label ends at least ``embargo`` bars
before the window's first decision bar (purge plus embargo), so no training label overlaps, or sits right
next to, a test window. ``rolling`` keeps at most ``train_size`` samples before the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["PurgedWalkForward", "purge_train"]


def purge_train(train: np.ndarray, t0: np.ndarray, t1: np.ndarray, test_start_bar: int, test_end_bar: int,
                embargo: int) -> np.ndarray:  # fmt: skip
    """Drop training rows whose label window ``[t0, t1]`` reaches into ``[start - embargo, end + embargo]``."""
    lo, hi = test_start_bar - embargo, test_end_bar + embargo
    overlap = (t1[train] >= lo) & (t0[train] <= hi)
    return np.asarray(train[~overlap])


@dataclass(frozen=True)
class PurgedWalkForward:
    """``n_splits`` test windows of ``test_size`` rows (default: the last half of the data split evenly)."""

    n_splits: int = 4
    mode: Literal["expanding", "rolling"] = "expanding"
    test_size: int | None = None
    train_size: int | None = None  # rolling: rows before the window kept (default: as many as the first fold)
    embargo: int = 0  # bars
    min_train: int = 50

    def split(self, t0: np.ndarray, t1: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` row indices, in time order."""
        t0 = np.asarray(t0, dtype=np.int64)
        t1 = np.asarray(t1, dtype=np.int64)
        n = len(t0)
        if n and np.any(np.diff(t0) < 0):
            raise ValueError("rows must be sorted by t0")
        test_size = self.test_size or n // (2 * self.n_splits)
        if test_size <= 0:
            raise ValueError(f"too few rows ({n}) for {self.n_splits} splits")
        first = n - self.n_splits * test_size
        if first < self.min_train:
            raise ValueError(f"too few rows ({n}) for {self.n_splits} test windows of {test_size} and "
                             f"{self.min_train} training rows")  # fmt: skip
        width = self.train_size or first
        for k in range(self.n_splits):
            a = first + k * test_size
            b = a + test_size if k < self.n_splits - 1 else n
            test = np.arange(a, b)
            lo = 0 if self.mode == "expanding" else max(0, a - width)
            train = purge_train(np.arange(lo, a), t0, t1, int(t0[a]), int(t1[b - 1]), self.embargo)
            if len(train) < self.min_train:
                raise ValueError(f"fold {k}: only {len(train)} training rows after purging")
            yield train, test
