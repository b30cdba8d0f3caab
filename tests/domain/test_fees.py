"""B3's first-tier fees (B3's Ibovespa- and dollar-futures tariff pages, b3.md section 2) and the PTAX conversion."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradingsystem.domain import b3
from tradingsystem.domain.fees import DOLLAR, IBOVESPA, FeeSchedule, progressive_average

FEES = FeeSchedule()


def weekdays(d: date) -> bool:
    return d.weekday() < 5


@pytest.mark.parametrize(("root", "day_trade", "currency", "unit"), [
    ("WIN", False, "BRL", "0.394"),   # 1.97 x 0.2
    ("WIN", True, "BRL", "0.2561"),   # 1.97 x 0.2 x (1 - 35%)
    ("IND", False, "BRL", "1.97"),
    ("IND", True, "BRL", "1.2805"),   # 1.97 x 0.65
    ("WDO", False, "USD", "0.2425"),  # 0.97 x 0.25
    ("WDO", True, "USD", "0.2037"),   # 0.97 x 0.25 x (1 - 16%)
    ("DOL", False, "USD", "0.97"),    # 4 x WDO (factor 1 vs 0.25)
    ("DOL", True, "USD", "0.8148"),
])
def test_first_tier_unit_fees(root: str, day_trade: bool, currency: str, unit: str) -> None:
    assert FEES.unit_fee(root, day_trade) == (currency, Decimal(unit))


def test_fill_fees_in_brl() -> None:
    win, ind = b3.future("WINZ26", weekdays), b3.future("INDZ26", weekdays)
    assert FEES.fee(win, 1, 130_000) == Decimal("0.26")
    assert FEES.fee(win, 1, 130_000, day_trade=False) == Decimal("0.39")
    assert FEES.fee(win, 10, 130_000) == Decimal("2.56")  # 10 x 0.2561
    assert FEES.fee(ind, 5, 130_000) == Decimal("6.40")   # 5 x 1.2805 = 6.4025
    assert FEES.fee(ind, 5, 130_000, day_trade=False) == Decimal("9.85")


def test_stock_fees_in_bps_of_notional() -> None:
    petr4 = b3.stock("PETR4")
    # 100 shares at R$38.00 = R$3,800: 2.30 bps day trade = 0.874, 3.00 bps normal = 1.14.
    assert FEES.exchange_fee(petr4, 100, 3800, day_trade=True) == Decimal("0.874")
    assert FEES.fee(petr4, 100, 3800, day_trade=False) == Decimal("1.14")


def test_usd_fees_convert_at_the_days_ptax() -> None:
    wdo, dol = b3.future("WDOZ26", weekdays), b3.future("DOLZ26", weekdays)
    fees = FeeSchedule(ptax={date(2026, 3, 2): Decimal("5.7421"), date(2026, 3, 3): Decimal("5.8012")},
                       usd_brl_fallback=Decimal("5.50"))
    # 10 WDO day trade on 2 Mar: 10 x 0.2037 x 5.7421 = 11.6966577 -> R$11.70
    assert fees.fee(wdo, 10, 0, True, date(2026, 3, 2)) == Decimal("11.70")
    # 3 Mar: 10 x 0.2037 x 5.8012 = 11.8170444 -> R$11.82; a day with no PTAX uses the latest before it
    assert fees.fee(wdo, 10, 0, True, date(2026, 3, 3)) == Decimal("11.82")
    assert fees.usd_brl(date(2026, 3, 7)) == Decimal("5.8012")
    # before any loaded PTAX, and with none loaded: the fallback rate
    assert fees.usd_brl(date(2026, 3, 1)) == Decimal("5.50")
    assert FEES.fee(dol, 1, 0, False, date(2026, 3, 2)) == Decimal("5.34")  # 0.97 x 5.50 = 5.335
    # DOL = 4 x WDO at any rate
    assert fees.exchange_fee(dol, 1, 0, True, date(2026, 3, 2)) == 4 * fees.exchange_fee(wdo, 1, 0, True,
                                                                                          date(2026, 3, 2))


def test_volume_tiers_are_progressive_and_weighted() -> None:
    # ADV 150 IND: 50 at 1.97 and 100 at 1.82 -> 280.50 / 150 = 1.87 (B3: 1.82 x 150 + 7.50).
    assert progressive_average(IBOVESPA.prices, Decimal(150)) == Decimal("1.87")
    # WIN counts 0.2 of an IND: 750 WIN a day = ADV 150.
    fees = FeeSchedule(adv={"WIN": Decimal(750)}, day_trade_adv={"WIN": Decimal(250)})
    # DT ADV 50: 5 at 35% and 45 at 40% -> 19.75 / 50 = 39.5% (B3: 40% x 50 - 0.25)
    assert progressive_average(IBOVESPA.day_trade_reductions, Decimal(50)) == Decimal("0.395")
    assert fees.unit_fee("WIN", False) == ("BRL", Decimal("0.374"))   # 1.87 x 0.2
    assert fees.unit_fee("WIN", True) == ("BRL", Decimal("0.226270"))  # 0.374 x 0.605
    # Dollar: DT ADV 500: 20 at 16% + 480 at 25% = 24.64% (B3: 25% x 500 - 1.80 points of %)
    assert progressive_average(DOLLAR.day_trade_reductions, Decimal(500)) == Decimal("0.2464")


@given(st.integers(0, 200_000), st.integers(0, 200_000))
def test_more_volume_never_costs_more_per_contract(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    for fam in (IBOVESPA, DOLLAR):
        assert progressive_average(fam.prices, Decimal(hi)) <= progressive_average(fam.prices, Decimal(lo))
        assert (progressive_average(fam.day_trade_reductions, Decimal(hi))
                >= progressive_average(fam.day_trade_reductions, Decimal(lo)))

