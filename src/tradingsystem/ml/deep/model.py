"""A fitted sequence model as stored in the registry: its spec, scaler, ONNX graph and TorchScript trace.

Inference is on CPU in float32. The live path (one window at a time) runs ONNX Runtime on one thread,
the faster engine for a single row; batch scoring (backtests, evaluation) runs a frozen TorchScript
trace of the network's last-step form (``nets.last_step_form``: only what the output reads is computed)
under ``torch.inference_mode`` in chunks of ``CHUNK`` windows, each chunk a slice (consecutive rows) or
one gather of a strided view of the scaled rows, never a per-window copy (measured in
``benchmarks/bench_deep.py``). A model stored without a trace (stored before traces) scores batches with
ONNX Runtime. The pickle holds plain bytes and arrays, no torch objects, so loading
a model imports neither torch nor onnxruntime until it is first scored.

Live (:meth:`DeepSignalModel.predict_one`) the model keeps the last ``window`` rows it was given and
returns None until it has seen ``window`` rows; offline (:meth:`predict_rows`) the window of an early row
is padded with the training mean. On the same rows both give the same probability (tested to 1e-6).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tradingsystem.ml.deep.data import Scaler, Sequences, gather
from tradingsystem.ml.deep.spec import DeepSpec
from tradingsystem.ml.models import Prediction

__all__ = ["DeepSignalModel"]

CHUNK = 1024  # windows per batch call: measured fastest per CPU-second (larger chunks fall out of cache)


def _session(onnx: bytes, threads: int) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting on a shared machine
    return ort.InferenceSession(onnx, so, providers=["CPUExecutionProvider"])


def _prediction(p: np.ndarray) -> Prediction:
    up = p > 0.5
    return Prediction(np.where(up, 1, -1), p, np.abs(2.0 * p - 1.0), np.ones(len(p)))


@dataclass
class DeepSignalModel:
    """See the module docstring. ``names`` are the input columns in order (the features plus raw returns)."""

    spec: DeepSpec
    names: tuple[str, ...]
    scaler: Scaler
    onnx: bytes
    info: dict[str, Any] = field(default_factory=dict)
    script: bytes = b""
    _live: Any = field(default=None, repr=False, compare=False)
    _batch: Any = field(default=None, repr=False, compare=False)
    _traced: Any = field(default=None, repr=False, compare=False)
    _buf: deque[np.ndarray] = field(default_factory=deque, repr=False, compare=False)

    @property
    def kind(self) -> str:
        return self.spec.kind

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_live", "_batch", "_traced", "_buf")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"script": b"", **state}, _live=None, _batch=None, _traced=None, _buf=deque())

    def _batch_logits(self, padded: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Raw scores of the windows ending at rows ``j`` of ``padded``, scored by the TorchScript trace."""
        import io
        import warnings

        import torch

        if self._traced is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 marks TorchScript deprecated
                self._traced = torch.jit.load(io.BytesIO(self.script))  # type: ignore[no-untyped-call]
        w, c = self.spec.window, padded.shape[1]
        x = torch.from_numpy(padded)
        windows = x.as_strided((len(padded) - w + 1, w, c), (c, c, 1))
        j = np.asarray(j, dtype=np.int64)
        if len(j) and j[-1] - j[0] == len(j) - 1 and np.all(np.diff(j) == 1):  # consecutive rows: slices
            chunks = [windows[j[0] + a : j[0] + min(a + CHUNK, len(j))] for a in range(0, len(j), CHUNK)]
        else:
            jt = torch.from_numpy(j)
            chunks = [windows[jt[a : a + CHUNK]] for a in range(0, len(j), CHUNK)]
        with torch.inference_mode():
            out = [self._traced(chunk) for chunk in chunks]
        return torch.cat(out).double().numpy() if out else np.zeros(0)

    def logits(self, windows: np.ndarray, single: bool = False) -> np.ndarray:
        """Raw scores for scaled windows ``(n, window, columns)``."""
        if single:
            if self._live is None:
                self._live = _session(self.onnx, 1)
            sess = self._live
        else:
            if self._batch is None:
                self._batch = _session(self.onnx, 0)
            sess = self._batch
        out = [sess.run(None, {"x": windows[a : a + CHUNK]})[0] for a in range(0, len(windows), CHUNK)]
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)

    def predict_rows(self, seq: Sequences, j: np.ndarray) -> Prediction:
        """Predictions at sequence rows ``j`` (windows read only rows ``<= j``)."""
        cols = [seq.names.index(n) for n in self.names]
        last = int(j.max()) + 1 if len(j) else 0
        padded = self.scaler.padded(seq.F[:last, cols], self.spec.window)
        if self.script and len(j):
            return _prediction(1.0 / (1.0 + np.exp(-self._batch_logits(padded, j))))
        z = np.concatenate([self.logits(gather(padded, j[a : a + CHUNK], self.spec.window))
                            for a in range(0, len(j), CHUNK)]) if len(j) else np.zeros(0)  # fmt: skip
        return _prediction(1.0 / (1.0 + np.exp(-z)))

    def predict(self, X: np.ndarray) -> Prediction:
        """Predictions at every row of ``X``, read as the consecutive rows a live model would be fed."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        seq = Sequences(self.names, np.arange(len(X), dtype=np.int64), X)
        return self.predict_rows(seq, np.arange(len(X)))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.predict(X).probability

    def reset(self) -> None:
        """Forget the live window (warm-up starts again)."""
        self._buf.clear()

    def predict_one(self, x: np.ndarray) -> tuple[int, float, float] | None:
        """Feed the next row; ``(direction, probability, confidence)`` once ``window`` rows are in, else None."""
        self._buf.append(self.scaler.apply(np.asarray(x, dtype=np.float64).reshape(1, -1))[0])
        w = self.spec.window
        if len(self._buf) > w:
            self._buf.popleft()
        if len(self._buf) < w:
            return None
        z = float(self.logits(np.stack(self._buf)[None, :, :], single=True)[0])
        p = 1.0 / (1.0 + np.exp(-z))
        return (1 if p > 0.5 else -1), float(p), float(abs(2.0 * p - 1.0))
