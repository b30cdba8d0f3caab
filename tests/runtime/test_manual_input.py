"""Manual input a person can type: bad quantities and prices are clear errors, and never reach the engine."""

import pytest

from tests.engine.helpers import kernel, ticks
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.interfaces.web.controller import DashboardController, whole_quantity


@pytest.mark.parametrize("value", ["1e400", 1e400, 150.9, "150.9", 0, -1, None, True, "abc", float("nan")])
def test_quantity_must_be_whole(value):
    with pytest.raises(ValueError, match="whole number"):
        whole_quantity(value)


def test_whole_quantities_pass():
    assert whole_quantity(150) == 150 and whole_quantity("100") == 100 and whole_quantity(2.0) == 2


def test_absurd_manual_price_is_denied_not_fatal():
    k, _ = kernel(ticks("WINZ26", [125_000, 125_005]), risk=RiskConfig(), latency_ns=0)
    k.run()
    out = DashboardController(k).order("test", "WINZ26", "BUY", 1, "LIMIT", "1e400")
    assert out["status"] == "REJECTED" and "20%" in out["reason"]
    k.run()
