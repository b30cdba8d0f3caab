"""B3 trading hours per asset class, with the stock session's US-DST regime.

Times are B3 local (America/Sao_Paulo, UTC-3, no DST since 2019). Holidays are not here: a
session calendar (exchange-calendars ``BVMF``) says which days trade; this table says when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import IntEnum
from zoneinfo import ZoneInfo

from tradingsystem.domain.instruments import AssetClass

B3_TZ = timezone(timedelta(hours=-3), "BRT")
_NY = ZoneInfo("America/New_York")


class Phase(IntEnum):
    CLOSED = 0
    CANCEL_ONLY = 1
    OPENING_CALL = 2
    CONTINUOUS = 3
    CLOSING_CALL = 4


@dataclass(frozen=True, slots=True)
class SessionHours:
    """One day's schedule: each phase starts at its time and runs until the next."""

    cancel_only: time | None
    opening_call: time
    continuous: time
    closing_call: time | None
    close: time

    def phase(self, t: time) -> Phase:
        if t >= self.close:
            return Phase.CLOSED
        if self.closing_call and t >= self.closing_call:
            return Phase.CLOSING_CALL
        if t >= self.continuous:
            return Phase.CONTINUOUS
        if t >= self.opening_call:
            return Phase.OPENING_CALL
        if self.cancel_only and t >= self.cancel_only:
            return Phase.CANCEL_ONLY
        return Phase.CLOSED


INDEX_FUTURES = SessionHours(None, time(8, 55), time(9, 0), time(18, 25), time(18, 30))
FX_FUTURES = SessionHours(None, time(8, 55), time(9, 0), None, time(18, 30))
STOCKS_US_STANDARD = SessionHours(time(9, 30), time(9, 45), time(10, 0), time(17, 55), time(18, 0))
STOCKS_US_DST = SessionHours(time(9, 30), time(9, 45), time(10, 0), time(16, 55), time(17, 0))


def us_dst(d: date) -> bool:
    """True when New York is on daylight saving time on ``d`` (B3 stock hours shift then)."""
    offset = datetime(d.year, d.month, d.day, 12, tzinfo=_NY).dst()
    return bool(offset)


def hours_for(asset_class: AssetClass, d: date) -> SessionHours:
    if asset_class is AssetClass.INDEX_FUTURE:
        return INDEX_FUTURES
    if asset_class is AssetClass.FX_FUTURE:
        return FX_FUTURES
    return STOCKS_US_DST if us_dst(d) else STOCKS_US_STANDARD


def phase_at(asset_class: AssetClass, ts_ns: int) -> Phase:
    """Trading phase of an asset class at a UTC-ns instant (holidays not considered)."""
    local = datetime.fromtimestamp(ts_ns / 1e9, tz=B3_TZ)
    return hours_for(asset_class, local.date()).phase(local.time())


def local_ns(d: date, t: time) -> int:
    """UTC nanoseconds of a B3 local date and time."""
    return int(datetime.combine(d, t, tzinfo=B3_TZ).timestamp()) * 1_000_000_000
