"""Whole live path latency against the ProfitDLL C double (Linux): one JSON object per line.

From the market-data callback (``ts_init``, stamped on the DLL's thread) through the adapter's queue, the
engine's kernel, a strategy, the risk engine and the order manager, to ``SendOrder`` returning in the
adapter: p50/p99/max in microseconds at paced 1k and 10k trades/s, next to the roadmap's 500 ms goal.
The strategy sends a resting limit order (alternately buy and sell, far from the market) on every
``--every``-th trade. The reference in the same run is the callback-to-engine latency of the same trades
(``feed_p50_us``): ``path_over_feed_p50`` is what the engine, risk and SendOrder add on top of the feed.

The adapter and the double are built through the usual path (``runtime.profitdll_setup.build_profitdll``,
gcc on ``tests/profitdll/double``). Run: ``.venv/bin/python benchmarks/bench_live_path.py [--quick]``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_profitdll import build, pct  # noqa: E402
from tests.profitdll.helpers import TICKERS, Double, config, weekdays  # noqa: E402

from tradingsystem.domain import b3  # noqa: E402
from tradingsystem.domain.commands import SubmitOrder  # noqa: E402
from tradingsystem.domain.events import TradeTick  # noqa: E402
from tradingsystem.domain.orders import OrderType, Side  # noqa: E402
from tradingsystem.engine.clock import WallClock  # noqa: E402
from tradingsystem.engine.kernel import Kernel  # noqa: E402
from tradingsystem.engine.risk import RiskConfig  # noqa: E402
from tradingsystem.engine.strategy import Strategy  # noqa: E402
from tradingsystem.runtime.profitdll_setup import build_profitdll  # noqa: E402

GOAL_MS = 500.0
SYMBOL = "WINZ26"


class EveryNth(Strategy):
    """Sends a far-from-market limit order on every n-th trade; remembers that trade's callback time."""

    def __init__(self, every: int, trades: int) -> None:
        super().__init__("bench", [SYMBOL])
        self.every = every
        self.trades = trades
        self.done: Any = None
        self.n = 0
        self.origin = 0
        self.feed_lat: list[int] = []

    def on_trade(self, tick: TradeTick) -> None:
        self.feed_lat.append(time.time_ns() - tick.ts_init)
        self.n += 1
        if self.n >= self.trades and self.done is not None:
            self.done()
        if self.n % self.every:
            return
        self.origin = tick.ts_init
        buy = (self.n // self.every) % 2 == 0
        price = tick.price - 2000 if buy else tick.price + 2000
        self.submit(SYMBOL, Side.BUY if buy else Side.SELL, 1, OrderType.LIMIT, price)


class Timed:
    """The adapter's execution client, timing each submit from the triggering callback to SendOrder's return."""

    def __init__(self, inner: Any, strategy: EveryNth) -> None:
        self.inner = inner
        self.strategy = strategy
        self.lat: list[int] = []

    def submit(self, command: SubmitOrder) -> None:
        self.inner.submit(command)
        self.lat.append(time.time_ns() - self.strategy.origin)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def run(lib: Path, tmp: Path, rate: int, trades: int, every: int) -> dict[str, Any]:
    path = tmp / f"live_{rate}.so"
    shutil.copy(lib, path)
    double = Double(str(path))
    double.define_all([t for t in TICKERS if t[0] == SYMBOL])  # one stream: the rate is the symbol's
    feed, execution = build_profitdll(config(str(path)), weekdays)
    inst = b3.instrument(SYMBOL, weekdays)
    risk = RiskConfig(max_order_qty=10, max_position=10_000, check_session=False)
    kernel = Kernel({SYMBOL: inst}, WallClock(time.time_ns()), risk, is_session=weekdays)
    strategy = EveryNth(every, trades)
    timed = Timed(execution, strategy)
    kernel.connect(feed, timed)  # type: ignore[arg-type]
    kernel.add_strategy(strategy)
    strategy.done = kernel.stop
    try:
        double.TestStreamPaced(trades, float(rate))
        kernel.run(live=True)
        double.TestWaitIdle()
    finally:
        kernel.finish()
        feed.session.dll.finalize()
    lat, fl = timed.lat, strategy.feed_lat
    return {
        "bench": "live_path", "rate_per_s": rate, "trades": strategy.n, "orders": len(lat),
        "p50_us": pct(lat, 0.5), "p99_us": pct(lat, 0.99), "max_us": round(max(lat) / 1000.0, 1),
        "goal_ms": GOAL_MS, "p99_of_goal": round(pct(lat, 0.99) / 1000.0 / GOAL_MS, 6),
        "feed_p50_us": pct(fl, 0.5), "feed_p99_us": pct(fl, 0.99),
        "path_over_feed_p50": round(pct(lat, 0.5) / max(pct(fl, 0.5), 1e-3), 2),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        lib = build(tmp)
        for rate in (1_000, 10_000):
            trades = rate * (2 if quick else 10)
            print(json.dumps(run(lib, tmp, rate, trades, every=max(1, rate // 200))), flush=True)


if __name__ == "__main__":
    main()
