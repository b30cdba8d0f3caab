import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradingsystem.domain.errors import InvalidTransition
from tradingsystem.domain.orders import Order, OrderType, Side
from tradingsystem.domain.orders import OrderEventKind as K
from tradingsystem.domain.orders import OrderStatus as S


def make(qty: int = 10) -> Order:
    return Order("O-1", "WINZ26", Side.BUY, OrderType.LIMIT, qty, price=125_000)


def test_lifecycle_to_filled():
    o = make()
    assert o.apply(K.SUBMITTED, 1) is S.SUBMITTED
    assert o.apply(K.ACCEPTED, 2) is S.ACCEPTED
    assert o.apply(K.FILLED, 3, 4, 125_000) is S.PARTIALLY_FILLED
    assert o.apply(K.FILLED, 4, 6, 124_995) is S.FILLED
    assert o.is_closed and o.leaves_qty == 0 and o.filled_cost == 4 * 125_000 + 6 * 124_995


def test_cancel_flow_and_cancel_reject_returns_to_partial():
    o = make()
    o.apply(K.SUBMITTED, 1)
    o.apply(K.ACCEPTED, 2)
    o.apply(K.FILLED, 3, 2, 125_000)
    o.apply(K.PENDING_CANCEL, 4)
    assert o.apply(K.CANCEL_REJECTED, 5) is S.PARTIALLY_FILLED
    o.apply(K.PENDING_CANCEL, 6)
    assert o.apply(K.CANCELLED, 7) is S.CANCELLED


@pytest.mark.parametrize("status_events,bad", [
    ([], K.FILLED),
    ([K.SUBMITTED, K.REJECTED], K.ACCEPTED),
    ([K.SUBMITTED, K.ACCEPTED, K.CANCELLED], K.FILLED),
])
def test_invalid_transitions_raise(status_events, bad):
    o = make()
    for e in status_events:
        o.apply(e, 1)
    before = o.status
    with pytest.raises(InvalidTransition):
        o.apply(bad, 2, 1, 125_000)
    assert o.status is before  # nothing half-applied


def test_overfill_rejected():
    o = make(5)
    o.apply(K.SUBMITTED, 1)
    o.apply(K.ACCEPTED, 1)
    with pytest.raises(InvalidTransition, match="exceeds"):
        o.apply(K.FILLED, 2, 6, 125_000)
    assert o.filled_qty == 0


@given(st.lists(st.integers(1, 20), min_size=1, max_size=30))
def test_partial_fills_add_up(parts):
    o = make(sum(parts))
    o.apply(K.SUBMITTED, 1)
    o.apply(K.ACCEPTED, 1)
    for i, q in enumerate(parts):
        status = o.apply(K.FILLED, i, q, 125_000)
        assert status is (S.FILLED if i == len(parts) - 1 else S.PARTIALLY_FILLED)
    assert o.filled_qty == o.quantity
