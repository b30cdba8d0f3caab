"""Portfolio: positions per instrument and per strategy, fees, and P&L marked to the last trade."""

from __future__ import annotations

from decimal import Decimal

from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument, cents
from tradingsystem.domain.positions import Position
from tradingsystem.engine.cache import Cache


class Portfolio:
    """Applies fills to positions. Unrealised P&L reads the cache's last trade on demand."""

    def __init__(self, cache: Cache, fees: FeeSchedule) -> None:
        self._cache = cache
        self._fees = fees
        self.positions: dict[str, Position] = {}
        self.by_strategy: dict[tuple[str, str], Position] = {}
        self._fee_cache: dict[tuple[str, int], Decimal] = {}
        self.fills = 0

    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(self._cache.instrument(symbol))
        return pos

    def quantity(self, symbol: str) -> int:
        pos = self.positions.get(symbol)
        return pos.quantity if pos else 0

    def fee_for(self, instrument: Instrument, quantity: int, price: int) -> Decimal:
        if instrument.is_future:
            key = (instrument.symbol, quantity)
            fee = self._fee_cache.get(key)
            if fee is None:
                fee = self._fee_cache[key] = self._fees.fee(instrument, quantity, price)
            return fee
        return self._fees.fee(instrument, quantity, price)

    def apply_fill(self, symbol: str, strategy_id: str, side_sign: int, quantity: int, price: int,
                   fee: Decimal | None = None) -> Decimal:
        """Apply one fill to the instrument and strategy positions; return the fee charged."""
        pos = self.position(symbol)
        if fee is None or not fee:
            fee = self.fee_for(pos.instrument, quantity, price)
        pos.apply_fill(side_sign, quantity, price, fee)
        key = (strategy_id, symbol)
        spos = self.by_strategy.get(key)
        if spos is None:
            spos = self.by_strategy[key] = Position(pos.instrument)
        spos.apply_fill(side_sign, quantity, price, fee)
        self.fills += 1
        return fee

    def _mark(self, pos: Position) -> int:
        tick = self._cache.last_trade.get(pos.instrument.symbol)
        return tick.price if tick else pos.last_price

    def unrealized_brl(self, symbol: str | None = None) -> Decimal:
        total = Decimal(0)
        for sym, pos in self.positions.items():
            if symbol is None or sym == symbol:
                total += pos.unrealized_brl(self._mark(pos))
        return total

    def realized_brl(self, symbol: str | None = None) -> Decimal:
        return sum((p.realized_brl() for s, p in self.positions.items() if symbol in (None, s)), Decimal(0))

    def fees_brl(self) -> Decimal:
        return cents(sum((p.fees for p in self.positions.values()), Decimal(0)))

    def net_brl(self) -> Decimal:
        return self.realized_brl() + self.unrealized_brl() - self.fees_brl()

    def strategy_net_brl(self, strategy_id: str) -> Decimal:
        total = Decimal(0)
        for (sid, _), pos in self.by_strategy.items():
            if sid == strategy_id:
                total += pos.realized_brl() + pos.unrealized_brl(self._mark(pos)) - pos.fees
        return total


class PortfolioView:
    """Read-only facade for strategies."""

    __slots__ = ("_portfolio",)

    def __init__(self, portfolio: Portfolio) -> None:
        self._portfolio = portfolio

    def quantity(self, symbol: str) -> int:
        return self._portfolio.quantity(symbol)

    def is_flat(self, symbol: str) -> bool:
        return self._portfolio.quantity(symbol) == 0

    def realized_brl(self, symbol: str | None = None) -> Decimal:
        return self._portfolio.realized_brl(symbol)

    def unrealized_brl(self, symbol: str | None = None) -> Decimal:
        return self._portfolio.unrealized_brl(symbol)

    def net_brl(self) -> Decimal:
        return self._portfolio.net_brl()
