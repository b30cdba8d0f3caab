"""The guard: kill switch, P&L limits and circuit breakers, which set the risk engine's trading state.

- Kill switch (manual or on a breach): HALTED, cancel every working order, optionally flatten;
  it stays engaged across restarts (the state store keeps it) until a person resets it.
- P&L limits: daily loss on realised + unrealised P&L less fees, and intraday drawdown from the
  day's peak equity, checked on every fill and on a timer; a breach latches until reset.
- Circuit breakers: stale data in session, venue reject rate, adapter errors. A tripped breaker
  sets its action state; after the cool-down it goes half-open and the next good sign closes it.
- Strategy pauses: a person's flatten or order on an instrument takes it from the strategies
  (``paused``, persisted with the risk state) until a person resumes them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.orders import Order, OrderEventKind
from tradingsystem.domain.records import RiskStateRecord
from tradingsystem.domain.sessions import Phase
from tradingsystem.engine.risk import SEVERITY, RiskConfig, RiskEngine, TradingState
from tradingsystem.engine.session_gate import day_of

_K_REJECTED = OrderEventKind.REJECTED
_K_FILLED = OrderEventKind.FILLED
_K_ACCEPTED = OrderEventKind.ACCEPTED
S = 1_000_000_000


class BreakerConfig(BaseModel):
    """0 disables a breaker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stale_data_seconds: float = Field(default=0, ge=0)
    stale_data_action: TradingState = TradingState.REDUCING
    max_rejects: int = Field(default=0, ge=0)
    reject_window_seconds: float = Field(default=60, gt=0)
    reject_action: TradingState = TradingState.HALTED
    max_adapter_errors: int = Field(default=0, ge=0)
    adapter_window_seconds: float = Field(default=60, gt=0)
    adapter_action: TradingState = TradingState.HALTED
    cooldown_seconds: float = Field(default=60, gt=0)
    reconcile_action: TradingState = TradingState.REDUCING
    """The state a restart enters when the venue and the state store disagree (until a person resets)."""
    check_interval_ms: int = Field(default=500, gt=0)


@dataclass
class Breaker:
    """closed (fine) -> open (tripped, action applies) -> half_open (after cool-down) -> closed."""

    name: str
    action: TradingState
    state: str = "closed"
    reason: str = ""
    opened_at: int = 0
    trips: int = 0
    events: deque[int] = field(default_factory=deque)

    def trip(self, ts: int, reason: str) -> bool:
        was = self.state
        self.state, self.reason, self.opened_at = "open", reason, ts
        if was != "open":
            self.trips += 1
        return was != "open"

    def count(self, ts: int, window_ns: int) -> int:
        self.events.append(ts)
        while self.events and self.events[0] <= ts - window_ns:
            self.events.popleft()
        return len(self.events)


class GuardContext(Protocol):
    def now(self) -> int: ...

    def schedule(self, ts: int, callback: Callable[[int], None]) -> None: ...

    def every(self, interval_ns: int, callback: Callable[[int], None], catch_up: int = 0) -> None: ...

    def cancel_all(self) -> int: ...

    def flatten(self, reason: str, symbol: str | None = None) -> int: ...

    def stop_flatten(self) -> None: ...

    def equity_brl(self) -> Decimal: ...

    def data_count(self) -> int: ...

    def publish_alert(self, alert: Alert) -> None: ...

    def publish_state(self, record: RiskStateRecord) -> None: ...


