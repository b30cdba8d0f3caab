"""Portfolio: positions per instrument and per strategy, fees, and P&L marked to the last trade."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument, cents
from tradingsystem.domain.positions import Position
from tradingsystem.engine.cache import Cache


@dataclass(frozen=True, slots=True)
class Ajuste:
    """One futures daily settlement: credited to the holder (debited if negative), paid D+1."""

    day: str
    symbol: str
    quantity: int
    settlement_price: int
    amount_brl: Decimal


class Portfolio:
    """Applies fills to positions. Unrealised P&L reads the cache's last trade on demand.

    Futures also settle daily (ajuste): positions carried from the previous settlement are marked
    from the previous settlement price, today's trades from their trade price (b3.md section 1).
    """

    def __init__(self, cache: Cache, fees: FeeSchedule) -> None:
        self._cache = cache
        self._fees = fees
        self.positions: dict[str, Position] = {}
        self.by_strategy: dict[tuple[str, str], Position] = {}
        self._fee_cache: dict[tuple[str, int], Decimal] = {}
        self.fills = 0
        self._day_fills: dict[str, list[int]] = {}  # symbol -> [sum of signed qty, sum of signed qty x price]
        self._settled: dict[str, tuple[int, int]] = {}  # symbol -> (quantity, settlement price)
        self.ajustes: list[Ajuste] = []

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
        pos = self.positions.get(symbol) or self.position(symbol)
        inst = pos.instrument
        future = inst.is_future
        if fee is None or not fee:
            fee = self._fee_cache.get((inst.symbol, quantity)) if future else None
            if fee is None:
                fee = self.fee_for(inst, quantity, price)
        pos.apply_fill(side_sign, quantity, price, fee)
        key = (strategy_id, symbol)
        spos = self.by_strategy.get(key)
        if spos is None:
            spos = self.by_strategy[key] = Position(inst)
        spos.apply_fill(side_sign, quantity, price, fee)
        self.fills += 1
        if future:
            day = self._day_fills.get(symbol)
            if day is None:
                day = self._day_fills[symbol] = [0, 0]
            day[0] += side_sign * quantity
            day[1] += side_sign * quantity * price
        return fee

    def settle(self, day: str, prices: dict[str, int]) -> list[Ajuste]:
        """Daily settlement of futures at ``prices`` (raw settlement price per symbol).

        AD = (PA_t - PA_t-1) x M x carried quantity + sum over today's trades of (PA_t - price) x M x quantity.
        """
        out: list[Ajuste] = []
        symbols = set(self._day_fills) | {s for s, (q, _) in self._settled.items() if q}
        for symbol in sorted(symbols):
            if symbol not in prices:
                continue
            pa = prices[symbol]
            inst = self.position(symbol).instrument
            carried, prev = self._settled.get(symbol, (0, 0))
            sum_q, sum_qpx = self._day_fills.get(symbol, (0, 0))
            raw = carried * (pa - prev) + pa * sum_q - sum_qpx
            qty = self.positions[symbol].quantity
            out.append(Ajuste(day, symbol, qty, pa, cents(inst.brl(raw))))
            self._settled[symbol] = (qty, pa)
            self._day_fills.pop(symbol, None)
        self.ajustes.extend(out)
        return out

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
