"""A small trading node for the crash-restart test: replayed WIN ticks, a quoting strategy with
partial fills, a journalled paper venue and a SQL state store. It can SIGKILL itself mid-session.

python -m tests.engine.restart_node --store URL --journal FILE [--crash-at N] [--kill-at N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
from pathlib import Path

from tests.engine.helpers import ticks, weekdays
from tradingsystem.adapters.paper import PaperVenue
from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.backtest.replay import TickReplayFeed
from tradingsystem.backtest.tick_venue import TickVenueConfig
from tradingsystem.domain import b3
from tradingsystem.domain.orders import OrderType, Side
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.engine.state import StateKeeper, restore
from tradingsystem.engine.strategy import Strategy

SYMBOL = "WINZ26"


def tape(n: int = 600, seed: int = 5):
    rng = random.Random(seed)
    prices, p = [], 125_000
    for _ in range(n):
        p += rng.choice((-10, -5, 0, 5, 10))
        prices.append(p)
    events = ticks(SYMBOL, prices, gap_ns=50_000_000)
    return [type(e)(e.symbol, e.price, rng.randint(1, 3), e.aggressor, e.trade_id, e.ts_event, e.ts_init)
            for e in events]


class Quoter(Strategy):
    """Quotes both sides a tick away every few trades and cancels stale quotes."""

    def __init__(self, crash_at: int, kill_at: int) -> None:
        super().__init__("quoter", [SYMBOL])
        self.crash_at, self.kill_at = crash_at, kill_at

    def on_trade(self, tick):
        n = tick.trade_id
        if n == self.kill_at:
            self.kernel.guard.kill("kill before the crash")
        if n == self.crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if n % 5 == 0:
            q = 2 + n % 4
            self.submit(SYMBOL, Side.BUY, q, OrderType.LIMIT, tick.price - 5)
            self.submit(SYMBOL, Side.SELL, q, OrderType.LIMIT, tick.price + 5)
        if n % 13 == 0:
            for o in self.cache.open_orders(SYMBOL)[:2]:
                self.cancel(o.order_id)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--journal", required=True)
    ap.add_argument("--crash-at", type=int, default=0)
    ap.add_argument("--kill-at", type=int, default=0)
    ap.add_argument("--out")
    args = ap.parse_args()
    inst = b3.instrument(SYMBOL, weekdays)
    kernel = Kernel({SYMBOL: inst}, risk=RiskConfig(max_position=60, max_order_qty=10), is_session=weekdays)
    venue = PaperVenue({SYMBOL: inst}, kernel.clock, Path(args.journal),
                       TickVenueConfig(latency_ns=20_000_000, cap_by_trade_size=True), tape=kernel.data)
    store = SqlStateStore(SqlStoreConfig(url=args.store, sqlite_synchronous="FULL"))
    events = tape()
    resumed = bool(store.load_orders()) or Path(args.journal).stat().st_size > 0
    report = None
    if resumed:
        seen = [f.ts_event for f in venue.fills_since(0)] + [o.ts_last for o in store.load_orders()]
        kernel.clock.advance_to(max([*seen, events[0].ts_event]))
        report = restore(kernel, store, venue)
        events = [e for e in events if e.ts_event > kernel.clock.now()]
    keeper = StateKeeper(kernel, store)
    kernel.connect(TickReplayFeed(events), venue)
    kernel.add_strategy(Quoter(args.crash_at, args.kill_at))
    if report is not None:
        out = {"report": report.__dict__, "state": kernel.guard.status()["trading_state"],
               "kill_switch": kernel.guard.kill_switch, "positions": dict(report.positions),
               "open_orders": sorted(kernel.cache.open_orders)}
        Path(args.out).write_text(json.dumps(out, default=str))
    kernel.run()  # go on trading the rest of the session
    keeper.flush()
    store.close()
    venue.close()


if __name__ == "__main__":
    main()
