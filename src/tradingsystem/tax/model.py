"""Tax records: fills as the tax report sees them, market classes, loss buckets, and realised results.

Money is Decimal. The ledger and the monthly computation run in the ``MONEY`` context (50
significant digits), so average costs and fee shares carry no practical rounding; amounts are
rounded to centavos only where a rule rounds (see ``tax.monthly``).
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from tradingsystem.domain import b3
from tradingsystem.domain.errors import InvalidRequest

__all__ = [
    "DEFAULT_CLASSES",
    "MONEY",
    "Bucket",
    "ClassificationError",
    "MarketClass",
    "Realisation",
    "Side",
    "TaxFill",
    "asset_key",
    "bucket_for",
    "classify",
    "multiplier",
]

MONEY = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)
"""Context for intermediate money arithmetic: 50 digits, far beyond any centavo effect."""


class ClassificationError(InvalidRequest):
    """A symbol's market class cannot be told from its code; add it to the classification map."""


class Side(str, Enum):
    BUY = "buy"
    SELL = "sell"


class MarketClass(str, Enum):
    """Market class for tax purposes."""

    STOCK = "stock"  # spot shares and units (e.g. SANB11): the only class with the R$20,000 exemption
    ETF = "etf"
    FII = "fii"  # real-estate funds and Fiagro: their own 20% rate and loss bucket
    OPTION = "option"
    FUTURE = "future"


class Bucket(str, Enum):
    """Loss buckets (IN RFB 1585/2015 art. 64): losses offset gains only within a bucket."""

    DAY_TRADE = "day_trade"
    COMMON = "common"
    FII = "fii"


