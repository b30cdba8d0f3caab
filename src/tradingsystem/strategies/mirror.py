"""Follower mode: mirror a leader's target positions with our own sizing, through our own risk engine.

``on_signal`` (called on the engine thread) records the leader strategy's new target; the mirror then
trades its own position towards ``size(target)``: a ratio of it or a fixed quantity with its sign,
on the instrument's lot grid, capped per instrument. One market order works per instrument at a
time; a denied or unfilled order is retried on a timer, so a signal that arrives in an auction or
a halt is acted on when trading can resume.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.orders import Order, OrderStatus, Side
from tradingsystem.domain.positions import Position
from tradingsystem.engine.strategy import Strategy

__all__ = ["Mirror", "MirrorConfig"]


class MirrorConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sizing: Literal["ratio", "fixed"] = "ratio"
    ratio: Decimal = Field(Decimal(1), gt=0)
    """Our position = ratio × the leader's, rounded towards zero to the lot."""
    fixed: int = Field(1, ge=1)
    """With ``sizing: fixed``: this many units, with the sign of the leader's position."""
    max_abs: dict[str, int] = Field(default_factory=dict)
    """Per-instrument cap on our absolute position (a symbol or its root, e.g. WIN)."""
    strategies: list[str] = Field(default_factory=list)
    """Leader strategies to follow (all when empty)."""
    retry_s: float = Field(5.0, gt=0)


class Mirror(Strategy):
    def __init__(self, config: MirrorConfig, symbols: list[str], strategy_id: str = "mirror") -> None:
        super().__init__(strategy_id, symbols)
        self.config = config
        self.leader: dict[str, dict[str, int]] = {}  # symbol -> leader strategy -> its target
        self.leader_books: dict[tuple[str, str], Position] = {}  # (leader strategy, symbol) -> as signalled
        self.applied = 0
        self.ignored: dict[str, int] = {}
        self._working: set[str] = set()

    # --- signals -------------------------------------------------------------------------------
    def on_signal(self, strategy: str, symbol: str, target: int, price: int = 0) -> None:
        if self.config.strategies and strategy not in self.config.strategies:
            self._ignore("strategy_not_followed")
            return
        if symbol not in self.kernel.instruments:
            self._ignore("unknown_instrument")
            return
        prev = self.leader.setdefault(symbol, {}).get(strategy, 0)
        self.leader[symbol][strategy] = target
        if target != prev and price > 0:  # the leader's own position, at the fill prices it signalled
            book = self.leader_books.setdefault((strategy, symbol), Position(self.kernel.instruments[symbol]))
            book.apply_fill(1 if target > prev else -1, abs(target - prev), price)
        self.applied += 1
        self._rebalance(symbol)

    def _ignore(self, why: str) -> None:
        self.ignored[why] = self.ignored.get(why, 0) + 1

    # --- sizing --------------------------------------------------------------------------------
    def desired(self, symbol: str) -> int:
        lead = sum(self.leader.get(symbol, {}).values())
        if lead == 0:
            return 0
        lot = self.kernel.instruments[symbol].lot
        if self.config.sizing == "fixed":
            want = self.config.fixed * (1 if lead > 0 else -1)
        else:
            want = int((Decimal(lead) * self.config.ratio).to_integral_value(ROUND_DOWN))
        want = int(want / lot) * lot  # towards zero, on the lot grid
        cap = self.config.max_abs.get(symbol, self.config.max_abs.get(self._root(symbol)))
        if cap is not None:
            cap = cap // lot * lot
            want = max(-cap, min(cap, want))
        return want

    @staticmethod
    def _root(symbol: str) -> str:
        return symbol[:3] if len(symbol) == 6 and symbol[3].isalpha() else symbol

    def position(self, symbol: str) -> int:
        pos = self.kernel.portfolio.by_strategy.get((self.strategy_id, symbol))
        return pos.quantity if pos is not None else 0

    def tracking(self) -> dict[str, dict[str, int]]:
        """Per instrument: the leader's total target, what we want, what we hold."""
        return {s: {"leader": sum(t.values()), "desired": self.desired(s), "held": self.position(s)}
                for s, t in sorted(self.leader.items())}

    def leaderboard(self) -> list[dict[str, object]]:
        """Each followed leader strategy: its position and P&L as signalled (before fees, marked at our last
        price), and ours on the same instrument."""
        rows: list[dict[str, object]] = []
        for (strategy, symbol), book in sorted(self.leader_books.items()):
            last = self.kernel.data.last_price(symbol) or book.last_price
            ours = self.kernel.portfolio.by_strategy.get((self.strategy_id, symbol))
            rows.append({"strategy": strategy, "instrument": symbol, "leader_position": book.quantity,
                         "leader_pnl_brl": str(book.realized_brl() + book.unrealized_brl(last)),
                         "our_position": ours.quantity if ours else 0,
                         "our_pnl_brl": str(ours.realized_brl() + ours.unrealized_brl(last) - ours.fees)
                         if ours else "0.00"})
        return rows

    def tracking_difference(self) -> int:
        return sum(abs(v["desired"] - v["held"]) for v in self.tracking().values())

    # --- trading -------------------------------------------------------------------------------
    def _rebalance(self, symbol: str) -> None:
        if symbol in self._working:
            return
        delta = self.desired(symbol) - self.position(symbol)
        if delta:
            self._working.add(symbol)
            self.submit(symbol, Side.BUY if delta > 0 else Side.SELL, abs(delta))

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        if not order.is_closed:
            return
        self._working.discard(order.symbol)
        if self.desired(order.symbol) == self.position(order.symbol):
            return
        if order.status is OrderStatus.FILLED:  # the target moved while we traded
            self._rebalance(order.symbol)
        else:  # denied, rejected or cancelled: try again later
            self.set_timer(self.now() + int(self.config.retry_s * 1e9), lambda _ts: self._rebalance(order.symbol))
