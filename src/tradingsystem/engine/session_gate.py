"""Trading phases per instrument class and day, computed once per day and cached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from tradingsystem.domain.instruments import AssetClass
from tradingsystem.domain.sessions import B3_TZ, Phase, hours_for, local_ns

DAY_NS = 86_400 * 1_000_000_000
OFFSET_NS = 3 * 3600 * 1_000_000_000  # B3 is UTC-3 all year
_P_CLOSED = Phase.CLOSED


def day_number(ts: int) -> int:
    """B3 local day number (days since 1970-01-01 BRT) of a UTC-ns instant."""
    return (ts - OFFSET_NS) // DAY_NS


def day_of(ts: int) -> date:
    return (datetime(1970, 1, 1, tzinfo=B3_TZ) + timedelta(days=day_number(ts))).date()


class SessionGate:
    """Trading phase of an asset class at a UTC-ns time, cached per local day."""

    def __init__(self, is_session: Callable[[date], bool] | None = None) -> None:
        self._is_session = is_session
        self._days: dict[tuple[str, int], tuple[tuple[int, Phase], ...]] = {}

    def phase(self, asset_class: AssetClass, ts: int, key_name: str = "") -> Phase:
        """``key_name`` (e.g. the symbol) keys the cache; Enum hashing is slow on the hot path."""
        day = (ts - OFFSET_NS) // DAY_NS
        key = (key_name or asset_class.value, day)
        bounds = self._days.get(key)
        if bounds is None:
            if len(self._days) > 1000:
                self._days.clear()
            bounds = self._days[key] = self._bounds(asset_class, day)
        phase = _P_CLOSED
        for start, p in bounds:
            if ts >= start:
                phase = p
            else:
                break
        return phase

    def _bounds(self, asset_class: AssetClass, day: int) -> tuple[tuple[int, Phase], ...]:
        d = (datetime(1970, 1, 1, tzinfo=B3_TZ) + timedelta(days=day)).date()
        if self._is_session is not None and not self._is_session(d):
            return ()
        h = hours_for(asset_class, d)
        out: list[tuple[int, Phase]] = []
        if h.cancel_only:
            out.append((local_ns(d, h.cancel_only), Phase.CANCEL_ONLY))
        out.append((local_ns(d, h.opening_call), Phase.OPENING_CALL))
        out.append((local_ns(d, h.continuous), Phase.CONTINUOUS))
        if h.closing_call:
            out.append((local_ns(d, h.closing_call), Phase.CLOSING_CALL))
        out.append((local_ns(d, h.close), Phase.CLOSED))
        return tuple(out)

    def continuous_window(self, asset_class: AssetClass, ts: int, key_name: str = "") -> tuple[int, int] | None:
        """[start, end) of the continuous phase ``ts`` falls in, or None when ``ts`` is in another phase."""
        if self.phase(asset_class, ts, key_name) is not Phase.CONTINUOUS:
            return None
        bounds = self._days[(key_name or asset_class.value, (ts - OFFSET_NS) // DAY_NS)]
        for i, (start, p) in enumerate(bounds):
            if p is Phase.CONTINUOUS and i + 1 < len(bounds):
                return start, bounds[i + 1][0]
        return None

    def continuous_end(self, asset_class: AssetClass, ts: int, key_name: str = "") -> int | None:
        """When the continuous phase of ``ts``'s day ends (closing call or close), or None if no session."""
        self.phase(asset_class, ts, key_name)
        bounds = self._days.get((key_name or asset_class.value, (ts - OFFSET_NS) // DAY_NS), ())
        seen = False
        for start, p in bounds:
            if seen:
                return start
            seen = p is Phase.CONTINUOUS
        return None
