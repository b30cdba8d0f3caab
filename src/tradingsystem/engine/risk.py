"""Pre-trade risk: order validation against B3 rules and first limits (order size, position).

Every order passes :meth:`RiskEngine.check` before any execution client sees it. A denial names
the rule, the value and the limit. The full risk engine (loss limits, kill switch, breakers) builds
on this one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.instruments import AssetClass, Instrument
from tradingsystem.domain.orders import Order, OrderType
from tradingsystem.domain.sessions import B3_TZ, Phase, hours_for, local_ns

_P_CANCEL_ONLY = Phase.CANCEL_ONLY
_P_CLOSED = Phase.CLOSED
_P_CLOSING_CALL = Phase.CLOSING_CALL
_P_CONTINUOUS = Phase.CONTINUOUS
_P_OPENING_CALL = Phase.OPENING_CALL
_T_LIMIT = OrderType.LIMIT
_T_STOP_LIMIT = OrderType.STOP_LIMIT
_T_STOP_MARKET = OrderType.STOP_MARKET

_DAY_NS = 86_400 * 1_000_000_000
_OFFSET_NS = 3 * 3600 * 1_000_000_000  # B3 is UTC-3 all year


class RiskConfig(BaseModel):
    """Limits applied to every order. Per-symbol overrides win over the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_order_qty: int = Field(default=100, gt=0)
    max_position: int = Field(default=200, gt=0)
    max_order_qty_by_symbol: dict[str, int] = Field(default_factory=dict)
    max_position_by_symbol: dict[str, int] = Field(default_factory=dict)
    check_session: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    """One audited risk decision."""

    order_id: str
    rule: str
    value: str
    limit: str
    passed: bool
    ts: int


class SessionGate:
    """Trading phase of an asset class at a UTC-ns time, cached per local day."""

    def __init__(self, is_session: Callable[[date], bool] | None = None) -> None:
        self._is_session = is_session
        self._days: dict[tuple[str, int], tuple[tuple[int, Phase], ...]] = {}

    def phase(self, asset_class: AssetClass, ts: int, key_name: str = "") -> Phase:
        """``key_name`` (e.g. the symbol) keys the cache; Enum hashing is slow on the hot path."""
        day = (ts - _OFFSET_NS) // _DAY_NS
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
            out.append((local_ns(d, h.cancel_only), _P_CANCEL_ONLY))
        out.append((local_ns(d, h.opening_call), _P_OPENING_CALL))
        out.append((local_ns(d, h.continuous), _P_CONTINUOUS))
        if h.closing_call:
            out.append((local_ns(d, h.closing_call), _P_CLOSING_CALL))
        out.append((local_ns(d, h.close), _P_CLOSED))
        return tuple(out)


class RiskEngine:
    """Validates and limits orders. ``position_of`` and ``open_exposure`` come from the portfolio."""

    def __init__(
        self,
        config: RiskConfig,
        instruments: dict[str, Instrument],
        position_of: Callable[[str], int],
        pending_of: Callable[[str, int], int],
        is_session: Callable[[date], bool] | None = None,
        audit_size: int = 10_000,
    ) -> None:
        self.config = config
        self._instruments = instruments
        self._position_of = position_of
        self._pending_of = pending_of
        self._gate = SessionGate(is_session)
        epoch = datetime(1970, 1, 1, tzinfo=B3_TZ).date()
        self._last_day = {
            sym: (inst.last_trading_day - epoch).days
            for sym, inst in instruments.items() if inst.last_trading_day is not None
        }
        self.denials = 0
        self.checks = 0
        self.audit: deque[Decision] = deque(maxlen=audit_size)

    def check(self, order: Order, ts: int) -> str | None:
        """Return None if the order may go out, else the reason it is denied."""
        self.checks += 1
        reason = self._reason(order, ts)
        if reason is not None:
            self.denials += 1
        return reason

    def _deny(self, order: Order, ts: int, rule: str, value: object, limit: object, text: str) -> str:
        self.audit.append(Decision(order.order_id, rule, str(value), str(limit), False, ts))
        return text

    def _reason(self, order: Order, ts: int) -> str | None:
        inst = self._instruments.get(order.symbol)
        if inst is None:
            return self._deny(order, ts, "instrument", order.symbol, "known", f"unknown instrument {order.symbol!r}")
        qty = order.quantity
        if qty <= 0 or qty % inst.lot:
            return self._deny(order, ts, "lot", qty, inst.lot,
                              f"{order.symbol}: quantity {qty} is not a positive multiple of lot {inst.lot}")
        otype = order.order_type
        if otype in (_T_LIMIT, _T_STOP_LIMIT) and not inst.on_grid(order.price):
            return self._deny(order, ts, "tick", order.price, inst.tick,
                              f"{order.symbol}: limit price {inst.to_price(order.price)} is off the "
                              f"{inst.tick_size} tick grid")
        if otype in (_T_STOP_MARKET, _T_STOP_LIMIT) and not inst.on_grid(order.trigger_price):
            return self._deny(order, ts, "tick", order.trigger_price, inst.tick,
                              f"{order.symbol}: trigger price {inst.to_price(order.trigger_price)} is off "
                              f"the {inst.tick_size} tick grid")
        cfg = self.config
        if cfg.check_session:
            last_day = self._last_day.get(order.symbol)
            if last_day is not None and (ts - _OFFSET_NS) // _DAY_NS > last_day:
                today = (datetime(1970, 1, 1, tzinfo=B3_TZ) + timedelta(days=(ts - _OFFSET_NS) // _DAY_NS)).date()
                if True:
                    return self._deny(order, ts, "expiry", today, inst.last_trading_day,
                                      f"{order.symbol}: contract closed (last trading day "
                                      f"{inst.last_trading_day})")
            phase = self._gate.phase(inst.asset_class, ts, order.symbol)
            if phase is _P_CLOSED or phase is _P_CANCEL_ONLY:
                return self._deny(order, ts, "session", phase.name, "open",
                                  f"{order.symbol}: market is {phase.name.lower()}; orders are not accepted")
            if phase is not _P_CONTINUOUS and otype in (_T_STOP_MARKET, _T_STOP_LIMIT):
                return self._deny(order, ts, "session", phase.name, "CONTINUOUS",
                                  f"{order.symbol}: stop orders are not accepted during {phase.name.lower()}")
        max_qty = cfg.max_order_qty_by_symbol.get(order.symbol, cfg.max_order_qty)
        if qty > max_qty:
            return self._deny(order, ts, "max_order_qty", qty, max_qty,
                              f"{order.symbol}: order quantity {qty} exceeds the limit {max_qty}")
        max_pos = cfg.max_position_by_symbol.get(order.symbol, cfg.max_position)
        sign = (1 if order.side == 1 else -1)
        worst = self._position_of(order.symbol) + self._pending_of(order.symbol, sign) + sign * qty
        if abs(worst) > max_pos:
            return self._deny(order, ts, "max_position", worst, max_pos,
                              f"{order.symbol}: position would reach {worst}, beyond the limit ±{max_pos}")
        return None
