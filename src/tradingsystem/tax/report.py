"""Build the tax report of a year (or one month of it) from all the fills a user has.

All history is processed from the first fill so that average costs and carried losses are right;
only the requested months are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tradingsystem.tax.calendar import is_bank_day
from tradingsystem.tax.ledger import Ledger, PositionLine, Settlements
from tradingsystem.tax.model import Bucket, MarketClass, TaxFill
from tradingsystem.tax.monthly import MonthResult, Opening, compute_months, month_range

__all__ = ["AnnualSummary", "TaxReport", "build_report", "month_end"]


def month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


@dataclass(frozen=True, slots=True)
class AnnualSummary:
    """What the annual declaration asks for (renda variável), plus totals for the IRPFM base."""

    year: int
    day_trade_result: Decimal
    common_result: Decimal
    fii_result: Decimal
    exempt_gain: Decimal
    tax_paid: Decimal
    irrf: Decimal
    irrf_credit_for_annual_return: Decimal
    loss_carried: dict[Bucket, Decimal]
    carried_under_minimum: Decimal


@dataclass(slots=True)
class TaxReport:
    year: int
    months: list[MonthResult]
    positions: dict[str, list[PositionLine]]
    fills: list[TaxFill]
    annual: AnnualSummary | None
    warnings: list[str] = field(default_factory=list)


def _annual(year: int, months: list[MonthResult]) -> AnnualSummary:
    last = months[-1]
    zero = Decimal("0.00")

    def total(attr: str) -> Decimal:
        return sum((getattr(m, attr) for m in months), zero)

    return AnnualSummary(
        year=year, day_trade_result=total("day_trade_result"), common_result=total("common_result"),
        fii_result=total("fii_result"), exempt_gain=total("exempt_gain"), tax_paid=total("tax_due"),
        irrf=total("irrf"), irrf_credit_for_annual_return=last.credit_out if last.month == 12 else zero,
        loss_carried=dict(last.loss_out), carried_under_minimum=last.carried_under_minimum,
    )


def build_report(
    fills: Iterable[TaxFill],
    year: int,
    month: int | None = None,
    classes: dict[str, MarketClass] | None = None,
    settlements: Settlements | None = None,
    opening: Opening | None = None,
    is_session: Callable[[date], bool] = is_bank_day,
) -> TaxReport:
    """Process every fill up to the end of the period; report the year's months (or just ``month``).

    ``is_session`` decides futures last trading days (pass B3's session calendar; the default is the
    bank calendar, which differs from B3 only on Dec 24 and Dec 31).
    """
    last = (year, month or 12)
    end = month_end(*last)
    kept = sorted((f for f in fills if f.day <= end), key=lambda f: f.sort_key)
    first = min((f.day.year, f.day.month) for f in kept) if kept else (year, 1)
    first = min(first, (year, 1))
    months = month_range(first, last)
    ledger = Ledger(classes, settlements, is_session)
    snaps = ledger.run(kept, [month_end(y, m) for y, m in months if y == year])
    results = compute_months(months, ledger.result.realisations, ledger.result.sales, opening)
    in_year = [r for r in results if r.year == year and (month is None or r.month == month)]
    positions = {f"{d.year:04d}-{d.month:02d}": lines for d, lines in snaps.items()}
    shown_fills = [f for f in kept if f.day.year == year and (month is None or f.day.month == month)]
    ids = {i for r in in_year for x in r.realisations for i in x.fill_ids}
    ids |= {i for d, lines in snaps.items() if month is None or d.month == month for p in lines for i in p.fill_ids}
    seen = {id(f) for f in shown_fills}
    shown_fills += [f for f in kept if f.fill_id in ids and id(f) not in seen]
    shown_fills.sort(key=lambda f: f.sort_key)
    annual = _annual(year, [r for r in results if r.year == year]) if month is None else None
    return TaxReport(year, in_year, positions, shown_fills, annual, list(ledger.result.warnings))
