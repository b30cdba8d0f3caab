"""Alert rules: engine events in, notifications out. Pure: no threads, no I/O, time from event stamps.

``AlertRules`` turns ``Alert``s from the bus and order events (fills, rejects, risk denials) into
``Notification``s, applying per-kind severities, de-duplication, rate limits and quiet hours from
``AlertRulesConfig``. What it holds back is counted and reported by :meth:`AlertRules.drain` as one
digest per kind. It also keeps the day's numbers for :meth:`AlertRules.daily_summary`.

Call it from the engine thread only (bus handlers, order listeners, clock timers).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from tradingsystem.domain.alerts import Alert, Severity
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order, OrderEventKind
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.engine.session_gate import day_of
from tradingsystem.ports.notify import Notification

__all__ = [
    "DEFAULT_RULES",
    "AlertRules",
    "AlertRulesConfig",
    "AltDataAlerts",
    "DayStats",
    "QuietHours",
    "RuleConfig",
    "SeverityLevel",
    "parse_severity",
]

S = 1_000_000_000
_FILLED = OrderEventKind.FILLED
_REJECTED = OrderEventKind.REJECTED
_DENIED = OrderEventKind.DENIED
_ORDER_KINDS = {"fill", "order_rejected", "order_denied"}


def parse_severity(value: Any) -> int:
    """``"critical"``/``"CRITICAL"``/``2`` -> 2."""
    if isinstance(value, str) and not value.strip().isdigit():
        try:
            return int(Severity[value.strip().upper()])
        except KeyError:
            raise ValueError(f"unknown severity {value!r} (info, warning, critical)") from None
    level = int(value)
    if level not in Severity._value2member_map_:
        raise ValueError(f"unknown severity {value!r} (0 info, 1 warning, 2 critical)")
    return level


SeverityLevel = Annotated[int, BeforeValidator(parse_severity)]


class RuleConfig(BaseModel):
    """Overrides for one alert kind; ``None`` keeps the global default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    severity: SeverityLevel | None = None
    dedup_seconds: float | None = Field(default=None, ge=0)
    max_per_window: int | None = Field(default=None, ge=0)
    window_seconds: float | None = Field(default=None, gt=0)


class QuietHours(BaseModel):
    """B3 local time; ``start`` > ``end`` spans midnight. Only ``min_severity`` and above pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time
    min_severity: SeverityLevel = Severity.CRITICAL

    def contains(self, ts: int) -> bool:
        t = datetime.fromtimestamp(ts / S, tz=B3_TZ).time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


# Kinds the engine and adapters publish. Feed, gap, disk and drift alerts come from their adapters as
# ``Alert(kind, ...)`` on the "alerts" topic; the guard publishes the risk ones.
DEFAULT_RULES: dict[str, RuleConfig] = {
    "fill": RuleConfig(severity=Severity.INFO, dedup_seconds=0, max_per_window=10),
    "order_rejected": RuleConfig(severity=Severity.WARNING),
    "order_denied": RuleConfig(severity=Severity.WARNING),  # our risk engine refused an order
    "kill_switch": RuleConfig(severity=Severity.CRITICAL),
    "risk_reset": RuleConfig(severity=Severity.WARNING),
    "daily_loss": RuleConfig(severity=Severity.CRITICAL),
    "drawdown": RuleConfig(severity=Severity.CRITICAL),
    "stale_data": RuleConfig(),  # breakers: CRITICAL when open, INFO when closed (as published)
    "reject_rate": RuleConfig(),
    "adapter_errors": RuleConfig(),
    "adapter_error": RuleConfig(severity=Severity.WARNING),
    "feed_disconnected": RuleConfig(severity=Severity.CRITICAL),
    "feed_reconnected": RuleConfig(severity=Severity.INFO),
    "data_gap": RuleConfig(severity=Severity.WARNING),
    "disk_low": RuleConfig(severity=Severity.WARNING),
    "model_drift": RuleConfig(severity=Severity.WARNING),
    "indicator_release": RuleConfig(severity=Severity.INFO, dedup_seconds=0, max_per_window=20),
    "sentiment_spike": RuleConfig(severity=Severity.WARNING),
    "altdata_unreachable": RuleConfig(severity=Severity.WARNING),
    # Every state change already comes with the alert that caused it (kill switch, breach, breaker).
    "trading_state": RuleConfig(enabled=False),
}


class AlertRulesConfig(BaseModel):
    """Global defaults; ``rules`` overrides them per kind, on top of ``DEFAULT_RULES``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_severity: SeverityLevel = Severity.INFO
    dedup_seconds: float = Field(default=300, ge=0)
    max_per_window: int = Field(default=5, ge=0)  # per kind; 0 = no limit
    window_seconds: float = Field(default=60, gt=0)
    quiet_hours: QuietHours | None = None
    rules: dict[str, RuleConfig] = Field(default_factory=dict)
    title_prefix: str = "TradingSystem"
    daily_summary: bool = True
    summary_time: time = time(18, 35)  # B3 local; after the futures close and the 18:30 settlement
    digest_interval_seconds: float = Field(default=60, gt=0)

    def rule(self, kind: str) -> RuleConfig:
        return self.rules.get(kind) or DEFAULT_RULES.get(kind) or RuleConfig()


