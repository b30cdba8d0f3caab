"""B3 costs per fill: futures per contract and side in the currency B3 sets them, stocks in bps of notional.

B3's "tarifa única" (emolumentos + registro) for a futures family is priced per full contract from a
progressive table on the trader's monthly ADV (the average price over tiers 1..ADV, B3's "custo médio p"),
times the product's contract factor, less a day-trade reduction averaged the same way over the day-trade
ADV. ADV counts each product with its ADV weight (WIN 0.2 of an IND, WDO 0.2 of a DOL). The dollar family is
priced in USD and converted at the day's PTAX (the latest one on or before the day), or a fixed fallback
rate when none is loaded. Tables: B3's Ibovespa-futures and dollar-futures tariff pages (docs/tax.md).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tradingsystem.domain.instruments import AssetClass, Instrument, cents

__all__ = ["DOLLAR", "IBOVESPA", "FeeSchedule", "FuturesFamily", "Tier", "progressive_average"]


@dataclass(frozen=True, slots=True)
class Tier:
    """One row of a B3 table: from ADV ``start`` (the first row starts at 1) the value is ``value``."""

    start: Decimal
    value: Decimal


def progressive_average(tiers: tuple[Tier, ...], adv: Decimal) -> Decimal:
    """Average of the tier values over units 1..``adv``, each unit at its own tier; ``adv`` < 1: the first tier."""
    if adv <= tiers[0].start:
        return tiers[0].value
    total = Decimal(0)
    for i, tier in enumerate(tiers):
        lo = tier.start - 1
        hi = adv if i + 1 == len(tiers) else min(adv, tiers[i + 1].start - 1)
        if hi <= lo:
            break
        total += (hi - lo) * tier.value
    return total / adv


def _tiers(*rows: tuple[str, str]) -> tuple[Tier, ...]:
    return tuple(Tier(Decimal(a), Decimal(b)) for a, b in rows)


@dataclass(frozen=True, slots=True)
class FuturesFamily:
    """A B3 futures family: price table per full contract, day-trade reductions, factors and ADV weights."""

    currency: str  # "BRL" or "USD"
    prices: tuple[Tier, ...]
    day_trade_reductions: tuple[Tier, ...]  # share taken off the unit price for day trades (0.35 = 35%)
    factors: Mapping[str, Decimal]  # root -> contract factor
    adv_weights: Mapping[str, Decimal]  # root -> weight of one contract in the family's ADV


IBOVESPA = FuturesFamily(
    "BRL",
    _tiers(("1", "1.97"), ("51", "1.82"), ("151", "1.72"), ("501", "1.57"), ("1501", "1.42"), ("3501", "1.27"),
           ("7501", "1.17"), ("15001", "1.07")),
    _tiers(("1", "0.35"), ("6", "0.40"), ("51", "0.55"), ("151", "0.70"), ("1501", "0.75")),
    {"IND": Decimal(1), "WIN": Decimal("0.2")},
    {"IND": Decimal(1), "WIN": Decimal("0.2")},
)
DOLLAR = FuturesFamily(
    "USD",
    _tiers(("1", "0.97"), ("251", "0.88"), ("1001", "0.83"), ("2501", "0.77"), ("6001", "0.73"), ("10001", "0.69"),
           ("15001", "0.66"), ("25001", "0.51"), ("45001", "0.36"), ("80001", "0.33")),
    _tiers(("1", "0.16"), ("21", "0.25"), ("501", "0.40"), ("1501", "0.45"), ("3001", "0.50"), ("5001", "0.55"),
           ("10001", "0.575"), ("20001", "0.60"), ("35001", "0.625"), ("60001", "0.65")),
    {"DOL": Decimal(1), "WDO": Decimal("0.25")},
    {"DOL": Decimal(1), "WDO": Decimal("0.2")},
)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Exchange fees and brokerage. Defaults: B3's published tables at zero ADV (the first tier).

    ``adv`` / ``day_trade_adv``: last month's average daily contracts per root (all brokers, same CPF).
    ``ptax``: USD/BRL per day (BCB's PTAX); ``usd_brl_fallback`` when no rate on or before the day is loaded.
    Stocks: bps of notional (first tier). Brokerage: a flat BRL amount per fill plus a tax rate on it.
    """

    families: tuple[FuturesFamily, ...] = (IBOVESPA, DOLLAR)
    adv: Mapping[str, Decimal] = field(default_factory=dict)
    day_trade_adv: Mapping[str, Decimal] = field(default_factory=dict)
    stock_day_trade_bps: Decimal = Decimal("2.30")
    stock_swing_bps: Decimal = Decimal("3.00")
    brokerage_per_fill: Decimal = Decimal(0)
    brokerage_tax_rate: Decimal = Decimal(0)
    usd_brl_fallback: Decimal = Decimal("5.50")
    ptax: Mapping[date, Decimal] = field(default_factory=dict)
    _units: dict[tuple[str, bool], tuple[str, Decimal]] = field(init=False, repr=False, compare=False)
    _ptax_days: list[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        units: dict[tuple[str, bool], tuple[str, Decimal]] = {}
        for fam in self.families:
            adv = sum((Decimal(self.adv.get(r, 0)) * w for r, w in fam.adv_weights.items()), Decimal(0))
            dt_adv = sum((Decimal(self.day_trade_adv.get(r, 0)) * w for r, w in fam.adv_weights.items()),
                         Decimal(0))
            price = progressive_average(fam.prices, adv)
            off = progressive_average(fam.day_trade_reductions, dt_adv)
            for root, factor in fam.factors.items():
                units[(root, False)] = (fam.currency, price * factor)
                units[(root, True)] = (fam.currency, price * factor * (1 - off))
        object.__setattr__(self, "_units", units)
        object.__setattr__(self, "_ptax_days", sorted(self.ptax))

    def unit_fee(self, root: str, day_trade: bool) -> tuple[str, Decimal]:
        """(currency, amount) per contract and side as B3 publishes it; ("BRL", 0) for a root with no table."""
        return self._units.get((root, day_trade), ("BRL", Decimal(0)))

    def usd_brl(self, day: date | None = None) -> Decimal:
        """PTAX of ``day`` or the latest before it (``None``: the latest loaded), else the fallback rate."""
        days = self._ptax_days
        i = len(days) if day is None else bisect_right(days, day)
        return self.ptax[days[i - 1]] if i else self.usd_brl_fallback

    def exchange_fee(self, instrument: Instrument, quantity: int, price_raw: int, day_trade: bool = True,
                     day: date | None = None) -> Decimal:
        """B3 fee in BRL for ``quantity`` lots, not rounded (a fill may be split between rates)."""
        if instrument.asset_class is AssetClass.STOCK:
            bps = self.stock_day_trade_bps if day_trade else self.stock_swing_bps
            return instrument.brl(price_raw * quantity) * bps / Decimal(10_000)
        currency, unit = self.unit_fee(instrument.root, day_trade)
        if currency == "USD":
            unit *= self.usd_brl(day)
        return unit * quantity

    @property
    def brokerage(self) -> Decimal:
        """Brokerage per fill with its taxes."""
        return self.brokerage_per_fill * (1 + self.brokerage_tax_rate)

    def fee(self, instrument: Instrument, quantity: int, price_raw: int, day_trade: bool = True,
            day: date | None = None) -> Decimal:
        """Fee in BRL for one fill, rounded to centavos."""
        return cents(self.exchange_fee(instrument, quantity, price_raw, day_trade, day) + self.brokerage)
