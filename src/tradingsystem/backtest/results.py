"""What a backtest leaves behind: fills, round-trip trades, an equity curve, and the summary metrics.

Money stays Decimal (BRL); ratios (Sharpe, Sortino, win rate, profit factor, exposure) are floats.
Sharpe and Sortino are computed on daily P&L in BRL (one value per B3 session day in the data,
last equity sample of the day), annualised with sqrt(252); they are 0 when undefined.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.instruments import Instrument, cents
from tradingsystem.domain.orders import Order, OrderEventKind

if TYPE_CHECKING:
    from tradingsystem.engine.kernel import Kernel

__all__ = ["BacktestResult", "Fill", "FillRecorder", "Trade", "metrics", "round_trips", "run_kernel"]

_FILLED = OrderEventKind.FILLED
_OFFSET_NS = 3 * 3600 * 10**9
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, slots=True)
class Fill:
    ts: int
    symbol: str
    strategy_id: str
    order_id: str
    side: int  # +1 buy, -1 sell
    quantity: int
    price: int
    fee: Decimal
    liquidity: int


@dataclass(frozen=True, slots=True)
class Trade:
    """A round trip: from flat (or a flip) to flat (or the next flip) in one instrument."""

    symbol: str
    direction: int  # +1 long, -1 short
    quantity: int
    entry_ts: int
    exit_ts: int
    entry_price: Decimal  # quoted, average
    exit_price: Decimal
    pnl_brl: Decimal  # gross
    fees_brl: Decimal
    net_brl: Decimal


class FillRecorder:
    """An order-manager listener that keeps every fill (plain rows, no engine objects)."""

    def __init__(self) -> None:
        self.fills: list[Fill] = []

    def __call__(self, order: Order, event: OrderEvent) -> None:
        if event.kind == _FILLED:
            self.fills.append(Fill(event.ts_event, order.symbol, order.strategy_id, order.order_id,
                                   1 if order.side == 1 else -1, event.fill_qty, event.fill_price, event.fee,
                                   event.liquidity))


@dataclass
class BacktestResult:
    instruments: dict[str, Instrument]
    fills: list[Fill]
    equity: list[tuple[int, Decimal]]
    summary: dict[str, Any]
    events: int
    wall_seconds: float
    first_ts: int = 0
    last_ts: int = 0
    candles: dict[str, dict[str, list[int]]] = field(default_factory=dict)


class EquitySampler:
    """Net equity (BRL, after fees, marked to the last trade) every ``interval_ns`` of event time.

    Samples keep raw P&L per instrument (ints or Fractions) and convert to BRL once, at the end, so a
    sample costs a few microseconds; intervals with no events are skipped.
    """

    def __init__(self, kernel: Kernel, interval_ns: int) -> None:
        self._k = kernel
        self._interval = interval_ns
        self.samples: list[tuple[int, tuple[Any, ...], Decimal]] = []

    def start(self) -> None:
        self._k.clock.every(self._interval, self.take)

    def take(self, ts: int) -> None:
        last = self._k.cache.last_trade
        raws = []
        fees = Decimal(0)
        for sym, pos in self._k.portfolio.positions.items():
            tick = last.get(sym)
            raws.append((sym, pos.realized_raw + pos.unrealized_raw(tick.price if tick else None)))
            fees += pos.fees
        self.samples.append((ts, tuple(raws), fees))

    def curve(self, instruments: dict[str, Instrument]) -> list[tuple[int, Decimal]]:
        out = []
        for ts, raws, fees in self.samples:
            total = sum((cents(_brl(raw, instruments[sym])) for sym, raw in raws), Decimal(0))
            out.append((ts, total - cents(fees)))
        return out


def run_kernel(kernel: Kernel, until_ts: int | None = None, progress: Any = None,
               equity_interval_s: float = 60.0) -> BacktestResult:
    """Run a connected kernel to the end of its feed and collect fills and equity.

    ``progress`` (optional) is called as ``progress(events_so_far)`` every 100,000 events.
    """
    recorder = FillRecorder()
    kernel.orders.add_listener(recorder)
    feed = kernel.feed
    first = feed.next_ts() if feed is not None else None
    sampler = EquitySampler(kernel, int(equity_interval_s * 1e9))
    if first is not None:
        kernel.clock.advance_to(first)
        sampler.start()
    t0 = time.perf_counter()
    events = 0
    if progress is None:
        events = kernel.run(until_ts=until_ts)
    else:
        while True:
            n = kernel.run(until_ts=until_ts, max_events=100_000)
            events += n
            progress(events)
            if n < 100_000:
                break
    wall = time.perf_counter() - t0
    kernel.finish()
    last = kernel.clock.now()
    if sampler.samples and sampler.samples[-1][0] == last:
        sampler.samples.pop()  # a timer at the last event's time fired before that event: resample after it
    sampler.take(last)
    equity = sampler.curve(kernel.instruments)
    return BacktestResult(dict(kernel.instruments), recorder.fills, equity, kernel.summary(), events, wall,
                          first or 0, last)


def round_trips(fills: list[Fill], instruments: dict[str, Instrument]) -> list[Trade]:
    """Group fills per instrument into round trips (flat to flat; a flip closes one and opens the next).

    P&L uses average cost, like the portfolio; a fill's fee is split pro rata between the trade it
    closes and the one it opens.
    """
    out: list[Trade] = []
    state: dict[str, list[Any]] = {}  # symbol -> [pos, cost_raw, entry_ts, fees, max_qty, realised_raw, exit_cost]
    for f in fills:
        inst = instruments[f.symbol]
        st = state.get(f.symbol)
        if st is None:
            st = state[f.symbol] = [0, 0, 0, Decimal(0), 0, 0, 0, 0]
        pos, cost, entry_ts, fees, max_qty, realised, exit_value, exit_qty = st
        qty, px, sign = f.quantity, f.price, f.side
        if pos == 0:
            entry_ts = f.ts
        if pos == 0 or (pos > 0) == (sign > 0):
            cost += px * qty
            pos += sign * qty
            fees += f.fee
            max_qty = max(max_qty, abs(pos))
            st[:] = [pos, cost, entry_ts, fees, max_qty, realised, exit_value, exit_qty]
            continue
        held = abs(pos)
        closing = min(qty, held)
        removed = Fraction(cost * closing, held)
        gain = (px * closing - removed) if pos > 0 else (removed - px * closing)
        realised += gain
        exit_value += px * closing
        exit_qty += closing
        fee_close = f.fee if qty == closing else cents(f.fee * closing / qty)
        fees += fee_close
        cost = cost - removed
        pos += sign * closing
        if pos == 0:
            direction = 1 if sign < 0 else -1
            entry_px = _entry_price(realised, exit_value, exit_qty, direction)
            pnl = cents(_brl(realised, inst))
            out.append(Trade(f.symbol, direction, max_qty, entry_ts, f.ts,
                             _quoted(entry_px, inst),
                             _quoted(Fraction(exit_value, exit_qty), inst), pnl, fees, pnl - fees))
            rest = qty - closing
            if rest:
                st[:] = [sign * rest, px * rest, f.ts, f.fee - fee_close, rest, 0, 0, 0]
            else:
                st[:] = [0, 0, 0, Decimal(0), 0, 0, 0, 0]
            continue
        st[:] = [pos, cost, entry_ts, fees, max_qty, realised, exit_value, exit_qty]
    return out


def _entry_price(realised: Any, exit_value: int, exit_qty: int, direction: int) -> Any:
    # long: realised = exit_value - entry_value; short: realised = entry_value - exit_value
    entry_value = exit_value - realised if direction > 0 else exit_value + realised
    return Fraction(entry_value) / exit_qty


def _quoted(raw: Any, inst: Instrument) -> Decimal:
    value = Decimal(raw.numerator) / Decimal(raw.denominator) if hasattr(raw, "numerator") else Decimal(raw)
    return value.scaleb(-inst.scale).quantize(Decimal(1).scaleb(-inst.scale - 2))


def _brl(raw: Any, inst: Instrument) -> Decimal:
    if isinstance(raw, int):
        return raw * inst.brl_per_raw
    return Decimal(raw.numerator) * inst.brl_per_raw / Decimal(raw.denominator)


def _day(ts: int) -> int:
    return (ts - _OFFSET_NS) // _DAY_NS


def daily_pnl(equity: list[tuple[int, Decimal]]) -> list[Decimal]:
    """P&L per session day: the change of the last equity sample of each day."""
    last_by_day: dict[int, Decimal] = {}
    for ts, v in equity:
        last_by_day[_day(ts)] = v
    prev = Decimal(0)
    out = []
    for d in sorted(last_by_day):
        out.append(last_by_day[d] - prev)
        prev = last_by_day[d]
    return out


def sharpe(values: list[float]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return 0.0 if var <= 0 else mean / math.sqrt(var) * math.sqrt(252)


def sortino(values: list[float]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    down = math.sqrt(sum(min(v, 0.0) ** 2 for v in values) / n)
    return 0.0 if down <= 0 else mean / down * math.sqrt(252)


def max_drawdown(equity: list[tuple[int, Decimal]]) -> Decimal:
    peak = Decimal(0)
    worst = Decimal(0)
    for _, v in equity:
        peak = max(peak, v)
        worst = max(worst, peak - v)
    return worst


def exposure(fills: list[Fill], first_ts: int, last_ts: int) -> float:
    """Fraction of the replayed time with a non-zero position in any instrument."""
    span = last_ts - first_ts
    if span <= 0 or not fills:
        return 0.0
    pos: dict[str, int] = {}
    open_since: int | None = None
    total = 0
    for f in fills:
        was = any(pos.values())
        pos[f.symbol] = pos.get(f.symbol, 0) + f.side * f.quantity
        now = any(pos.values())
        if not was and now:
            open_since = f.ts
        elif was and not now and open_since is not None:
            total += f.ts - open_since
            open_since = None
    if open_since is not None:
        total += last_ts - open_since
    return round(total / span, 6)


def metrics(result: BacktestResult, deterministic: bool = False) -> dict[str, Any]:
    """``summary.json`` content. ``deterministic`` zeroes the two timing keys (byte-identical reruns)."""
    trades = round_trips(result.fills, result.instruments)
    s = result.summary
    wins = [t.net_brl for t in trades if t.net_brl > 0]
    losses = [t.net_brl for t in trades if t.net_brl < 0]
    gross_loss = -sum(losses, Decimal(0))
    daily = [float(x) for x in daily_pnl(result.equity)]
    wall = 0.0 if deterministic else round(result.wall_seconds, 3)
    return {
        "trades": len(trades),
        "fills": len(result.fills),
        "orders": s["orders_submitted"],
        "win_rate": round(len(wins) / len(trades), 6) if trades else 0.0,
        "pnl_brl": s["net_pnl_brl"],
        "gross_pnl_brl": str(Decimal(s["realized_pnl_brl"]) + Decimal(s["unrealized_pnl_brl"])),
        "realized_pnl_brl": s["realized_pnl_brl"],
        "unrealized_pnl_brl": s["unrealized_pnl_brl"],
        "fees_brl": s["fees_brl"],
        "sharpe": round(sharpe(daily), 6),
        "sortino": round(sortino(daily), 6),
        "days": len(daily),
        "max_drawdown_brl": str(cents(max_drawdown(result.equity))),
        "profit_factor": round(float(sum(wins, Decimal(0)) / gross_loss), 6) if gross_loss else 0.0,
        "exposure": exposure(result.fills, result.first_ts, result.last_ts),
        "risk_denials": s["risk_denials"],
        "positions": s["positions"],
        "events": result.events,
        "events_per_sec": 0 if deterministic or not result.wall_seconds else round(result.events / result.wall_seconds),
        "wall_seconds": wall,
    }
