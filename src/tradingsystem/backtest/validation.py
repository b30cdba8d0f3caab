"""Overfitting checks: the deflated Sharpe ratio and the probability of backtest overfitting (CSCV).

Bailey & López de Prado, "The Deflated Sharpe Ratio" (2014) and "The Probability of Backtest
Overfitting" (2015). Sharpe ratios here are per period (not annualised).
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np

__all__ = ["deflated_sharpe", "dsr", "expected_max_sharpe", "pbo", "period_sharpe"]

_EULER = 0.5772156649015329
_N = NormalDist()


def period_sharpe(returns: np.ndarray) -> float:
    r = np.asarray(returns, dtype=float)
    if len(r) < 2:
        return 0.0
    sd = float(r.std(ddof=1))
    return 0.0 if sd <= 0 else float(r.mean()) / sd


def expected_max_sharpe(trial_variance: float, trials: int) -> float:
    """SR0: the expected maximum of ``trials`` Sharpe ratios with that variance when none has skill."""
    if trials <= 1 or trial_variance <= 0:
        return 0.0
    return math.sqrt(trial_variance) * ((1 - _EULER) * _N.inv_cdf(1 - 1 / trials)
                                        + _EULER * _N.inv_cdf(1 - 1 / (trials * math.e)))


def dsr(sharpe: float, sr0: float, observations: int, skew: float, kurtosis: float) -> float:
    """The deflated Sharpe ratio from per-period statistics (kurtosis not in excess); 0 when undefined."""
    denom = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe * sharpe
    if observations < 3 or denom <= 0:
        return 0.0
    return _N.cdf((sharpe - sr0) * math.sqrt(observations - 1) / math.sqrt(denom))


def deflated_sharpe(returns: np.ndarray, trial_sharpes: list[float]) -> dict[str, float]:
    """DSR of the selected strategy's per-period ``returns`` given the Sharpe ratios of all trials tried.

    Returns the observed Sharpe, the expected maximum Sharpe under the null (SR0) and the DSR, a
    probability: the chance the true Sharpe is above zero after accounting for the number of trials,
    their dispersion, and the skew and kurtosis of the returns.
    """
    r = np.asarray(returns, dtype=float)
    t = len(r)
    sr = period_sharpe(r)
    n = max(1, len(trial_sharpes))
    var = float(np.var(trial_sharpes, ddof=1)) if len(trial_sharpes) > 1 else 0.0
    sr0 = expected_max_sharpe(var, n)
    if t < 3 or r.std() == 0:
        return {"sharpe": sr, "sr0": sr0, "dsr": 0.0, "trials": n, "observations": t}
    z = (r - r.mean()) / r.std()
    skew = float(np.mean(z**3))
    kurt = float(np.mean(z**4))
    if 1 - skew * sr + (kurt - 1) / 4 * sr * sr <= 0:
        return {"sharpe": sr, "sr0": sr0, "dsr": 0.0, "trials": n, "observations": t}
    return {"sharpe": sr, "sr0": sr0, "dsr": dsr(sr, sr0, t, skew, kurt), "trials": n, "observations": t,
            "skew": skew, "kurtosis": kurt}


def pbo(matrix: np.ndarray, splits: int = 8) -> dict[str, float]:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation.

    ``matrix`` is periods x configurations of per-period P&L. The periods are cut into ``splits``
    blocks (even); for every half of the blocks taken as in-sample, the in-sample best configuration's
    out-of-sample rank gives a logit; PBO is the share of logits <= 0 (best in-sample is below the
    out-of-sample median).
    """
    m = np.asarray(matrix, dtype=float)
    t, n = m.shape
    s = min(splits, t - t % 2)
    s -= s % 2
    if n < 2 or s < 2:
        return {"pbo": float("nan"), "combinations": 0, "configs": n, "splits": s}
    blocks = np.array_split(np.arange(t), s)
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        is_idx = np.concatenate([blocks[i] for i in combo])
        oos_idx = np.concatenate([blocks[i] for i in range(s) if i not in combo])
        is_perf = _sharpe_cols(m[is_idx])
        oos_perf = _sharpe_cols(m[oos_idx])
        best = int(np.argmax(is_perf))
        rank = float((oos_perf < oos_perf[best]).sum() + 1 + ((oos_perf == oos_perf[best]).sum() - 1) / 2)
        omega = rank / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
    arr = np.array(logits)
    return {"pbo": float((arr <= 0).mean()), "combinations": len(logits), "configs": n, "splits": s,
            "logit_median": float(np.median(arr))}


def _sharpe_cols(m: np.ndarray) -> np.ndarray:
    sd = m.std(axis=0, ddof=1) if len(m) > 1 else np.zeros(m.shape[1])
    mean = m.mean(axis=0)
    out: np.ndarray = np.divide(mean, sd, out=np.zeros_like(mean), where=sd > 0)
    return out
