"""Daily returns from unadjusted closes: corporate-action (split) detection and adjustment factors.

COTAHIST prices are not adjusted. A split or reverse split shows as an overnight jump close to a
simple ratio (1/2, 1/4, 2/5, 8...). :func:`detect_splits` finds those jumps; :func:`adjust_closes`
back-adjusts prices for them and for any factors given explicitly (an adjustment file, e.g. dividends).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["CorporateAction", "adjust_closes", "detect_splits", "log_returns", "simple_returns"]


@dataclass(frozen=True, slots=True)
class CorporateAction:
    """Prices before ``day`` are multiplied by ``factor`` to be comparable with prices from ``day`` on."""

    symbol: str
    day: date
    factor: float
    source: str = "detected"


def _nice_ratios(max_term: int = 10, min_jump: float = 1.8) -> list[float]:
    out = {a / b for a in range(1, max_term + 1) for b in range(1, max_term + 1)}
    return sorted(r for r in out if abs(math.log(r)) >= math.log(min_jump))


_RATIOS = np.array(_nice_ratios())


def detect_splits(closes: pd.DataFrame, tolerance: float = 0.04, min_jump: float = 1.8) -> list[CorporateAction]:
    """Jumps of at least ``min_jump``x (either way) within ``tolerance`` (log) of a ratio a/b, a, b <= 10.

    Ordinary daily moves of B3 large caps stay well under 1.8x, so such jumps are corporate actions.
    """
    ratios = _RATIOS[np.abs(np.log(_RATIOS)) >= math.log(min_jump)]
    found: list[CorporateAction] = []
    for symbol in closes.columns:
        s = closes[symbol].dropna()
        jump = (s / s.shift(1)).iloc[1:]
        for day, r in jump.items():
            if not np.isfinite(r) or abs(math.log(r)) < math.log(min_jump) * (1 - tolerance):
                continue
            err = np.abs(np.log(ratios) - math.log(r))
            k = int(np.argmin(err))
            if err[k] <= tolerance:
                found.append(CorporateAction(str(symbol), pd.Timestamp(str(day)).date(), float(ratios[k])))
    return found


def adjust_closes(closes: pd.DataFrame, actions: list[CorporateAction] | None = None,
                  detect: bool = True) -> tuple[pd.DataFrame, list[CorporateAction]]:
    """Back-adjusted closes (latest prices unchanged) and the actions applied."""
    applied = list(actions or [])
    if detect:
        given = {(a.symbol, a.day) for a in applied}
        applied += [a for a in detect_splits(closes) if (a.symbol, a.day) not in given]
    out = closes.astype(float).copy()
    index_days = pd.Index([pd.Timestamp(d).date() for d in out.index])
    for a in applied:
        if a.symbol in out.columns:
            before = np.asarray(index_days < a.day)
            out.loc[before, a.symbol] = out.loc[before, a.symbol] * a.factor
    return out, sorted(applied, key=lambda a: (a.day, a.symbol))


def simple_returns(closes: pd.DataFrame) -> pd.DataFrame:
    """Close-to-close simple returns, first row dropped; rows with any gap dropped."""
    return closes.pct_change(fill_method=None).iloc[1:].dropna(how="any")


def log_returns(closes: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(np.log(closes / closes.shift(1)), index=closes.index, columns=closes.columns).iloc[1:].dropna()
