"""Every limit of a node with its value and its current use: what ``risk status`` and the dashboard show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradingsystem.engine.kernel import Kernel


def limits_view(kernel: Kernel) -> list[dict[str, Any]]:
    """One row per limit: ``name``, ``value`` (0 = off), ``use`` now, and ``unit``."""
    cfg, bcfg, guard, risk = kernel.risk.config, kernel.guard.bcfg, kernel.guard, kernel.risk
    unit = "lots" if cfg.quantity_in_lots else "units"
    opens = list(kernel.cache.open_orders.values())
    ranges = kernel.worst_positions()
    worst_pos = max((max(-lo, hi) // kernel.instruments[s].lot if cfg.quantity_in_lots else max(-lo, hi)
                     for s, (lo, hi) in ranges.items()), default=0)
    biggest = max((o.quantity // kernel.instruments[o.symbol].lot if cfg.quantity_in_lots else o.quantity
                   for o in opens), default=0)
    equity = kernel.equity_brl()
    now = kernel.now()
    recent = sum(1 for t in risk._recent if t > now - 1_000_000_000)
    rejects = guard.breakers["reject_rate"].events
    adapter = guard.breakers["adapter_errors"].events

    def row(name: str, value: object, use: object, unit_: str) -> dict[str, Any]:
        return {"name": name, "value": str(value), "use": str(use), "unit": unit_}

    return [
        row("max_order_qty", cfg.max_order_qty, biggest, unit),
        row("max_position", cfg.max_position, worst_pos, unit + " (with working orders)"),
        row("max_gross_exposure_brl", cfg.max_gross_exposure_brl,
            f"{kernel.worst_gross_brl('', 0, 0):.2f}", "BRL (with working orders)"),
        row("max_working_orders", cfg.max_working_orders, len(opens), "orders"),
        row("max_orders_per_second", cfg.max_orders_per_second, recent, "orders in the last second"),
        row("price_band_pct", cfg.price_band_pct, "", "% from the last trade (20% always applies)"),
        row("daily_loss_limit_brl", cfg.daily_loss_limit_brl,
            f"{max(guard.day_start_equity - equity, Decimal(0)):.2f}", "BRL lost today"),
        row("max_drawdown_brl", cfg.max_drawdown_brl, f"{max(guard.peak_equity - equity, Decimal(0)):.2f}",
            "BRL below today's peak"),
        row("stale_data_seconds", bcfg.stale_data_seconds, guard.breakers["stale_data"].state, "s without data"),
        row("max_rejects", bcfg.max_rejects, len(rejects), f"venue rejects in {bcfg.reject_window_seconds:g}s"),
        row("max_adapter_errors", bcfg.max_adapter_errors, len(adapter),
            f"adapter errors in {bcfg.adapter_window_seconds:g}s"),
        row("flatten_before_close_minutes", cfg.flatten_before_close_minutes, "", "minutes before the close"),
        row("reconcile_action", bcfg.reconcile_action.value, "latched" if guard.breach.startswith("reconcile") else "",
            "state a restart enters when the venue or broker and the state store differ"),
    ]
