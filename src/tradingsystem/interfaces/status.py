"""The live status view of a running node (rich), sized for an 80x24 terminal.

``status_snapshot(kernel)`` reads what the view needs on the engine thread (it runs as the kernel's idle
hook): the kernel's snapshot plus risk state, session phase per instrument and the latest alerts.
``render`` draws it: risk state first (HALTED in red with its reason and how to resume; instruments a manual
trade took from the strategies), then instruments
with their phase (why a stock shows no price before 10:00), working orders and alerts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tradingsystem.domain.alerts import Severity
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.engine.kernel import Kernel
from tradingsystem.interfaces.phases import phase_label

__all__ = ["render", "status_snapshot"]

_ORDERS_SHOWN = 3
_ALERTS_SHOWN = 3
_STATE_STYLE = {"ACTIVE": "bold green", "REDUCING": "bold black on yellow", "HALTED": "bold white on red"}


def _local(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1e9, tz=B3_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _after_noon(ts: int) -> bool:
    return datetime.fromtimestamp(ts / 1e9, tz=B3_TZ).hour >= 12


def status_snapshot(kernel: Kernel) -> dict[str, Any]:
    """The kernel's snapshot with risk state, phases and recent alerts (call on the engine thread)."""
    snap = kernel.snapshot()
    ts = snap["ts"]
    for row in snap["instruments"]:
        row["phase"] = phase_label(kernel.risk.phase(row["symbol"], ts), _after_noon(ts))
    snap["risk"] = kernel.guard.status()
    snap["alerts"] = [{"ts": a.ts_event, "kind": a.kind, "severity": Severity(a.severity).name, "message": a.message}
                      for a in list(kernel.alerts)[-_ALERTS_SHOWN:]][::-1]
    snap["working_total"] = len(kernel.cache.open_orders)
    return snap


def _risk_line(risk: dict[str, Any]) -> Text:
    state = str(risk.get("trading_state", "?"))
    line = Text.assemble(("risk ", "bold"), (f" {state} ", _STATE_STYLE.get(state, "bold")))
    if risk.get("kill_switch"):
        line.append("  KILL SWITCH ", "bold white on red")
    tripped = [n for n, b in (risk.get("breakers") or {}).items() if b.get("state") not in (None, "CLOSED", "closed")]
    if tripped:
        line.append(f"  breakers tripped: {', '.join(tripped)}", "yellow")
    line.append(f"  day P&L R$ {risk.get('day_pnl_brl', '0')}  denials {risk.get('denials', 0)}")
    return line


def render(snapshot: dict[str, Any], title: str = "TradingSystem") -> Group:
    """Risk state, instruments (phase, last, position, P&L), working orders, alerts; fits 80x24."""
    s = snapshot["summary"]
    risk = snapshot.get("risk") or {"trading_state": s.get("trading_state", "?")}
    net = s["net_pnl_brl"]
    head = Text.assemble(
        (f"{title}  ", "bold"), (f"{_local(snapshot['ts'])} BRT", "cyan"),
        f"  fills {s['fills']:,}  ", ("net R$ " + net, "red" if net.startswith("-") else "green"),
        f"  fees R$ {s['fees_brl']}", no_wrap=True, overflow="ellipsis")
    parts: list[Any] = [head, _risk_line(risk)]
    if risk.get("trading_state") not in (None, "ACTIVE"):
        why = risk.get("kill_reason") or risk.get("reason") or "risk limit"
        parts.append(Text(f"no new orders: {why}. `tradingsystem risk reset` resumes trading",
                          style="bold red", no_wrap=True, overflow="ellipsis"))
    paused = [r["symbol"] for r in snapshot["instruments"] if r.get("paused")]  # why and by whom: the alert
    if paused:
        parts.append(Text(f"strategies paused on {', '.join(paused)}: `tradingsystem strategies resume`",
                          style="bold yellow", no_wrap=True, overflow="ellipsis"))
    inst = Table(box=None, expand=False, show_edge=False, pad_edge=False, padding=(0, 1))
    for col, justify in (("instrument", "left"), ("session", "left"), ("last", "right"), ("pos", "right"),
                         ("P&L R$", "right")):
        inst.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in snapshot["instruments"]:
        pnl = row["pnl_brl"]
        style = "red" if pnl.startswith("-") else ("green" if pnl not in ("0", "0.00") else "")
        phase = row.get("phase", "")
        inst.add_row(row["symbol"], Text(phase, style="" if phase == "continuous" else "yellow"),
                     row["last"] or "-", str(row["position"]), Text(pnl, style=style))
    parts.append(inst)
    working = snapshot["working_orders"]
    total = snapshot.get("working_total", len(working))
    orders = Text(f"working orders: {total}", style="bold")
    for o in working[:_ORDERS_SHOWN]:
        orders.append(f"\n  {o['order_id']} {o['symbol']} {o['side']} {o['qty']} {o['type'].lower()} "
                      f"{o['status'].lower()}", style="")
    if total > _ORDERS_SHOWN:
        orders.append(f"\n  ... {total - _ORDERS_SHOWN} more (dashboard or `tradingsystem orders`)", style="dim")
    parts.append(orders)
    alerts = snapshot.get("alerts") or []
    if alerts:
        text = Text("alerts:", style="bold")
        for a in alerts:
            colour = {"CRITICAL": "red", "WARNING": "yellow"}.get(a["severity"], "")
            text.append(f"\n  {_local(a['ts'])[11:]} {a['kind']}: {a['message']}"[:79], style=colour)
        parts.append(text)
    parts.append(Text("Ctrl-C stops the node", style="dim"))
    return Group(*parts)
