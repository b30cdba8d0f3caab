"""Engine-thread side of the dashboard: a data sink and order listener that keeps what pages show.

Everything here runs on the engine thread (as a sink, an order listener, or inside ``collect``), so it
needs no locks. The per-trade cost is a few dict look-ups and list writes; nothing is sent from here.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import date
from decimal import Decimal
from typing import Any

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick
from tradingsystem.domain.orders import Order, OrderEventKind
from tradingsystem.engine.session_gate import day_of

__all__ = ["BASE_NS", "BASE_S", "Collector"]

BASE_S = 5
BASE_NS = BASE_S * 1_000_000_000
_FILLED = int(OrderEventKind.FILLED)
_QUIET = frozenset({int(OrderEventKind.PENDING_UPDATE), int(OrderEventKind.PENDING_CANCEL)})
_BAD = frozenset({int(OrderEventKind.DENIED), int(OrderEventKind.REJECTED), int(OrderEventKind.MODIFY_REJECTED),
                  int(OrderEventKind.CANCEL_REJECTED)})
_KIND_NAMES = {int(k): k.name for k in OrderEventKind}
_now = time.time


class Collector:
    """Base candles (``BASE_S`` seconds), time and sales, fills and win/loss counts per strategy."""

    def __init__(self, symbols: list[str], keep_bars: int = 6000, keep_tape: int = 200, keep_fills: int = 1000,
                 keep_events: int = 2000) -> None:
        self.keep_bars = keep_bars
        self.bars: dict[str, list[list[int]]] = {s: [] for s in symbols}  # [t_open_ns, o, h, l, c, volume]
        self.tape: dict[str, deque[TradeTick]] = {s: deque(maxlen=keep_tape) for s in symbols}
        self.counts: dict[str, int] = dict.fromkeys(symbols, 0)  # prints per symbol: the tape's sequence
        self.fills: deque[dict[str, Any]] = deque(maxlen=keep_fills)
        self.events: deque[tuple[int, int, str, str, str, str]] = deque(maxlen=keep_events)  # the order log
        self.event_seq = 0
        self.results: dict[str, list[int]] = {}  # strategy -> [wins, losses, closing fills]
        self._pos: dict[tuple[str, str], tuple[int, float]] = {}
        self.fill_seq = 0
        self.day_fees: dict[str, tuple[date, Decimal]] = {}  # symbol -> (B3 day, fees of that day's fills)
        self.first_wall = 0.0  # wall time (s) of the oldest event not yet collected

    # --- Sink ----------------------------------------------------------------------------------
    def on_trade(self, tick: TradeTick) -> None:
        if not self.first_wall:
            self.first_wall = _now()
        symbol = tick.symbol
        bars = self.bars.get(symbol)
        if bars is None:
            return
        price = tick.price
        t = tick.ts_event - tick.ts_event % BASE_NS
        if bars and bars[-1][0] >= t:
            b = bars[-1]
            if price > b[2]:
                b[2] = price
            elif price < b[3]:
                b[3] = price
            b[4] = price
            b[5] += tick.size
        else:
            bars.append([t, price, price, price, price, tick.size])
            if len(bars) > self.keep_bars + 500:
                del bars[: len(bars) - self.keep_bars]
        self.counts[symbol] += 1
        self.tape[symbol].append(tick)

    def on_book_delta(self, delta: BookDelta) -> None:
        if not self.first_wall:
            self.first_wall = _now()

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None:
        self.on_book_delta(snapshot)  # type: ignore[arg-type]

    def on_bar(self, bar: Bar) -> None:
        return

    # --- order listener ------------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        kind = event.kind
        if kind not in _QUIET:
            self.event_seq += 1
            name = _KIND_NAMES.get(kind, str(kind))
            self.events.append((self.event_seq, event.ts_event, order.symbol, order.order_id, name,
                                event.reason or order.reason if kind in _BAD else ""))
        if kind != _FILLED:
            return
        sign = 1 if int(order.side) == 1 else -1
        self.fill_seq += 1
        self.fills.append({"seq": self.fill_seq, "ts": event.ts_event, "symbol": order.symbol,
                           "side": "BUY" if sign > 0 else "SELL", "qty": event.fill_qty, "price": event.fill_price,
                           "strategy": order.strategy_id, "order_id": order.order_id, "fee": str(event.fee)})
        day = day_of(event.ts_event)
        seen, fees = self.day_fees.get(order.symbol, (day, Decimal(0)))
        self.day_fees[order.symbol] = (day, (fees if seen == day else Decimal(0)) + event.fee)
        self._score(order.strategy_id, order.symbol, sign * event.fill_qty, event.fill_price)

    def _score(self, strategy: str, symbol: str, qty: int, price: int) -> None:
        """Average-cost position per strategy and symbol; a closing fill counts as a win or a loss."""
        pos, avg = self._pos.get((strategy, symbol), (0, 0.0))
        res = self.results.setdefault(strategy, [0, 0, 0])
        if pos == 0 or (pos > 0) == (qty > 0):
            avg = (avg * abs(pos) + price * abs(qty)) / (abs(pos) + abs(qty))
            pos += qty
        else:
            edge = (price - avg) * (1 if pos > 0 else -1)
            res[2] += 1
            if edge > 0:
                res[0] += 1
            elif edge < 0:
                res[1] += 1
            new = pos + qty
            if new and (new > 0) != (pos > 0):
                avg = float(price)
            pos = new
            if not pos:
                avg = 0.0
        self._pos[(strategy, symbol)] = (pos, avg)

    # --- reads (engine thread) -----------------------------------------------------------------
    def fees_today(self, symbol: str, ts: int) -> Decimal:
        """Fees of the symbol's fills on the B3 day of ``ts`` (0 from the first moment of a new day)."""
        got = self.day_fees.get(symbol)
        return got[1] if got is not None and got[0] == day_of(ts) else Decimal(0)

    def take_walls(self) -> tuple[float, float]:
        """The wall times of the oldest event since the last call and of now (this read); resets them."""
        first = self.first_wall
        self.first_wall = 0.0
        return first, (_now() if first else 0.0)

    def recent_bars(self, symbol: str, n: int) -> list[tuple[int, ...]]:
        bars = self.bars.get(symbol, [])
        return [tuple(b) for b in bars[-n:]] if n > 0 else [tuple(b) for b in bars]

    def tape_since(self, symbol: str, seq: int, limit: int = 50) -> list[tuple[int, int, int, int, int]]:
        """Prints after sequence ``seq`` (at most ``limit``) as ``(seq, ts, price, size, aggressor)``."""
        tape = self.tape.get(symbol)
        if not tape:
            return []
        n = self.counts[symbol]
        k = min(n - seq, limit, len(tape))
        if k <= 0:
            return []
        ticks = list(tape)[-k:]
        return [(n - k + 1 + i, t.ts_event, t.price, t.size, t.aggressor) for i, t in enumerate(ticks)]

    def fills_for(self, symbol: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        return [f for f in list(self.fills) if symbol is None or f["symbol"] == symbol][-limit:]
