"""Windows of feature rows for sequence models, as the live publisher sees them.

The live publisher calls the model once per bar whose model inputs are all finite, so the sequence a
model reads is every such row of the feature table, in time order, across sessions: :class:`Sequences`.
The window of dataset row ``i`` is the ``window`` rows of that sequence ending at the row stamped
``ds.ts_feature[i]`` (its own decision bar): inputs known at the decision and nothing later.
Scaling (mean and standard deviation per column) is fitted on the training rows of a fold only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Scaler", "Sequences"]


@dataclass(frozen=True)
class Sequences:
    """Feature rows with every model input finite: ``ts`` (feature timestamps) and ``F`` (rows x names)."""

    names: tuple[str, ...]
    ts: np.ndarray
    F: np.ndarray

    @classmethod
    def from_table(cls, table: Mapping[str, Any], names: Sequence[str]) -> Sequences:
        """From a feature table (``ts_event`` + columns) restricted to ``names``."""
        F = np.column_stack([np.asarray(table[n], dtype=np.float64) for n in names])
        ok = np.all(np.isfinite(F), axis=1)
        return cls(tuple(names), np.asarray(table["ts_event"], dtype=np.int64)[ok], F[ok])

    def rows(self, ts_feature: np.ndarray) -> np.ndarray:
        """Sequence index of each feature timestamp (all must be present)."""
        j = np.searchsorted(self.ts, ts_feature)
        jc = np.minimum(j, max(len(self.ts) - 1, 0))
        if len(self.ts) == 0 or np.any(self.ts[jc] != ts_feature):
            raise ValueError("a dataset row has no matching feature row in the sequence")
        return np.asarray(jc)

    def complete(self, j: np.ndarray, window: int) -> np.ndarray:
        """Rows whose window has ``window`` real rows (no padding)."""
        return np.asarray(j >= window - 1)


@dataclass(frozen=True)
class Scaler:
    """Column means and scales fitted on training rows; ``apply`` standardises and clips to ``[-clip, clip]``."""

    mean: np.ndarray
    scale: np.ndarray
    clip: float

    @classmethod
    def fit(cls, F: np.ndarray, clip: float) -> Scaler:
        sd = F.std(axis=0)
        return cls(F.mean(axis=0), np.where(sd > 0, sd, 1.0), clip)

    def apply(self, F: np.ndarray) -> np.ndarray:
        return np.asarray(np.clip((F - self.mean) / self.scale, -self.clip, self.clip), dtype=np.float32)

    def padded(self, F: np.ndarray, window: int) -> np.ndarray:
        """Scaled rows with ``window - 1`` zero rows in front, so the window of row ``j`` is
        ``padded[j : j + window]`` (zeros, the training mean, stand in before the first row)."""
        out = np.zeros((len(F) + window - 1, F.shape[1]), dtype=np.float32)
        out[window - 1 :] = self.apply(F)
        return out


def gather(padded: np.ndarray, j: np.ndarray, window: int) -> np.ndarray:
    """Windows ``(len(j), window, columns)`` ending at sequence rows ``j``."""
    return np.ascontiguousarray(padded[j[:, None] + np.arange(window)[None, :]])
