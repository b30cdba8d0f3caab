"""Netted positions with exact average price and P&L (Fractions in raw units, Decimal in BRL)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from tradingsystem.domain.instruments import Instrument, cents


def _brl(raw: int | Fraction, instrument: Instrument) -> Decimal:
    if isinstance(raw, int):
        return raw * instrument.brl_per_raw
    return Decimal(raw.numerator) * instrument.brl_per_raw / Decimal(raw.denominator)


Raw = int | Fraction


def _div(a: Raw, b: int) -> Raw:
    """Exact a/b, staying an int when it divides."""
    if isinstance(a, int) and a % b == 0:
        return a // b
    return Fraction(a, b) if isinstance(a, int) else a / b


class Position:
    """One instrument's net position. Change it only with :meth:`apply_fill`.

    ``cost`` is the average-cost basis of the open quantity in raw units (price times quantity);
    it stays an int unless a partial close leaves a fraction, so the common path is integer math.
    """

    __slots__ = (
        "bought",
        "cost",
        "fees",
        "fills",
        "instrument",
        "last_price",
        "quantity",
        "realized_raw",
        "sold",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.quantity = 0
        self.cost: Raw = 0
        self.realized_raw: Raw = 0
        self.fees = Decimal(0)
        self.fills = 0
        self.bought = 0
        self.sold = 0
        self.last_price = 0

    @property
    def avg_price(self) -> Fraction:
        return Fraction(self.cost) / abs(self.quantity) if self.quantity else Fraction(0)

    def apply_fill(self, side_sign: int, quantity: int, price: int, fee: Decimal = Decimal(0)) -> Raw:
        """Apply a fill (side_sign +1 buy, -1 sell); return the realised raw P&L of this fill."""
        if quantity <= 0:
            raise ValueError("fill quantity must be positive")
        self.fills += 1
        self.fees += fee
        if side_sign > 0:
            self.bought += quantity
        else:
            self.sold += quantity
        pos = self.quantity
        realized: Raw = 0
        if pos == 0 or (pos > 0) == (side_sign > 0):
            self.cost += price * quantity
        else:
            held = abs(pos)
            closing = quantity if quantity < held else held
            removed = self.cost if closing == held else _div(self.cost * closing, held)
            realized = (price * closing - removed) if pos > 0 else (removed - price * closing)
            self.realized_raw += realized
            self.cost = self.cost - removed if closing < held else price * (quantity - held)
        self.quantity = pos + side_sign * quantity
        self.last_price = price
        return realized

    def unrealized_raw(self, price: int | None = None) -> Raw:
        px = self.last_price if price is None else price
        if self.quantity == 0 or px == 0:
            return 0
        return (px * self.quantity - self.cost) if self.quantity > 0 else (self.cost - px * -self.quantity)

    def realized_brl(self) -> Decimal:
        """Realised P&L in BRL before fees, to the centavo."""
        return cents(_brl(self.realized_raw, self.instrument))

    def unrealized_brl(self, price: int | None = None) -> Decimal:
        return cents(_brl(self.unrealized_raw(price), self.instrument))

    def net_brl(self) -> Decimal:
        """Realised plus unrealised, less fees."""
        return self.realized_brl() + self.unrealized_brl() - self.fees

    def __repr__(self) -> str:
        return f"Position({self.instrument.symbol} qty={self.quantity} avg={float(self.avg_price):.2f})"
