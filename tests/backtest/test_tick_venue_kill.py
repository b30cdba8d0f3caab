"""A fill that trips the daily loss limit kills the node; the kill's cancels remove resting orders the venue's
match loop still holds. The loop must skip them: no exception, and a cancelled order never fills."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import kernel, ticks
from tradingsystem.domain.orders import OrderEventKind, OrderType, Side
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.strategy import Strategy

SYMBOL = "WINZ26"


class _Ladder(Strategy):
    """Rests a ladder of limit orders on the first trade, then watches the fills."""

    def __init__(self, levels: list[tuple[int, int, int]]) -> None:
        super().__init__("ladder", [SYMBOL])
        self.levels, self.started = levels, False

    def on_trade(self, tick):  # type: ignore[no-untyped-def]
        if self.started:
            return
        self.started = True
        for side, qty, offset in self.levels:
            s = Side.BUY if side else Side.SELL
            self.submit(SYMBOL, s, qty, OrderType.LIMIT, tick.price - s.sign * 5 * offset)


def _run(levels, moves, limit, as_sink):  # type: ignore[no-untyped-def]
    prices, p = [125_000], 125_000
    for m in moves:
        p += 5 * m
        prices.append(p)
    events = ticks(SYMBOL, prices)
    k, venue = kernel(events, risk=RiskConfig(max_order_qty=50, max_position=500,
                                              daily_loss_limit_brl=Decimal(limit)), as_sink=as_sink)
    cancelled: set[str] = set()
    filled_after_cancel: list[str] = []

    def seen(ev):  # type: ignore[no-untyped-def]
        if ev.kind == OrderEventKind.FILLED and ev.order_id in cancelled:
            filled_after_cancel.append(ev.order_id)
        elif ev.kind == OrderEventKind.CANCELLED:
            cancelled.add(ev.order_id)

    sink = venue._sink
    assert sink is not None

    class _Spy:
        def on_order_event(self, ev):  # type: ignore[no-untyped-def]
            seen(ev)
            sink.on_order_event(ev)

    venue.connect(_Spy())  # type: ignore[arg-type]
    k.add_strategy(_Ladder(levels))
    k.run(until_ts=events[-1].ts_event + 1_000_000)
    # the data engine counts a handler that raised (the venue's match loop) and carries on
    assert (k.data.handler_errors, k.data.last_error) == (0, "")
    assert k.orders.bad_events == 0 and not filled_after_cancel
    return k


level = st.tuples(st.integers(0, 1), st.integers(1, 10), st.integers(0, 6))


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(level, min_size=2, max_size=12), st.lists(st.integers(-8, 8), min_size=1, max_size=25),
       st.integers(1, 50), st.booleans())
def test_a_kill_inside_the_match_loop_never_raises(levels, moves, limit, as_sink):
    k = _run(levels, moves, limit, as_sink)
    assert k.risk.state.value in ("ACTIVE", "HALTED")


def test_the_reported_case_halts_and_cancels_the_rest():
    """Three bids below the market; one trade through all of them loses past the limit on the first fill."""
    k = _run([(1, 10, 1), (1, 10, 2), (1, 10, 3)], [-4, -20], 1, as_sink=False)
    assert k.risk.state.value == "HALTED"
    assert not k.cache.open_orders
