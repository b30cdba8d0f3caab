"""The indicator contract and the TA-Lib wrapper shared by every streaming and batch indicator.

Bad-input policy (the same in both forms, so streaming always equals batch):

* A step whose inputs are not all finite (NaN, +inf, -inf) is *skipped*: the streaming object keeps
  its value and counts the step in ``rejected``; the batch form computes over the finite rows only
  and carries the last value forward over the skipped rows.
* Until an indicator has seen enough finite steps (its warm-up) ``ready`` is False and ``value`` is
  NaN; the batch form returns NaN for those rows. NaN therefore only ever means "not ready yet";
  consumers test ``ready`` (or ``np.isfinite``) before acting.
* Out-of-order and duplicated bars or trades are dropped before they reach an indicator
  (see :mod:`tradingsystem.features.guards`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import isfinite
from typing import Any

import numpy as np
import talib
import talib.abstract
import talib.stream

NAN = float("nan")
_Function: Any = getattr(talib.abstract, "Function")  # noqa: B009 - not in the stubs
FloatArray = np.ndarray

__all__ = [
    "NAN",
    "Indicator",
    "TalibIndicator",
    "carry_forward",
    "finite_mask",
    "skip_nonfinite",
    "talib_batch",
]


class Indicator:
    """Base of the streaming indicators: ``update(*inputs)`` returns the new value.

    ``value`` is a float (a tuple of floats for multi-output indicators), NaN while not ``ready``.
    """

    outputs: tuple[str, ...] = ("value",)
    value: Any
    ready: bool
    rejected: int

    def update(self, *inputs: float) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def reset(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def finite_mask(arrays: Sequence[FloatArray]) -> FloatArray:
    """Rows where every input is finite."""
    ok: FloatArray = np.isfinite(arrays[0])
    for a in arrays[1:]:
        ok &= np.isfinite(a)
    return ok


def carry_forward(values: FloatArray, ok: FloatArray) -> FloatArray:
    """Scatter ``values`` (one per True row of ``ok``) back to full length, carrying forward over gaps."""
    n = len(ok)
    pos = np.where(ok, np.arange(n), -1)
    np.maximum.accumulate(pos, out=pos)
    full = np.full(n, NAN)
    full[ok] = values
    have = pos >= 0
    out = np.full(n, NAN)
    out[have] = full[pos[have]]
    return out


def _all_finite(arrs: Sequence[FloatArray]) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrs)


def skip_nonfinite(fn: Callable[..., Any], arrays: Sequence[FloatArray], n_out: int) -> tuple[FloatArray, ...]:
    """Apply a batch function under the skip policy; always returns a tuple of ``n_out`` arrays."""
    arrs = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
    n = len(arrs[0])
    if any(len(a) != n for a in arrs):
        raise ValueError("inputs have different lengths")
    if _all_finite(arrs):
        res = fn(*arrs)
        return res if isinstance(res, tuple) else (res,)
    ok = finite_mask(arrs)
    if not ok.any():
        return tuple(np.full(n, NAN) for _ in range(n_out))
    res = fn(*[a[ok] for a in arrs])
    res = res if isinstance(res, tuple) else (res,)
    return tuple(carry_forward(r, ok) for r in res)


_LOOKBACK: dict[tuple[str, tuple[tuple[str, Any], ...]], int] = {}


def _lookback(func: str, params: dict[str, Any]) -> int:
    key = (func, tuple(sorted(params.items())))
    lb = _LOOKBACK.get(key)
    if lb is None:
        f = _Function(func)
        f.parameters = params
        lb = int(f.lookback)
        _LOOKBACK[key] = lb
    return lb


_N_OUT: dict[str, int] = {}


def _n_out(func: str) -> int:
    n = _N_OUT.get(func)
    if n is None:
        n = _N_OUT[func] = len(_Function(func).info["output_names"])
    return n


def talib_batch(func: str, arrays: Sequence[FloatArray], params: dict[str, Any]) -> tuple[FloatArray, ...]:
    """Run TA-Lib's batch ``func`` under the skip policy."""
    fn = getattr(talib, func)
    n_out = _n_out(func)

    def call(*a: FloatArray) -> Any:
        if len(a[0]) == 0:
            return tuple(np.empty(0) for _ in range(n_out)) if n_out > 1 else np.empty(0)
        return fn(*a, **params)

    return skip_nonfinite(call, arrays, n_out)


class TalibIndicator(Indicator):
    """A TA-Lib 0.8 ``talib.stream`` handle behind the skip and warm-up policy.

    Finite steps are buffered until TA-Lib's lookback is covered; then the O(1) stream handle is opened on
    that history, so every later value equals TA-Lib's batch output on the same series.
    """

    __slots__ = (
        "_func",
        "_handle",
        "_hist",
        "_n_in",
        "_nan",
        "_need",
        "_params",
        "ready",
        "rejected",
        "value",
    )

    def __init__(self, func: str, n_inputs: int, **params: Any) -> None:
        self._func = func
        self._params = params
        self._n_in = n_inputs
        self._need = _lookback(func, params) + 1
        n_out = _n_out(func)
        self.outputs = tuple(_Function(func).info["output_names"]) if n_out > 1 else ("value",)
        self._nan: Any = tuple([NAN] * n_out) if n_out > 1 else NAN
        self.reset()

    def reset(self) -> None:
        self._handle: Any = None
        self._hist: list[tuple[float, ...]] = []
        self.value = self._nan
        self.ready = False
        self.rejected = 0

    def update(self, *inputs: float) -> Any:
        if not isfinite(sum(inputs)):  # NaN or inf in any input (sum propagates both)
            self.rejected += 1
            return self.value
        h = self._handle
        if h is not None:
            self.value = v = h.update(*inputs)
            return v
        self._hist.append(inputs)
        if len(self._hist) >= self._need:
            cols = [np.array(c, dtype=np.float64) for c in zip(*self._hist, strict=True)]
            h = getattr(talib.stream, self._func)(*cols, **self._params)
            self._handle = h
            self._hist = []
            self.value = h.value
            self.ready = True
        return self.value

    @property
    def warmup(self) -> int:
        """Finite steps needed before the first value."""
        return self._need
