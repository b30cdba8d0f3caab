"""Kill switch, P&L limits and circuit breakers."""

from decimal import Decimal

from tests.engine.helpers import T0, Script, kernel, ticks
from tradingsystem.domain.orders import OrderStatus, OrderType, Side
from tradingsystem.domain.records import RiskStateRecord
from tradingsystem.engine.guard import BreakerConfig
from tradingsystem.engine.risk import RiskConfig, TradingState

S = 1_000_000_000




def test_kill_switch_cancels_flattens_and_blocks():
    def open_pos(s):
        s.buy("WINZ26", 2)
        s.buy_limit("WINZ26", 1, 120_000)
        s.buy_limit("WINZ26", 1, 120_005)

    def kill(s):
        s.kernel.guard.kill("test", flatten=True)
        s.buy("WINZ26", 1)

    k, _ = kernel(ticks("WINZ26", [125_000] * 5), latency_ns=0)
    k.add_strategy(Script({0: open_pos, 2: kill}))
    alerts = []
    k.bus.subscribe("alerts", alerts.append)
    k.run()
    assert k.risk.state is TradingState.HALTED
    assert not k.cache.open_orders  # working limit orders cancelled
    assert k.portfolio.quantity("WINZ26") == 0  # flattened
    assert k.cache.closed_orders[-1].status is OrderStatus.REJECTED  # the buy after the kill
    assert any(a.kind == "kill_switch" and "test" in a.message for a in alerts)


def test_kill_switch_survives_restart_until_reset():
    k, _ = kernel(ticks("WINZ26", [125_000]))
    k.run()
    k.guard.kill("breach at 10:31")
    record = k.guard.record(k.clock.now())
    assert isinstance(record, RiskStateRecord) and record.kill_switch

    k2, _ = kernel(ticks("WINZ26", [125_000, 125_005]))
    k2.guard.restore(record)
    k2.run()
    assert k2.risk.state is TradingState.HALTED
    o = k2.orders.submit(k2.orders.new_order("WINZ26", Side.BUY, 1))
    assert o.status is OrderStatus.REJECTED and "kill switch" in o.reason
    k2.guard.reset("test")
    assert k2.risk.state is TradingState.ACTIVE


def test_daily_loss_limit_halts_and_flattens():
    prices = [125_000] * 3 + [125_000 - 50 * i for i in range(1, 40)]
    k, _ = kernel(ticks("WINZ26", prices, gap_ns=S), latency_ns=0,
                  risk=RiskConfig(daily_loss_limit_brl=Decimal("100"), flatten_on_kill=True))
    k.add_strategy(Script({0: lambda s: s.buy("WINZ26", 5)}))
    k.run()
    assert k.risk.state is TradingState.HALTED and "daily loss" in k.guard.kill_reason
    assert k.portfolio.quantity("WINZ26") == 0
    # Loss stopped near the limit: 5 contracts x R$1 per point; the check runs twice a second.
    assert Decimal("-200") < k.portfolio.net_brl() <= Decimal("-100")


def test_drawdown_limit_sets_reducing():
    prices = [125_000, 125_000, 125_200, 125_400, 125_300, 125_200, 125_100, 125_000]
    k, _ = kernel(ticks("WINZ26", prices, gap_ns=S), latency_ns=0,
                  risk=RiskConfig(max_drawdown_brl=Decimal("200"), breach_action=TradingState.REDUCING))
    k.add_strategy(Script({0: lambda s: s.buy("WINZ26", 5)}))
    k.run()
    assert k.risk.state is TradingState.REDUCING and "drawdown" in k.guard.breach


def test_stale_data_watchdog_trips_in_session_and_recovers():
    t = ticks("WINZ26", [125_000] * 3, gap_ns=S)
    later = ticks("WINZ26", [125_005] * 2, start=T0 + 30 * S, gap_ns=S)
    k, _ = kernel(t + later, breakers=BreakerConfig(stale_data_seconds=5, check_interval_ms=500))
    states = []
    k.bus.subscribe("risk.state", lambda r: states.append((r.ts, r.trading_state)))
    k.run()
    tripped = [ts for ts, st in states if st == "REDUCING"]
    assert tripped and T0 + 7 * S <= tripped[0] <= T0 + 8 * S  # 5 s after the last trade at T0+2s
    assert states[-1][1] == "ACTIVE"  # data came back


def test_reject_rate_breaker_half_open_probe():
    k, _ = kernel(ticks("WINZ26", [125_000] * 3, gap_ns=S) + ticks("WINZ26", [125_000] * 3, start=T0 + 120 * S),
                      breakers=BreakerConfig(max_rejects=2, reject_window_seconds=60, cooldown_seconds=30),
                      latency_ns=10 * S)
    k.run(until_ts=T0 + 3 * S)
    from tradingsystem.domain.commands import OrderEvent
    from tradingsystem.domain.orders import OrderEventKind

    for i in range(3):
        o = k.orders.submit(k.orders.new_order("WINZ26", Side.BUY, 1, OrderType.LIMIT, 120_000))
        k.orders.on_order_event(OrderEvent(o.order_id, OrderEventKind.REJECTED, T0 + 3 * S + i, reason="no margin"))
    assert k.risk.state is TradingState.HALTED and "reject_rate" in k.risk.state_reason
    k.run(until_ts=T0 + 40 * S)
    assert k.guard.breakers["reject_rate"].state == "half_open" and k.risk.state is TradingState.ACTIVE
    o = k.orders.submit(k.orders.new_order("WINZ26", Side.BUY, 1))
    k.run()
    assert o.status is OrderStatus.FILLED and k.guard.breakers["reject_rate"].state == "closed"


def test_adapter_error_breaker():
    k, _ = kernel(ticks("WINZ26", [125_000]), breakers=BreakerConfig(max_adapter_errors=2))
    k.run()
    k.guard.adapter_error("routing disconnected")
    assert k.risk.state is TradingState.ACTIVE
    k.guard.adapter_error("routing disconnected")
    assert k.risk.state is TradingState.HALTED
