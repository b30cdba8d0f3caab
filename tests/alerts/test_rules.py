"""Alert rules, pure: severities, de-duplication, rate limits, quiet hours, daily summary."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tests.engine.helpers import DAY, T0
from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.orders import Order, OrderEventKind, OrderType, Side
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.alerts import AlertRules, AlertRulesConfig, QuietHours, RuleConfig

S = 1_000_000_000


def order(i: int = 1, symbol: str = "WINZ26") -> Order:
    return Order(f"o-{i}", symbol, Side.BUY, OrderType.MARKET, 1)


def reject(i: int, ts: int, reason: str = "insufficient margin", symbol: str = "WINZ26") -> OrderEvent:
    return OrderEvent(f"o-{i}", OrderEventKind.REJECTED, ts, symbol, reason=reason)


def test_storm_of_identical_rejects_is_one_alert_and_one_digest():
    rules = AlertRules()
    out = []
    for i in range(1000):
        out += rules.on_order_event(order(i), reject(i, T0 + i * 1_000_000))
    assert len(out) == 1 and "insufficient margin" in out[0].body and out[0].severity == Severity.WARNING
    assert rules.pending() == 999
    assert rules.drain(T0 + 2 * S) == []  # the window (60 s) has not passed
    digest = rules.drain(T0 + 61 * S)
    assert len(digest) == 1 and "999 more 'order_rejected'" in digest[0].body
    assert rules.pending() == 0


def test_distinct_alerts_are_rate_limited_per_kind():
    rules = AlertRules(AlertRulesConfig(max_per_window=3, window_seconds=10))
    out = []
    for i in range(50):
        out += rules.on_order_event(order(i), reject(i, T0 + i * 10_000_000, reason=f"reason {i}"))
    assert len(out) == 3 and rules.pending() == 47
    # the next alert after the window passes brings the digest with it
    later = rules.on_order_event(order(99), reject(99, T0 + 20 * S, reason="late"))
    assert [n.data.get("suppressed") for n in later] == ["47", None]


def test_dedup_window_expires():
    rules = AlertRules(AlertRulesConfig(dedup_seconds=30, max_per_window=0))
    a = Alert("data_gap", Severity.WARNING, "gap in WINZ26 trades", T0)
    assert len(rules.on_alert(a)) == 1
    assert rules.on_alert(Alert("data_gap", Severity.WARNING, "gap in WINZ26 trades", T0 + 10 * S)) == []
    assert len(rules.on_alert(Alert("data_gap", Severity.WARNING, "gap in WINZ26 trades", T0 + 31 * S))) == 1


def test_quiet_hours_pass_only_critical():
    rules = AlertRules(AlertRulesConfig(quiet_hours=QuietHours(start=time(22), end=time(7))))
    night = local_ns(DAY, time(23, 30))
    assert rules.on_alert(Alert("disk_low", Severity.WARNING, "capture disk 95% full", night)) == []
    assert len(rules.on_alert(Alert("feed_disconnected", Severity.WARNING, "feed lost", night))) == 1  # rule: critical
    assert len(rules.on_alert(Alert("disk_low", Severity.WARNING, "capture disk 96% full", T0))) == 1  # 10:00
    assert rules.quiet_dropped == 1


def test_config_overrides_and_severity_names():
    cfg = AlertRulesConfig.model_validate({
        "min_severity": "warning",
        "rules": {"fill": {"enabled": False}, "model_drift": {"severity": "critical"}},
    })
    rules = AlertRules(cfg)
    fill = OrderEvent("o-1", OrderEventKind.FILLED, T0, "WINZ26", fill_qty=1, fill_price=125_000)
    assert rules.on_order_event(order(), fill) == []
    assert rules.on_alert(Alert("feed_reconnected", Severity.INFO, "feed back", T0)) == []  # below min severity
    drift = rules.on_alert(Alert("model_drift", Severity.WARNING, "PSI 0.4 on feature x", T0))
    assert drift[0].severity == Severity.CRITICAL and drift[0].title.startswith("TradingSystem CRITICAL")
    assert rules.on_alert(Alert("trading_state", Severity.CRITICAL, "trading state halted", T0)) == []  # off by default
    with pytest.raises(ValidationError):
        AlertRulesConfig.model_validate({"min_severity": "loud"})
    with pytest.raises(ValidationError):
        RuleConfig.model_validate({"enabled": True, "colour": "red"})


def test_daily_summary_counts_the_day():
    rules = AlertRules()
    fills = [(1, None), (2, Decimal("50")), (3, Decimal("-20")), (4, Decimal("10"))]
    for i, change in fills:
        ev = OrderEvent(f"o-{i}", OrderEventKind.FILLED, T0 + i * S, "WINZ26", fill_qty=2, fill_price=125_000)
        rules.on_order_event(order(i), ev, change)
    rules.on_order_event(order(9), reject(9, T0 + 9 * S))
    rules.on_alert(Alert("kill_switch", Severity.CRITICAL, "kill switch engaged: test", T0 + 10 * S))
    note = rules.daily_summary(local_ns(DAY, time(18, 30)), {"net_pnl_brl": "40.00", "realized_pnl_brl": "40.00",
                                                            "unrealized_pnl_brl": "0", "fees_brl": "0"})
    assert note.kind == "daily_summary" and "2026-11-26" in note.title
    assert "net P&L R$ 40.00" in note.body
    assert "fills 4 (8 contracts), closed trades 3, hit rate 67%" in note.body
    assert "venue rejects 1" in note.body and "kill_switch x1" in note.body
    assert rules.stats.fills == 0  # a new day starts
