"""B3 contract rules: futures specs, month codes, expiry dates and generic-name resolution.

Session days come from a predicate ``is_session(date) -> bool`` so the rules stay pure; the
runtime passes one backed by exchange-calendars ``BVMF``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tradingsystem.domain.errors import UnknownInstrument
from tradingsystem.domain.instruments import AssetClass, Instrument

IsSession = Callable[[date], bool]

MONTH_CODES = "FGHJKMNQUVXZ"
"""F Jan, G Feb, H Mar, J Apr, K May, M Jun, N Jul, Q Aug, U Sep, V Oct, X Nov, Z Dec."""


@dataclass(frozen=True, slots=True)
class FutureSpec:
    """Contract rules for one futures root."""

    root: str
    asset_class: AssetClass
    scale: int
    tick: int
    lot: int
    brl_per_point: Decimal
    months: str

    @property
    def brl_per_raw(self) -> Decimal:
        return self.brl_per_point.scaleb(-self.scale)


FUTURES: dict[str, FutureSpec] = {
    "WIN": FutureSpec("WIN", AssetClass.INDEX_FUTURE, 0, 5, 1, Decimal("0.20"), "GJMQVZ"),
    "IND": FutureSpec("IND", AssetClass.INDEX_FUTURE, 0, 5, 5, Decimal("1.00"), "GJMQVZ"),
    "WDO": FutureSpec("WDO", AssetClass.FX_FUTURE, 1, 5, 1, Decimal("10.00"), MONTH_CODES),
    "DOL": FutureSpec("DOL", AssetClass.FX_FUTURE, 1, 5, 5, Decimal("50.00"), MONTH_CODES),
}

_FUTURE_RE = re.compile(r"^(WIN|IND|WDO|DOL)([FGHJKMNQUVXZ])(\d{2})$")
_GENERIC_RE = re.compile(r"^(WIN|IND|WDO|DOL)FUT$")
_STOCK_RE = re.compile(r"^[A-Z][A-Z0-9]{3}(3|4|5|6|11)(F)?$")


def next_session(d: date, is_session: IsSession) -> date:
    """The first session day on or after ``d``."""
    while not is_session(d):
        d += timedelta(days=1)
    return d


def previous_session(d: date, is_session: IsSession) -> date:
    """The last session day strictly before ``d``."""
    d -= timedelta(days=1)
    while not is_session(d):
        d -= timedelta(days=1)
    return d


def expiry(root: str, year: int, month: int, is_session: IsSession) -> date:
    """Expiry (vencimento) date of a contract.

    WIN/IND: the Wednesday nearest the 15th of the month (the next session if that day has none).
    WDO/DOL: the first business day of the contract month.
    """
    if root in ("WIN", "IND"):
        fifteenth = date(year, month, 15)
        offset = (2 - fifteenth.weekday() + 3) % 7 - 3  # nearest Wednesday, in [-3, 3]
        return next_session(fifteenth + timedelta(days=offset), is_session)
    if root in ("WDO", "DOL"):
        return next_session(date(year, month, 1), is_session)
    raise UnknownInstrument(f"no expiry rule for root {root!r}")


def last_trading_day(root: str, year: int, month: int, is_session: IsSession) -> date:
    """WIN/IND trade until expiry day; WDO/DOL until the session before expiry."""
    day = expiry(root, year, month, is_session)
    if root in ("WDO", "DOL"):
        return previous_session(day, is_session)
    return day


def future_code(root: str, year: int, month: int) -> str:
    return f"{root}{MONTH_CODES[month - 1]}{year % 100:02d}"


def parse_future(symbol: str) -> tuple[str, int, int] | None:
    """``WINZ26`` -> (``WIN``, 2026, 12); None if not a futures code."""
    m = _FUTURE_RE.match(symbol)
    if not m:
        return None
    root, letter, yy = m.groups()
    if letter not in FUTURES[root].months:
        return None
    return root, 2000 + int(yy), MONTH_CODES.index(letter) + 1


def future(symbol: str, is_session: IsSession) -> Instrument:
    """The Instrument for a dated futures code such as ``WDOF27``."""
    parsed = parse_future(symbol)
    if parsed is None:
        raise UnknownInstrument(f"{symbol!r} is not a listed futures contract code")
    root, year, month = parsed
    spec = FUTURES[root]
    return Instrument(
        symbol=symbol,
        root=root,
        asset_class=spec.asset_class,
        scale=spec.scale,
        tick=spec.tick,
        lot=spec.lot,
        brl_per_raw=spec.brl_per_raw,
        expiry=expiry(root, year, month, is_session),
        last_trading_day=last_trading_day(root, year, month, is_session),
    )


def current_contract(root: str, today: date, is_session: IsSession, roll_sessions: int = 0) -> str:
    """Code of the front contract on ``today``, rolling ``roll_sessions`` sessions before expiry."""
    if root not in FUTURES:
        raise UnknownInstrument(f"unknown futures root {root!r}")
    spec = FUTURES[root]
    year, month = today.year, today.month
    for _ in range(30):
        if MONTH_CODES[month - 1] in spec.months:
            last = last_trading_day(root, year, month, is_session)
            roll_day = last
            for _ in range(roll_sessions):
                roll_day = previous_session(roll_day, is_session)
            if today < roll_day or (roll_sessions == 0 and today <= last):
                return future_code(root, year, month)
        month += 1
        if month == 13:
            year, month = year + 1, 1
    raise UnknownInstrument(f"no contract found for {root} on {today}")  # pragma: no cover


def resolve_generic(symbol: str, today: date, is_session: IsSession, roll_sessions: int = 0) -> str:
    """``WINFUT`` -> the current contract code; other symbols unchanged."""
    m = _GENERIC_RE.match(symbol)
    if not m:
        return symbol
    return current_contract(m.group(1), today, is_session, roll_sessions)


def asset_class_of(symbol: str) -> AssetClass:
    """Asset class of a dated or generic futures code (``WINZ26``, ``WINFUT``); anything else is a stock."""
    m = _GENERIC_RE.match(symbol)
    root = m.group(1) if m else (parse_future(symbol) or ("",))[0]
    return FUTURES[root].asset_class if root in FUTURES else AssetClass.STOCK


def stock(symbol: str) -> Instrument:
    """An equity: lot 100 in the round book, lot 1 in the fractional ``F`` book, tick R$0.01."""
    if not _STOCK_RE.match(symbol):
        raise UnknownInstrument(f"{symbol!r} is not a B3 stock code (e.g. PETR4, VALE3, PETR4F)")
    fractional = symbol.endswith("F")
    return Instrument(
        symbol=symbol,
        root=symbol[:4],
        asset_class=AssetClass.STOCK,
        scale=2,
        tick=1,
        lot=1 if fractional else 100,
        brl_per_raw=Decimal("0.01"),
        fractional_of=symbol[:-1] if fractional else None,
    )


def instrument(symbol: str, is_session: IsSession) -> Instrument:
    """Any supported symbol: a dated future or a stock."""
    if parse_future(symbol):
        return future(symbol, is_session)
    return stock(symbol)
