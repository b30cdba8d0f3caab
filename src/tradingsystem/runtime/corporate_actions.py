"""Stock bars adjusted for splits and dividends, from a corporate-action file, for research only.

The file is CSV with the header ``date,symbol,kind,value``, one action a line:

- ``2010-03-26,CSNA3,split,2``: from that session on one old share is ``value`` new ones (``0.1`` for a
  10-to-1 reverse split); every bar before it is divided by ``value``;
- ``2016-05-02,PETR4,dividend,0.35``: ``value`` BRL per share goes ex on that session; every bar before it is
  multiplied by ``1 - value / close`` (``close``: the last unadjusted close before the ex date).

Adjustment is backwards (the latest prices are the real ones) and applies to open, high, low and close;
volume stays in traded shares. Backtests never use it: a trade happens at the real price.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from tradingsystem.adapters.storage.schema import scale_for
from tradingsystem.domain.instruments import AssetClass
from tradingsystem.runtime.bar_source import day_ns

__all__ = ["CorporateAction", "adjust_bars", "adjusted_for_actions", "adjustment_factors", "check_stock",
           "read_corporate_actions"]

HEADER = ["date", "symbol", "kind", "value"]
KINDS = ("split", "dividend")
_SYMBOL = re.compile(r"^[A-Z]{4}\d{1,2}[A-Z]?$")
_PRICES = ("open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class CorporateAction:
    day: date
    symbol: str
    kind: str  # split | dividend
    value: Decimal  # split: new shares per old share; dividend: BRL per share


def read_corporate_actions(path: Path) -> list[CorporateAction]:
    """The actions in ``path``, by date; ``ValueError`` with ``file:line: reason`` on anything out of range."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"corporate actions {path}: cannot read ({exc.__class__.__name__})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip().lower() for c in rows[0]] != HEADER:
        raise ValueError(f"{path}:1: the header must be {','.join(HEADER)}")
    out: list[CorporateAction] = []
    seen: set[tuple[date, str, str]] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        where = f"{path}:{n}"
        if len(row) != 4:
            raise ValueError(f"{where}: expected 4 fields (date,symbol,kind,value), got {len(row)}")
        d, sym, kind, val = (c.strip() for c in row)
        try:
            day = date.fromisoformat(d)
        except ValueError:
            raise ValueError(f"{where}: date {d!r} is not YYYY-MM-DD") from None
        sym = sym.upper()
        if not _SYMBOL.match(sym):
            raise ValueError(f"{where}: {sym!r} is not a B3 stock code")
        kind = kind.lower()
        if kind not in KINDS:
            raise ValueError(f"{where}: kind {kind!r}: use split or dividend")
        try:
            value = Decimal(val)
        except InvalidOperation:
            raise ValueError(f"{where}: value {val!r} is not a number") from None
        if not value.is_finite() or value <= 0:
            raise ValueError(f"{where}: value {val} must be a positive number")
        if kind == "split" and value == 1:
            raise ValueError(f"{where}: a split factor of 1 changes nothing")
        if (day, sym, kind) in seen:
            raise ValueError(f"{where}: a second {kind} of {sym} on {day}")
        seen.add((day, sym, kind))
        out.append(CorporateAction(day, sym, kind, value))
    return sorted(out, key=lambda a: (a.day, a.symbol, a.kind))


def adjustment_factors(actions: list[CorporateAction], symbol: str, ts_open: np.ndarray, close: np.ndarray,
                       scale: int = 2) -> np.ndarray:
    """Per bar, the factor its prices are multiplied by (1.0 from the last action on). ``close`` is in raw
    units of ``10**-scale`` BRL (a dividend is BRL per share)."""
    ts = np.asarray(ts_open, dtype=np.int64)
    px = np.asarray(close, dtype=np.float64) / 10**scale
    factor = np.ones(len(ts))
    for a in actions:
        if a.symbol != symbol.upper():
            continue
        before = int(np.searchsorted(ts, day_ns(a.day)))  # bars opening before the ex date
        if before == 0:
            continue
        if a.kind == "split":
            f = 1.0 / float(a.value)
        else:
            last = float(px[before - 1])
            if float(a.value) >= last:
                raise ValueError(f"dividend of {symbol} on {a.day}: {a.value} BRL is not below the close before "
                                 f"it ({last:.2f})")
            f = 1.0 - float(a.value) / last
        factor[:before] *= f
    return factor


def adjust_bars(bars: dict[str, np.ndarray], actions: list[CorporateAction], symbol: str
                ) -> dict[str, np.ndarray]:
    """``bars`` with open/high/low/close adjusted (float, the same raw units) and an ``adjustment`` column."""
    factor = adjustment_factors(actions, symbol, bars["ts_open"], bars["close"], scale_for(symbol))
    out = dict(bars)
    for c in _PRICES:
        out[c] = np.asarray(bars[c], dtype=np.float64) * factor
    out["adjustment"] = factor
    return out


def check_stock(symbol: str, asset_class: AssetClass) -> None:
    if asset_class != AssetClass.STOCK:
        raise ValueError(f"corporate_actions applies to stocks; {symbol} is {asset_class.value}")


def adjusted_for_actions(bars: dict[str, np.ndarray], path: Path | None, symbol: str, asset_class: AssetClass
                         ) -> dict[str, np.ndarray]:
    """``bars`` adjusted with the actions in ``path`` (a config's ``corporate_actions``); unchanged for None."""
    if path is None:
        return bars
    check_stock(symbol, asset_class)
    return adjust_bars(bars, read_corporate_actions(path), symbol)
