"""Fitting one sequence model on a fold's training rows, with early stopping on a purged validation tail.

The training rows (sorted in time) are split into a head and a tail of ``val_frac``; head rows whose
label reaches the tail's first decision bar are dropped (purge). The network trains on the head with
AdamW and a weighted binary cross-entropy (weights: label uniqueness), is scored on the tail after
every epoch, and the epoch with the lowest validation log loss is kept (training stops after
``patience`` epochs without improvement). Only sequence rows up to the last training row are handed to
the network, so nothing later can be read. Seeds are fixed and torch's deterministic algorithms are on
(on CUDA, where some kernels have no deterministic form, torch warns instead of failing).

On CUDA the batch is ``cuda_batch_size`` and the forward pass runs under float16 autocast with a
gradient scaler. The exported model is always float32 on CPU.
"""

from __future__ import annotations

import copy
import io
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tradingsystem.ml.deep.data import Scaler, Sequences
from tradingsystem.ml.deep.model import DeepSignalModel
from tradingsystem.ml.deep.spec import DeepSpec
from tradingsystem.ml.metrics import log_loss_brier

__all__ = ["Progress", "fit_deep", "resolve_device"]

Progress = Callable[[dict[str, Any]], None]

# kinds whose batch scoring runs a TorchScript trace of their last-step form (``nets.last_step_form``):
# faster than ONNX Runtime on the full network per CPU second for all three (``benchmarks/bench_deep.py``)
TRACED_KINDS = ("lstm", "transformer", "tcn")


def resolve_device(device: str) -> str:
    """``auto`` is ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without one is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but torch sees no CUDA device (use --device cpu or auto)")
    return device


def _export(net: Any, window: int, d_in: int) -> bytes:
    import torch

    net = net.to("cpu").float().eval()
    buf = io.BytesIO()
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused encoder kernel has no ONNX form
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape arithmetic, fixed here by the window
            torch.onnx.export(net, (torch.zeros(1, window, d_in),), buf,  # type: ignore[arg-type]
                              dynamo=False, input_names=["x"], output_names=["logit"],
                              dynamic_axes={"x": {0: "batch"}, "logit": {0: "batch"}}, opset_version=17)  # fmt: skip
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
    return buf.getvalue()


def _trace(net: Any, window: int, d_in: int) -> bytes:
    """A frozen TorchScript trace of ``net``'s last-step form (CPU, float32, eval) for batch scoring."""
    import torch

    from tradingsystem.ml.deep.nets import last_step_form

    net = last_step_form(net.to("cpu").float().eval())
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(net, torch.zeros(1, window, d_in))  # type: ignore[no-untyped-call]
        torch.jit.save(torch.jit.freeze(traced), buf)
    return buf.getvalue()


