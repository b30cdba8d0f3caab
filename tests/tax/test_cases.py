"""Hand-computed cases required by issue 12. Each expected number is written out with its rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from tradingsystem.tax import Bucket, Opening, Side, TaxFill, build_report, daily_ajustes, is_bank_day

_seq = iter(range(1, 1_000_000))


def fill(day: str, symbol: str, side: str, qty: int, price: str, broker: str = "XP", fees: str = "0",
         ts: int = 0) -> TaxFill:
    n = next(_seq)
    return TaxFill(day=date.fromisoformat(day), symbol=symbol, side=Side(side), quantity=qty, price=D(price),
                   broker=broker, b3_fees=D(fees), ts=ts, seq=n, fill_id=f"f{n}")


def months(report):
    return {m.key: m for m in report.months}


def test_november_darf_is_due_on_dec_30_with_a_note() -> None:
    fills = [fill("2026-11-10", "WINZ26", "buy", 10, "130000", ts=1),
             fill("2026-11-10", "WINZ26", "sell", 10, "130500", ts=2)]
    nov = months(build_report(fills, 2026))["2026-11"]
    js = nov.as_json()
    assert js["tax_due_brl"] != "0.00"
    assert js["darf_due_date"] == "2026-12-30"  # banks do not open on Thursday 31 December 2026
    assert js["darf_due_note"] == ("the DARF form prints 31/12/2026, but banks do not open on 31 December: "
                                   "pay by 30/12/2026")


def test_win_day_trade_loss_then_gain_next_month() -> None:
    fills = [
        # March: 10 WINM26 bought 130000, sold 129500; costs 2.60 per fill (as on the broker's note).
        fill("2026-03-10", "WINM26", "buy", 10, "130000", fees="2.60", ts=1),
        fill("2026-03-10", "WINM26", "sell", 10, "129500", fees="2.60", ts=2),
        # April: bought 128000, sold 129000.
        fill("2026-04-08", "WINM26", "buy", 10, "128000", fees="2.60", ts=1),
        fill("2026-04-08", "WINM26", "sell", 10, "129000", fees="2.60", ts=2),
    ]
    m = months(build_report(fills, 2026))
    mar, apr = m["2026-03"], m["2026-04"]
    # March: (129500 - 130000) x R$0.20 x 10 = -1000.00, minus costs 5.20 -> -1005.20, all carried.
    assert mar.day_trade_result == D("-1005.20")
    assert mar.as_json()["loss_carried_day_trade_brl"] == "1005.20"
    assert mar.tax_due == 0 and mar.irrf == 0 and mar.darf_due is None
    # April: (129000 - 128000) x 0.20 x 10 = 2000.00 - 5.20 = 1994.80; the loss offsets day trade only.
    assert apr.day_trade_result == D("1994.80")
    assert apr.base[Bucket.DAY_TRADE] == D("989.60")  # 1994.80 - 1005.20
    assert apr.tax_gross == D("197.92")  # 20% x 989.60
    assert apr.irrf == D("19.95")  # 1% x 1994.80 = 19.948 -> centavos (half-even)
    assert apr.tax_due == D("177.97")  # 197.92 - 19.95
    js = apr.as_json()
    assert js["loss_carried_day_trade_brl"] == "0.00"
    assert js["darf_code"] == "6015"
    assert js["darf_due_date"] == "2026-05-29"  # last bank day of May 2026 (31st is a Sunday)


def test_stock_swing_sales_under_and_over_20000() -> None:
    fills = [
        fill("2026-05-04", "PETR4", "buy", 1000, "30.00", fees="3.00"),  # cost 30003.00, average 30.003
        fill("2026-05-20", "PETR4", "sell", 500, "36.00", fees="1.80"),  # sales 18000.00 <= 20000
        fill("2026-06-10", "PETR4", "sell", 500, "44.00", fees="2.20"),  # sales 22000.00 > 20000
    ]
    m = months(build_report(fills, 2026))
    may, jun = m["2026-05"], m["2026-06"]
    # May: 18000 - 1.80 - 500 x 30.003 = 2996.70, exempt (art. 59: sales <= R$20,000).
    assert may.exempt_sales == D("18000.00")
    assert may.exempt_gain == D("2996.70")
    assert may.common_result == D("0.00")
    assert may.irrf == 0  # 0.005% x 18000 = 0.90 <= R$1.00: not withheld
    assert may.tax_due == 0
    # June: 22000 - 2.20 - 15001.50 = 6996.30, whole gain taxed at 15%.
    assert jun.exempt_sales == 0 and jun.exempt_gain == 0
    assert jun.common_result == D("6996.30")
    assert jun.tax_gross == D("1049.44")  # 15% x 6996.30 = 1049.445 -> half-even to 1049.44
    assert jun.irrf == D("1.10")  # 0.005% x 22000
    assert jun.tax_due == D("1048.34")
    assert jun.darf_due == date(2026, 7, 31)


def test_futures_position_held_over_month_end() -> None:
    fills = [
        fill("2026-04-28", "WINM26", "buy", 2, "125000", fees="0.78"),  # swing fee 0.39 x 2
        fill("2026-05-05", "WINM26", "sell", 2, "127000", fees="0.78"),
    ]
    settle = {("WINM26", date(2026, 4, 28)): D("125500"), ("WINM26", date(2026, 4, 29)): D("126000"),
              ("WINM26", date(2026, 4, 30)): D("124000"), ("WINM26", date(2026, 5, 4)): D("126500")}
    report = build_report(fills, 2026, settlements=settle)
    m = months(report)
    # April: the position is open; its ajustes (124000 - 125000) x 0.20 x 2 = -400.00 are not yet taxed.
    assert m["2026-04"].common_result == 0 and m["2026-04"].tax_due == 0
    (pos,) = report.positions["2026-04"]
    assert (pos.symbol, pos.quantity, pos.cost, pos.open_ajustes) == ("WINM26", 2, D("50000.78"), D("-400.00"))
    # May: sum of ajustes 200 + 200 - 800 + 1000 + 200 = 800.00 = (127000 - 125000) x 0.20 x 2; less 1.56 costs.
    trail = daily_ajustes("WINM26", 2, date(2026, 4, 28), D("125000"), date(2026, 5, 5), D("127000"), settle,
                          is_bank_day)
    assert [a for _, a in trail] == [D("200.00"), D("200.00"), D("-800.00"), D("1000.00"), D("200.00")]
    may = m["2026-05"]
    assert may.common_result == D("798.44")
    assert may.tax_gross == D("119.77")  # 15% x 798.44 = 119.766
    assert may.irrf == 0  # 0.005% x 800 = 0.04: waived
    assert may.tax_due == D("119.77")
    assert may.darf_due == date(2026, 6, 30)
    assert report.positions["2026-05"] == []


def test_irrf_credit_larger_than_tax_carries_within_the_year() -> None:
    fills = [
        # June: WIN day-trade loss (125100 - 130000) x 0.20 x 10 = -9800.00.
        fill("2026-06-02", "WINQ26", "buy", 10, "130000", ts=1),
        fill("2026-06-02", "WINQ26", "sell", 10, "125100", ts=2),
        # July: day-trade gain (125000 - 120000) x 0.20 x 10 = 10000.00.
        fill("2026-07-01", "WINQ26", "buy", 10, "120000", ts=1),
        fill("2026-07-01", "WINQ26", "sell", 10, "125000", ts=2),
        # September: day-trade gain (131000 - 130000) x 0.20 x 10 = 2000.00.
        fill("2026-09-01", "WINV26", "buy", 10, "130000", ts=1),
        fill("2026-09-01", "WINV26", "sell", 10, "131000", ts=2),
    ]
    m = months(build_report(fills, 2026))
    jul, aug, sep = m["2026-07"], m["2026-08"], m["2026-09"]
    # July: base 10000 - 9800 = 200, tax 40.00; IRRF 1% x 10000 = 100.00 > tax: 40.00 used, 60.00 carried.
    assert (jul.tax_gross, jul.irrf, jul.credit_used, jul.credit_out, jul.tax_due) == (
        D("40.00"), D("100.00"), D("40.00"), D("60.00"), D("0.00"))
    assert jul.as_json()["darf_due_date"] is None
    assert aug.credit_in == D("60.00") and aug.credit_out == D("60.00")
    # September: tax 20% x 2000 = 400.00; credit 60.00 + IRRF 20.00 = 80.00 used; DARF 320.00.
    assert (sep.tax_gross, sep.irrf, sep.credit_used, sep.tax_due) == (D("400.00"), D("20.00"), D("80.00"),
                                                                         D("320.00"))
    assert sep.darf_due == date(2026, 10, 30)


def test_irrf_credit_does_not_cross_the_year() -> None:
    fills = [
        fill("2026-12-01", "WINZ26", "buy", 10, "120000", ts=1),  # gain 10000.00
        fill("2026-12-01", "WINZ26", "sell", 10, "125000", ts=2),
        fill("2027-01-05", "WING27", "buy", 10, "120000", ts=1),  # gain 1000.00
        fill("2027-01-05", "WING27", "sell", 10, "120500", ts=2),
    ]
    opening = Opening(loss_day_trade=D("9800.00"))
    y26 = build_report(fills, 2026, opening=opening)
    dec = months(y26)["2026-12"]
    assert (dec.tax_gross, dec.irrf, dec.credit_out) == (D("40.00"), D("100.00"), D("60.00"))
    assert y26.annual is not None and y26.annual.irrf_credit_for_annual_return == D("60.00")
    jan = months(build_report(fills, 2027, opening=opening))["2027-01"]
    # January 2027: the 60.00 is not brought in; tax 200.00 - IRRF 10.00 = 190.00.
    assert (jan.credit_in, jan.tax_gross, jan.irrf, jan.tax_due) == (D("0.00"), D("200.00"), D("10.00"),
                                                                      D("190.00"))
    assert jan.darf_due == date(2027, 2, 26)  # Feb 2027: Carnival is Feb 8-9; the 26th is a Friday


def test_darf_under_10_carried_then_paid() -> None:
    fills = [
        fill("2026-02-10", "PETR4", "buy", 100, "30.00", ts=1),  # day trade +30.00
        fill("2026-02-10", "PETR4", "sell", 100, "30.30", ts=2),
        fill("2026-04-14", "PETR4", "buy", 100, "30.00", ts=1),  # day trade +40.00
        fill("2026-04-14", "PETR4", "sell", 100, "30.40", ts=2),
    ]
    m = months(build_report(fills, 2026))
    feb, mar, apr = m["2026-02"], m["2026-03"], m["2026-04"]
    # February: 20% x 30.00 = 6.00 < R$10 (Lei 9.430/96 art. 68): no DARF, carried. IRRF 0.30 waived.
    assert (feb.tax_gross, feb.irrf, feb.tax_due, feb.carried_under_minimum) == (D("6.00"), 0, 0, D("6.00"))
    assert feb.as_json()["darf_code"] is None
    assert mar.carried_under_minimum == D("6.00") and mar.tax_due == 0
    # April: 20% x 40.00 = 8.00, plus 6.00 carried = 14.00 >= 10: paid.
    assert (apr.tax_gross, apr.tax_due, apr.carried_under_minimum) == (D("8.00"), D("14.00"), D("0.00"))
    assert apr.as_json()["darf_due_date"] == "2026-05-29"


def test_mixed_day_trade_and_swing_same_asset_and_day() -> None:
    fills = [
        fill("2026-01-05", "VALE3", "buy", 200, "60.00"),  # prior holding: 200 at 60.00
        fill("2026-01-20", "VALE3", "buy", 100, "62.00", fees="1.00", ts=10),
        fill("2026-01-20", "VALE3", "sell", 300, "65.00", fees="3.00", ts=11),
        fill("2026-01-20", "VALE3", "buy", 100, "63.00", fees="1.00", ts=12),
    ]
    report = build_report(fills, 2026)
    jan = months(report)["2026-01"]
    # Day trade = min(200 bought, 300 sold) = 200: both buys against the first 200 of the sale.
    # Cost 6200 + 6300 + 2.00 = 12502.00; proceeds 13000 - 2.00 (2/3 of the 3.00 fee) = 12998.00 -> 496.00.
    dt, swing = sorted(jan.realisations, key=lambda r: not r.day_trade)
    assert dt.day_trade and dt.quantity == 200 and dt.result == D("496.00")
    # Swing: the other 100 sold against the prior holding's average 60.00: 6500 - 1.00 - 6000 = 499.00.
    assert not swing.day_trade and swing.quantity == 100 and swing.result == D("499.00")
    assert jan.exempt_sales == D("6500.00") and jan.exempt_gain == D("499.00")  # stock sales <= 20000
    assert jan.day_trade_result == D("496.00")
    assert jan.tax_gross == D("99.20")  # 20% x 496.00
    assert jan.irrf == D("4.96")  # 1% x 496.00
    assert jan.tax_due == D("94.24")
    assert jan.darf_due == date(2026, 2, 27)
    (pos,) = report.positions["2026-01"]
    assert (pos.quantity, pos.cost) == (100, D("6000.00"))  # prior holding kept its average cost


def test_day_trade_needs_the_same_broker() -> None:
    fills = [fill("2026-03-02", "PETR4", "buy", 100, "30.00", broker="A", ts=1),
             fill("2026-03-02", "PETR4", "sell", 100, "31.00", broker="B", ts=2)]
    (r,) = months(build_report(fills, 2026))["2026-03"].realisations
    assert not r.day_trade and r.result == D("100.00")


def test_first_buy_matched_with_first_sell() -> None:
    fills = [fill("2026-03-02", "PETR4", "buy", 100, "10.00", ts=1),
             fill("2026-03-02", "PETR4", "buy", 100, "11.00", ts=2),
             fill("2026-03-02", "PETR4", "buy", 100, "12.00", ts=3),
             fill("2026-03-02", "PETR4", "sell", 200, "13.00", ts=4)]
    report = build_report(fills, 2026)
    (r,) = months(report)["2026-03"].realisations
    assert r.day_trade and r.result == D("500.00")  # 2600 - (1000 + 1100)
    (pos,) = report.positions["2026-03"]
    assert (pos.quantity, pos.cost) == (100, D("1200.00"))  # the third buy is the swing position


def test_fii_and_etf_buckets() -> None:
    fills = [fill("2026-03-02", "HGLG11", "buy", 10, "150.00"), fill("2026-03-20", "HGLG11", "sell", 10, "160.00"),
             fill("2026-03-02", "BOVA11", "buy", 10, "120.00"), fill("2026-03-20", "BOVA11", "sell", 10, "130.00")]
    mar = months(build_report(fills, 2026))["2026-03"]
    assert mar.fii_result == D("100.00") and mar.common_result == D("100.00")  # ETF: no exemption
    assert mar.exempt_gain == 0
    assert mar.tax_gross == D("35.00")  # 20% x 100 (FII) + 15% x 100 (ETF)


def test_short_swing_and_futures_expiry_at_settlement() -> None:
    fills = [fill("2026-06-01", "WINM26", "sell", 1, "130000")]
    settle = {("WINM26", date(2026, 6, 17)): D("128000")}  # WINM26 last trading day: Wed 2026-06-17
    report = build_report(fills, 2026, settlements=settle)
    (r,) = months(report)["2026-06"].realisations
    assert r.result == D("400.00") and r.fill_ids[-1] == "expiry:WINM26:2026-06-17"  # (130000-128000) x 0.20
    assert report.positions["2026-06"] == []


def test_exempt_month_loss_stays_in_common_bucket() -> None:
    fills = [fill("2026-03-02", "PETR4", "buy", 100, "30.00"), fill("2026-03-20", "PETR4", "sell", 100, "28.00"),
             fill("2026-04-01", "BOVA11", "buy", 100, "120.00"), fill("2026-04-20", "BOVA11", "sell", 100, "125.00")]
    m = months(build_report(fills, 2026))
    # March: sales 2800 <= 20000 but the result is a loss of -200.00: no exempt gain, the loss is carried.
    assert (m["2026-03"].exempt_gain, m["2026-03"].common_result) == (0, D("-200.00"))
    assert m["2026-03"].as_json()["loss_carried_common_brl"] == "200.00"
    # April: ETF gain 500.00 (never exempt) less the 200.00 carried: 15% x 300.00 = 45.00.
    assert (m["2026-04"].common_result, m["2026-04"].tax_gross, m["2026-04"].tax_due) == (
        D("500.00"), D("45.00"), D("45.00"))


def test_irrf_0005_adds_up_the_month_per_broker() -> None:
    # Each sale alone: 0.005% x 15000 = 0.75 (<= R$1.00); the month at broker XP: 0.005% x 30000 = 1.50.
    fills = [fill("2026-03-02", "BOVA11", "buy", 300, "100.00"),
             fill("2026-03-10", "BOVA11", "sell", 150, "100.00"), fill("2026-03-20", "BOVA11", "sell", 150, "100.00")]
    mar = months(build_report(fills, 2026))["2026-03"]
    assert mar.irrf == D("1.50") and mar.credit_out == D("1.50")  # no tax this month: credit carried
