"""Small builders for engine tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

from tradingsystem.backtest.replay import TickReplayFeed
from tradingsystem.backtest.tick_venue import TickVenue, TickVenueConfig
from tradingsystem.domain import b3
from tradingsystem.domain.events import TradeTick
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.guard import BreakerConfig
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.strategy import Strategy

DAY = date(2026, 11, 26)
T0 = local_ns(DAY, time(10, 0))


def weekdays(d: date) -> bool:
    return d.weekday() < 5


def ticks(symbol: str, prices: list[int], start: int = T0, gap_ns: int = 1_000_000) -> list[TradeTick]:
    return [TradeTick(symbol, p, 1, 1, i + 1, start + i * gap_ns, start + i * gap_ns) for i, p in enumerate(prices)]


def kernel(events: list[TradeTick], symbols: tuple[str, ...] = ("WINZ26",), latency_ns: int = 0,
           risk: RiskConfig | None = None, as_sink: bool = False, breakers: BreakerConfig | None = None,
           cap_by_trade_size: bool = False) -> tuple[Kernel, TickVenue]:
    instruments = {s: b3.instrument(s, weekdays) for s in symbols}
    k = Kernel(instruments, risk=risk or RiskConfig(), is_session=weekdays, breakers=breakers)
    cfg = TickVenueConfig(latency_ns=latency_ns, cap_by_trade_size=cap_by_trade_size)
    venue = TickVenue(instruments, k.clock, cfg, tape=None if as_sink else k.data)
    k.connect(TickReplayFeed(events), venue)
    if as_sink:
        k.add_sink(venue)
    return k, venue


class Script(Strategy):
    """Runs ``actions[n](strategy)`` on the n-th trade of WINZ26."""

    def __init__(self, actions: dict[int, Callable[[Strategy], object]]) -> None:
        super().__init__("s", ["WINZ26"])
        self.actions, self.n = actions, 0

    def on_trade(self, tick: TradeTick) -> None:
        fn = self.actions.get(self.n)
        self.n += 1
        if fn:
            fn(self)
