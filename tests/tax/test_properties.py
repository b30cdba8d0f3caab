"""Identities that must hold for any input (hypothesis, derandomised)."""

from __future__ import annotations

import decimal
from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.tax import Bucket, MarketClass, Opening, Realisation, Side, TaxFill, build_report, daily_ajustes
from tradingsystem.tax.model import MONEY, multiplier
from tradingsystem.tax.monthly import compute_months, month_range

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)
TOLERANCE = D("1e-30")


@st.composite
def trades(draw: st.DrawFn) -> list[TaxFill]:
    n = draw(st.integers(1, 30))
    fills = []
    for i in range(n):
        symbol = draw(st.sampled_from(["PETR4", "WINZ26"]))
        stock = symbol == "PETR4"
        price = D(draw(st.integers(1000, 5000))) / 100 if stock else D(draw(st.integers(20000, 28000)) * 5)
        fills.append(TaxFill(
            day=date(2026, 1, 2) + timedelta(days=draw(st.integers(0, 150))), symbol=symbol,
            side=draw(st.sampled_from([Side.BUY, Side.SELL])), quantity=draw(st.integers(1, 300 if stock else 10)),
            price=price, broker=draw(st.sampled_from(["A", "B"])), b3_fees=D(draw(st.integers(0, 500))) / 100,
            ts=i, seq=i, fill_id=f"f{i}"))
    # Flatten every asset at the end so all results are realised.
    for k, (symbol, price) in enumerate([("PETR4", D("30.00")), ("WINZ26", D("125000"))]):
        net = sum((f.quantity if f.side is Side.BUY else -f.quantity) for f in fills if f.symbol == symbol)
        if net:
            fills.append(TaxFill(day=date(2026, 7, 31), symbol=symbol, side=Side.SELL if net > 0 else Side.BUY,
                                 quantity=abs(net), price=price, broker="A", ts=1000 + k, seq=1000 + k,
                                 fill_id=f"close{k}"))
    return fills


@SETTINGS
@given(trades())
def test_results_add_up_to_the_cash_flow(fills: list[TaxFill]) -> None:
    report = build_report(fills, 2026)
    with decimal.localcontext(MONEY):
        cash = sum(((1 if f.side is Side.SELL else -1) * f.price * f.quantity * multiplier(f.symbol) - f.fees
                    for f in fills), D(0))
        realised = sum((r.result for m in report.months for r in m.realisations), D(0))
    assert abs(realised - cash) < TOLERANCE
    # Month figures are rounded once per bucket and month: each within half a centavo of its lines.
    monthly = sum((m.day_trade_result + m.common_result + m.fii_result + m.exempt_gain for m in report.months), D(0))
    assert abs(monthly - cash) <= D("0.005") * 3 * len(report.months)
    assert report.positions["2026-07"] == []


def _realisation(year: int, month: int, bucket: Bucket, result: D) -> Realisation:
    cls = MarketClass.FII if bucket is Bucket.FII else MarketClass.FUTURE
    return Realisation(day=date(year, month, 10), symbol="WINZ26", market_class=cls,
                       day_trade=bucket is Bucket.DAY_TRADE, broker="A", quantity=1, sales=D(0), cost=D(0),
                       proceeds=result, result=result, gross=result)


amounts = st.integers(-500_000, 500_000).map(lambda c: D(c) / 100)


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 24), st.sampled_from(list(Bucket)), amounts), max_size=40),
       st.tuples(amounts, amounts, amounts, st.integers(0, 999).map(lambda c: D(c) / 100)))
def test_carry_forward_never_makes_tax_negative(lines: list[tuple[int, Bucket, D]],
                                                 opening_raw: tuple[D, D, D, D]) -> None:
    opening = Opening(abs(opening_raw[0]), abs(opening_raw[1]), abs(opening_raw[2]), opening_raw[3])
    rs = [_realisation(2025 + (k - 1) // 12, (k - 1) % 12 + 1, b, v) for k, b, v in lines]
    out = compute_months(month_range((2025, 1), (2026, 12)), rs, [], opening)
    for m in out:
        assert m.tax_gross >= 0 and m.tax_due >= 0 and m.carried_under_minimum >= 0
        assert 0 <= m.credit_used <= m.tax_gross
        assert m.tax_due == 0 or m.tax_due >= D("10.00")
        for b in Bucket:
            assert m.base[b] >= 0 and m.loss_out[b] >= 0
    # Each bucket: sum of results = sum of taxed bases - (final loss - opening loss).
    start = {Bucket.DAY_TRADE: opening.loss_day_trade, Bucket.COMMON: opening.loss_common,
             Bucket.FII: opening.loss_fii}
    results = {Bucket.DAY_TRADE: "day_trade_result", Bucket.COMMON: "common_result", Bucket.FII: "fii_result"}
    for b in Bucket:
        total = sum((getattr(m, results[b]) for m in out), D(0))
        assert total == sum((m.base[b] for m in out), D(0)) - (out[-1].loss_out[b] - start[b])
    # Nothing is lost below the R$10 minimum: paid + still carried = owed after credits + carried in.
    owed = sum((m.tax_gross - m.credit_used for m in out), D(0)) + opening.under_minimum
    assert sum((m.tax_due for m in out), D(0)) + out[-1].carried_under_minimum == owed


@SETTINGS
@given(st.integers(-10, 10).filter(bool), st.lists(st.integers(24000, 26000), min_size=1, max_size=20),
       st.integers(24000, 26000), st.integers(24000, 26000))
def test_ajustes_sum_to_exit_minus_entry(qty: int, settles: list[int], entry: int, exit_: int) -> None:
    start = date(2026, 3, 2)
    table = {("WINM26", start + timedelta(days=i)): D(p * 5) for i, p in enumerate(settles)}
    end = start + timedelta(days=len(settles) + 1)
    trail = daily_ajustes("WINM26", qty, start, D(entry * 5), end, D(exit_ * 5), table, lambda d: True)
    assert sum((a for _, a in trail), D(0)) == (D(exit_ * 5) - D(entry * 5)) * D("0.20") * qty
