"""Pre-trade risk: every order, manual ones included, passes :meth:`RiskEngine.check`.

Rules: B3 validity (instrument, lot, tick grid, contract expiry, session and auction windows),
max order quantity, max position per instrument, max gross exposure in BRL, max working orders,
order-rate throttle, price band against the last trade, and the trading state (ACTIVE, REDUCING:
only orders that reduce exposure, HALTED: nothing). Every decision is audited.
The P&L limits (daily loss, intraday drawdown), the kill switch and the circuit breakers live in
:mod:`tradingsystem.engine.guard` and drive the trading state here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order, OrderType
from tradingsystem.domain.sessions import Phase
from tradingsystem.engine.session_gate import DAY_NS, OFFSET_NS, SessionGate, day_of

_T_LIMIT = OrderType.LIMIT
_T_MARKET = OrderType.MARKET
_T_STOP_LIMIT = OrderType.STOP_LIMIT
_T_STOP_MARKET = OrderType.STOP_MARKET
_P_CANCEL_ONLY = Phase.CANCEL_ONLY
_P_CLOSED = Phase.CLOSED
_P_CONTINUOUS = Phase.CONTINUOUS


SANITY_BAND = Fraction(1, 5)
"""Always on, whatever ``price_band_pct`` says: a limit or trigger price more than 20% from the last trade is a
fat finger (B3's own tunnels are narrower)."""
MAX_NOTIONAL_BRL = Decimal(10) ** 10
"""Always on: no single order is worth more than R$ 10 billion (beyond it a price or quantity is a typo, and
the exact BRL arithmetic downstream is not made for it)."""


class TradingState(str, Enum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


_ACTIVE, _REDUCING, _HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class RiskConfig(BaseModel):
    """Limits applied to every order. Per-symbol overrides win over the defaults; 0 disables a limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_order_qty: int = Field(default=100, gt=0)
    max_position: int = Field(default=200, gt=0)
    max_order_qty_by_symbol: dict[str, int] = Field(default_factory=dict)
    max_position_by_symbol: dict[str, int] = Field(default_factory=dict)
    max_gross_exposure_brl: Decimal = Field(default=Decimal(0), ge=0)
    max_working_orders: int = Field(default=0, ge=0)
    max_orders_per_second: int = Field(default=0, ge=0)
    price_band_pct: Decimal = Field(default=Decimal(0), ge=0, le=100)
    check_session: bool = True
    daily_loss_limit_brl: Decimal = Field(default=Decimal(0), ge=0)
    max_drawdown_brl: Decimal = Field(default=Decimal(0), ge=0)
    breach_action: TradingState = TradingState.HALTED
    flatten_on_kill: bool = False
    flatten_before_close_minutes: int = Field(default=0, ge=0)
    """Flatten each instrument this many minutes before its continuous session ends, then only reduce."""
    quantity_in_lots: bool = False
    """``max_order_qty`` and ``max_position`` count lots (100 shares of a stock, 1 futures contract) rather
    than units; per-symbol overrides always count units."""


class Decision(NamedTuple):
    """One audited risk decision."""

    order_id: str
    rule: str
    value: str
    limit: str
    passed: bool
    ts: int
    detail: str = ""


class RiskContext(Protocol):
    """What the risk engine reads from the rest of the engine."""

    def position(self, symbol: str) -> int: ...

    def pending(self, symbol: str, sign: int) -> int: ...

    def pending_live(self, symbol: str, sign: int) -> int:
        """Like ``pending`` without the orders already asked to cancel."""
        ...

    def working_orders(self) -> int: ...

    def last_price(self, symbol: str) -> int | None: ...

    def worst_gross_brl(self, symbol: str, signed_qty: int, price: int) -> Decimal:
        """Gross exposure if every working order (and ``signed_qty`` more of ``symbol``) fills the worse way."""
        ...


class RiskEngine:
    """Validates and limits orders; holds the trading state that the guard and kill switch set."""

    def __init__(
        self,
        config: RiskConfig,
        instruments: dict[str, Instrument],
        context: RiskContext,
        is_session: Callable[[date], bool] | None = None,
        audit_size: int = 10_000,
    ) -> None:
        self.config = config
        self._instruments = instruments
        self._ctx = context
        self._gate = SessionGate(is_session)
        epoch = date(1970, 1, 1)
        self._last_day = {
            sym: (inst.last_trading_day - epoch).days
            for sym, inst in instruments.items()
            if inst.last_trading_day is not None
        }
        # Plain attributes for the hot path (pydantic attribute access and Decimal math are slow).
        band = Fraction(config.price_band_pct) / 100
        self._band_num, self._band_den = band.numerator, band.denominator
        self._max_working = config.max_working_orders
        self._max_rate = config.max_orders_per_second
        self._max_gross = config.max_gross_exposure_brl
        self._check_session = config.check_session
        self.state = TradingState.ACTIVE
        self.state_reason = ""
        self.denials = 0
        self.checks = 0
        self.audit: deque[Decision] = deque(maxlen=audit_size)
        self._recent: deque[int] = deque()
        self.closing: set[str] = set()  # symbols flattened before the close: only reducing orders until tomorrow
        self._audit_listeners: list[Callable[[Decision], None]] = []
        # Per symbol, what does not change within a run: (instrument, max order qty, max position, the largest
        # price x quantity in raw units under MAX_NOTIONAL_BRL), and the continuous-phase window [start, end) of
        # the day last seen open (inside it the session and expiry rules pass).
        self._limits: dict[str, tuple[Instrument, int, int, int]] = {}
        self._open_window: dict[str, tuple[int, int]] = {}
        self._rules: list[tuple[str, Callable[[Order, int], tuple[str, str, str] | None]]] = []

    def add_rule(self, name: str, rule: Callable[[Order, int], tuple[str, str, str] | None]) -> None:
        """An extra pre-trade rule, run after the built-in ones: ``rule(order, ts)`` returns None to pass, or
        ``(value, limit, reason)`` to deny. Audited like the others (portfolio VaR, concentration...)."""
        self._rules.append((name, rule))

    def add_audit_listener(self, listener: Callable[[Decision], None]) -> None:
        self._audit_listeners.append(listener)

    def set_state(self, state: TradingState, reason: str) -> None:
        self.state = state
        self.state_reason = reason

    def max_order_qty(self, symbol: str) -> int:
        """The largest order allowed for ``symbol``, in units."""
        cfg = self.config
        if symbol in cfg.max_order_qty_by_symbol:
            return cfg.max_order_qty_by_symbol[symbol]
        inst = self._instruments.get(symbol)
        return cfg.max_order_qty * (inst.lot if cfg.quantity_in_lots and inst is not None else 1)

    def max_position(self, symbol: str) -> int:
        """The largest position allowed for ``symbol`` (either way), in units."""
        cfg = self.config
        if symbol in cfg.max_position_by_symbol:
            return cfg.max_position_by_symbol[symbol]
        inst = self._instruments.get(symbol)
        return cfg.max_position * (inst.lot if cfg.quantity_in_lots and inst is not None else 1)

    def _limits_of(self, symbol: str, inst: Instrument) -> tuple[Instrument, int, int, int]:
        per_raw = inst.brl_per_raw
        top = int(Fraction(MAX_NOTIONAL_BRL) / Fraction(per_raw)) if per_raw > 0 else -1
        lim = self._limits[symbol] = (inst, self.max_order_qty(symbol), self.max_position(symbol), top)
        return lim

    def continuous_end(self, symbol: str, ts: int) -> int | None:
        return self._gate.continuous_end(self._instruments[symbol].asset_class, ts, symbol)

    def phase(self, symbol: str, ts: int) -> Phase:
        inst = self._instruments[symbol]
        return self._gate.phase(inst.asset_class, ts, symbol)

    # --- the check -----------------------------------------------------------------------------
    def check(self, order: Order, ts: int, reduce_only: bool = False, modify: bool = False) -> str | None:
        """Return None if the order may go out, else the reason it is denied (both audited).

        ``modify`` checks an order as it would be after a modify: ``order`` carries the new quantity, prices and
        the fills so far, and the working quantities the context reports leave the order itself out."""
        self.checks += 1
        reason = self._reason(order, ts, reduce_only, modify)
        if reason is None:
            decision = Decision(order.order_id, "all", "", "", True, ts)
            self.audit.append(decision)
            for listener in self._audit_listeners:
                listener(decision)
            if self._max_rate:
                self._recent.append(ts)
        else:
            self.denials += 1
        return reason

    def _record(self, decision: Decision) -> None:
        self.audit.append(decision)
        for listener in self._audit_listeners:
            listener(decision)

    def _deny(self, order: Order, ts: int, rule: str, value: object, limit: object, text: str) -> str:
        self._record(Decision(order.order_id, rule, str(value), str(limit), False, ts, text))
        return text

    def _reduces(self, order: Order, live: bool = False) -> bool:
        """True if the order (with working orders on its side) cannot grow or flip the position.

        ``live`` leaves out orders pending cancel (the kill switch's flatten counts what will remain)."""
        pos = self._ctx.position(order.symbol)
        sign = 1 if order.side == 1 else -1
        if pos * sign >= 0:
            return False
        pending = (self._ctx.pending_live if live else self._ctx.pending)(order.symbol, sign)
        return abs(pending + sign * order.leaves_qty) <= abs(pos)

    def _insane(self, order: Order, inst: Instrument, ts: int, last: int | None, top_raw: int) -> str | None:
        """Price and size sanity that no config turns off: representable, and near the market.

        ``top_raw`` is MAX_NOTIONAL_BRL in raw price x quantity (negative: compare in BRL)."""
        otype = order.order_type
        if otype is _T_MARKET:
            if not last or (top_raw >= 0 and abs(last * order.quantity) <= top_raw):
                return None
            prices: list[int] = []
        else:
            prices = [p for p, used in ((order.price, otype in (_T_LIMIT, _T_STOP_LIMIT)),
                                        (order.trigger_price, otype in (_T_STOP_MARKET, _T_STOP_LIMIT))) if used]
        for px in prices:
            if px <= 0:
                return self._deny(order, ts, "price_sanity", px, "> 0",
                                  f"{order.symbol}: price {inst.to_price(px)} is not positive")
            if last and abs(px - last) > last * SANITY_BAND:
                return self._deny(order, ts, "price_sanity", inst.to_price(px), f"{inst.to_price(last)}±20%",
                                  f"{order.symbol}: price {inst.to_price(px)} is more than 20% from the last "
                                  f"trade {inst.to_price(last)}")
        mark = max([*prices, last or 0])
        if mark and (abs(mark * order.quantity) > top_raw if top_raw >= 0
                     else abs(inst.brl(mark * order.quantity)) > MAX_NOTIONAL_BRL):
            return self._deny(order, ts, "size_sanity", order.quantity, f"R$ {MAX_NOTIONAL_BRL:,}",
                              f"{order.symbol}: {order.quantity} at {inst.to_price(mark)} is worth more than "
                              f"R$ {MAX_NOTIONAL_BRL:,}")
        return None

    def _reason(self, order: Order, ts: int, reduce_only: bool, modify: bool = False) -> str | None:
        inst = self._instruments.get(order.symbol)
        if inst is None:
            return self._deny(order, ts, "instrument", order.symbol, "known", f"unknown instrument {order.symbol!r}")
        qty = order.quantity
        leaves = order.leaves_qty
        if modify and leaves <= 0:
            return self._deny(order, ts, "modify", qty, f"> {order.filled_qty}",
                              f"{order.symbol}: new quantity {qty} is not above the {order.filled_qty} already filled")
        if qty <= 0 or qty % inst.lot:
            return self._deny(
                order,
                ts,
                "lot",
                qty,
                inst.lot,
                f"{order.symbol}: quantity {qty} is not a positive multiple of lot {inst.lot}",
            )
        otype = order.order_type
        lim = self._limits.get(order.symbol)
        if lim is None or lim[0] is not inst:
            lim = self._limits_of(order.symbol, inst)
        _, max_qty, max_pos, top_raw = lim
        last = self._ctx.last_price(order.symbol)
        insane = self._insane(order, inst, ts, last, top_raw)
        if insane is not None:
            return insane
        if otype in (_T_LIMIT, _T_STOP_LIMIT) and not inst.on_grid(order.price):
            return self._deny(
                order,
                ts,
                "tick",
                order.price,
                inst.tick,
                f"{order.symbol}: limit price {inst.to_price(order.price)} is off the {inst.tick_size} tick grid",
            )
        if otype in (_T_STOP_MARKET, _T_STOP_LIMIT) and not inst.on_grid(order.trigger_price):
            return self._deny(
                order,
                ts,
                "tick",
                order.trigger_price,
                inst.tick,
                f"{order.symbol}: trigger price {inst.to_price(order.trigger_price)} is off "
                f"the {inst.tick_size} tick grid",
            )
        state = self.state
        if state is not _ACTIVE:
            reduces = self._reduces(order, live=reduce_only)
            if state is _HALTED and not (reduce_only and reduces):
                return self._deny(
                    order,
                    ts,
                    "trading_state",
                    state.value,
                    "ACTIVE",
                    f"trading is halted ({self.state_reason}); no new orders",
                )
            if state is _REDUCING and not reduces:
                return self._deny(
                    order,
                    ts,
                    "trading_state",
                    state.value,
                    "reduce only",
                    f"trading is reduce-only ({self.state_reason}); this order would add exposure",
                )
        cfg = self.config
        if self.closing and order.symbol in self.closing and not self._reduces(order, live=reduce_only):
            return self._deny(order, ts, "before_close", order.symbol, "reduce only",
                              f"{order.symbol}: flattened {cfg.flatten_before_close_minutes} min before the close; "
                              "only reducing orders until the next session")
        window = self._open_window.get(order.symbol) if self._check_session else None
        if window is not None and window[0] <= ts < window[1]:
            pass  # continuous phase of a day already checked: open, contract not expired
        elif self._check_session:
            last_day = self._last_day.get(order.symbol)
            if last_day is not None and (ts - OFFSET_NS) // DAY_NS > last_day:
                return self._deny(
                    order,
                    ts,
                    "expiry",
                    day_of(ts),
                    inst.last_trading_day,
                    f"{order.symbol}: contract closed (last trading day {inst.last_trading_day})",
                )
            phase = self._gate.phase(inst.asset_class, ts, order.symbol)
            if phase is _P_CLOSED or phase is _P_CANCEL_ONLY:
                return self._deny(
                    order,
                    ts,
                    "session",
                    phase.name,
                    "open",
                    f"{order.symbol}: market is {phase.name.lower()}; orders are not accepted",
                )
            if phase is not _P_CONTINUOUS and otype in (_T_STOP_MARKET, _T_STOP_LIMIT):
                return self._deny(
                    order,
                    ts,
                    "session",
                    phase.name,
                    "CONTINUOUS",
                    f"{order.symbol}: stop orders are not accepted during {phase.name.lower()}",
                )
            if phase is _P_CONTINUOUS:
                window = self._gate.continuous_window(inst.asset_class, ts, order.symbol)
                if window is not None:
                    self._open_window[order.symbol] = window
        if qty > max_qty:
            return self._deny(
                order,
                ts,
                "max_order_qty",
                qty,
                max_qty,
                f"{order.symbol}: order quantity {qty} exceeds the limit {max_qty}",
            )
        if reduce_only and self._reduces(order, live=True):
            return None  # a flatten order that only closes: exposure, rate and working limits do not apply
        ctx = self._ctx
        sign = 1 if order.side == 1 else -1
        worst = ctx.position(order.symbol) + ctx.pending(order.symbol, sign) + sign * leaves
        if abs(worst) > max_pos:
            return self._deny(
                order,
                ts,
                "max_position",
                worst,
                max_pos,
                f"{order.symbol}: position would reach {worst}, beyond the limit ±{max_pos}",
            )
        if self._max_working and not modify and ctx.working_orders() >= self._max_working:
            return self._deny(
                order,
                ts,
                "max_working_orders",
                ctx.working_orders(),
                cfg.max_working_orders,
                f"{cfg.max_working_orders} orders are already working",
            )
        if self._max_rate:
            recent = self._recent
            while recent and recent[0] <= ts - 1_000_000_000:
                recent.popleft()
            if len(recent) >= cfg.max_orders_per_second:
                return self._deny(
                    order,
                    ts,
                    "order_rate",
                    len(recent) + 1,
                    cfg.max_orders_per_second,
                    f"order rate above {cfg.max_orders_per_second} per second",
                )
        if self._band_num and last and otype is not _T_MARKET:
            px = order.price if otype in (_T_LIMIT, _T_STOP_LIMIT) else order.trigger_price
            if abs(px - last) * self._band_den > last * self._band_num:  # exact: |px - last| > last x pct
                return self._deny(
                    order,
                    ts,
                    "price_band",
                    inst.to_price(px),
                    f"{inst.to_price(last)}±{cfg.price_band_pct}%",
                    f"{order.symbol}: price {inst.to_price(px)} is more than {cfg.price_band_pct}% "
                    f"from the last trade {inst.to_price(last)}",
                )
        if self._max_gross and not self._reduces(order):
            mark = last or (order.price if otype in (_T_LIMIT, _T_STOP_LIMIT) else order.trigger_price)
            gross = ctx.worst_gross_brl(order.symbol, sign * leaves, mark)
            if gross > cfg.max_gross_exposure_brl:
                return self._deny(
                    order,
                    ts,
                    "max_gross_exposure",
                    gross,
                    cfg.max_gross_exposure_brl,
                    f"gross exposure would reach R$ {gross:.2f} with working orders filled, "
                    f"beyond R$ {cfg.max_gross_exposure_brl}",
                )
        for name, rule in self._rules:
            verdict = rule(order, ts)
            if verdict is not None:
                return self._deny(order, ts, name, verdict[0], verdict[1], verdict[2])
        return None
