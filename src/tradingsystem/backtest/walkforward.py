"""Walk-forward optimisation with Optuna: optimise on an in-sample window, test on the next one.

Windows are counted in session days of the data. Each fold runs a seeded TPE study of ``trials``
trials on its in-sample days, then evaluates the best parameters on its out-of-sample days; folds are
independent, so they run in parallel through ``sweep.run_tasks``.

``evaluate(params, window) -> dict`` must return at least ``objective`` (higher is better) and may
return anything else (it is kept in the fold's record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

__all__ = ["Fold", "folds", "optimize_fold"]

Window = tuple[date, date]
Fold = tuple[Window, Window]
Evaluate = Callable[[dict[str, Any], Window], dict[str, Any]]


def folds(days: Sequence[date], in_sample: int, out_sample: int, anchored: bool = False) -> list[Fold]:
    """Rolling (or anchored) folds: ``in_sample`` days to fit, then the next ``out_sample`` days to test."""
    out = []
    start = 0
    while start + in_sample + out_sample <= len(days):
        is_lo = 0 if anchored else start
        is_w = (days[is_lo], days[start + in_sample - 1])
        oos_w = (days[start + in_sample], days[start + in_sample + out_sample - 1])
        out.append((is_w, oos_w))
        start += out_sample
    return out


def optimize_fold(evaluate: Evaluate, space: dict[str, Any], fold: Fold, trials: int, seed: int) -> dict[str, Any]:
    """One fold: a seeded Optuna TPE study on the in-sample window, the best params out of sample."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    is_w, oos_w = fold
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    cache: dict[tuple[Any, ...], float] = {}

    def objective(trial: optuna.Trial) -> float:
        params = {name: _suggest(trial, name, spec) for name, spec in sorted(space.items())}
        key = tuple(sorted(params.items()))
        if key not in cache:
            cache[key] = float(evaluate(params, is_w)["objective"])
        return cache[key]

    study.optimize(objective, n_trials=trials)
    best = dict(study.best_params)
    oos = evaluate(best, oos_w)
    return {
        "in_sample_window": [is_w[0].isoformat(), is_w[1].isoformat()],
        "out_of_sample_window": [oos_w[0].isoformat(), oos_w[1].isoformat()],
        "best_params": best,
        "in_sample_objective": study.best_value,
        "out_of_sample_objective": float(oos["objective"]),
        "out_of_sample": {k: v for k, v in oos.items() if k != "daily"},
        "trials": len(study.trials),
    }


def _suggest(trial: Any, name: str, spec: Any) -> Any:
    if isinstance(spec, dict):
        return trial.suggest_int(name, int(spec["low"]), int(spec["high"]), step=int(spec.get("step", 1)))
    if isinstance(spec, list | tuple):
        return trial.suggest_categorical(name, list(spec))
    return spec
