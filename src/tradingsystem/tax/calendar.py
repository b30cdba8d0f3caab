"""Bank business days and the DARF due date.

The DARF is due on the last *bank* business day of the month after the gains (b3.md section 3).
exchange-calendars has no ANBIMA (bank) calendar; the national bank holidays come from the ``holidays``
package: its public holidays for Brazil (Jan 1, Good Friday, Apr 21, May 1, Sep 7, Oct 12, Nov 2, Nov 15,
Nov 20 since 2024 under Lei 14.759/2023, Dec 25) plus Carnival Monday and Tuesday and Corpus Christi.

Banks do not open to the public on Dec 31 (PGFN and Febraban notices), so it is not a day to pay on: a
November DARF is due on the last bank day before it, even where the form (Sicalc) prints 31/12
(``darf_due_note`` says so). Banks are open on Dec 24 (B3 is closed); Ash Wednesday is a business day for
both. Municipal and state holidays are not counted.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

__all__ = ["bank_holidays", "darf_due_date", "darf_due_note", "darf_form_date", "is_bank_day", "last_bank_day"]


_BANK_OPTIONAL = frozenset({"Carnival", "Corpus Christi"})  # optional points on which banks close


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """National bank holidays of a year: the ``holidays`` package's public holidays for Brazil plus
    Carnival Monday and Tuesday and Corpus Christi (optional points on which banks close)."""
    public = holidays.country_holidays("BR", years=year, language="en_US")
    optional = holidays.country_holidays("BR", years=year, categories=("optional",), language="en_US")
    return frozenset(set(public) | {d for d, name in optional.items() if name in _BANK_OPTIONAL})


def is_bank_day(day: date, payments: bool = True) -> bool:
    """A weekday that is not a national bank holiday; with ``payments``, Dec 31 (no bank opening) is not one."""
    if payments and day.month == 12 and day.day == 31:
        return False
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def last_bank_day(year: int, month: int, payments: bool = True) -> date:
    """The last bank business day of a month (for payments unless ``payments`` is False)."""
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    day = nxt - timedelta(days=1)
    while not is_bank_day(day, payments):
        day -= timedelta(days=1)
    return day


def darf_due_date(year: int, month: int) -> date:
    """Due date of the DARF for gains of ``year``-``month``: last bank day to pay on in the following month."""
    return last_bank_day(year + (month == 12), month % 12 + 1)


def darf_form_date(year: int, month: int) -> date:
    """The due date the DARF form prints: last business day of the following month, Dec 31 included."""
    return last_bank_day(year + (month == 12), month % 12 + 1, payments=False)


def darf_due_note(year: int, month: int) -> str | None:
    """A note when the form prints a later date than the day the DARF can be paid by; else ``None``."""
    due, form = darf_due_date(year, month), darf_form_date(year, month)
    if form == due:
        return None
    return (f"the DARF form prints {form:%d/%m/%Y}, but banks do not open on 31 December: "
            f"pay by {due:%d/%m/%Y}")
