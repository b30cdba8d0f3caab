"""Builders for backtest tests: a kernel on the queue-aware venue over a scripted event list."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from tradingsystem.backtest.feeds import MergedFeed
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig
from tradingsystem.backtest.results import FillRecorder
from tradingsystem.domain import b3
from tradingsystem.domain.events import BookDelta, TradeTick
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.orders import Order, OrderType, Side, TimeInForce
from tradingsystem.domain.sessions import local_ns
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig

DAY = date(2026, 11, 26)
T0 = local_ns(DAY, time(10, 0))
MS = 1_000_000
ZERO_FEES = FeeSchedule(families=(), stock_day_trade_bps=Decimal(0),
                        stock_swing_bps=Decimal(0))


def weekdays(d: date) -> bool:
    return d.weekday() < 5


def trade(price: int, size: int, aggressor: int, ts: int, symbol: str = "WINZ26", tid: int = 0) -> TradeTick:
    return TradeTick(symbol, price, size, aggressor, tid or ts, ts, ts)


def level(side: int, price: int, size: int, ts: int, symbol: str = "WINZ26") -> BookDelta:
    return BookDelta(symbol, side, price, size, 0 if size else 1, ts, ts, ts)


class Harness:
    def __init__(self, events: list, config: QueueVenueConfig | None = None, symbols: tuple[str, ...] = ("WINZ26",),
                 fees: FeeSchedule | None = None, book: bool = True) -> None:
        self.instruments = {s: b3.instrument(s, weekdays) for s in symbols}
        self.kernel = Kernel(self.instruments, risk=RiskConfig(check_session=False), fees=fees or ZERO_FEES,
                             is_session=weekdays)
        self.venue = QueueVenue(self.instruments, self.kernel.clock, self.kernel.data, config,
                                books=self.kernel.cache if book else None, fees=fees)
        self.kernel.connect(MergedFeed([events]), self.venue)
        for s in symbols:
            self.kernel.data.subscribe_book(s, self.venue.on_book_delta)
        self.fills = FillRecorder()
        self.kernel.orders.add_listener(self.fills)
        self.orders: list[Order] = []

    def at(self, ts: int, side: Side, qty: int, otype: OrderType = OrderType.LIMIT, price: int = 0,
           tif: TimeInForce = TimeInForce.DAY, symbol: str = "WINZ26", trigger: int = 0) -> None:
        def send(_t: int) -> None:
            om = self.kernel.orders
            self.orders.append(om.submit(om.new_order(symbol, side, qty, otype, price, trigger, tif)))
        self.kernel.clock.schedule(ts, send)

    def run(self) -> Harness:
        self.kernel.run()
        return self