@dataclass
class DayStats:
    """The numbers the daily summary reports."""

    day: str = ""
    fills: int = 0
    contracts: int = 0
    closed_trades: int = 0
    wins: int = 0
    rejects: int = 0
    denials: int = 0
    risk_events: dict[str, int] = field(default_factory=dict)
    notified: int = 0
    suppressed: int = 0


@dataclass
class _Held:
    count: int
    severity: int
    last: str
    since: int


class AlertRules:
    """Severities, de-duplication, rate limits, quiet hours and the daily numbers."""

    def __init__(self, config: AlertRulesConfig | None = None,
                 instruments: Mapping[str, Instrument] | None = None) -> None:
        self.config = config or AlertRulesConfig()
        self.instruments = dict(instruments or {})
        self.stats = DayStats()
        self._last_sent: dict[tuple[str, str], int] = {}
        self._sent_times: dict[str, deque[int]] = {}
        self._held: dict[str, _Held] = {}
        self.quiet_dropped = 0

    # --- inputs --------------------------------------------------------------------------------
    def on_alert(self, alert: Alert) -> list[Notification]:
        """An ``Alert`` from the bus."""
        self._roll(alert.ts_event)
        rule = self.config.rule(alert.kind)
        severity = alert.severity if rule.severity is None else rule.severity
        if severity >= Severity.WARNING and alert.kind not in _ORDER_KINDS:
            events = self.stats.risk_events
            events[alert.kind] = events.get(alert.kind, 0) + 1
        return self._admit(alert.kind, severity, alert.message, alert.ts_event, dict(alert.data), rule)

    def on_order_event(self, order: Order, event: OrderEvent,
                       realized_change: Decimal | None = None) -> list[Notification]:
        """Fills, venue rejects and risk denials. ``realized_change``: the fill's realised P&L (a close)."""
        kind = event.kind
        if kind == _FILLED:
            self._roll(event.ts_event)
            st = self.stats
            st.fills += 1
            st.contracts += event.fill_qty
            if realized_change:
                st.closed_trades += 1
                st.wins += realized_change > 0
            price = self._price(order.symbol, event.fill_price)
            msg = f"fill {order.symbol} {order.side.name} {event.fill_qty} @ {price}"
            if realized_change:
                msg += f" (realised R$ {realized_change:.2f})"
            data = {"order_id": order.order_id, "strategy": order.strategy_id}
            return self._admit("fill", Severity.INFO, msg, event.ts_event, data, self.config.rule("fill"))
        if kind in (_REJECTED, _DENIED):
            self._roll(event.ts_event)
            name = "order_rejected" if kind == _REJECTED else "order_denied"
            if kind == _REJECTED:
                self.stats.rejects += 1
            else:
                self.stats.denials += 1
            what = "rejected by the venue" if kind == _REJECTED else "denied by risk"
            msg = (f"order {what}: {order.symbol} {order.side.name} {order.quantity}: "
                   f"{event.reason or order.reason or 'no reason'}")
            data = {"order_id": order.order_id, "strategy": order.strategy_id}
            return self._admit(name, Severity.WARNING, msg, event.ts_event, data, self.config.rule(name))
        return []

    # --- digests and summary -------------------------------------------------------------------
    def drain(self, ts: int, force: bool = False) -> list[Notification]:
        """One digest per kind whose held-back alerts are older than its window (all, with ``force``)."""
        out = []
        for kind, held in list(self._held.items()):
            rule = self.config.rule(kind)
            window = rule.window_seconds or self.config.window_seconds
            if force or ts - held.since >= window * S:
                del self._held[kind]
                msg = f"{held.count} more '{kind}' alert(s) held back (last: {held.last})"
                note = self._note(kind, held.severity, msg, ts, {"suppressed": str(held.count)}, digest=True)
                if note is not None:
                    out.append(note)
        return out

    def pending(self) -> int:
        """Alerts held back and not yet reported by a digest."""
        return sum(h.count for h in self._held.values())

    def daily_summary(self, ts: int, totals: Mapping[str, Any]) -> Notification:
        """The day's report; ``totals`` is ``Kernel.summary()`` (P&L as strings). Starts a new day."""
        st = self.stats
        hit = f"{100 * st.wins / st.closed_trades:.0f}%" if st.closed_trades else "n/a"
        events = ", ".join(f"{k} x{n}" for k, n in sorted(st.risk_events.items())) or "none"
        lines = [
            f"day {st.day or day_of(ts).isoformat()}",
            f"net P&L R$ {totals.get('net_pnl_brl', '0')} (realised {totals.get('realized_pnl_brl', '0')}, "
            f"unrealised {totals.get('unrealized_pnl_brl', '0')}, fees {totals.get('fees_brl', '0')})",
            f"fills {st.fills} ({st.contracts} contracts), closed trades {st.closed_trades}, hit rate {hit}",
            f"venue rejects {st.rejects}, risk denials {st.denials}",
            f"risk events: {events}",
            f"positions: {totals.get('positions', {})}, trading state {totals.get('trading_state', '?')}",
            f"alerts sent {st.notified}, held back {st.suppressed}",
        ]
        title = f"{self.config.title_prefix} daily summary {st.day or day_of(ts).isoformat()}"
        data = {"fills": str(st.fills), "closed_trades": str(st.closed_trades), "wins": str(st.wins),
                "net_pnl_brl": str(totals.get("net_pnl_brl", "0"))}
        self.stats = DayStats(day=day_of(ts).isoformat())
        return Notification("daily_summary", Severity.INFO, title, "\n".join(lines), ts, data)

    # --- internals -----------------------------------------------------------------------------
    def _roll(self, ts: int) -> None:
        day = day_of(ts).isoformat()
        if self.stats.day != day:
            if self.stats.day:
                self.stats = DayStats()
            self.stats.day = day

    def _price(self, symbol: str, raw: int) -> str:
        inst = self.instruments.get(symbol)
        return str(inst.to_price(raw)) if inst is not None else str(raw)

    def _admit(self, kind: str, severity: int, message: str, ts: int, data: dict[str, str],
               rule: RuleConfig) -> list[Notification]:
        cfg = self.config
        if not rule.enabled or severity < cfg.min_severity:
            return []
        dedup = cfg.dedup_seconds if rule.dedup_seconds is None else rule.dedup_seconds
        key = (kind, message)
        if dedup:
            last = self._last_sent.get(key)
            if last is not None and ts - last < dedup * S:
                self._hold(kind, severity, message, ts)
                return []
        limit = cfg.max_per_window if rule.max_per_window is None else rule.max_per_window
        if limit:
            window = int((rule.window_seconds or cfg.window_seconds) * S)
            times = self._sent_times.setdefault(kind, deque())
            while times and times[0] <= ts - window:
                times.popleft()
            if len(times) >= limit:
                self._hold(kind, severity, message, ts)
                return []
            times.append(ts)
        note = self._note(kind, severity, message, ts, data)
        if note is None:
            return []
        if dedup:
            self._last_sent[key] = ts
            if len(self._last_sent) > 4096:
                self._last_sent = {k: t for k, t in self._last_sent.items() if ts - t < dedup * S}
        out = [note]
        held = self._held.get(kind)
        if held is not None and ts - held.since >= (rule.window_seconds or cfg.window_seconds) * S:
            out = self.drain(ts) + out
        return out

    def _hold(self, kind: str, severity: int, message: str, ts: int) -> None:
        self.stats.suppressed += 1
        held = self._held.get(kind)
        if held is None:
            self._held[kind] = _Held(1, severity, message, ts)
        else:
            held.count += 1
            held.severity = max(held.severity, severity)
            held.last = message

    def _note(self, kind: str, severity: int, message: str, ts: int, data: dict[str, str],
              digest: bool = False) -> Notification | None:
        quiet = self.config.quiet_hours
        if quiet is not None and severity < quiet.min_severity and quiet.contains(ts):
            self.quiet_dropped += 1
            return None
        self.stats.notified += 1
        name = Severity(severity).name if severity in Severity._value2member_map_ else str(severity)
        local = datetime.fromtimestamp(ts / S, tz=B3_TZ).strftime("%Y-%m-%d %H:%M:%S")
        title = f"{self.config.title_prefix} {name}: {message}"
        if len(title) > 140:
            title = title[:137] + "..."
        body = [message, f"kind: {kind}" + (" (digest)" if digest else ""), f"time: {local} BRT"]
        body += [f"{k}: {v}" for k, v in sorted(data.items())]
        return Notification(kind, severity, title, "\n".join(body), ts, data)


