"""B3 costs per fill, shared by the event-driven venue and the vectorised mode (same conventions).

``mode``: ``day_trade`` charges every fill at day-trade rates (the portfolio's default), ``swing`` at
swing rates, ``auto`` charges the part of a fill that closes a position opened in the same session at
the day-trade rate and the rest at the swing rate (the opening leg of a day trade pays swing: conservative).
Brokerage (flat per fill plus its tax rate) is added once per fill.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import AssetClass, Instrument, cents
from tradingsystem.engine.session_gate import day_number

__all__ = ["FeeMode", "FeeModel"]

FeeMode = Literal["day_trade", "swing", "auto"]
_EPOCH = date(1970, 1, 1)


class FeeModel:
    """Fee in BRL (to the centavo) for each fill, in the order fills happen."""

    def __init__(self, fees: FeeSchedule, mode: FeeMode = "day_trade") -> None:
        self.fees = fees
        self.mode = mode
        self._brokerage = fees.brokerage
        self._today: dict[str, tuple[int, int, int]] = {}  # symbol -> (day, bought, sold)
        self._pos: dict[str, int] = {}
        self._cache: dict[tuple[str, int, bool, int], Decimal] = {}

    def fee(self, inst: Instrument, side: int, qty: int, price: int, ts: int) -> Decimal:
        """``side`` 1 buy, 2 (or -1) sell."""
        day = day_number(ts)
        if self.mode != "auto":
            return cents(self._exchange(inst, qty, price, self.mode == "day_trade", day) + self._brokerage)
        sign = 1 if side == 1 else -1
        prev_day, bought, sold = self._today.get(inst.symbol, (day, 0, 0))
        if prev_day != day:
            bought = sold = 0
        pos = self._pos.get(inst.symbol, 0)
        opened_today = (sold - bought) if sign > 0 else (bought - sold)
        closing = min(qty, max(0, opened_today), abs(pos) if pos * sign < 0 else 0)
        if sign > 0:
            bought += qty
        else:
            sold += qty
        self._today[inst.symbol] = (day, bought, sold)
        self._pos[inst.symbol] = pos + sign * qty
        total = self._brokerage
        if closing:
            total += self._exchange(inst, closing, price, True, day)
        if qty - closing:
            total += self._exchange(inst, qty - closing, price, False, day)
        return cents(total)

    def _exchange(self, inst: Instrument, qty: int, price: int, day_trade: bool, day: int) -> Decimal:
        """``day``: local days since the epoch (USD fees convert at that day's PTAX)."""
        if inst.asset_class is AssetClass.STOCK:
            return self.fees.exchange_fee(inst, qty, price, day_trade)
        key = (inst.root, qty, day_trade, day)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            hit = self._cache[key] = self.fees.exchange_fee(inst, qty, price, day_trade, _EPOCH + timedelta(day))
        return hit
