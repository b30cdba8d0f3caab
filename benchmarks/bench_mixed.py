"""Speed of a stored ensemble with sequence members (``tradingsystem train`` with e.g.
``config/ml/petr4_mixed_m1.yaml``) on real bars; prints one JSON object.

Live: ``predict_one`` p50/p99 in µs of wall and thread CPU time, window already full. Batch:
``predict_rows`` over every row of the period, in rows/s of wall and of process CPU time. Reference, in
the same run: the same numbers for the ensemble's first sequence member alone.

Run: ``python benchmarks/bench_mixed.py --registry runs/models --model petr4_m1_mixed
--input ../shared/data/b3_stocks_m1/PETR4_M1.csv --start 2020-07-01 --end 2020-08-31``.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tradingsystem.domain.instruments import AssetClass
from tradingsystem.features import FeatureSet
from tradingsystem.ml import ModelRegistry
from tradingsystem.ml.deep import MixedSignalModel, Sequences
from tradingsystem.runtime.ml import load_bars


def speed(model: Any, seq: Sequences, window: int, ticks: int = 2000) -> dict[str, float]:
    model.reset()
    for x in seq.F[:window]:
        model.predict_one(x)
    wall, cpu = [], []
    for x in seq.F[window : window + ticks]:
        t, c = time.perf_counter_ns(), time.thread_time_ns()
        model.predict_one(x)
        cpu.append(time.thread_time_ns() - c)
        wall.append(time.perf_counter_ns() - t)
    j = np.arange(len(seq.ts))
    model.predict_rows(seq, j[:100])
    t, c = time.perf_counter(), time.process_time()
    model.predict_rows(seq, j)
    w, p = time.perf_counter() - t, time.process_time() - c
    q = {f"{k}{n}_us": round(float(np.percentile(v, n)) / 1e3, 1) for k, v in (("p", wall), ("cpu_p", cpu))
         for n in (50, 99)}  # fmt: skip
    return {**q, "batch_rows_per_s": round(len(j) / w), "batch_rows_per_cpu_s": round(len(j) / p)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry", type=Path, default=Path("runs/models"))
    ap.add_argument("--model", default="petr4_m1_mixed")
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2020, 7, 1))
    ap.add_argument("--end", type=date.fromisoformat, default=date(2020, 8, 31))
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, card = ModelRegistry(a.registry).load(a.model)
    if not isinstance(model, MixedSignalModel):
        raise SystemExit(f"error: {a.model} is not an ensemble with sequence members")
    cols = load_bars(card["instrument"], a.start, a.end, 60 * 10**9, AssetClass(card["asset_class"]), a.input)
    seq = Sequences.from_table(FeatureSet.from_yaml(card["feature_set"]["yaml"]).compute(cols), model.names)
    member = model.deep[0]
    print(json.dumps({"bench": "mixed_inference", "model": card["model_id"], "members": list(model.spec.members),
                      "rows": len(seq.ts), "torch_threads": a.threads, **speed(model, seq, model.window),
                      "reference": {"model": f"{member.kind} member alone",
                                    **speed(member, seq, member.spec.window)}}))  # fmt: skip


if __name__ == "__main__":
    main()
