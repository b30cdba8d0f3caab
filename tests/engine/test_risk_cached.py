"""What the risk engine caches per symbol and per day decides as the rule itself does.

The notional sanity of a market order compares raw price x quantity with R$ 10 billion converted once to
raw units: the same verdict as the BRL product. The session rule, skipped inside a day's continuous window
already checked, gives the same verdict as the phase at every instant, across days and weekends.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, time
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import weekdays
from tradingsystem.domain import b3
from tradingsystem.domain.orders import Order, OrderType, Side
from tradingsystem.domain.sessions import Phase, local_ns
from tradingsystem.engine.risk import MAX_NOTIONAL_BRL, RiskConfig, RiskEngine
from tradingsystem.engine.session_gate import SessionGate

EXAMPLES = int(os.environ.get("TS_PROPERTY_EXAMPLES", "300"))
DAY = date(2026, 11, 27)  # a Friday: the weekend follows


class Ctx:
    def __init__(self, last: int | None) -> None:
        self.last = last

    def position(self, symbol: str) -> int:
        return 0

    def pending(self, symbol: str, sign: int) -> int:
        return 0

    def pending_live(self, symbol: str, sign: int) -> int:
        return 0

    def working_orders(self) -> int:
        return 0

    def last_price(self, symbol: str) -> int | None:
        return self.last

    def worst_gross_brl(self, symbol: str, signed_qty: int, price: int) -> Decimal:
        return Decimal(0)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.decimals(Decimal("0.0001"), Decimal(1000), places=4), st.integers(1, 10**7),
       st.one_of(st.none(), st.integers(-(10**9), 10**12)))
def test_market_order_notional_sanity_as_in_brl(per_raw: Decimal, qty: int, last: int | None) -> None:
    inst = replace(b3.instrument("WINZ26", weekdays), brl_per_raw=per_raw, lot=1)
    risk = RiskEngine(RiskConfig(max_order_qty=10**8, max_position=10**8, check_session=False),
                      {inst.symbol: inst}, Ctx(last))
    for _ in range(2):  # the second check reads the cached limits
        reason = risk.check(Order("O-1", inst.symbol, Side.BUY, OrderType.MARKET, qty), 0)
        too_big = bool(last) and abs(inst.brl(last * qty)) > MAX_NOTIONAL_BRL
        assert (reason is not None and "R$ 10,000,000,000" in reason) is too_big
        assert (reason is None) is not too_big


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.integers(0, 4 * 86_400), min_size=1, max_size=30))
def test_session_rule_as_the_phase_at_each_instant(offsets_s: list[int]) -> None:
    inst = b3.instrument("WINZ26", weekdays)
    risk = RiskEngine(RiskConfig(), {inst.symbol: inst}, Ctx(125_000), weekdays)
    gate = SessionGate(weekdays)
    start = local_ns(DAY, time(0, 0))
    for ts in sorted(start + s * 1_000_000_000 for s in offsets_s):
        reason = risk.check(Order("O-1", inst.symbol, Side.BUY, OrderType.MARKET, 1), ts)
        phase = gate.phase(inst.asset_class, ts, inst.symbol)
        assert (reason is None) is (phase not in (Phase.CLOSED, Phase.CANCEL_ONLY)), (ts, phase, reason)
