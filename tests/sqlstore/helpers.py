"""Record builders and hypothesis strategies for the state store tests."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from tradingsystem.domain.records import AuditRecord, FillRecord, OrderRecord, RiskStateRecord

I64 = st.integers(-(2**63), 2**63 - 1)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
DECIMALS = st.builds(lambda m, e: Decimal(m).scaleb(e), st.integers(-(10**30), 10**30), st.integers(-30, 10))


def order(order_id: str = "o1", status: int = 2, strategy: str = "s1", symbol: str = "WINZ26", ts: int = 1,
          filled: int = 0, **kw: object) -> OrderRecord:
    base: dict[str, object] = dict(order_id=order_id, symbol=symbol, side=1, order_type=2, quantity=10,
                                   price=125_000, trigger_price=0, tif=1, strategy_id=strategy, status=status,
                                   filled_qty=filled, filled_cost=filled * 125_000, venue_order_id="",
                                   ts_init=ts, ts_last=ts)
    base.update(kw)
    return OrderRecord(**base)  # type: ignore[arg-type]


def fill(fill_id: str = "f1", order_id: str = "o1", side: int = 1, qty: int = 1, ts: int = 1, strategy: str = "s1",
         symbol: str = "WINZ26", fee: Decimal = Decimal("0.25")) -> FillRecord:
    return FillRecord(fill_id, order_id, symbol, side, qty, 125_000, fee, ts, strategy)


def risk(ts: int = 1, state: str = "ACTIVE", kill: bool = False) -> RiskStateRecord:
    return RiskStateRecord(state, kill, "manual" if kill else "", ts, {"stale_data": "closed"}, "2026-11-27",
                           Decimal("100000.00"), Decimal("100250.50"))


def audit(ts: int = 1, order_id: str = "o1", passed: bool = True) -> AuditRecord:
    return AuditRecord(ts, order_id, "max_order_qty", "10", "50", passed, "")


def orders_st(order_id: st.SearchStrategy[str]) -> st.SearchStrategy[OrderRecord]:
    return st.builds(OrderRecord, order_id=order_id, symbol=TEXT, side=st.integers(1, 2),
                     order_type=st.integers(0, 9), quantity=I64, price=I64, trigger_price=I64,
                     tif=st.integers(0, 9), strategy_id=TEXT, status=st.integers(0, 10), filled_qty=I64,
                     filled_cost=I64, venue_order_id=TEXT, ts_init=I64, ts_last=I64, reason=TEXT, parent_id=TEXT,
                     group_id=TEXT, tags=st.lists(TEXT, max_size=3).map(tuple))


def fills_st(fill_id: st.SearchStrategy[str]) -> st.SearchStrategy[FillRecord]:
    return st.builds(FillRecord, fill_id=fill_id, order_id=TEXT, symbol=TEXT, side=st.integers(1, 2),
                     quantity=st.integers(0, 2**40), price=I64, fee=DECIMALS, ts=I64, strategy_id=TEXT,
                     liquidity=st.integers(0, 2), venue_order_id=TEXT)


RISK_ST = st.builds(RiskStateRecord, trading_state=TEXT, kill_switch=st.booleans(), kill_reason=TEXT, ts=I64,
                    breakers=st.dictionaries(TEXT, TEXT, max_size=3), day=TEXT, day_start_equity_brl=DECIMALS,
                    peak_equity_brl=DECIMALS)
AUDIT_ST = st.builds(AuditRecord, ts=I64, order_id=TEXT, rule=TEXT, value=TEXT, limit=TEXT, passed=st.booleans(),
                     detail=TEXT)
