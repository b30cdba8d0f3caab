"""ML benchmarks; prints one JSON object per line.

* ``inference_tick``: one row through a fitted LightGBM :class:`SignalModel` on 50 features
  (``predict_one``), and through the live :class:`SignalPublisher` scoring path; p50/p99/max in µs of wall
  time, and of thread CPU time (steadier on a shared machine, where wall p99 is mostly scheduling).
* ``walk_forward``: walk-forward training (4 expanding purged folds, LightGBM, calibration) on a year of
  1-minute bars for one instrument (synthetic, 252 sessions x 415 bars, 50 features), CPU and wall seconds.

Run: ``python benchmarks/bench_ml.py [--ticks 20000] [--sessions 252] [--trials 0]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from tradingsystem.engine.bus import MessageBus
from tradingsystem.engine.signals import SignalPublisher
from tradingsystem.ml import LabelSpec, ModelSpec, PurgedWalkForward, TuningSpec, build_dataset, fit_model, walk_forward

NS = 1_000_000_000


def emit(**kw: object) -> None:
    print(json.dumps(kw), flush=True)


def data(sessions: int, n_features: int, seed: int = 1) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    per = 415
    n = sessions * per
    day0 = np.datetime64("2025-01-02T13:00").astype("datetime64[ns]").astype(np.int64)
    ts_open = day0 + (np.arange(n) // per) * 86_400 * NS + (np.arange(n) % per) * 60 * NS
    s = np.zeros(n)
    e = rng.normal(size=n)
    for i in range(1, n):
        s[i] = 0.95 * s[i - 1] + e[i]
    close = 3000 * np.exp(np.cumsum(np.r_[0, 2e-4 * s[:-1] + 1e-3 * rng.normal(size=n - 1)]))
    bars = {"ts_event": ts_open + 60 * NS, "close": close, "high": close, "low": close}
    feats = {"ts_event": bars["ts_event"], "f0": s}
    for k in range(1, n_features):
        feats[f"f{k}"] = s * rng.normal() + rng.normal(size=n)
    return bars, feats


def pct(a: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(a), q))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ticks", type=int, default=20_000)
    ap.add_argument("--sessions", type=int, default=252)
    ap.add_argument("--trials", type=int, default=0)
    args = ap.parse_args()
    bars, feats = data(40, 50)
    ds = build_dataset(feats, bars, LabelSpec(horizon=15))
    u = ds.usable
    model = fit_model(ModelSpec(kind="lightgbm"), ds.X[u], ds.y[u], ds.weight[u], ds.names, ds.t0[u], ds.t1[u])
    rows = ds.X[: args.ticks]
    lat: list[float] = []
    cpu: list[float] = []
    for x in rows:
        c, t = time.thread_time_ns(), time.perf_counter_ns()
        model.predict_one(x)
        lat.append((time.perf_counter_ns() - t) / 1e3)
        cpu.append((time.thread_time_ns() - c) / 1e3)
    emit(bench="inference_tick", path="SignalModel.predict_one", model="lightgbm", features=50,
         trees=int(model.members[0].est.n_estimators), ticks=len(lat), p50_us=pct(lat, 50), p99_us=pct(lat, 99),
         max_us=max(lat), cpu_p50_us=pct(cpu, 50), cpu_p99_us=pct(cpu, 99), goal_p99_us=1000)  # fmt: skip
    pub = SignalPublisher("X", None, model, "bench:1", MessageBus())  # type: ignore[arg-type]
    dicts = [dict(zip(model.names, map(float, x), strict=True)) for x in rows]
    lat = []
    for i, r in enumerate(dicts):
        t = time.perf_counter_ns()
        pub.score(r, i)
        lat.append((time.perf_counter_ns() - t) / 1e3)
    emit(bench="inference_tick", path="SignalPublisher.score (dict row -> SignalEvent)", model="lightgbm",
         features=50, ticks=len(lat), p50_us=pct(lat, 50), p99_us=pct(lat, 99), max_us=max(lat))  # fmt: skip
    bars, feats = data(args.sessions, 50)
    ds = build_dataset(feats, bars, LabelSpec(horizon=15))
    c0, w0 = time.process_time(), time.perf_counter()
    res = walk_forward(ds, ModelSpec(kind="lightgbm"), PurgedWalkForward(4, embargo=15), TuningSpec(trials=args.trials))
    emit(bench="walk_forward", model="lightgbm", folds=4, tuning_trials=args.trials, sessions=args.sessions,
         bars=len(bars["ts_event"]), rows=len(ds), features=50, cpu_s=round(time.process_time() - c0, 2),
         wall_s=round(time.perf_counter() - w0, 2), oos_predictions=len(res.index))  # fmt: skip


if __name__ == "__main__":
    main()
