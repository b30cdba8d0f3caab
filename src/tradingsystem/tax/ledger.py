"""From fills to realised results: day-trade matching and weighted-average-cost positions.

Rules (IN RFB 1585/2015, b3.md section 3):

- Day trade (art. 65): per trade date, asset and broker, the first buy is matched with the first sell,
  in order, up to the smaller of the day's bought and sold quantities. Matched quantities are the day
  trade; the rest of the day's fills are common (swing) operations on the position, so holdings from
  earlier days keep their average cost.
- Average cost: per asset across brokers, the weighted average of purchase value plus purchase costs;
  sale costs reduce the proceeds. A short position keeps the average net sale proceeds instead.
- A fill split between day trade and swing shares its costs in proportion to quantity.
- Futures: the result of a position is the sum of its daily ajustes from opening to closing, which
  telescopes to (exit - average entry) x point value x quantity, so settlement prices do not change the
  result; they are used for expiry (a position open after its last trading day closes at that day's
  settlement price), for the untaxed ajustes of positions open at a month end, and for the ajuste trail.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from tradingsystem.domain import b3
from tradingsystem.tax.model import MONEY, MarketClass, Realisation, Side, TaxFill, asset_key, classify, multiplier

__all__ = ["Ledger", "LedgerResult", "Lot", "PositionLine", "SwingSale", "daily_ajustes"]

Settlements = dict[tuple[str, date], Decimal]


@dataclass(frozen=True, slots=True)
class SwingSale:
    """Gross value of a common (non-day-trade) sale: the R$20,000 test and the 0.005% IRRF base."""

    day: date
    symbol: str
    market_class: MarketClass
    broker: str
    value: Decimal
    fill_id: str


@dataclass(frozen=True, slots=True)
class PositionLine:
    """An open position on a given day: quantity (negative = short), average price, cost with costs."""

    symbol: str
    market_class: MarketClass
    quantity: int
    average_price: Decimal
    cost: Decimal
    settlement: Decimal | None
    open_ajustes: Decimal | None
    fill_ids: tuple[str, ...]


@dataclass(slots=True)
class Lot:
    """Position state of one asset. ``cost`` is total cost with costs (long) or net proceeds (short)."""

    symbol: str
    market_class: MarketClass
    quantity: int = 0
    broker: str = ""
    cost: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)
    fill_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LedgerResult:
    realisations: list[Realisation] = field(default_factory=list)
    sales: list[SwingSale] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Part:
    """A fill or the part of it that belongs to the day trade or to the swing."""

    fill: TaxFill
    quantity: int
    fees: Decimal

    @property
    def value(self) -> Decimal:
        return MONEY.multiply(MONEY.multiply(self.fill.price, Decimal(self.quantity)), multiplier(self.fill.symbol))


def _split(part: _Part, quantity: int) -> tuple[_Part, _Part | None]:
    """The first ``quantity`` of a part and the rest (None if nothing is left); costs shared by quantity."""
    if quantity >= part.quantity:
        return part, None
    fees = MONEY.divide(MONEY.multiply(part.fees, Decimal(quantity)), Decimal(part.quantity))
    return _Part(part.fill, quantity, fees), _Part(part.fill, part.quantity - quantity, part.fees - fees)


def _take(parts: list[_Part], quantity: int) -> tuple[list[_Part], list[_Part]]:
    """Split fills in order into the first ``quantity`` and the remainder."""
    head: list[_Part] = []
    tail: list[_Part] = []
    left = quantity
    for p in parts:
        if left <= 0:
            tail.append(p)
            continue
        first, rest = _split(p, left)
        head.append(first)
        left -= first.quantity
        if rest is not None:
            tail.append(rest)
    return head, tail


def daily_ajustes(
    symbol: str, quantity: int, entry_day: date, entry_price: Decimal, exit_day: date, exit_price: Decimal,
    settlements: Settlements, is_session: Callable[[date], bool],
) -> list[tuple[date, Decimal]]:
    """B3's daily ajustes of a long (``quantity`` > 0) or short position from entry to exit.

    Opening day: (PA_t - PO) M n; carried days: (PA_t - PA_t-1) M n; closing day: (exit - PA_t-1) M n.
    Days without a settlement price are skipped (the next ajuste covers them). The sum always equals
    (exit - entry) M n.
    """
    m = multiplier(symbol)
    out: list[tuple[date, Decimal]] = []
    prev = entry_price
    day = entry_day
    while day < exit_day:
        pa = settlements.get((symbol, day))
        if pa is not None and is_session(day):
            out.append((day, (pa - prev) * m * quantity))
            prev = pa
        day += timedelta(days=1)
    out.append((exit_day, (exit_price - prev) * m * quantity))
    return out


class Ledger:
    """Turns fills into realisations, swing sales and end-of-day positions. Feed days in order."""

    def __init__(
        self,
        classes: dict[str, MarketClass] | None = None,
        settlements: Settlements | None = None,
        is_session: Callable[[date], bool] = lambda d: d.weekday() < 5,
    ) -> None:
        self.classes = classes or {}
        self.settlements = settlements or {}
        self.is_session = is_session
        self.lots: dict[str, Lot] = {}
        self.result = LedgerResult()
        self._ltd: dict[str, date] = {}

    # ---- public ----------------------------------------------------------------------------

    def run(self, fills: Iterable[TaxFill], snapshot_days: Iterable[date] = ()) -> dict[date, list[PositionLine]]:
        """Process all fills; return the open positions at the end of each snapshot day."""
        with decimal.localcontext(MONEY):
            return self._run(fills, snapshot_days)

    def _run(self, fills: Iterable[TaxFill], snapshot_days: Iterable[date]) -> dict[date, list[PositionLine]]:
        by_day: dict[date, list[TaxFill]] = defaultdict(list)
        for f in fills:
            by_day[f.day].append(f)
        snaps = sorted(set(snapshot_days))
        out: dict[date, list[PositionLine]] = {}
        for day in sorted(set(by_day) | set(snaps)):
            if day in by_day:
                self._expire(day - timedelta(days=1))
                self._process_day(sorted(by_day[day], key=lambda f: f.sort_key))
            if day in out or day not in snaps:
                continue
            self._expire(day)
            out[day] = self.positions(day)
        return out

    def process_day(self, fills: list[TaxFill]) -> None:
        """One trade date's fills, in execution order."""
        with decimal.localcontext(MONEY):
            self._process_day(fills)

    def _process_day(self, fills: list[TaxFill]) -> None:
        groups: dict[tuple[str, str], list[TaxFill]] = defaultdict(list)
        for f in fills:
            groups[(asset_key(f.symbol), f.broker)].append(f)
        swing: list[_Part] = []
        for (_asset, broker), group in groups.items():
            buys = [_Part(f, f.quantity, f.fees) for f in group if f.side is Side.BUY]
            sells = [_Part(f, f.quantity, f.fees) for f in group if f.side is Side.SELL]
            dt_qty = min(sum(p.quantity for p in buys), sum(p.quantity for p in sells))
            dt_buys, rest_buys = _take(buys, dt_qty)
            dt_sells, rest_sells = _take(sells, dt_qty)
            if dt_qty:
                self._day_trade(group[0], broker, dt_qty, dt_buys, dt_sells)
            swing.extend(rest_buys + rest_sells)
        for part in sorted(swing, key=lambda p: p.fill.sort_key):
            self._swing(part)

    def positions(self, day: date) -> list[PositionLine]:
        lines = []
        for key in sorted(self.lots):
            lot = self.lots[key]
            if lot.quantity == 0:
                continue
            qty = abs(lot.quantity)
            m = multiplier(lot.symbol)
            avg_price = MONEY.divide(lot.gross, Decimal(qty) * m)
            settle = self._last_settlement(lot.symbol, day) if lot.market_class is MarketClass.FUTURE else None
            ajustes = None if settle is None else (settle - avg_price) * m * lot.quantity
            lines.append(PositionLine(lot.symbol, lot.market_class, lot.quantity, avg_price, lot.cost, settle,
                                      ajustes, tuple(lot.fill_ids)))
        return lines

    # ---- internals ------------------------------------------------------------------------

    def _class(self, symbol: str) -> MarketClass:
        return classify(symbol, self.classes)

    def _day_trade(self, first: TaxFill, broker: str, qty: int, buys: list[_Part], sells: list[_Part]) -> None:
        cls = first.market_class or self._class(first.symbol)
        buy_value = sum((p.value for p in buys), Decimal(0))
        sell_value = sum((p.value for p in sells), Decimal(0))
        cost = buy_value + sum((p.fees for p in buys), Decimal(0))
        proceeds = sell_value - sum((p.fees for p in sells), Decimal(0))
        ids = tuple(dict.fromkeys(p.fill.fill_id for p in sorted(buys + sells, key=lambda p: p.fill.sort_key)))
        self.result.realisations.append(Realisation(
            day=first.day, symbol=asset_key(first.symbol), market_class=cls, day_trade=True, broker=broker,
            quantity=qty, sales=sell_value, cost=cost, proceeds=proceeds, result=proceeds - cost,
            gross=sell_value - buy_value, fill_ids=ids, note="day trade: first buy matched with first sell"))

    def _lot(self, fill: TaxFill) -> Lot:
        key = asset_key(fill.symbol)
        lot = self.lots.get(key)
        if lot is None:
            lot = Lot(key, fill.market_class or self._class(fill.symbol))
            self.lots[key] = lot
        return lot

    def _swing(self, part: _Part) -> None:
        fill = part.fill
        lot = self._lot(fill)
        sign = 1 if fill.side is Side.BUY else -1
        if fill.side is Side.SELL and lot.market_class is not MarketClass.FUTURE:
            self.result.sales.append(SwingSale(fill.day, lot.symbol, lot.market_class, fill.broker, part.value,
                                               fill.fill_id))
        if lot.quantity == 0 or (lot.quantity > 0) == (sign > 0):
            self._open(lot, part, sign)
            return
        close_qty = min(part.quantity, abs(lot.quantity))
        closing, rest = _split(part, close_qty)
        self._close(lot, closing, fill.broker, fill.fill_id, "")
        if rest is not None:
            self._open(lot, rest, sign)

    def _open(self, lot: Lot, part: _Part, sign: int) -> None:
        if lot.quantity == 0:
            lot.fill_ids = []
        lot.quantity += sign * part.quantity
        lot.cost += part.value + part.fees if sign > 0 else part.value - part.fees
        lot.gross += part.value
        lot.fill_ids.append(part.fill.fill_id)
        lot.broker = part.fill.broker
        if lot.market_class is MarketClass.FUTURE and lot.symbol not in self._ltd:
            known = b3.parse_future(lot.symbol) is not None
            ltd = b3.future(lot.symbol, self.is_session).last_trading_day if known else None
            self._ltd[lot.symbol] = ltd or date.max

    def _close(self, lot: Lot, part: _Part, broker: str, fill_id: str, note: str) -> None:
        held = abs(lot.quantity)
        if part.quantity == held:
            basis, gross_basis = lot.cost, lot.gross
        else:
            basis = MONEY.divide(MONEY.multiply(lot.cost, Decimal(part.quantity)), Decimal(held))
            gross_basis = MONEY.divide(MONEY.multiply(lot.gross, Decimal(part.quantity)), Decimal(held))
        long = lot.quantity > 0
        if long:  # a sale closes a long: proceeds net of sale costs minus average cost
            cost, proceeds, sales = basis, part.value - part.fees, part.value
            gross = part.value - gross_basis
        else:  # a purchase covers a short: average net sale proceeds minus purchase cost
            cost, proceeds, sales = part.value + part.fees, basis, Decimal(0)
            gross = gross_basis - part.value
        ids = (*lot.fill_ids, fill_id) if fill_id else tuple(lot.fill_ids)
        self.result.realisations.append(Realisation(
            day=part.fill.day, symbol=lot.symbol, market_class=lot.market_class, day_trade=False, broker=broker,
            quantity=part.quantity, sales=sales, cost=cost, proceeds=proceeds, result=proceeds - cost, gross=gross,
            fill_ids=tuple(dict.fromkeys(ids)), note=note or ("closes a long" if long else "covers a short")))
        lot.quantity += -part.quantity if long else part.quantity
        lot.cost -= basis
        lot.gross -= gross_basis
        if lot.quantity == 0:
            lot.cost = lot.gross = Decimal(0)

    def _expire(self, up_to: date) -> None:
        """Close futures positions whose last trading day is on or before ``up_to`` at its settlement price."""
        for lot in self.lots.values():
            if lot.quantity == 0 or lot.market_class is not MarketClass.FUTURE:
                continue
            ltd = self._ltd.get(lot.symbol, date.max)
            if ltd > up_to:
                continue
            price = self.settlements.get((lot.symbol, ltd))
            if price is None:
                msg = f"{lot.symbol}: open after its last trading day {ltd}, no settlement price given; left open"
                if msg not in self.result.warnings:
                    self.result.warnings.append(msg)
                continue
            side = Side.SELL if lot.quantity > 0 else Side.BUY
            fill = TaxFill(day=ltd, symbol=lot.symbol, side=side, quantity=abs(lot.quantity), price=price,
                           broker="", fill_id=f"expiry:{lot.symbol}:{ltd}", market_class=MarketClass.FUTURE)
            self._close(lot, _Part(fill, fill.quantity, Decimal(0)), lot.broker, fill.fill_id,
                        f"expiry at the settlement price of {ltd}")

    def _last_settlement(self, symbol: str, day: date) -> Decimal | None:
        for back in range(10):
            price = self.settlements.get((symbol, day - timedelta(days=back)))
            if price is not None:
                return price
        return None
