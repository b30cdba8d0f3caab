"""A synthetic market whose next return is driven by a feature seen ``lag`` bars earlier."""

from __future__ import annotations

import numpy as np
import torch

from tests.ml.helpers import BARS_PER_DAY, NS
from tradingsystem.ml import LabelSpec, build_dataset
from tradingsystem.ml.dataset import Dataset
from tradingsystem.ml.deep import DeepSpec, Sequences

LAG = 5
NAMES = ("pulse", "noise0", "noise1")


def tiny(kind: str, **kw: object) -> DeepSpec:
    """A model small and short enough for the suite (torch on one thread)."""
    torch.set_num_threads(1)
    base = {"kind": kind, "window": 8, "hidden": 8, "patch": 2, "heads": 2, "epochs": 8, "patience": 3,
            "batch_size": 128, "lr": 3e-3, "dropout": 0.0, "device": "cpu"}  # fmt: skip
    return DeepSpec.model_validate({**base, **kw})


def lagged(n_days: int = 6, seed: int = 5, lag: int = LAG) -> tuple[Dataset, Sequences, dict, dict]:
    """Bars whose return into bar ``t + 1`` is ``1e-3 * pulse[t - lag]`` plus noise; a one-bar label."""
    rng = np.random.default_rng(seed)
    n = n_days * BARS_PER_DAY
    day0 = np.datetime64("2026-03-02T13:00").astype("datetime64[ns]").astype(np.int64)
    ts_open = day0 + (np.arange(n) // BARS_PER_DAY) * 86_400 * NS + (np.arange(n) % BARS_PER_DAY) * 60 * NS
    pulse = rng.normal(size=n)
    r = 1e-3 * rng.normal(size=n)
    r[lag + 1 :] += 1e-3 * pulse[: n - lag - 1]
    close = 3000 * np.exp(np.cumsum(r))
    bars = {"ts_open": ts_open, "ts_event": ts_open + 60 * NS, "open": np.r_[close[0], close[:-1]],
            "high": close, "low": close, "close": close, "volume": np.full(n, 100)}  # fmt: skip
    feats = {"ts_event": bars["ts_event"], "pulse": pulse, "noise0": rng.normal(size=n),
             "noise1": rng.normal(size=n)}  # fmt: skip
    ds = build_dataset(feats, bars, LabelSpec(horizon=1, threshold_bps=0.1), NAMES)
    return ds, Sequences.from_table(feats, NAMES), bars, feats
