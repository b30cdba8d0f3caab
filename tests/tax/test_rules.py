"""Bank calendar, DARF due dates and market classification."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tradingsystem.tax import ClassificationError, MarketClass, asset_key, classify, darf_due_date, is_bank_day
from tradingsystem.tax.calendar import bank_holidays, darf_due_note, darf_form_date


def _easter(year: int) -> date:
    """Easter Sunday by the anonymous Gregorian algorithm: an independent check of the library."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


@pytest.mark.parametrize("year", range(2005, 2036))
def test_bank_holidays_from_the_library_match_the_rules(year: int) -> None:
    e = _easter(year)
    expected = {date(year, 1, 1), date(year, 4, 21), date(year, 5, 1), date(year, 9, 7), date(year, 10, 12),
                date(year, 11, 2), date(year, 11, 15), date(year, 12, 25), e - timedelta(days=48),
                e - timedelta(days=47), e - timedelta(days=2), e + timedelta(days=60)}
    if year >= 2024:
        expected.add(date(year, 11, 20))
    assert bank_holidays(year) == expected


def test_bank_holidays_2026() -> None:
    # National bank holidays (ANBIMA list); Nov 15 2026 is a Sunday but still listed.
    assert sorted(bank_holidays(2026)) == [
        date(2026, 1, 1), date(2026, 2, 16), date(2026, 2, 17), date(2026, 4, 3), date(2026, 4, 21),
        date(2026, 5, 1), date(2026, 6, 4), date(2026, 9, 7), date(2026, 10, 12), date(2026, 11, 2),
        date(2026, 11, 15), date(2026, 11, 20), date(2026, 12, 25)]
    assert date(2023, 11, 20) not in bank_holidays(2023)  # national only since 2024


def test_banks_open_on_dec_24_but_take_no_payments_on_dec_31() -> None:
    # B3 closes on Dec 24 and Dec 31; banks open on Dec 24 but not to the public on Dec 31 (PGFN, Febraban).
    assert is_bank_day(date(2026, 12, 24))
    assert not is_bank_day(date(2026, 12, 31)) and is_bank_day(date(2026, 12, 31), payments=False)
    assert is_bank_day(date(2026, 2, 18))  # Ash Wednesday


@pytest.mark.parametrize(("year", "month", "due"), [
    (2026, 1, date(2026, 2, 27)),   # Feb 28 is a Saturday
    (2026, 3, date(2026, 4, 30)),
    (2026, 8, date(2026, 9, 30)),
    (2026, 10, date(2026, 11, 30)),
    (2026, 11, date(2026, 12, 30)),  # banks do not open on Dec 31
    (2026, 12, date(2027, 1, 29)),  # Jan 31 2027 is a Sunday, 30 a Saturday
    (2025, 3, date(2025, 4, 30)),
    (2024, 10, date(2024, 11, 29)),
])
def test_darf_due_date(year: int, month: int, due: date) -> None:
    assert darf_due_date(year, month) == due


@pytest.mark.parametrize(("year", "due", "form"), [
    (2018, date(2018, 12, 28), date(2018, 12, 31)),  # Dec 31 a Monday: the Friday before
    (2021, date(2021, 12, 30), date(2021, 12, 31)),  # Friday
    (2022, date(2022, 12, 30), date(2022, 12, 30)),  # Dec 31 a Saturday: the form agrees
    (2023, date(2023, 12, 29), date(2023, 12, 29)),  # Dec 31 a Sunday, 30 a Saturday
    (2024, date(2024, 12, 30), date(2024, 12, 31)),  # Tuesday
    (2025, date(2025, 12, 30), date(2025, 12, 31)),  # Wednesday
    (2026, date(2026, 12, 30), date(2026, 12, 31)),  # Thursday
    (2027, date(2027, 12, 30), date(2027, 12, 31)),  # Friday
])
def test_november_darf_is_due_before_dec_31(year: int, due: date, form: date) -> None:
    assert darf_due_date(year, 11) == due
    assert darf_form_date(year, 11) == form
    note = darf_due_note(year, 11)
    if form == due:
        assert note is None
    else:
        assert note == (f"the DARF form prints {form:%d/%m/%Y}, but banks do not open on 31 December: "
                        f"pay by {due:%d/%m/%Y}")


def test_darf_due_date_skips_a_holiday_on_the_last_day() -> None:
    # Gains of Apr 2021 -> May 2021: May 31 Monday is a business day; Corpus Christi 2021 was June 3.
    assert darf_due_date(2021, 4) == date(2021, 5, 31)
    # Gains of Feb 2024 -> Mar 2024: Good Friday 2024 was Mar 29, the last weekday of the month.
    assert darf_due_date(2024, 2) == date(2024, 3, 28)


@pytest.mark.parametrize(("symbol", "cls"), [
    ("WINZ26", MarketClass.FUTURE), ("WDOF27", MarketClass.FUTURE), ("PETR4", MarketClass.STOCK),
    ("VALE3", MarketClass.STOCK), ("PETR4F", MarketClass.STOCK), ("BOVA11", MarketClass.ETF),
    ("HGLG11", MarketClass.FII), ("SANB11", MarketClass.STOCK), ("PETRA123", MarketClass.OPTION),
    ("VALEM650", MarketClass.OPTION),
])
def test_classify_defaults(symbol: str, cls: MarketClass) -> None:
    assert classify(symbol) is cls


def test_unknown_suffix_11_needs_the_map() -> None:
    with pytest.raises(ClassificationError, match="ETF, a FII or a unit"):
        classify("ABCD11")
    assert classify("ABCD11", {"ABCD11": MarketClass.FII}) is MarketClass.FII
    assert classify("BOVA11", {"BOVA11": MarketClass.STOCK}) is MarketClass.STOCK  # the user's map wins


def test_fractional_book_is_the_same_asset() -> None:
    assert asset_key("PETR4F") == "PETR4" and asset_key("WINZ26") == "WINZ26"
