"""Deep-model benchmarks; prints one JSON object per line.

* ``deep_train``: training throughput (samples per second, epochs x training rows over the wall time
  of :func:`fit_deep`, validation and export included) per architecture at the default size, on CPU and,
  where torch sees one, on CUDA (mixed precision, the larger CUDA batch).
* ``deep_inference``: per architecture, the live path (``predict_one`` on the next row, window already
  full, ONNX Runtime) p50/p99 in µs of wall and of thread CPU time (steadier on a shared machine, where
  wall p99 is mostly scheduling) against a frozen TorchScript trace of the same network as the reference;
  and batch scoring (``predict_rows``: the TorchScript trace of the network's last-step form) in
  samples/s against the same ``predict_rows`` on ONNX Runtime (the full network, the model without its
  trace) as the reference. ``ratio_single_p50`` is TorchScript over ONNX Runtime latency; ``ratio_batch``
  (wall) and ``ratio_batch_cpu`` are the batch path over ONNX Runtime throughput; ``batch_max_abs_diff``
  the largest probability difference between the two. Batch rates are also given per second of process
  CPU time (all threads), which a busy machine disturbs less.

Run: ``python benchmarks/bench_deep.py [--rows 20000] [--features 37] [--threads 0]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch

from tradingsystem.ml.deep import DEEP_KINDS, DeepSpec, Sequences, fit_deep
from tradingsystem.ml.deep.model import CHUNK
from tradingsystem.ml.deep.nets import build_net


def emit(**kw: object) -> None:
    print(json.dumps(kw), flush=True)


def data(rows: int, d: int) -> tuple[Sequences, np.ndarray]:
    rng = np.random.default_rng(1)
    F = rng.normal(size=(rows, d))
    y = (np.r_[np.zeros(3), F[:-3, 0]] + rng.normal(size=rows) > 0).astype(np.int64)
    return Sequences(tuple(f"f{i}" for i in range(d)), np.arange(rows, dtype=np.int64), F), y


def pcts(ns: list[int]) -> dict[str, float]:
    a = np.asarray(ns) / 1e3
    return {"p50_us": round(float(np.percentile(a, 50)), 1), "p99_us": round(float(np.percentile(a, 99)), 1)}


def single(fn, rows: np.ndarray) -> dict[str, float]:  # type: ignore[no-untyped-def]
    wall, cpu = [], []
    for x in rows:
        t, c = time.perf_counter_ns(), time.thread_time_ns()
        fn(x)
        cpu.append(time.thread_time_ns() - c)
        wall.append(time.perf_counter_ns() - t)
    w, c = pcts(wall), pcts(cpu)
    return {**w, "cpu_p50_us": c["p50_us"], "cpu_p99_us": c["p99_us"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--features", type=int, default=37)
    ap.add_argument("--threads", type=int, default=0, help="torch threads for training (0: torch's default)")
    ap.add_argument("--ticks", type=int, default=2000)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    seq, y = data(a.rows, a.features)
    devices = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    for kind in DEEP_KINDS:
        base = DeepSpec(kind=kind, epochs=2, patience=5)
        j = np.arange(base.window - 1, a.rows)
        t0 = np.arange(len(j))
        model = None
        for dev in devices:
            spec = base.model_copy(update={"device": dev})
            m = fit_deep(spec, seq, j, y[j], np.ones(len(j)), t0, t0 + 1)
            rate = m.info["n_train"] * m.info["epochs_run"] / m.info["train_seconds"]
            emit(bench="deep_train", kind=kind, device=dev, rows=int(m.info["n_train"]), epochs=m.info["epochs_run"],
                 seconds=round(m.info["train_seconds"], 2), samples_per_s=round(rate), params=m.info["n_params"],
                 window=spec.window, hidden=spec.hidden, features=a.features, torch_threads=torch.get_num_threads())
            model = model or m
        assert model is not None
        W = model.spec.window
        model.reset()
        for x in seq.F[:W]:
            model.predict_one(x)
        live = single(model.predict_one, seq.F[W : W + a.ticks])
        jb = np.arange(W - 1, a.rows)
        model.predict_rows(seq, jb[:100])
        t, c = time.perf_counter(), time.process_time()
        fast = model.predict_rows(seq, jb).probability
        batch, batch_cpu = len(jb) / (time.perf_counter() - t), len(jb) / (time.process_time() - c)
        # reference: TorchScript of the same network, same windows
        net = build_net(model.spec, a.features).eval()
        padded = torch.from_numpy(model.scaler.padded(seq.F, W))
        with torch.no_grad():
            ts = torch.jit.freeze(torch.jit.trace(net, padded[None, :W]))
            one = single(ts, [padded[None, i : i + W] for i in range(W, W + a.ticks)])
        # reference for batches: the same predict_rows on ONNX Runtime (the model without its trace)
        ort = dataclasses.replace(model, script=b"")
        ort.predict_rows(seq, jb[:100])
        t, c = time.perf_counter(), time.process_time()
        ref = ort.predict_rows(seq, jb).probability
        ort_batch, ort_batch_cpu = len(jb) / (time.perf_counter() - t), len(jb) / (time.process_time() - c)
        engine = {"single": "onnxruntime", "batch": "torchscript" if model.script else "onnxruntime"}
        emit(bench="deep_inference", kind=kind, engine=engine,
             window=W, hidden=model.spec.hidden, features=a.features, single=live, rows=len(jb),
             chunk=CHUNK, torch_threads=torch.get_num_threads(),
             batch_max_abs_diff=float(np.abs(fast - ref).max()),
             batch_samples_per_s=round(batch), batch_samples_per_cpu_s=round(batch_cpu),
             reference={"single": {"engine": "torchscript", **one},
                        "batch": {"engine": "onnxruntime", "samples_per_s": round(ort_batch),
                                  "samples_per_cpu_s": round(ort_batch_cpu)}},
             ratio_single_p50=round(one["p50_us"] / live["p50_us"], 2),
             ratio_batch=round(batch / ort_batch, 2), ratio_batch_cpu=round(batch_cpu / ort_batch_cpu, 2),
             single_p99_under_1ms=live["p99_us"] < 1000, batch_at_least_100k=batch >= 100_000,
             batch_at_least_100k_per_cpu_s=batch_cpu >= 100_000)  # fmt: skip


if __name__ == "__main__":
    main()
