"""Run many independent backtests in parallel: a local process pool by default, or Ray.

``fn`` must be a picklable top-level function (or a ``functools.partial`` of one); results come back
in the order of ``tasks`` whatever the executor, so both executors give identical lists.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Literal

__all__ = ["Executor", "grid", "run_tasks"]

Executor = Literal["local", "ray", "serial"]
Progress = Callable[[int, int], None]


def grid(space: dict[str, Any]) -> list[dict[str, Any]]:
    """All combinations of a parameter space: lists as given, ``{low, high, step}`` ranges expanded."""
    names = sorted(space)
    values = [_values(space[n]) for n in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def _values(spec: Any) -> list[Any]:
    if isinstance(spec, dict):
        step = spec.get("step", 1)
        return list(range(int(spec["low"]), int(spec["high"]) + 1, int(step)))
    if isinstance(spec, list | tuple):
        return list(spec)
    return [spec]


def run_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], executor: Executor = "local", workers: int = 2,
              progress: Progress | None = None) -> list[Any]:
    """``[fn(t) for t in tasks]``, in parallel. ``progress(done, total)`` is called as results arrive."""
    total = len(tasks)
    if executor == "serial" or total <= 1:
        out = []
        for i, t in enumerate(tasks):
            out.append(fn(t))
            if progress:
                progress(i + 1, total)
        return out
    if executor == "ray":
        return _run_ray(fn, tasks, workers, progress)
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; use local, ray or serial")
    results: list[Any] = [None] * total
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
        for done, fut in enumerate(as_completed(futures), 1):
            results[futures[fut]] = fut.result()
            if progress:
                progress(done, total)
    return results


def _run_ray(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int, progress: Progress | None) -> list[Any]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("--executor ray needs the 'ray' package (pip install 'ray[default]')") from exc
    started = not ray.is_initialized()
    if started:
        # Connects to a cluster when RAY_ADDRESS is set, else starts a local one.
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = ray.remote(_apply)
        fn_ref = ray.put(fn)
        refs = [remote.remote(fn_ref, t) for t in tasks]
        index = {r: i for i, r in enumerate(refs)}
        results: list[Any] = [None] * len(tasks)
        pending = list(refs)
        done_n = 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for r in ready:
                results[index[r]] = ray.get(r)
                done_n += 1
                if progress:
                    progress(done_n, len(tasks))
        return results
    finally:
        if started:
            ray.shutdown()


def _apply(fn: Callable[[Any], Any], task: Any) -> Any:
    """Ray's remote wrapper (``ray.remote`` takes plain functions only, not partials)."""
    return fn(task)
