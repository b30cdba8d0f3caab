"""Live time bars on the engine: trades of a symbol in, closed bars out through the data engine.

Strategies' ``on_bar`` and model signal publishers then see the same bars in simulation, replay and
live trading. A bar is published when the first trade of the next bucket arrives (no lookahead).
"""

from __future__ import annotations

from tradingsystem.domain.events import TradeTick
from tradingsystem.engine.kernel import Kernel
from tradingsystem.features.bars import BarBuilder, parse_timeframe


class BarAggregator:
    """Builds ``timeframe`` bars (``"1m"``, ``"5m"``...) for ``symbol`` and feeds them to ``kernel.data``."""

    def __init__(self, kernel: Kernel, symbol: str, timeframe: str = "1m") -> None:
        inst = kernel.cache.instrument(symbol)
        self.kernel = kernel
        self.builder = BarBuilder(symbol, "time", parse_timeframe(timeframe), inst.asset_class, timeframe)
        self.bars = 0
        kernel.data.subscribe_trades(symbol, self.on_trade)

    def on_trade(self, tick: TradeTick) -> None:
        for flow in self.builder.update(tick):
            self.bars += 1
            self.kernel.data.on_bar(flow.bar)
