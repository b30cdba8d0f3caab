from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.portfolio import Fill, attribute, brinson, group_pnl, market_attribution, total_pnl
from tradingsystem.portfolio.attribution import KEYS

HOUR = 3_600_000_000_000

fills_st = st.lists(
    st.builds(
        Fill,
        ts=st.integers(0, 48 * HOUR),
        symbol=st.sampled_from(["PETR4", "VALE3", "WINZ26"]),
        side=st.sampled_from([1, -1]),
        quantity=st.integers(1, 500),
        price=st.decimals(Decimal("0.01"), Decimal("999.99"), places=2),
        fee=st.decimals(Decimal("0"), Decimal("9.99"), places=2),
        strategy=st.sampled_from(["trend", "meanrev"]),
        tag=st.sampled_from(["", "model-a", "signal-x"]),
    ),
    max_size=40,
)
marks_st = st.fixed_dictionaries({s: st.decimals(Decimal("0.01"), Decimal("999.99"), places=2)
                                  for s in ("PETR4", "VALE3", "WINZ26")})


@settings(max_examples=200, deadline=None, derandomize=True)
@given(fills_st, marks_st)
def test_every_grouping_sums_exactly_to_total_pnl(fills: list[Fill], marks: dict[str, Decimal]) -> None:
    contribs = attribute(fills, marks)
    total = total_pnl(fills, marks)
    assert sum((c.pnl for c in contribs), Decimal(0)) == total
    for key in KEYS:
        assert sum(group_pnl(contribs, key).values(), Decimal(0)) == total
    fees = sum((f.fee for f in fills), Decimal(0))
    assert group_pnl(contribs, "kind").get("fee", Decimal(0)) == -fees


def test_round_trip_pieces() -> None:
    t = 13 * HOUR  # 10:00 in B3 (UTC-3)
    fills = [Fill(t, "PETR4", 1, 100, Decimal("30.00"), Decimal("1.00"), "a", "m1"),
             Fill(t + HOUR, "PETR4", -1, 150, Decimal("31.00"), Decimal("1.50"), "a", "m1"),
             Fill(t + 2 * HOUR, "PETR4", 1, 50, Decimal("30.50"), Decimal("0.50"), "a", "m1")]
    c = attribute(fills, {"PETR4": Decimal("30.00")})
    by_side = group_pnl(c, "side")
    # long: +100 realised, fee 1.00 + 1.00 of the sell's 1.50; short: +25 realised, fee 0.50 + 0.50.
    # Realised P&L goes to the entry hour, fees to their own fill's hour.
    assert by_side == {"long": Decimal("98.00"), "short": Decimal("24.00")}
    assert group_pnl(c, "hour") == {"10": Decimal("99.00"), "11": Decimal("23.50"), "12": Decimal("-0.50")}
    assert total_pnl(fills, {"PETR4": Decimal("30.00")}) == Decimal("122.00")


def test_brinson_sums_to_active_return() -> None:
    wp, wb = {"banks": 0.5, "oil": 0.3, "retail": 0.2}, {"banks": 0.4, "oil": 0.4, "retail": 0.2}
    rp, rb = {"banks": 0.05, "oil": -0.02, "retail": 0.03}, {"banks": 0.04, "oil": -0.01, "retail": 0.01}
    df = brinson(wp, wb, rp, rb)
    active = sum(wp[s] * rp[s] for s in wp) - sum(wb[s] * rb[s] for s in wb)
    assert df["total"].sum() == pytest.approx(active, abs=1e-15)
    assert df["allocation"].sum() + df["selection"].sum() + df["interaction"].sum() == pytest.approx(active)


def test_market_vs_alpha_is_additive(returns: pd.DataFrame) -> None:
    port = returns[["PETR4", "VALE3"]].mean(axis=1)
    out = market_attribution(port, returns.mean(axis=1))
    assert out["market"] + out["alpha"] == out["total"]
    assert np.isclose(out["total"], port.sum())
