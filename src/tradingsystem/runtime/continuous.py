"""Continuous futures (``WINFUT``, ``WDOFUT``) from the dated contracts stored in the catalog.

The front contract follows B3's expiry rules (``domain/b3.py``: WIN the Wednesday nearest the 15th of
even months, WDO the first business day of the month): a day is read from the contract that is front
``roll_sessions`` sessions before its last trading day (``roll_on: expiry``), or from the contract with
the most volume that day among those not yet expired, never going back to a nearer one
(``roll_on: volume``). Backtests trade each dated contract's own prices and roll the position (closing
leg at the old contract's last print, opening leg at the new one's, both paying fees), so the price
gap between contracts is never P&L. For research, :func:`continuous_bars` back-adjusts the earlier legs
by the gap at each roll: ``difference`` adds it (prices stay on the tick grid), ``ratio`` scales by it
(rounded to the raw price unit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from tradingsystem.domain import b3

__all__ = ["continuous_bars", "roll_plan"]

IsSession = Callable[[date], bool]


def _daily_volume(cat: Any, root: str, kinds: Iterable[str]) -> dict[tuple[str, date], int]:
    out: dict[tuple[str, date], int] = {}
    for kind, col in (("trades", "size"), ("bars", "volume")):
        if kind not in kinds:
            continue
        rows = cat.query(f"SELECT instrument, date, sum({col}) AS v FROM {kind}_raw WHERE instrument LIKE ? "
                         "GROUP BY 1, 2", [root + "%"]).to_pylist()
        for r in rows:
            out[(r["instrument"], r["date"])] = out.get((r["instrument"], r["date"]), 0) + int(r["v"] or 0)
    return out


def roll_plan(cat: Any, symbol: str, start: date | None, end: date | None, is_session: IsSession,
              roll_sessions: int, kinds: Iterable[str] = ("trades",), roll_on: str = "expiry"
              ) -> list[tuple[str, date, date]]:
    """[(contract, first day, last day)] for a generic symbol over the stored days."""
    root = symbol[:-3]
    kinds = tuple(kinds)
    stored = {(p.instrument, p.day) for k in kinds if k in ("trades", "bars") for p in cat.partitions(k)
              if p.instrument.startswith(root) and b3.parse_future(p.instrument)
              and (start is None or p.day >= start) and (end is None or p.day <= end)}
    days = sorted({d for _, d in stored})
    volume = _daily_volume(cat, root, kinds) if roll_on == "volume" else {}
    plan: list[tuple[str, date, date]] = []

    def expiry(c: str) -> date:
        root_, year, month = b3.parse_future(c) or (root, 1970, 1)
        return b3.expiry(root_, year, month, is_session)

    for day in days:
        if roll_on == "volume":
            live = [c for c, d in stored if d == day and b3.future(c, is_session).is_tradable_on(day)]
            if plan:  # never back to a nearer contract
                floor = expiry(plan[-1][0])
                live = [c for c in live if expiry(c) >= floor]
            if not live:
                continue
            contract = max(live, key=lambda c: (volume.get((c, day), 0), -expiry(c).toordinal()))
        else:
            contract = b3.current_contract(root, day, is_session, roll_sessions)
            if (contract, day) not in stored:
                continue
        if plan and plan[-1][0] == contract:
            plan[-1] = (contract, plan[-1][1], day)
        else:
            plan.append((contract, day, day))
    return plan


def continuous_bars(cat: Any, symbol: str, timeframe: str, start: date | None, end: date | None,
                    is_session: IsSession, roll_sessions: int = 2, roll_on: str = "expiry", adjust: str = "none"
                    ) -> pa.Table:
    """Bars of a generic symbol stitched from its front contracts, with ``contract`` and ``adjustment``
    (raw units added, or the factor applied) columns; ``adjust`` is none, difference or ratio."""
    if adjust not in ("none", "difference", "ratio"):
        raise ValueError(f"--adjust {adjust!r}: use none, difference or ratio")
    plan = roll_plan(cat, symbol, start, end, is_session, roll_sessions, ("trades", "bars"), roll_on)
    if not plan:
        raise ValueError(f"no dated {symbol[:-3]} contracts stored for {symbol}")
    legs = [cat.bars(c, timeframe, lo, hi) for c, lo, hi in plan]
    gaps: list[float] = []
    for k in range(len(legs) - 1):
        old, new_contract = legs[k], plan[k + 1][0]
        if old.num_rows == 0:
            gaps.append(0.0 if adjust == "difference" else 1.0)
            continue
        t_last = int(old.column("ts_event")[-1].as_py())
        old_close = int(old.column("close")[-1].as_py())
        same_day = cat.bars(new_contract, timeframe, plan[k][2], plan[k][2])
        ts = same_day.column("ts_event").to_numpy() if same_day.num_rows else np.zeros(0, dtype=np.int64)
        i = int(np.searchsorted(ts, t_last, side="right")) - 1
        new_close = int(same_day.column("close")[i].as_py()) if i >= 0 else int(legs[k + 1].column("open")[0].as_py())
        gaps.append(float(new_close - old_close) if adjust == "difference" else new_close / old_close)
    tables = []
    for k, (leg, (contract, _, _)) in enumerate(zip(legs, plan, strict=True)):
        later = gaps[k:]
        add = float(sum(later)) if adjust == "difference" else 0.0
        factor = float(np.prod(later)) if adjust == "ratio" else 1.0
        t = leg
        for col in ("open", "high", "low", "close"):
            v = t.column(col).to_numpy().astype(np.float64)
            v = v + add if adjust == "difference" else v * factor
            t = t.set_column(t.column_names.index(col), col, pa.array(np.rint(v).astype(np.int64)))
        t = t.set_column(t.column_names.index("instrument"), "instrument", pa.array([symbol] * t.num_rows))
        t = t.append_column("contract", pa.array([contract] * t.num_rows, pa.string()))
        t = t.append_column("adjustment", pa.array([add if adjust == "difference" else factor] * t.num_rows))
        tables.append(t)
    return pa.concat_tables(tables)
