"""Hand-worked P&L examples and the identities every position must keep."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.domain import b3
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.positions import Position

FEES = FeeSchedule()


def test_win_round_trip_with_fees(win):
    # Buy 2 WIN at 125,000, sell 2 at 125,150: 150 points x R$0.20 x 2 = R$60.00; fees 2 x (2 x R$0.2561).
    pos = Position(win)
    pos.apply_fill(+1, 2, 125_000, FEES.fee(win, 2, 125_000))
    pos.apply_fill(-1, 2, 125_150, FEES.fee(win, 2, 125_150))
    assert pos.quantity == 0
    assert pos.realized_brl() == Decimal("60.00")
    assert pos.fees == Decimal("1.02")
    assert pos.net_brl() == Decimal("58.98")


def test_wdo_short_with_partial_cover(wdo):
    # Sell 3 WDO at 5,400.0; buy back 1 at 5,390.5 and 2 at 5,410.0.
    pos = Position(wdo)
    pos.apply_fill(-1, 3, wdo.to_raw("5400.0"))
    pos.apply_fill(+1, 1, wdo.to_raw("5390.5"))
    assert pos.realized_brl() == Decimal("95.00")  # 9.5 points x R$10
    pos.apply_fill(+1, 2, wdo.to_raw("5410.0"))
    assert pos.realized_brl() == Decimal("-105.00")  # 95 - 2 x 10 points x R$10
    assert FEES.fee(wdo, 3, 0) == Decimal("3.36")  # 3 x USD 0.2037 at the R$5.50 fallback rate


def test_stock_average_price_and_fees(petr4):
    # Buy 100 at 38.00 and 200 at 38.30 (avg 38.20), sell 300 at 38.50: (38.50-38.20) x 300 = R$90.00.
    pos = Position(petr4)
    pos.apply_fill(+1, 100, 3800)
    pos.apply_fill(+1, 200, 3830)
    assert pos.avg_price == Fraction(3820)
    assert pos.unrealized_brl(3850) == Decimal("90.00")
    pos.apply_fill(-1, 300, 3850)
    assert pos.realized_brl() == Decimal("90.00")
    # Day-trade fee 2.30 bps of R$11,550.00 = R$2.6565 -> R$2.66
    assert FEES.fee(petr4, 300, 3850) == Decimal("2.66")


def test_reversal_opens_at_fill_price(win):
    pos = Position(win)
    pos.apply_fill(+1, 1, 125_000)
    pos.apply_fill(-1, 3, 125_100)
    assert pos.quantity == -2
    assert pos.avg_price == 125_100
    assert pos.realized_brl() == Decimal("20.00")


fills = st.lists(
    st.tuples(st.sampled_from([1, -1]), st.integers(1, 50), st.integers(20_000, 20_100)),
    min_size=1, max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(fills, st.integers(20_000, 20_100))
def test_pnl_identity_and_quantity(fill_list, mark):
    """Position = sum of signed fills; realised + unrealised = cash flow + marked position, exactly."""
    inst = b3.future("WDOZ26", lambda d: d.weekday() < 5)
    pos = Position(inst)
    cash = 0
    for sign, qty, px in fill_list:
        pos.apply_fill(sign, qty, px * 5)
        cash -= sign * qty * px * 5
    assert pos.quantity == sum(s * q for s, q, _ in fill_list)
    total = Fraction(pos.realized_raw) + Fraction(pos.unrealized_raw(mark * 5))
    assert total == cash + pos.quantity * mark * 5
    assert pos.bought - pos.sold == pos.quantity
