"""CSV import of trades done elsewhere, and of futures settlement prices.

Fills CSV (comma-separated, header row, column names case-insensitive):

- required: ``ticker``, ``date`` (``YYYY-MM-DD``, ``DD/MM/YYYY``, optionally followed by a time
  ``HH:MM[:SS]``), ``side`` (``buy``/``sell``, ``B``/``S``, ``C``/``V``, ``compra``/``venda``),
  ``quantity`` (positive integer), ``price`` (decimal point ``.``; a lone decimal comma is accepted
  when the field is quoted), ``fees`` (total costs in BRL; empty = 0), ``broker``;
- optional: ``brokerage``, ``b3_fees``, ``iss`` (a breakdown; added to ``fees``), ``account``,
  ``class`` (``stock``, ``etf``, ``fii``, ``option``, ``future``: overrides the classification).

Rows keep file order within a day. Settlements CSV: ``symbol``, ``date``, ``price`` (B3's daily
settlement price, in points).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tradingsystem.domain.errors import InvalidRequest
from tradingsystem.tax.model import MarketClass, Side, TaxFill

__all__ = ["FILL_COLUMNS", "FillImportError", "read_fills", "read_settlements"]

FILL_COLUMNS = ("ticker", "date", "side", "quantity", "price", "fees", "broker")
_SIDES = {"buy": Side.BUY, "b": Side.BUY, "c": Side.BUY, "compra": Side.BUY,
          "sell": Side.SELL, "s": Side.SELL, "v": Side.SELL, "venda": Side.SELL}


class FillImportError(InvalidRequest):
    """Malformed input; ``problems`` lists ``file:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _money(text: str, what: str) -> Decimal:
    t = text.strip()
    if not t:
        return Decimal(0)
    if "," in t and "." not in t:
        t = t.replace(",", ".")
    try:
        d = Decimal(t)
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not d.is_finite() or d < 0:
        raise ValueError(f"{what} {text!r} must be a non-negative number")
    return d


def _when(text: str) -> tuple[date, int]:
    """Date and a within-day ordering key (seconds since midnight, 0 if no time)."""
    t = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
                "%Y-%m-%d", "%d/%m/%Y"):
        try:
            dt = datetime.strptime(t, fmt)
        except ValueError:
            continue
        return dt.date(), dt.hour * 3600 + dt.minute * 60 + dt.second
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or DD/MM/YYYY")


def _rows(path: Path, required: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    problems: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return [], [f"{path}:1: empty file"]
        names = [h.strip().lower() for h in header]
        missing = [c for c in required if c not in names]
        if missing:
            return [], [f"{path}:1: missing column(s) {', '.join(missing)}"]
        rows = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                problems.append(f"{path}:{line}: expected {len(names)} fields, got {len(row)}")
                continue
            rows.append((line, dict(zip(names, row, strict=True))))
    return rows, problems


def read_fills(path: Path, strict: bool = False) -> tuple[list[TaxFill], list[str]]:
    """Fills from a CSV file and the malformed lines (``file:line: why``); ``strict`` raises on any."""
    rows, problems = _rows(path, FILL_COLUMNS)
    fills: list[TaxFill] = []
    for line, row in rows:
        try:
            day, secs = _when(row["date"])
            side = _SIDES.get(row["side"].strip().lower())
            if side is None:
                raise ValueError(f"side {row['side']!r} is not buy/sell")
            qty_text = row["quantity"].strip()
            if not qty_text.isdigit() or int(qty_text) <= 0:
                raise ValueError(f"quantity {row['quantity']!r} is not a positive integer")
            ticker = row["ticker"].strip().upper()
            if not ticker:
                raise ValueError("empty ticker")
            broker = row["broker"].strip()
            if not broker:
                raise ValueError("empty broker (day trades are matched per broker)")
            cls_text = row.get("class", "").strip().lower()
            cls = MarketClass(cls_text) if cls_text else None
            fills.append(TaxFill(
                day=day, symbol=ticker, side=side, quantity=int(qty_text), price=_money(row["price"], "price"),
                broker=broker, account=row.get("account", "").strip(),
                brokerage=_money(row.get("brokerage", ""), "brokerage"),
                b3_fees=_money(row.get("b3_fees", ""), "b3_fees"), iss=_money(row.get("iss", ""), "iss"),
                other_fees=_money(row["fees"], "fees"), ts=secs, seq=line, fill_id=f"{path.name}:{line}",
                market_class=cls,
            ))
        except (ValueError, InvalidRequest) as exc:
            problems.append(f"{path}:{line}: {exc}")
    problems.sort(key=_line_of)
    if strict and problems:
        raise FillImportError(problems)
    return fills, problems


def _line_of(problem: str) -> int:
    """Line number of a ``file:line: message`` problem, for sorting."""
    head = problem.split(": ", 1)[0]
    tail = head.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def read_settlements(path: Path, strict: bool = True) -> tuple[dict[tuple[str, date], Decimal], list[str]]:
    """Daily settlement prices keyed by (symbol, date)."""
    rows, problems = _rows(path, ("symbol", "date", "price"))
    out: dict[tuple[str, date], Decimal] = {}
    for line, row in rows:
        try:
            day, _ = _when(row["date"])
            out[(row["symbol"].strip().upper(), day)] = _money(row["price"], "price")
        except ValueError as exc:
            problems.append(f"{path}:{line}: {exc}")
    problems.sort(key=_line_of)
    if strict and problems:
        raise FillImportError(problems)
    return out, problems
