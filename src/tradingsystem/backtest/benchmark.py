"""The strategy against the CDI and the Ibovespa over the backtest's days.

- CDI: the BCB daily rate (SGS 12, % a.d.) of each business day from the first to the last backtest day,
  compounded exactly: ``prod(1 + r/100) - 1``. A day's rate accrues from that day to the next business day,
  so the days from the first session's open to the last session's close are those rates.
- Ibovespa: the close of the last day in the range over the close of the day before the first one.
- Strategy return: net P&L over ``capital_brl``; excess = strategy minus benchmark (fractions).
- Beta: least squares of the strategy's daily return (daily P&L / capital) on the index's daily return,
  over the days both have.

A series that does not cover the range gives ``available: false`` and a ``note`` saying why; nothing raises.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from tradingsystem.domain.sessions import B3_TZ

__all__ = ["Series", "benchmark", "cdi_factor", "daily_pnl_by_day"]

_RET = Decimal("1e-10")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Series:
    """A benchmark series: ``values`` by reference date, or ``note`` when it could not be had."""

    name: str
    values: dict[date, Decimal]
    source: str
    note: str = ""


def daily_pnl_by_day(equity: list[tuple[int, Decimal]]) -> dict[date, Decimal]:
    """P&L per B3 calendar day: the change of the day's last equity sample."""
    last: dict[date, Decimal] = {}
    for ts, v in equity:
        last[datetime.fromtimestamp(ts / 1e9, tz=B3_TZ).date()] = v
    out: dict[date, Decimal] = {}
    prev = Decimal(0)
    for d in sorted(last):
        out[d] = last[d] - prev
        prev = last[d]
    return out


def cdi_factor(rates: dict[date, Decimal], first: date, last: date) -> tuple[Decimal, int]:
    """The exact compounded factor of the daily rates (% a.d.) dated first..last, and how many days it holds.

    The precision grows with the digits of the factors, so the product is exact (no rounding inside)."""
    picked = [1 + rates[d] / 100 for d in sorted(rates) if first <= d <= last]
    digits = sum(len(f.as_tuple().digits) for f in picked)
    with localcontext() as ctx:
        ctx.prec = max(28, digits + 10)
        factor = Decimal(1)
        for f in picked:
            factor *= f
    return factor, len(picked)


def _fraction(x: Decimal) -> str:
    return str(x.quantize(_RET, ROUND_HALF_EVEN))


def _coverage(s: Series, first: date, last: date, before: bool) -> str:
    """Why ``s`` cannot price first..last ('' when it can)."""
    if s.note:
        return s.note
    if not s.values:
        return f"no {s.name} values in {s.source}"
    lo, hi = min(s.values), max(s.values)
    if (lo >= first if before else lo > first) or hi < last:
        need = "the day before " if before else ""
        return (f"{s.source} holds {s.name} from {lo} to {hi}; the backtest needs {need}{first} to {last}")
    return ""


def _cdi(s: Series, first: date, last: date, capital: Decimal, ret: Decimal) -> dict[str, Any]:
    why = _coverage(s, first, last, before=False)
    if why:
        return {"available": False, "source": s.source, "note": why}
    factor, n = cdi_factor(s.values, first, last)
    r = factor - 1
    return {"available": True, "source": s.source, "days": n, "return": _fraction(r),
            "pnl_brl": str((capital * r).quantize(_CENT, ROUND_HALF_EVEN)), "excess_return": _fraction(ret - r)}


def _beta(daily: dict[date, Decimal], index: dict[date, Decimal], capital: Decimal) -> float | None:
    days = sorted(index)
    pairs = [(float(daily[d] / capital), float(index[d] / index[p] - 1))
             for p, d in itertools.pairwise(days) if d in daily]
    if len(pairs) < 2:
        return None
    mx = sum(x for _, x in pairs) / len(pairs)
    my = sum(y for y, _ in pairs) / len(pairs)
    var = sum((x - mx) ** 2 for _, x in pairs)
    if var == 0:
        return None
    return round(sum((x - mx) * (y - my) for y, x in pairs) / var, 6)


def _ibov(s: Series, first: date, last: date, capital: Decimal, ret: Decimal,
          daily: dict[date, Decimal]) -> dict[str, Any]:
    why = _coverage(s, first, last, before=True)
    if why:
        return {"available": False, "source": s.source, "note": why}
    base_day = max(d for d in s.values if d < first)
    end_day = max(d for d in s.values if d <= last)
    r = s.values[end_day] / s.values[base_day] - 1
    return {"available": True, "source": s.source, "from": base_day.isoformat(), "to": end_day.isoformat(),
            "start": str(s.values[base_day]), "end": str(s.values[end_day]), "return": _fraction(r),
            "pnl_brl": str((capital * r).quantize(_CENT, ROUND_HALF_EVEN)), "excess_return": _fraction(ret - r),
            "beta": _beta(daily, {d: v for d, v in s.values.items() if base_day <= d <= last}, capital)}


def benchmark(equity: list[tuple[int, Decimal]], capital: Decimal, cdi: Series, ibovespa: Series | None
              ) -> dict[str, Any]:
    """The ``benchmark`` block of summary.json (see the module docstring)."""
    daily = daily_pnl_by_day(equity)
    if not daily:
        return {"available": False, "note": "the backtest has no equity samples, so no period to compare"}
    first, last = min(daily), max(daily)
    net = sum(daily.values(), Decimal(0))
    ret = net / capital
    out: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat(), "capital_brl": str(capital),
                           "strategy_return": _fraction(ret), "cdi": _cdi(cdi, first, last, capital, ret)}
    if ibovespa is not None:
        out["ibovespa"] = _ibov(ibovespa, first, last, capital, ret, daily)
    return out