def _split(t0: np.ndarray, t1: np.ndarray, val_frac: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(t0)
    cut = min(max(int(n * (1 - val_frac)), 1), n - 1)
    head = np.arange(cut)
    head = head[t1[head] < t0[cut]]
    return head, np.arange(cut, n)


def fit_deep(spec: DeepSpec, seq: Sequences, j: np.ndarray, y: np.ndarray, w: np.ndarray, t0: np.ndarray,
             t1: np.ndarray, progress: Progress | None = None, fold: int | None = None) -> DeepSignalModel:  # fmt: skip
    """Fit ``spec`` on samples at sequence rows ``j`` (time order) with labels ``y`` (0/1) and weights ``w``."""
    import torch

    from tradingsystem.ml.deep.nets import build_net

    if len(j) < 40 or len(np.unique(y)) < 2:
        raise ValueError(f"too few training rows ({len(j)}) or a single class for a {spec.kind} model")
    device = resolve_device(spec.device)
    cuda = device == "cuda"
    was_det = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=cuda)
    if cuda:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    started = time.perf_counter()
    try:
        torch.manual_seed(spec.seed)
        gen = torch.Generator().manual_seed(spec.seed)
        W = spec.window
        scaler = Scaler.fit(seq.F[j], spec.clip)
        padded = torch.from_numpy(scaler.padded(seq.F[: int(j.max()) + 1], W)).to(device)
        head, tail = _split(t0, t1, spec.val_frac)
        if len(head) < 20 or len(tail) < 20 or len(np.unique(y[head])) < 2:
            raise ValueError(f"too few rows for a validation split ({len(head)} head, {len(tail)} tail)")
        jt = torch.from_numpy(np.asarray(j, dtype=np.int64)).to(device)
        yt = torch.from_numpy(np.asarray(y, dtype=np.float32)).to(device)
        wn = np.asarray(w, dtype=np.float64)
        wt = torch.from_numpy((wn / wn[head].mean()).astype(np.float32)).to(device)
        steps = torch.arange(W, device=device)
        net = build_net(spec, seq.F.shape[1]).to(device)
        opt = torch.optim.AdamW(net.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
        amp_dtype = torch.float16  # cuDNN's LSTM, convolutions and attention all take float16
        scaler_amp = torch.amp.GradScaler("cuda", enabled=cuda)
        batch = spec.cuda_batch_size if cuda else spec.batch_size

        def forward(rows: torch.Tensor) -> torch.Tensor:
            x = padded[jt[rows][:, None] + steps[None, :]]
            with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=cuda):
                logit: torch.Tensor = net(x).float()
                return logit

        def score(rows: np.ndarray) -> np.ndarray:
            net.eval()
            out = []
            with torch.no_grad():
                for a in range(0, len(rows), 4 * batch):
                    out.append(torch.sigmoid(forward(torch.from_numpy(rows[a : a + 4 * batch]).to(device))))
            net.train()
            return torch.cat(out).cpu().numpy().astype(np.float64)

        best: tuple[float, int, dict[str, Any]] | None = None
        head_t = torch.from_numpy(head).to(device)
        history: list[dict[str, float]] = []
        stale = 0
        net.train()
        for epoch in range(1, spec.epochs + 1):
            order = head_t[torch.randperm(len(head), generator=gen).to(device)]
            total, seen = 0.0, 0
            for a in range(0, len(order), batch):
                rows = order[a : a + batch]
                logit = forward(rows)
                loss = (torch.nn.functional.binary_cross_entropy_with_logits(logit, yt[rows], reduction="none")
                        * wt[rows]).mean()  # fmt: skip
                opt.zero_grad(set_to_none=True)
                scaler_amp.scale(loss).backward()  # type: ignore[no-untyped-call]
                scaler_amp.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                scaler_amp.step(opt)
                scaler_amp.update()
                total += float(loss.detach()) * len(rows)
                seen += len(rows)
            p = score(tail)
            val_loss, _ = log_loss_brier(y[tail], p)
            val_hit = float(np.mean((p > 0.5) == (y[tail] == 1)))
            rec = {"epoch": epoch, "loss": total / seen, "val_log_loss": val_loss, "val_hit_rate": val_hit}
            history.append(rec)
            if progress is not None:
                progress({"fold": fold, "kind": spec.kind, "epochs": spec.epochs, **rec})
            if best is None or val_loss < best[0] - 1e-6:
                best, stale = (val_loss, epoch, copy.deepcopy(net.state_dict())), 0
            else:
                stale += 1
                if stale >= spec.patience:
                    break
        assert best is not None
        net.load_state_dict(best[2])
        onnx = _export(net, W, seq.F.shape[1])
        script = _trace(net, W, seq.F.shape[1]) if spec.kind in TRACED_KINDS else b""
    finally:
        torch.use_deterministic_algorithms(was_det)
    info = {
        "device": device,
        "best_epoch": best[1],
        "val_log_loss": best[0],
        "epochs_run": len(history),
        "history": history,
        "n_train": len(head),
        "n_val": len(tail),
        "train_seconds": time.perf_counter() - started,
        "last_input_ts": int(seq.ts[int(j.max())]),
        "n_params": sum(int(v.numel()) for v in best[2].values()),
    }
    return DeepSignalModel(spec, seq.names, scaler, onnx, info, script)
