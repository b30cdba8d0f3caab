"""Ticket input and exact price text: Brazilian decimals, field-named errors, round trips without floats."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradingsystem.domain import b3
from tradingsystem.interfaces.web.ticket import TicketError, fmt_raw, parse_price, parse_ticket
from tradingsystem.interfaces.web.views import filter_log, list_reports, period_pnl

PETR4 = b3.stock("PETR4")
WIN = b3.future("WINJ26", lambda d: d.weekday() < 5)


@given(st.integers(min_value=-10**9, max_value=10**9), st.integers(min_value=0, max_value=4))
def test_fmt_raw_is_the_exact_decimal(raw: int, scale: int) -> None:
    text = fmt_raw(raw, scale)
    assert Decimal(text) == Decimal(raw).scaleb(-scale)
    assert ("." in text) == (scale > 0) and (not scale or len(text.split(".")[1]) == scale)


@given(st.integers(min_value=1, max_value=10**7))
def test_brazilian_and_dotted_prices_read_the_same(cents: int) -> None:
    dotted = fmt_raw(cents, 2)
    integer, frac = dotted.split(".")
    grouped = f"{int(integer):,}".replace(",", ".")
    assert parse_price(PETR4, dotted) == parse_price(PETR4, f"{integer},{frac}") == cents
    assert parse_price(PETR4, f"{grouped},{frac}") == cents


@pytest.mark.parametrize(("text", "says"), [("37,5x", "not a price"), ("", "enter a price"), ("-1", "not a price"),
                                            ("37,505", "more than 2 decimals"), ("0", "above zero")])
def test_bad_prices_name_the_field_and_no_python_class(text: str, says: str) -> None:
    with pytest.raises(TicketError) as err:
        parse_price(PETR4, text, "limit price")
    msg = str(err.value)
    assert msg.startswith("limit price:") and says in msg and "<class" not in msg and "Conversion" not in msg


def test_ticket_kinds_and_bracket_sides() -> None:
    inst = {"WINJ26": WIN}
    t = parse_ticket(inst, {"symbol": "WINJ26", "side": "buy", "quantity": "2", "type": "stop-limit",
                            "price": "128.200", "trigger": "128150", "tif": "ioc"})
    assert (t.price, t.trigger, t.tif.name, t.kind and t.kind.name) == (128200, 128150, "IOC", "STOP_LIMIT")
    with pytest.raises(TicketError, match=r"take profit: .* must be above"):
        parse_ticket(inst, {"symbol": "WINJ26", "side": "BUY", "quantity": 1, "type": "LIMIT", "price": "128000",
                            "take_profit": "127000"})
    with pytest.raises(TicketError, match="OCO: enter"):
        parse_ticket(inst, {"symbol": "WINJ26", "side": "SELL", "quantity": 1, "type": "OCO"})
    with pytest.raises(TicketError, match="quantity: 50 is not a positive multiple of the lot"):
        parse_ticket({"PETR4": PETR4}, {"symbol": "PETR4", "side": "BUY", "quantity": 50, "type": "MARKET"})


def test_daily_and_monthly_pnl_and_log_filters() -> None:
    day = 86_400 * 10**9
    t0 = 1_772_452_800 * 10**9  # 2026-03-02 09:00 BRT
    curve = [(t0, "total", Decimal("10")), (t0 + day, "total", Decimal("4.50")), (t0 + 30 * day, "total", Decimal("7"))]
    out = period_pnl(curve)
    assert [d["pnl_brl"] for d in out["daily"]] == ["10", "-5.50", "2.50"]
    assert out["monthly"] == [{"period": "2026-03", "pnl_brl": "4.50"}, {"period": "2026-04", "pnl_brl": "2.50"}]
    rows = [{"ts": 1, "source": "order", "level": "INFO", "symbol": "PETR4", "text": "O-1 ACCEPTED"},
            {"ts": 2, "source": "risk", "level": "WARNING", "symbol": "", "text": "O-2 denied by max_order_qty"},
            {"ts": 3, "source": "alert", "level": "CRITICAL", "symbol": "", "text": "kill_switch: engaged"}]
    assert [r["ts"] for r in filter_log(rows)] == [3, 2, 1]
    assert [r["ts"] for r in filter_log(rows, level="WARNING")] == [3, 2]
    assert [r["ts"] for r in filter_log(rows, source="order", symbol="PETR4")] == [1]
    assert [r["ts"] for r in filter_log(rows, text="MAX_ORDER")] == [2]


def test_reports_by_kind(tmp_path: Path) -> None:
    for rel, body in (("petr4/report.html", "<h1/>"), ("petr4/summary.json", "{}"), ("tax2026/tax.html", "<h1/>"),
                      ("shadow/shadow-2026-03-02.json", "{}"), ("ml/lgbm/evaluation.json", "{}")):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    kinds = {r["path"]: r["kind"] for r in list_reports(tmp_path)}
    assert kinds == {"petr4/report.html": "backtest", "tax2026/tax.html": "tax",
                     "shadow/shadow-2026-03-02.json": "shadow", "ml/lgbm/evaluation.json": "ml"}
