"""A manual order a person can type with an absurd price is denied with its reason and never stops the engine
(the always-on price sanity applies whatever the config)."""

import pytest

from tests.engine.helpers import kernel, ticks
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.interfaces.web.controller import DashboardController


@pytest.mark.parametrize("price", ["160000", "90000"])
def test_absurd_manual_price_is_denied_not_fatal(price):
    k, _ = kernel(ticks("WINZ26", [125_000, 125_005]), risk=RiskConfig(), latency_ns=0)
    k.run()
    out = DashboardController(k).order("test", {"symbol": "WINZ26", "side": "BUY", "quantity": 1, "type": "LIMIT",
                                               "price": price})
    assert out["ok"] is False and out["rule"] == "price_sanity" and "20%" in out["reason"]
    k.run()
