"""Protections are on by default: in the code defaults, in both example configs, and in a partial section."""

from pathlib import Path

import pytest

from tests.engine.helpers import kernel, ticks
from tradingsystem.engine.limits import limits_view
from tradingsystem.runtime.config import load_config, parse_config

CONFIG = Path(__file__).resolve().parents[2] / "config"
PROTECTIONS = ("daily_loss_limit_brl", "max_drawdown_brl", "price_band_pct", "max_orders_per_second",
               "max_working_orders", "max_gross_exposure_brl", "flatten_before_close_minutes")


@pytest.mark.parametrize("path", [None, CONFIG / "sim.yaml", CONFIG / "profitdll.yaml"])
def test_every_protection_is_on(path):
    cfg = load_config(path, {})
    assert all(getattr(cfg.risk, name) > 0 for name in PROTECTIONS)
    assert cfg.risk.quantity_in_lots and cfg.risk.flatten_on_kill
    b = cfg.breakers
    assert b.stale_data_seconds > 0 and b.max_rejects > 0 and b.max_adapter_errors > 0
    assert b.reconcile_action.value in ("REDUCING", "HALTED")  # a restart that disagrees with the venue trades no more


def test_a_partial_section_keeps_the_rest_safe():
    cfg = parse_config({"risk": {"max_order_qty": 5}, "breakers": {"max_rejects": 3}}, environ={})
    assert cfg.risk.max_order_qty == 5 and cfg.risk.daily_loss_limit_brl > 0
    assert cfg.breakers.max_rejects == 3 and cfg.breakers.stale_data_seconds > 0


def test_lot_aware_limits_let_a_stock_trade():
    """max_order_qty 50 lots is 5,000 PETR4 shares, 50 WIN contracts."""
    cfg = load_config(CONFIG / "sim.yaml", {})
    k, _ = kernel(ticks("PETR4", [3800, 3801]), symbols=("PETR4", "WINZ26"), risk=cfg.risk, latency_ns=0)
    assert k.risk.max_order_qty("PETR4") == 5000 and k.risk.max_order_qty("WINZ26") == 50
    names = {row["name"] for row in limits_view(k)}
    assert set(PROTECTIONS) <= names and "max_position" in names and "reconcile_action" in names
