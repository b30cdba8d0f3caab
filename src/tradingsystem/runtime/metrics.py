"""Prometheus text exposition of a running node: event counts, queue depths, latency, P&L, risk state.

Counters end in ``_total``; rates come from Prometheus (``rate(tradingsystem_market_events_total[1m])``).
Extra sources (the Redis link, ...) add ``name -> value`` gauges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tradingsystem.engine.kernel import Kernel

__all__ = ["MetricSource", "render_metrics"]

MetricSource = Callable[[], dict[str, float]]
_STATES = ("ACTIVE", "REDUCING", "HALTED")


def _line(out: list[str], name: str, value: Any, kind: str, help_: str, labels: str = "") -> None:
    out.append(f"# HELP {name} {help_}")
    out.append(f"# TYPE {name} {kind}")
    out.append(f"{name}{labels} {float(value):g}")


def render_metrics(kernel: Kernel, sources: Iterable[MetricSource] = (), response_s: float | None = None) -> str:
    """The node's metrics in Prometheus text format (call on the engine thread for a consistent view)."""
    out: list[str] = []
    pf = kernel.portfolio
    out.append("# HELP tradingsystem_market_events_total Market data events handled by the engine.")
    out.append("# TYPE tradingsystem_market_events_total counter")
    out.append(f'tradingsystem_market_events_total{{kind="trade"}} {kernel.data.trades_seen}')
    out.append(f'tradingsystem_market_events_total{{kind="book"}} {kernel.data.book_events}')
    _line(out, "tradingsystem_orders_submitted_total", kernel.orders.submitted, "counter", "Orders sent to the venue.")
    _line(out, "tradingsystem_fills_total", kernel.orders.fills, "counter", "Fills received.")
    _line(out, "tradingsystem_risk_denials_total", kernel.risk.denials, "counter", "Orders denied by risk.")
    _line(out, "tradingsystem_working_orders", len(kernel.cache.open_orders), "gauge", "Orders working now.")
    _line(out, "tradingsystem_inbox_depth", len(kernel._inbox), "gauge",
          "Calls from other threads waiting for the engine thread.")
    _line(out, "tradingsystem_event_time_seconds", kernel.clock.now() / 1e9, "gauge",
          "The engine's clock (event time, UTC seconds).")
    if response_s is not None:
        _line(out, "tradingsystem_engine_response_seconds", response_s, "gauge",
              "Time the engine thread took to answer this scrape (loop latency).")
    _line(out, "tradingsystem_realized_pnl_brl", pf.realized_brl(), "gauge", "Realized P&L, BRL.")
    _line(out, "tradingsystem_unrealized_pnl_brl", pf.unrealized_brl(), "gauge", "Unrealized P&L, BRL.")
    _line(out, "tradingsystem_fees_brl", pf.fees_brl(), "gauge", "Fees paid, BRL.")
    _line(out, "tradingsystem_gross_exposure_brl", kernel.gross_exposure_brl(), "gauge", "Gross exposure, BRL.")
    out.append("# HELP tradingsystem_position Net position by instrument (contracts or shares).")
    out.append("# TYPE tradingsystem_position gauge")
    for symbol, pos in sorted(pf.positions.items()):
        out.append(f'tradingsystem_position{{symbol="{symbol}"}} {pos.quantity}')
    state = kernel.risk.state.value
    out.append("# HELP tradingsystem_trading_state 1 for the current risk state.")
    out.append("# TYPE tradingsystem_trading_state gauge")
    for s in _STATES:
        out.append(f'tradingsystem_trading_state{{state="{s}"}} {1 if str(state).upper() == s else 0}')
    _line(out, "tradingsystem_kill_switch", 1 if kernel.guard.kill_switch else 0, "gauge", "1 while engaged.")
    for source in sources:
        for name, value in sorted(source().items()):
            _line(out, f"tradingsystem_{name}", value, "gauge", name.replace("_", " ") + ".")
    return "\n".join(out) + "\n"
