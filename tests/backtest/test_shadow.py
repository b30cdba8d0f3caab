"""Shadow backtest: recorded orders replayed through the venue model, predicted vs actual fills."""

from __future__ import annotations

from tests.backtest.helpers import MS, T0, level, trade, weekdays
from tradingsystem.backtest.shadow import RecordedFill, RecordedOrder, shadow_compare
from tradingsystem.domain import b3


def session() -> list:
    return [level(1, 125_000, 30, T0), level(2, 125_005, 4, T0), level(2, 125_010, 10, T0),
            *[trade(125_000, 10, 2, T0 + i * MS) for i in range(1, 6)]]


def test_shadow_matches_when_reality_equals_the_model_and_reports_differences() -> None:
    inst = {"WINZ26": b3.instrument("WINZ26", weekdays)}
    orders = [
        RecordedOrder("A", "WINZ26", 1, 1, 6, 0, T0 + 1000),          # market buy: walks 4 @ 125_005, 2 @ 125_010
        RecordedOrder("B", "WINZ26", 1, 2, 5, 125_000, T0 + 2000),    # resting bid behind 30 lots
        RecordedOrder("C", "WINZ26", 2, 2, 1, 125_050, T0 + 3000),    # never fills
    ]
    actual = [
        RecordedFill("A", 4, 125_005, T0 + 1000), RecordedFill("A", 2, 125_010, T0 + 1000),
        RecordedFill("B", 5, 125_000, T0 + 2 * MS),  # really filled earlier than the model says
    ]
    rows, summary = shadow_compare(inst, [session()], orders, actual)
    by_id = {r["order_id"]: r for r in rows}
    assert by_id["A"]["qty_diff"] == 0 and by_id["A"]["price_diff_ticks"] == 0 and by_id["A"]["time_diff_ms"] == 0
    # 30 lots ahead: the model fills B on the 4th print of 10 lots (T0+4ms), 2 ms after reality
    assert by_id["B"]["predicted_qty"] == 5 and by_id["B"]["time_diff_ms"] == 2.0
    assert by_id["C"]["actual_qty"] == 0 and by_id["C"]["predicted_qty"] == 0
    assert summary["orders"] == 3 and summary["qty_match"] == 3 and summary["mean_abs_price_diff_ticks"] == 0
