"""Run by bench_backtest.py under a throwaway venv's interpreter (NAUTILUS_PYTHON): NautilusTrader's
BacktestEngine on the same ticks with the same EMA(10)/EMA(30) always-in-market strategy.

Usage: python nautilus_ema.py ticks.npz  -> one JSON line (wall seconds, orders, version).
The instrument is NautilusTrader's test equity (prices divided by 100 to fit its 2-decimal grid); the
throughput is what is compared, not P&L.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from nautilus_trader import __version__
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.config import BacktestEngineConfig, LoggingConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType, AggressorSide, OmsType, OrderSide
from nautilus_trader.model.identifiers import TradeId, Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy


class EmaCross(Strategy):
    def __init__(self, instrument_id: object) -> None:
        super().__init__()
        self.iid = instrument_id
        self.fast = self.slow = 0.0
        self.n = 0
        self.pos = 0
        self.orders_sent = 0
        self.one = Quantity.from_int(1)
        self.two = Quantity.from_int(2)

    def on_start(self) -> None:
        self.subscribe_trade_ticks(self.iid)

    def on_trade_tick(self, tick: TradeTick) -> None:
        p = tick.price.as_double()
        if self.n == 0:
            self.fast = self.slow = p
            self.n = 1
            return
        self.fast += 2 / 11 * (p - self.fast)
        self.slow += 2 / 31 * (p - self.slow)
        self.n += 1
        if self.n <= 30 or self.fast == self.slow:
            return
        target = 1 if self.fast > self.slow else -1
        if target != self.pos:
            qty = self.one if self.pos == 0 else self.two
            side = OrderSide.BUY if target > 0 else OrderSide.SELL
            self.submit_order(self.order_factory.market(self.iid, side, qty))
            self.pos = target
            self.orders_sent += 1


def main() -> None:
    d = np.load(sys.argv[1])
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(Venue("XNAS"), oms_type=OmsType.NETTING, account_type=AccountType.MARGIN, base_currency=USD,
                     starting_balances=[Money(1_000_000_000, USD)])
    inst = TestInstrumentProvider.equity("AAPL", "XNAS")
    engine.add_instrument(inst)
    iid = inst.id
    buyer, seller = AggressorSide.BUYER, AggressorSide.SELLER
    ticks = [TradeTick(iid, Price(p / 100, 2), Quantity(q, 0), buyer if a == 1 else seller, TradeId(str(i + 1)),
                       int(t), int(t))
             for i, (p, q, a, t) in enumerate(zip(d["price"].tolist(), d["size"].tolist(), d["aggressor"].tolist(),
                                                  d["ts_event"].tolist(), strict=True))]
    engine.add_data(ticks)
    strat = EmaCross(iid)
    engine.add_strategy(strat)
    t0 = time.perf_counter()
    engine.run()
    wall = time.perf_counter() - t0
    print(json.dumps({"wall_s": wall, "orders": strat.orders_sent, "version": __version__}))
    engine.dispose()


if __name__ == "__main__":
    main()
