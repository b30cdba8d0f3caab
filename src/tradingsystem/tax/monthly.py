"""Monthly tax: buckets, the R$20,000 exemption, loss carry-forward, IRRF credits and the DARF.

Rules (IN RFB 1585/2015; Lei 9.430/96 art. 68; b3.md sections 2 and 3) and where amounts are rounded:

- Results are summed per month and bucket from unrounded realisations, then rounded to centavos
  (half-even) once: ``day_trade`` (all day trades but FII), ``common`` (swing in stocks, ETFs, options,
  futures), ``fii`` (all FII operations). Results are recognised in the month of the closing trade date.
- Exemption (art. 59): when the month's common sales of spot stocks (gross value, all brokers) are
  <= R$20,000, a positive net stock swing result is exempt; a net loss stays in the common bucket.
  ETFs, FIIs, options, futures and day trades never qualify.
- Losses (art. 64): a negative bucket result is carried with no time limit and offsets later gains of
  the same bucket only.
- Tax = 20% x day-trade base + 15% x common base + 20% x FII base, rounded to centavos once.
- IRRF: 1% of each day's positive net day-trade result per broker; 0.005% of a month's common sale
  value (non-futures) plus the positive ajuste sums of futures closings, per broker. Each amount is
  rounded to centavos; one of R$1.00 or less is not withheld. The IRRF is a credit against the
  month's tax; what is left carries to later months of the same calendar year only (the remainder
  at December goes to the annual return).
- DARF 6015, due the last bank business day of the next month. A total under R$10.00 is not paid: it
  carries (with nothing added) into the next month's DARF.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tradingsystem.domain.instruments import cents
from tradingsystem.tax.calendar import darf_due_date, darf_due_note
from tradingsystem.tax.ledger import SwingSale
from tradingsystem.tax.model import MONEY, Bucket, MarketClass, Realisation

__all__ = [
    "DARF_CODE",
    "EXEMPT_SALES_LIMIT",
    "MIN_DARF",
    "RATES",
    "MonthResult",
    "Opening",
    "compute_months",
    "month_range",
]

RATES = {Bucket.DAY_TRADE: Decimal("0.20"), Bucket.COMMON: Decimal("0.15"), Bucket.FII: Decimal("0.20")}
IRRF_DAY_TRADE = Decimal("0.01")
IRRF_COMMON = Decimal("0.00005")
IRRF_WAIVED_UP_TO = Decimal("1.00")
EXEMPT_SALES_LIMIT = Decimal("20000")
MIN_DARF = Decimal("10.00")
DARF_CODE = "6015"
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Opening:
    """Balances carried in from before the first month processed (e.g. from earlier years' records)."""

    loss_day_trade: Decimal = ZERO
    loss_common: Decimal = ZERO
    loss_fii: Decimal = ZERO
    under_minimum: Decimal = ZERO
    irrf_credit: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class MonthResult:
    """One month's figures; ``as_json`` gives the keys of issue 12."""

    year: int
    month: int
    day_trade_result: Decimal
    common_result: Decimal
    fii_result: Decimal
    stock_sales: Decimal
    exempt_sales: Decimal
    exempt_gain: Decimal
    loss_in: dict[Bucket, Decimal]
    loss_used: dict[Bucket, Decimal]
    loss_out: dict[Bucket, Decimal]
    base: dict[Bucket, Decimal]
    tax_gross: Decimal
    irrf: Decimal
    irrf_lines: tuple[tuple[str, str, Decimal, Decimal], ...]
    credit_in: Decimal
    credit_used: Decimal
    credit_out: Decimal
    under_minimum_in: Decimal
    tax_due: Decimal
    carried_under_minimum: Decimal
    realisations: tuple[Realisation, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def darf_due(self) -> date | None:
        return darf_due_date(self.year, self.month) if self.tax_due > 0 else None

    @property
    def darf_due_note(self) -> str | None:
        """Set when the DARF form prints a later date than the last day banks take it (31 December)."""
        return darf_due_note(self.year, self.month) if self.tax_due > 0 else None

    def as_json(self) -> dict[str, str | None]:
        due = self.darf_due
        return {
            "day_trade_result_brl": str(self.day_trade_result),
            "common_result_brl": str(self.common_result),
            "fii_result_brl": str(self.fii_result),
            "exempt_sales_brl": str(self.exempt_sales),
            "exempt_gain_brl": str(self.exempt_gain),
            "loss_carried_day_trade_brl": str(self.loss_out[Bucket.DAY_TRADE]),
            "loss_carried_common_brl": str(self.loss_out[Bucket.COMMON]),
            "irrf_brl": str(self.irrf),
            "tax_due_brl": str(self.tax_due),
            "darf_code": DARF_CODE if due else None,
            "darf_due_date": due.isoformat() if due else None,
            "darf_due_note": self.darf_due_note,
            "carried_under_minimum_brl": str(self.carried_under_minimum),
        }


def month_range(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """Months from ``first`` to ``last`` inclusive, as (year, month)."""
    out = []
    y, m = first
    while (y, m) <= last:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _irrf(realisations: list[Realisation], sales: list[SwingSale]) -> list[tuple[str, str, Decimal, Decimal]]:
    """IRRF lines (what, broker, base, withheld) for one month."""
    lines: list[tuple[str, str, Decimal, Decimal]] = []
    day_trade: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    common: dict[str, Decimal] = defaultdict(Decimal)
    for r in realisations:
        if r.day_trade:
            day_trade[(r.day, r.broker)] += r.result
        elif r.market_class is MarketClass.FUTURE and r.gross > 0:
            common[r.broker] += r.gross
    for s in sales:
        common[s.broker] += s.value
    for (day, broker), net in sorted(day_trade.items()):
        if net > 0:
            amount = cents(net * IRRF_DAY_TRADE)
            lines.append((f"1% day trade {day.isoformat()}", broker, cents(net),
                          amount if amount > IRRF_WAIVED_UP_TO else ZERO))
    for broker, base in sorted(common.items()):
        if base > 0:
            amount = cents(base * IRRF_COMMON)
            lines.append(("0.005% common sales and futures gains", broker, cents(base),
                          amount if amount > IRRF_WAIVED_UP_TO else ZERO))
    return lines


def _offset(result: Decimal, loss_in: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(loss used, taxable base, loss carried out) for one bucket."""
    if result >= 0:
        used = min(loss_in, result)
        return used, result - used, loss_in - used
    return ZERO, ZERO, loss_in - result


def compute_months(
    months: list[tuple[int, int]],
    realisations: list[Realisation],
    sales: list[SwingSale],
    opening: Opening | None = None,
) -> list[MonthResult]:
    """Tax figures for consecutive months, carrying losses, IRRF credit and sub-minimum DARFs forward."""
    with decimal.localcontext(MONEY):
        return _compute(months, realisations, sales, opening or Opening())


def _compute(
    months: list[tuple[int, int]], realisations: list[Realisation], sales: list[SwingSale], opening: Opening,
) -> list[MonthResult]:
    by_month: dict[tuple[int, int], list[Realisation]] = defaultdict(list)
    sales_by_month: dict[tuple[int, int], list[SwingSale]] = defaultdict(list)
    for r in realisations:
        by_month[r.month].append(r)
    for s in sales:
        sales_by_month[(s.day.year, s.day.month)].append(s)
    loss = {Bucket.DAY_TRADE: cents(opening.loss_day_trade), Bucket.COMMON: cents(opening.loss_common),
            Bucket.FII: cents(opening.loss_fii)}
    credit, under_min = cents(opening.irrf_credit), cents(opening.under_minimum)
    out: list[MonthResult] = []
    for i, (year, month) in enumerate(months):
        if month == 1 and i > 0:
            credit = ZERO  # IRRF credits carry within the calendar year only
        rs = sorted(by_month.get((year, month), []), key=lambda r: (r.day, r.symbol))
        ss = sales_by_month.get((year, month), [])
        raw = {b: sum((r.result for r in rs if r.bucket is b), Decimal(0)) for b in Bucket}
        stock_net = sum((r.result for r in rs if r.bucket is Bucket.COMMON and r.market_class is MarketClass.STOCK),
                        Decimal(0))
        stock_sales = cents(sum((s.value for s in ss if s.market_class is MarketClass.STOCK), Decimal(0)))
        exempt = stock_sales <= EXEMPT_SALES_LIMIT
        exempt_gain = cents(stock_net) if exempt and stock_net > 0 else ZERO
        result = {Bucket.DAY_TRADE: cents(raw[Bucket.DAY_TRADE]),
                  Bucket.COMMON: cents(raw[Bucket.COMMON]) - exempt_gain, Bucket.FII: cents(raw[Bucket.FII])}
        loss_in = dict(loss)
        used: dict[Bucket, Decimal] = {}
        base: dict[Bucket, Decimal] = {}
        for b in Bucket:
            used[b], base[b], loss[b] = _offset(result[b], loss_in[b])
        tax_gross = cents(sum((RATES[b] * base[b] for b in Bucket), Decimal(0)))
        irrf_lines = tuple(_irrf(rs, ss))
        irrf = sum((line[3] for line in irrf_lines), ZERO)
        credit_in = credit
        available = credit + irrf
        credit_used = min(tax_gross, available)
        credit = available - credit_used
        payable = tax_gross - credit_used + under_min
        under_min_in = under_min
        if payable < MIN_DARF:
            tax_due, under_min = ZERO, payable
        else:
            tax_due, under_min = payable, ZERO
        out.append(MonthResult(
            year=year, month=month, day_trade_result=result[Bucket.DAY_TRADE], common_result=result[Bucket.COMMON],
            fii_result=result[Bucket.FII], stock_sales=stock_sales,
            exempt_sales=stock_sales if exempt else ZERO, exempt_gain=exempt_gain, loss_in=loss_in,
            loss_used=used, loss_out=dict(loss), base=base, tax_gross=tax_gross, irrf=irrf, irrf_lines=irrf_lines,
            credit_in=credit_in, credit_used=credit_used, credit_out=credit, under_minimum_in=under_min_in,
            tax_due=tax_due, carried_under_minimum=under_min, realisations=tuple(rs),
        ))
    return out
