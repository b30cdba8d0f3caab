from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradingsystem.adapters.calendar import BvmfCalendar
from tradingsystem.domain import b3
from tradingsystem.domain.errors import OffGrid, UnknownInstrument


@pytest.fixture(scope="module")
def bvmf():
    return BvmfCalendar(date(2024, 1, 1), date(2027, 12, 31))


def test_win_rules(win):
    assert (win.tick, win.scale, win.lot) == (5, 0, 1)
    assert win.tick_size == Decimal(5)
    assert win.brl(5) == Decimal("1.00")  # one tick is R$1.00


def test_wdo_rules(wdo):
    assert wdo.tick_size == Decimal("0.5")
    assert wdo.to_raw("5400.5") == 54005
    assert wdo.brl(wdo.to_raw("0.5")) == Decimal("5.00")  # one tick is R$5.00


def test_stock_rules(petr4):
    assert petr4.lot == 100 and petr4.to_raw("38.47") == 3847
    frac = b3.stock("PETR4F")
    assert frac.lot == 1 and frac.fractional_of == "PETR4"


@pytest.mark.parametrize("price", ["125002", "125000.5", "nan", float("nan"), float("inf")])
def test_off_grid_prices_rejected(win, price):
    with pytest.raises(OffGrid):
        win.to_raw(price)


def test_quantity_off_lot(petr4):
    with pytest.raises(OffGrid, match="lot 100"):
        petr4.check_quantity(150)


@pytest.mark.parametrize("symbol", ["XXXX", "WINH26", "PETR", "WINZ2"])
def test_unknown_symbols(symbol, is_session):
    with pytest.raises(UnknownInstrument):
        b3.instrument(symbol, is_session)


def test_win_expiries_2026(bvmf):
    got = [b3.expiry("WIN", 2026, m, bvmf.is_session) for m in (2, 4, 6, 8, 10, 12)]
    assert got == [date(2026, 2, 18), date(2026, 4, 15), date(2026, 6, 17), date(2026, 8, 12),
                   date(2026, 10, 14), date(2026, 12, 16)]


def test_wdo_expiry_skips_carnival(bvmf):
    assert b3.expiry("WDO", 2025, 3, bvmf.is_session) == date(2025, 3, 5)
    assert b3.last_trading_day("WDO", 2025, 3, bvmf.is_session) == date(2025, 2, 28)


def test_generic_resolution_and_roll(bvmf):
    f = bvmf.is_session
    assert b3.resolve_generic("WINFUT", date(2026, 11, 27), f) == "WINZ26"
    assert b3.resolve_generic("WINFUT", date(2026, 12, 16), f) == "WINZ26"  # expiry day still trades
    assert b3.resolve_generic("WINFUT", date(2026, 12, 17), f) == "WING27"
    assert b3.resolve_generic("WINFUT", date(2026, 12, 14), f, roll_sessions=2) == "WING27"
    assert b3.resolve_generic("WDOFUT", date(2026, 11, 27), f) == "WDOZ26"
    assert b3.resolve_generic("PETR4", date(2026, 11, 27), f) == "PETR4"


def test_closed_contract_is_not_tradable(bvmf):
    inst = b3.future("WINZ26", bvmf.is_session)
    assert inst.is_tradable_on(date(2026, 12, 16)) and not inst.is_tradable_on(date(2026, 12, 17))


@given(st.integers(min_value=1, max_value=10**7))
def test_round_to_tick_is_on_grid(raw):
    inst = b3.future("WDOZ26", lambda d: d.weekday() < 5)
    r = inst.round_to_tick(raw)
    assert r % inst.tick == 0 and abs(r - raw) <= inst.tick // 2
