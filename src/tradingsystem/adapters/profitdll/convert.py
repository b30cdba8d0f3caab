"""Conversions at the edge: DLL doubles to raw grid prices, B3 local times to UTC nanoseconds."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.sessions import B3_TZ

__all__ = ["LocalTime", "dll_date", "price_to_raw", "raw_to_float"]

_NS = 1_000_000_000


class LocalTime:
    """B3 local (UTC-3, no DST) wall-clock parts to UTC ns, with a per-day cache."""

    __slots__ = ("_days",)

    def __init__(self) -> None:
        self._days: dict[tuple[int, int, int], int] = {}

    def day_ns(self, y: int, m: int, d: int) -> int:
        key = (y, m, d)
        ns = self._days.get(key)
        if ns is None:
            ns = int(datetime(y, m, d, tzinfo=B3_TZ).timestamp()) * _NS
            self._days[key] = ns
        return ns

    def to_ns(self, y: int, m: int, d: int, h: int, mi: int, s: int, ms: int) -> int:
        if y == 0:
            return 0
        return self.day_ns(y, m, d) + ((h * 60 + mi) * 60 + s) * _NS + ms * 1_000_000


def dll_date(ts_ns: int, offset_s: int = 0) -> str:
    """UTC ns to the DLL's 'DD/MM/YYYY HH:mm:SS' in B3 local time, shifted by ``offset_s``."""
    t = datetime.fromtimestamp(ts_ns // _NS, tz=B3_TZ) + timedelta(seconds=offset_s)
    return t.strftime("%d/%m/%Y %H:%M:%S")


def price_to_raw(instrument: Instrument, price: float) -> int | None:
    """A DLL double to raw units on the grid (nearest tick); None for NaN, infinities and <= 0."""
    if not math.isfinite(price) or price <= 0:
        return None
    raw = round(price * 10**instrument.scale)
    if raw % instrument.tick:
        raw = instrument.round_to_tick(raw)
    return raw if raw > 0 else None


def raw_to_float(instrument: Instrument, raw: int) -> float:
    """Raw units to the double the DLL expects (exact decimal first, then one rounding)."""
    return float(instrument.to_price(raw))


def today_b3() -> date:  # pragma: no cover - wall clock, used only to resolve generic names live
    return datetime.now(tz=B3_TZ).date()