class AltDataAlerts:
    """Alternative-data events into alerts: each indicator release, and sentiment spikes per instrument.

    A spike: the mean score of an instrument's last ``recent`` items is at least ``z`` standard deviations
    from the mean of the ``history`` items before them (once ``min_history`` are known).
    """

    def __init__(self, recent: int = 3, history: int = 50, min_history: int = 10, z: float = 2.5) -> None:
        self.recent, self.history, self.min_history, self.z = recent, history, min_history, z
        self._scores: dict[str, deque[float]] = {}

    def on_release(self, series: str, ref: str, value: str, previous: str, revised: bool, ts: int) -> Alert:
        what = "revised" if revised else "released"
        was = f" (was {previous})" if previous else ""
        return Alert("indicator_release", Severity.INFO, f"{series} {ref} {what}: {value}{was}", ts,
                     {"series": series, "ref": ref, "value": value, "previous": previous})

    def on_item(self, instruments: tuple[str, ...], score: float, ts: int) -> list[Alert]:
        out = []
        for inst in instruments:
            scores = self._scores.setdefault(inst, deque(maxlen=self.history + self.recent))
            scores.append(score)
            past = list(scores)[:-self.recent]
            if len(past) < self.min_history:
                continue
            mean = sum(past) / len(past)
            std = (sum((x - mean) ** 2 for x in past) / len(past)) ** 0.5
            now = list(scores)[-self.recent:]
            level = sum(now) / len(now)
            if std > 0 and abs(level - mean) / std >= self.z:
                side = "negative" if level < mean else "positive"
                out.append(Alert("sentiment_spike", Severity.WARNING,
                                 f"{inst}: {side} sentiment spike, mean {level:+.2f} of the last {len(now)} items "
                                 f"vs {mean:+.2f} ± {std:.2f}", ts,
                                 {"instrument": inst, "mean": f"{level:.4f}", "history_mean": f"{mean:.4f}"}))
                scores.clear()  # one alert per spike; the history starts again
        return out
