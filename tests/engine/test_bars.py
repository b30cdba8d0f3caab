"""Bars built on the engine reach on_bar only once closed."""

from tests.engine.helpers import T0, kernel, ticks
from tradingsystem.engine.bars import BarAggregator
from tradingsystem.engine.strategy import Strategy

M = 60 * 1_000_000_000


class Bars(Strategy):
    def __init__(self) -> None:
        super().__init__("bars", ["WINZ26"])
        self.seen = []

    def on_bar(self, bar):
        self.seen.append((bar, self.now()))


def test_one_minute_bars_close_on_the_next_bucket():
    events = (ticks("WINZ26", [125_000, 125_010, 124_990], start=T0, gap_ns=10**9)
              + ticks("WINZ26", [125_005], start=T0 + M + 5 * 10**9))
    k, _ = kernel(events)
    strat = Bars()
    k.add_strategy(strat)
    BarAggregator(k, "WINZ26", "1m")
    k.run()
    assert len(strat.seen) == 1
    bar, seen_at = strat.seen[0]
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (125_000, 125_010, 124_990, 124_990, 3)
    assert seen_at >= bar.ts_event  # never before the bar's end
