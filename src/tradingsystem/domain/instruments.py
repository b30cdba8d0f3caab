"""Instruments and exact prices.

Prices are integers in *raw units* of ``10**-scale`` of the quoted price (WIN scale 0: points;
WDO scale 1: tenths of a point; stocks scale 2: centavos). The tick is a whole number of raw units,
so "on the grid" is ``raw % tick == 0``. Quantities are integers (contracts or shares).
Money is Decimal; ``brl_per_raw`` turns a price difference in raw units into BRL per unit of quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum

from tradingsystem.domain.errors import OffGrid

CENT = Decimal("0.01")


class AssetClass(str, Enum):
    INDEX_FUTURE = "index_future"
    FX_FUTURE = "fx_future"
    STOCK = "stock"


_STOCK = AssetClass.STOCK  # Enum member access is slow on the hot path


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable symbol with its grid, lot, point value and expiry."""

    symbol: str
    root: str
    asset_class: AssetClass
    scale: int
    tick: int
    lot: int
    brl_per_raw: Decimal
    expiry: date | None = None
    last_trading_day: date | None = None
    fractional_of: str | None = None

    @property
    def tick_size(self) -> Decimal:
        return Decimal(self.tick).scaleb(-self.scale)

    @property
    def is_future(self) -> bool:
        return self.asset_class is not _STOCK

    def to_raw(self, price: Decimal | str | int | float) -> int:
        """Convert a quoted price to raw units; raise OffGrid if it is not exactly on the tick grid."""
        if isinstance(price, float):
            if price != price or price in (float("inf"), float("-inf")):
                raise OffGrid(f"{self.symbol}: price {price!r} is not a number")
            price = Decimal(repr(price))
        d = Decimal(price)
        if not d.is_finite():
            raise OffGrid(f"{self.symbol}: price {price!r} is not a number")
        raw = d.scaleb(self.scale)
        if raw != raw.to_integral_value():
            raise OffGrid(f"{self.symbol}: price {price} has more than {self.scale} decimals")
        r = int(raw)
        if r % self.tick:
            raise OffGrid(f"{self.symbol}: price {price} is off the {self.tick_size} tick grid")
        return r

    def to_price(self, raw: int) -> Decimal:
        """Raw units back to the quoted price."""
        return Decimal(raw).scaleb(-self.scale)

    def on_grid(self, raw: int) -> bool:
        return raw > 0 and raw % self.tick == 0

    def is_tradable_on(self, day: date) -> bool:
        """False once a futures contract is past its last trading day."""
        return self.last_trading_day is None or day <= self.last_trading_day

    def lot_ok(self, quantity: int) -> bool:
        return quantity > 0 and quantity % self.lot == 0

    def check_quantity(self, quantity: int) -> None:
        if not self.lot_ok(quantity):
            raise OffGrid(f"{self.symbol}: quantity {quantity} is not a positive multiple of lot {self.lot}")

    def round_to_tick(self, raw: int) -> int:
        """Nearest price on the grid (ties go down)."""
        q, r = divmod(raw, self.tick)
        return (q + (1 if r * 2 > self.tick else 0)) * self.tick

    def brl(self, raw_times_qty: int) -> Decimal:
        """BRL value of a raw-price-times-quantity amount, exact."""
        return raw_times_qty * self.brl_per_raw


def cents(amount: Decimal) -> Decimal:
    """Round a BRL amount to centavos (banker's rounding)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
