"""Shared helpers for the simulated-market tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tradingsystem.backtest.matching import MatchingEngine, RestingOrder
from tradingsystem.domain import b3
from tradingsystem.domain.events import BookDelta, TradeTick
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.sessions import Phase


class WeekdayCalendar:
    """Weekdays trade, except the listed holidays (enough for contract rules in tests)."""

    def __init__(self, holidays: tuple[date, ...] = (date(2026, 2, 16), date(2026, 2, 17), date(2026, 4, 3))):
        self.holidays = set(holidays)

    def is_session(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays


class Recorder:
    """Collects an engine's output and rebuilds the book from its deltas."""

    def __init__(self) -> None:
        self.trades: list[TradeTick] = []
        self.deltas: list[BookDelta] = []
        self.reports: list[tuple[RestingOrder, int, int, int, int, int, int, str]] = []
        self.book: dict[tuple[int, int], int] = {}

    def on_trade(self, t: TradeTick) -> None:
        self.trades.append(t)

    def on_delta(self, d: BookDelta) -> None:
        self.deltas.append(d)
        if d.action == 1:
            self.book.pop((d.side, d.price), None)
        else:
            self.book[(d.side, d.price)] = d.size

    def on_report(self, order: RestingOrder, kind: int, ts: int, qty: int, price: int, tid: int, liq: int,
                  reason: str) -> None:
        self.reports.append((order, kind, ts, qty, price, tid, liq, reason))

    def kinds(self, order: RestingOrder) -> list[int]:
        return [r[1] for r in self.reports if r[0] is order]

    def fills(self, order: RestingOrder) -> list[tuple[int, int, int]]:
        """(qty, price, liquidity) of each fill of ``order``."""
        return [(r[3], r[4], r[6]) for r in self.reports if r[0] is order and r[1] == 4]


WIN = b3.future("WINJ26", WeekdayCalendar().is_session)
PETR4 = b3.stock("PETR4")
WDO = b3.future("WDOJ26", WeekdayCalendar().is_session)


def make_engine(inst: Instrument = WIN, phase: Phase = Phase.CONTINUOUS) -> tuple[MatchingEngine, Recorder]:
    rec = Recorder()
    eng = MatchingEngine(inst, rec.on_trade, rec.on_delta, rec.on_report, phase)
    return eng, rec


def dec(s: str) -> Decimal:
    return Decimal(s)