@dataclass(frozen=True, slots=True)
class TaxFill:
    """One execution as the tax report needs it.

    ``day`` is the trade date (pregão). ``ts`` and ``seq`` order fills within a day (any
    increasing key: UTC ns, or the line number of an imported file). ``price`` is the quoted price
    (points for futures, BRL per share otherwise). Costs: ``brokerage``, ``b3_fees`` (emolumentos and
    registration), ``iss`` (tax on brokerage) and ``other_fees`` (an undivided total, e.g. a CSV's
    ``fees`` column) all add to the cost of a buy and reduce the proceeds of a sale.
    ``fill_id`` names the source (``file.csv:12``, a database id) so every figure can be traced back.
    """

    day: date
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    broker: str
    account: str = ""
    brokerage: Decimal = Decimal(0)
    b3_fees: Decimal = Decimal(0)
    iss: Decimal = Decimal(0)
    other_fees: Decimal = Decimal(0)
    ts: int = 0
    seq: int = 0
    fill_id: str = ""
    market_class: MarketClass | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidRequest(f"{self.fill_id or self.symbol}: quantity must be positive, got {self.quantity}")
        if not self.price.is_finite() or self.price < 0:
            raise InvalidRequest(f"{self.fill_id or self.symbol}: price must be a non-negative number")
        for name in ("brokerage", "b3_fees", "iss", "other_fees"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise InvalidRequest(f"{self.fill_id or self.symbol}: {name} must be a non-negative number")

    @property
    def fees(self) -> Decimal:
        """All costs of this fill."""
        return self.brokerage + self.b3_fees + self.iss + self.other_fees

    @property
    def sort_key(self) -> tuple[date, int, int, str]:
        return (self.day, self.ts, self.seq, self.fill_id)


@dataclass(frozen=True, slots=True)
class Realisation:
    """A realised result: one day-trade group, one swing closing, or one futures expiry.

    ``sales`` is the gross sale value involved (for the R$20,000 test and the 0.005% IRRF);
    ``result`` is proceeds net of sale costs minus cost including purchase costs, unrounded.
    ``gross`` is the result before costs (for futures, the sum of the daily ajustes).
    """

    day: date
    symbol: str
    market_class: MarketClass
    day_trade: bool
    broker: str
    quantity: int
    sales: Decimal
    cost: Decimal
    proceeds: Decimal
    result: Decimal
    gross: Decimal
    fill_ids: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def month(self) -> tuple[int, int]:
        return (self.day.year, self.day.month)

    @property
    def bucket(self) -> Bucket:
        return bucket_for(self.market_class, self.day_trade)


def bucket_for(market_class: MarketClass, day_trade: bool) -> Bucket:
    """FII apart (any operation); otherwise day trade or common."""
    if market_class is MarketClass.FII:
        return Bucket.FII
    return Bucket.DAY_TRADE if day_trade else Bucket.COMMON


DEFAULT_CLASSES: dict[str, MarketClass] = {
    **{s: MarketClass.ETF for s in (
        "BOVA11", "BOVV11", "BOVX11", "BRAX11", "DIVO11", "ECOO11", "FIND11", "GOVE11", "HASH11", "IMAB11",
        "IVVB11", "MATB11", "NASD11", "PIBB11", "SMAL11", "SMAC11", "SPXI11", "XBOV11", "XINA11", "GOLD11",
        "ACWI11", "EURP11", "BBSD11", "FIXA11", "B5P211", "IRFM11", "ETHE11", "QBTC11", "BITH11", "DEFI11",
    )},
    **{s: MarketClass.FII for s in (
        "HGLG11", "KNRI11", "MXRF11", "XPML11", "XPLG11", "VISC11", "HGRU11", "BCFF11", "KNCR11", "KNIP11",
        "HGBS11", "BTLG11", "VILG11", "IRDM11", "RECR11", "CPTS11", "HCTR11", "VGIR11", "RBRF11", "HFOF11",
        "BRCO11", "ALZR11", "TRXF11", "GGRC11", "LVBI11", "PVBI11", "HSML11", "VGHF11", "KNSC11", "RZTR11",
    )},
    **{s: MarketClass.STOCK for s in (
        "SANB11", "TAEE11", "KLBN11", "ALUP11", "BPAC11", "ENGI11", "SAPR11", "IGTI11", "RNEW11",
    )},
}
"""Known suffix-11 codes (ETF, FII, or units, which are stocks). Incomplete by nature: the user's map wins."""

_OPTION_RE = re.compile(r"^[A-Z]{4}[A-X]\d{1,4}[A-Z0-9]{0,3}$")
_SPOT_RE = re.compile(r"^[A-Z][A-Z0-9]{3}(3|4|5|6|7|8|11|12|13)F?$")


def asset_key(symbol: str) -> str:
    """The asset a fill belongs to: the fractional book (``PETR4F``) is the same asset as ``PETR4``."""
    s = symbol.strip().upper()
    if b3.parse_future(s) is None and _SPOT_RE.match(s) and s.endswith("F"):
        return s[:-1]
    return s


def classify(symbol: str, overrides: dict[str, MarketClass] | None = None) -> MarketClass:
    """Market class of a symbol: the caller's map, then futures codes, then ``DEFAULT_CLASSES``, then the code.

    Rules: ``WINZ26``-style codes are futures; suffix 3-8 are shares; an unknown suffix 11 is refused
    (it may be an ETF, a FII or a unit, which are taxed differently) unless the map says which;
    ``PETRA123``-style codes are options.
    """
    key = asset_key(symbol)
    if overrides and key in overrides:
        return overrides[key]
    if b3.parse_future(key) is not None:
        return MarketClass.FUTURE
    if key in DEFAULT_CLASSES:
        return DEFAULT_CLASSES[key]
    if _SPOT_RE.match(key):
        if key.endswith(("11", "12", "13")):
            raise ClassificationError(
                f"{key}: suffix-11 codes may be an ETF, a FII or a unit; say which in the classification map"
            )
        return MarketClass.STOCK
    if _OPTION_RE.match(key):
        return MarketClass.OPTION
    raise ClassificationError(f"{key}: unknown code; give its class (stock, etf, fii, option, future) in the map")


def multiplier(symbol: str) -> Decimal:
    """BRL per unit of price per unit of quantity: the point value for futures, 1 otherwise."""
    parsed = b3.parse_future(asset_key(symbol))
    if parsed is None:
        return Decimal(1)
    return b3.FUTURES[parsed[0]].brl_per_point
