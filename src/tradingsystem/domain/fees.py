"""B3 costs per fill: futures per contract and side, stocks in basis points of notional."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradingsystem.domain.instruments import AssetClass, Instrument, cents


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Exchange fees (emolumentos + registro) and brokerage. Defaults are b3.md's small-trader rates.

    Futures: BRL per contract per side, day-trade and swing. Stocks: bps of notional.
    Brokerage is a flat BRL amount per order fill plus a tax rate on it (ISS/PIS/COFINS).
    """

    futures_day_trade: dict[str, Decimal] = field(
        default_factory=lambda: {"WIN": Decimal("0.26"), "IND": Decimal("1.30"),
                                 "WDO": Decimal("1.10"), "DOL": Decimal("5.50")}
    )
    futures_swing: dict[str, Decimal] = field(
        default_factory=lambda: {"WIN": Decimal("0.39"), "IND": Decimal("1.97"),
                                 "WDO": Decimal("1.30"), "DOL": Decimal("6.50")}
    )
    stock_day_trade_bps: Decimal = Decimal("2.30")
    stock_swing_bps: Decimal = Decimal("3.00")
    brokerage_per_fill: Decimal = Decimal(0)
    brokerage_tax_rate: Decimal = Decimal(0)

    def exchange_fee(self, instrument: Instrument, quantity: int, price_raw: int, day_trade: bool = True) -> Decimal:
        """B3 fee in BRL for ``quantity`` lots, not rounded (a fill may be split between rates)."""
        if instrument.asset_class is AssetClass.STOCK:
            bps = self.stock_day_trade_bps if day_trade else self.stock_swing_bps
            return instrument.brl(price_raw * quantity) * bps / Decimal(10_000)
        table = self.futures_day_trade if day_trade else self.futures_swing
        return table.get(instrument.root, Decimal(0)) * quantity

    @property
    def brokerage(self) -> Decimal:
        """Brokerage per fill with its taxes."""
        return self.brokerage_per_fill * (1 + self.brokerage_tax_rate)

    def fee(self, instrument: Instrument, quantity: int, price_raw: int, day_trade: bool = True) -> Decimal:
        """Fee in BRL for one fill, rounded to centavos."""
        return cents(self.exchange_fee(instrument, quantity, price_raw, day_trade) + self.brokerage)