class Guard:
    """Owns the trading state. Call :meth:`start` once the kernel has its clock running."""

    def __init__(
        self,
        risk: RiskEngine,
        ctx: GuardContext,
        breakers: BreakerConfig | None = None,
        symbols: list[str] | None = None,
    ) -> None:
        self.risk = risk
        self.cfg: RiskConfig = risk.config
        self.bcfg = breakers or BreakerConfig()
        self.ctx = ctx
        self.symbols = symbols or []
        self.kill_switch = False
        self.kill_reason = ""
        self.breach = ""
        self.breach_state = TradingState.ACTIVE
        self.day = ""
        self.day_start_equity = Decimal(0)
        self.peak_equity = Decimal(0)
        self.breakers = {
            "stale_data": Breaker("stale_data", self.bcfg.stale_data_action),
            "reject_rate": Breaker("reject_rate", self.bcfg.reject_action),
            "adapter_errors": Breaker("adapter_errors", self.bcfg.adapter_action),
        }
        self._watch_fills = bool(self.cfg.daily_loss_limit_brl or self.cfg.max_drawdown_brl or self.bcfg.max_rejects)
        self._last_count = -1
        self._last_data_ts = 0
        self.kills = 0
        self.paused: dict[str, str] = {}  # symbol -> why and by whom; the order manager refuses strategies there
        self._started = False

    # --- lifecycle -----------------------------------------------------------------------------
    def restore(self, record: RiskStateRecord | None) -> None:
        """Reload the persisted state: an engaged kill switch stays engaged."""
        if record is None:
            return
        self.kill_switch, self.kill_reason = record.kill_switch, record.kill_reason
        self.day = record.day
        self.day_start_equity, self.peak_equity = record.day_start_equity_brl, record.peak_equity_brl
        self.paused.clear()
        self.paused.update(record.paused)
        if record.trading_state != TradingState.ACTIVE.value and not record.kill_switch:
            self.breach = record.breakers.get("breach", "")
            self.breach_state = TradingState(record.trading_state) if self.breach else TradingState.ACTIVE
        self._apply(record.ts, publish=False)

    def restore_mismatch(self, message: str) -> None:
        """Restart reconciliation found the venue and the store apart: alert, and latch the configured state."""
        ts = self.ctx.now()
        self.ctx.publish_alert(Alert("reconcile", Severity.CRITICAL, message, ts))
        action = self.bcfg.reconcile_action
        if action is not TradingState.ACTIVE and SEVERITY[action] >= SEVERITY[self.breach_state]:
            self.breach, self.breach_state = f"reconcile: {message}", action
        self._apply(ts)

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        now = self.ctx.now()
        self._new_day(now)
        self._last_data_ts = now
        if self._needs_timer():
            # Replay up to 1000 checks across a quiet spell so the stale-data watchdog trips inside it.
            self.ctx.every(self.bcfg.check_interval_ms * 1_000_000, self._tick, catch_up=1000)

    def _needs_timer(self) -> bool:
        c, b = self.cfg, self.bcfg
        return bool(
            c.flatten_before_close_minutes
            or c.daily_loss_limit_brl
            or c.max_drawdown_brl
            or b.stale_data_seconds
            or b.max_rejects
            or b.max_adapter_errors
        )

    # --- kill switch ---------------------------------------------------------------------------
    def kill(self, reason: str, flatten: bool | None = None) -> dict[str, int]:
        """Engage the kill switch: HALTED, cancel all working orders, optionally flatten."""
        ts = self.ctx.now()
        self.kill_switch, self.kill_reason = True, reason or "manual kill switch"
        self.kills += 1
        self._apply(ts)
        cancelled = self.ctx.cancel_all()
        flattened = (
            self.ctx.flatten(self.kill_reason) if (self.cfg.flatten_on_kill if flatten is None else flatten) else 0
        )
        self.ctx.publish_alert(
            Alert(
                "kill_switch",
                Severity.CRITICAL,
                f"kill switch engaged: {self.kill_reason}",
                ts,
                {"cancelled": str(cancelled), "flatten_orders": str(flattened)},
            )
        )
        return {"cancelled": cancelled, "flatten_orders": flattened}

    def reset(self, who: str = "operator") -> None:
        """A person clears the kill switch and latched breaches; breakers keep their own state."""
        ts = self.ctx.now()
        self.kill_switch, self.kill_reason = False, ""
        self.breach, self.breach_state = "", TradingState.ACTIVE
        self.ctx.stop_flatten()
        self.peak_equity = max(self.peak_equity, self.ctx.equity_brl())
        self._apply(ts)
        self.ctx.publish_alert(Alert("risk_reset", Severity.WARNING, f"risk state reset by {who}", ts))

    # --- strategy pauses -----------------------------------------------------------------------
    def pause(self, symbols: list[str], who: str, why: str) -> list[str]:
        """Take ``symbols`` from the strategies until :meth:`resume`; alert and persist. Returns those newly
        paused (a symbol already paused keeps its first reason)."""
        new = [s for s in symbols if s not in self.paused]
        if not new:
            return []
        ts = self.ctx.now()
        for sym in new:
            self.paused[sym] = f"{why} by {who}"
            self.ctx.publish_alert(Alert("strategies_paused", Severity.WARNING,
                                         f"strategies paused on {sym} by {who} ({why}); "
                                         f"`tradingsystem strategies resume {sym}` hands it back", ts,
                                         {"symbol": sym, "who": who}))
        self.ctx.publish_state(self.record(ts))
        return new

    def resume(self, symbol: str | None, who: str) -> list[str]:
        """Hand ``symbol`` (every paused one when None) back to the strategies; returns those resumed."""
        symbols = sorted(self.paused) if symbol is None else [symbol] if symbol in self.paused else []
        if not symbols:
            return []
        ts = self.ctx.now()
        for sym in symbols:
            del self.paused[sym]
            self.ctx.publish_alert(Alert("strategies_resumed", Severity.INFO,
                                         f"strategies resumed on {sym} by {who}", ts, {"symbol": sym, "who": who}))
        self.ctx.publish_state(self.record(ts))
        return symbols

    # --- inputs --------------------------------------------------------------------------------
    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        kind = event.kind
        if kind == _K_FILLED and not self._watch_fills:
            return
        if kind == _K_REJECTED:
            b = self.breakers["reject_rate"]
            if self.bcfg.max_rejects:
                n = b.count(event.ts_event, int(self.bcfg.reject_window_seconds * S))
                if b.state == "half_open" or n > self.bcfg.max_rejects:
                    self._trip(
                        b,
                        event.ts_event,
                        f"{n} venue rejects in {self.bcfg.reject_window_seconds:g}s "
                        f"(last: {event.reason or 'no reason'})",
                    )
        elif kind in (_K_ACCEPTED, _K_FILLED):
            b = self.breakers["reject_rate"]
            if b.state == "half_open":
                self._close(b, event.ts_event)
            if kind == _K_FILLED and (self.cfg.daily_loss_limit_brl or self.cfg.max_drawdown_brl):
                self.check_pnl(event.ts_event)

    def adapter_error(self, message: str, publish: bool = True) -> None:
        """An adapter reports a failure (lost connection, DLL error code...); ``publish`` False when the caller
        alerts itself (the monitor)."""
        ts = self.ctx.now()
        b = self.breakers["adapter_errors"]
        if publish:
            self.ctx.publish_alert(Alert("adapter_error", Severity.WARNING, message, ts))
        if self.bcfg.max_adapter_errors:
            n = b.count(ts, int(self.bcfg.adapter_window_seconds * S))
            if b.state == "half_open" or n >= self.bcfg.max_adapter_errors:
                self._trip(b, ts, f"{n} adapter errors (last: {message})")

    # --- periodic checks -----------------------------------------------------------------------
    def _tick(self, ts: int) -> None:
        if self.cfg.flatten_before_close_minutes:
            self._before_close(ts)
        self.check_pnl(ts)
        self._check_stale(ts)
        self._check_cooldowns(ts)

    def _before_close(self, ts: int) -> None:
        """N minutes before an instrument's continuous session ends: flatten it and only reduce until tomorrow."""
        lead = self.cfg.flatten_before_close_minutes * 60 * S
        for sym in self.symbols:
            if sym in self.risk.closing or self.risk.phase(sym, ts) is not Phase.CONTINUOUS:
                continue
            end = self.risk.continuous_end(sym, ts)
            if end is not None and ts >= end - lead:
                self.risk.closing.add(sym)
                sent = self.ctx.flatten(f"{self.cfg.flatten_before_close_minutes} min before the close", sym)
                self.ctx.publish_alert(Alert("before_close", Severity.WARNING,
                                             f"{sym}: flattening before the close ({sent} orders); only reducing "
                                             "orders until the next session", ts, {"symbol": sym}))

    def _new_day(self, ts: int) -> None:
        day = day_of(ts).isoformat()
        if day != self.day:
            self.day = day
            self.risk.closing.clear()
            equity = self.ctx.equity_brl()
            self.day_start_equity = self.peak_equity = equity
            if self.breach and self.breach.startswith(("daily_loss", "drawdown")):
                self.breach, self.breach_state = "", TradingState.ACTIVE

    def check_pnl(self, ts: int) -> None:
        self._new_day(ts)
        cfg = self.cfg
        equity = self.ctx.equity_brl()
        if equity > self.peak_equity:
            self.peak_equity = equity
        day_pnl = equity - self.day_start_equity
        if cfg.daily_loss_limit_brl and day_pnl <= -cfg.daily_loss_limit_brl and not self.breach:
            self._breach(
                ts, "daily_loss", f"daily loss R$ {-day_pnl:.2f} reached the limit R$ {cfg.daily_loss_limit_brl}"
            )
        drawdown = self.peak_equity - equity
        if cfg.max_drawdown_brl and drawdown >= cfg.max_drawdown_brl and not self.breach:
            self._breach(
                ts, "drawdown", f"intraday drawdown R$ {drawdown:.2f} reached the limit R$ {cfg.max_drawdown_brl}"
            )

    def _breach(self, ts: int, rule: str, message: str) -> None:
        self.breach, self.breach_state = f"{rule}: {message}", self.cfg.breach_action
        self.ctx.publish_alert(Alert(rule, Severity.CRITICAL, message, ts))
        if self.cfg.breach_action is TradingState.HALTED:
            self.kill(message)
        else:
            self._apply(ts)

    def _in_session(self, ts: int) -> bool:
        return any(self.risk.phase(s, ts) is Phase.CONTINUOUS for s in self.symbols)

    def _check_stale(self, ts: int) -> None:
        if not self.bcfg.stale_data_seconds:
            return
        count = self.ctx.data_count()
        b = self.breakers["stale_data"]
        if count != self._last_count:
            self._last_count, self._last_data_ts = count, ts
            if b.state != "closed":
                self._close(b, ts)
            return
        if not self._in_session(ts):
            self._last_data_ts = ts
            return
        silent = (ts - self._last_data_ts) / S
        if silent >= self.bcfg.stale_data_seconds and b.state != "open":
            self._trip(b, ts, f"no market data for {silent:.1f}s in session")

    def _check_cooldowns(self, ts: int) -> None:
        for b in self.breakers.values():
            if b.state == "open" and ts - b.opened_at >= self.bcfg.cooldown_seconds * S:
                if b.name == "stale_data":
                    continue  # only fresh data closes it
                b.state = "half_open"
                self._apply(ts)
                self.ctx.publish_alert(Alert(b.name, Severity.INFO, f"{b.name} breaker half-open: probing", ts))
            elif (
                b.state == "half_open"
                and b.name == "adapter_errors"
                and ts - b.opened_at >= 2 * self.bcfg.cooldown_seconds * S
            ):
                self._close(b, ts)

    def _trip(self, b: Breaker, ts: int, reason: str) -> None:
        if b.trip(ts, reason):
            self.ctx.publish_alert(Alert(b.name, Severity.CRITICAL, f"{b.name} breaker open: {reason}", ts))
        self._apply(ts)

    def _close(self, b: Breaker, ts: int) -> None:
        b.state, b.reason = "closed", ""
        b.events.clear()
        self._apply(ts)
        self.ctx.publish_alert(Alert(b.name, Severity.INFO, f"{b.name} breaker closed", ts))

    # --- state ---------------------------------------------------------------------------------
    def effective(self) -> tuple[TradingState, str]:
        if self.kill_switch:
            return TradingState.HALTED, f"kill switch: {self.kill_reason}"
        state, reason = TradingState.ACTIVE, ""
        candidates = [(self.breach_state, self.breach)] if self.breach else []
        candidates += [(b.action, f"{b.name}: {b.reason}") for b in self.breakers.values() if b.state == "open"]
        for st, why in candidates:
            if SEVERITY[st] > SEVERITY[state]:
                state, reason = st, why
        return state, reason

    def _apply(self, ts: int, publish: bool = True) -> None:
        state, reason = self.effective()
        changed = state is not self.risk.state or reason != self.risk.state_reason
        self.risk.set_state(state, reason)
        if publish:
            self.ctx.publish_state(self.record(ts))
            if changed:
                sev = (
                    Severity.CRITICAL
                    if state is TradingState.HALTED
                    else (Severity.WARNING if state is TradingState.REDUCING else Severity.INFO)
                )
                self.ctx.publish_alert(
                    Alert("trading_state", sev, f"trading state {state.value}" + (f": {reason}" if reason else ""), ts)
                )

    def record(self, ts: int) -> RiskStateRecord:
        breakers = {name: b.state for name, b in self.breakers.items()}
        if self.breach:
            breakers["breach"] = self.breach
        return RiskStateRecord(
            self.risk.state.value,
            self.kill_switch,
            self.kill_reason,
            ts,
            breakers,
            self.day,
            self.day_start_equity,
            self.peak_equity,
            dict(self.paused),
        )

    def status(self) -> dict[str, object]:
        return {
            "trading_state": self.risk.state.value,
            "reason": self.risk.state_reason,
            "kill_switch": self.kill_switch,
            "kill_reason": self.kill_reason,
            "breach": self.breach,
            "breakers": {n: {"state": b.state, "reason": b.reason, "trips": b.trips} for n, b in self.breakers.items()},
            "day": self.day,
            "day_pnl_brl": str(self.ctx.equity_brl() - self.day_start_equity),
            "peak_equity_brl": str(self.peak_equity),
            "denials": self.risk.denials,
            "checks": self.risk.checks,
            "paused": dict(sorted(self.paused.items())),
        }
