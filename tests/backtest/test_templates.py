"""Each strategy template runs through the kernel on the queue-aware venue and does what its doc says."""

from __future__ import annotations

import numpy as np

from tests.backtest.helpers import MS, T0, Harness, trade
from tradingsystem.backtest.signals import schedule_signals
from tradingsystem.domain.orders import OrderType
from tradingsystem.strategies import (
    DonchianBreakout,
    DonchianConfig,
    MlSignalConfig,
    MlSignalFollower,
    OrderFlowConfig,
    OrderFlowScalper,
    ZScoreConfig,
    ZScoreReversion,
)


def tape(prices: list[int], aggressors: list[int] | None = None, size: int = 5) -> list:
    aggr = aggressors or [1] * len(prices)
    return [trade(p, size, a, T0 + (i + 1) * MS) for i, (p, a) in enumerate(zip(prices, aggr, strict=True))]


def walk(n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return (125_000 + np.cumsum(rng.choice([-5, 0, 5], size=n))).tolist()


def test_donchian_goes_long_on_a_new_high_and_short_on_a_new_low() -> None:
    prices = [100_000 + 5 * (i % 3) for i in range(10)] + [100_050] + [100_000] * 3 + [99_950]
    h = Harness(tape(prices), book=False)
    strat = DonchianBreakout(DonchianConfig(symbol="WINZ26", lookback=5))
    h.kernel.add_strategy(strat)
    h.run()
    assert [(f.side, f.quantity, f.price) for f in h.fills.fills] == [(1, 1, 100_050), (-1, 2, 99_950)]


def test_donchian_runs_on_a_random_walk() -> None:
    h = Harness(tape(walk(3000, 1)), book=False)
    strat = DonchianBreakout(DonchianConfig(symbol="WINZ26", lookback=50))
    h.kernel.add_strategy(strat)
    h.run()
    assert strat.changes > 5 and len(h.fills.fills) == strat.changes
    assert abs(h.kernel.portfolio.quantity("WINZ26")) == 1


def test_zscore_fades_extremes_and_exits_near_the_mean() -> None:
    prices = [100_000, 100_005] * 10 + [100_100] + [100_000, 100_005] * 10
    h = Harness(tape(prices), book=False)
    strat = ZScoreReversion(ZScoreConfig(symbol="WINZ26", window=10, entry_z=2.0, exit_z=0.5))
    h.kernel.add_strategy(strat)
    h.run()
    sides = [f.side for f in h.fills.fills]
    assert sides[0] == -1  # shorted the spike
    assert h.fills.fills[0].price == 100_100
    assert h.kernel.portfolio.quantity("WINZ26") == 0  # flat again once back near the mean


def test_ml_signal_follower_trades_published_signals() -> None:
    h = Harness(tape([125_000 + 5 * (i % 4) for i in range(100)]), book=False)
    strat = MlSignalFollower(MlSignalConfig(symbol="WINZ26", threshold=0.2, quantity=2))
    h.kernel.add_strategy(strat)
    schedule_signals(h.kernel, [(T0 + 10 * MS, "WINZ26", 0.5), (T0 + 20 * MS, "WINZ26", 0.1),
                                (T0 + 30 * MS, "OTHER", -0.9), (T0 + 40 * MS, "WINZ26", -0.7)])
    h.run()
    assert strat.signals == 3
    assert [(f.side, f.quantity) for f in h.fills.fills] == [(1, 2), (-1, 2), (-1, 2)]
    assert h.kernel.portfolio.quantity("WINZ26") == -2


def test_ml_signal_follower_without_signals_does_nothing() -> None:
    h = Harness(tape(walk(200, 2)), book=False)
    h.kernel.add_strategy(MlSignalFollower(MlSignalConfig(symbol="WINZ26")))
    h.run()
    assert h.fills.fills == []


def test_orderflow_scalper_enters_with_flow_and_takes_profit_through_the_queue() -> None:
    up = [125_000] * 10 + [125_005, 125_010, 125_015, 125_020, 125_025] + [125_020, 125_025, 125_030]
    h = Harness(tape(up, [1] * len(up)), book=False)
    strat = OrderFlowScalper(OrderFlowConfig(symbol="WINZ26", window=10, imbalance=0.8, take_profit_ticks=4,
                                             stop_ticks=20))
    h.kernel.add_strategy(strat)
    h.run()
    fills = h.fills.fills
    assert fills[0].side == 1 and fills[0].price == 125_000 and fills[0].liquidity == 2
    assert (fills[1].side, fills[1].price, fills[1].liquidity) == (-1, 125_020, 1)  # resting take-profit
    assert h.kernel.portfolio.quantity("WINZ26") in (0, 1)
    assert any(o.order_type is OrderType.LIMIT for o in h.kernel.cache.closed_orders)


def test_orderflow_scalper_stops_out() -> None:
    down = [125_000] * 10 + [124_995, 124_990, 124_980, 124_970, 124_960]
    h = Harness(tape(down, [1] * 10 + [2] * 5), book=False)
    strat = OrderFlowScalper(OrderFlowConfig(symbol="WINZ26", window=10, imbalance=0.8, take_profit_ticks=4,
                                             stop_ticks=2))
    h.kernel.add_strategy(strat)
    h.run()
    assert strat.stops == 1
    assert h.kernel.portfolio.quantity("WINZ26") == 0
