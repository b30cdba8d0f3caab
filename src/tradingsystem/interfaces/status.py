"""The live status view of a running node, rendered with rich from the kernel's snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tradingsystem.domain.sessions import B3_TZ


def _local(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1e9, tz=B3_TZ).strftime("%Y-%m-%d %H:%M:%S")


def render(snapshot: dict[str, Any], title: str = "TradingSystem") -> Group:
    """Instruments with last price, position and P&L; working orders; run totals."""
    s = snapshot["summary"]
    head = Text.assemble(
        (f"{title}  ", "bold"), (f"market time {_local(snapshot['ts'])} BRT", "cyan"),
        f"   trades {s['trades_seen']:,}   orders {s['orders_submitted']:,}   fills {s['fills']:,}   "
        f"denials {s['risk_denials']:,}   ",
        (f"net P&L R$ {s['net_pnl_brl']}", "green" if not s["net_pnl_brl"].startswith("-") else "red"),
        f"  (fees R$ {s['fees_brl']})",
    )
    inst = Table(expand=False, show_edge=False, pad_edge=False)
    for col, justify in (("instrument", "left"), ("last", "right"), ("position", "right"), ("P&L R$", "right")):
        inst.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in snapshot["instruments"]:
        pnl = row["pnl_brl"]
        style = "red" if pnl.startswith("-") else ("green" if pnl not in ("0", "0.00") else "")
        inst.add_row(row["symbol"], row["last"], str(row["position"]), Text(pnl, style=style))
    orders = Table(title="working orders", title_justify="left", expand=False, show_edge=False, pad_edge=False)
    for col in ("id", "instrument", "side", "qty", "filled", "type", "status"):
        orders.add_column(col)
    for o in snapshot["working_orders"]:
        orders.add_row(o["order_id"], o["symbol"], o["side"], str(o["qty"]), str(o["filled"]), o["type"], o["status"])
    if not snapshot["working_orders"]:
        orders.add_row("-", "", "", "", "", "", "")
    risk = snapshot.get("risk", {})
    state = risk.get("state", "ACTIVE")
    limit = risk.get("daily_loss_limit_brl", "0")
    line = Text.assemble(
        ("trading ", "bold"), (state, {"ACTIVE": "green", "REDUCING": "yellow"}.get(state, "bold red")),
        (f": {risk['reason']}" if risk.get("reason") else "", "red" if state != "ACTIVE" else ""),
        f"   day P&L R$ {risk.get('day_pnl_brl', '0')}"
        + (f" (loss limit R$ {limit})" if limit not in ("0", "") else ""),
    )
    return Group(head, line, inst, orders, Text("Ctrl-C stops the node", style="dim"))
