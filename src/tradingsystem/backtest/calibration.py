"""Fit the queue-aware venue's parameters from our own recorded orders and fills against the recorded book.

Per instrument and session phase (the phase the order was sent in):

* ``latency_ns``: the median time from sending a market order to its first fill (the fill's venue time);
* ``ack_latency_ns``: the median round trip from sending an order to the engine receiving the venue's first
  answer (``ts_ack`` of the state store's orders), less ``latency_ns``: the venue-to-engine leg;
* ``slippage_ticks``: with that latency, the recorded orders are resubmitted through the venue model
  (``shadow_compare``); the median of how much worse the live average price was than the model's, in
  ticks, never below 0 (the venue applies it where the book runs out or is missing, not to fills inside the
  recorded book: on a session with added latency, shadow's gap grows when it does; docs/backtesting.md);
* ``queue_factor``: the share of the recorded level assumed ahead of a resting limit order, the value
  of a small grid that best matches the live first-fill times of filled limit orders (kept when the
  session has no filled limit orders).

A parameter without samples (no market orders filled, no acknowledgement times kept) stays as configured.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tradingsystem.backtest.feeds import Event
from tradingsystem.backtest.queue_venue import QueueVenueConfig, VenueParams
from tradingsystem.backtest.shadow import RecordedFill, RecordedOrder, shadow_compare
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderType
from tradingsystem.domain.sessions import Phase, phase_at

__all__ = ["Calibration", "calibrate"]

QUEUE_FACTORS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Calibration:
    params: dict[tuple[str, int], VenueParams]
    samples: dict[tuple[str, int], int]  # market orders behind each latency fit

    def as_settings(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The ``venue.calibrated`` section of a backtest config."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for (symbol, phase), p in sorted(self.params.items()):
            out.setdefault(symbol, {})[Phase(phase).name.lower()] = {
                "latency_ms": round(p.latency_ns / 1e6, 3), "ack_latency_ms": round(p.ack_latency_ns / 1e6, 3),
                "slippage_ticks": p.slippage_ticks, "queue_factor": p.queue_factor}
        return out


def _phase(instruments: dict[str, Instrument], o: RecordedOrder) -> tuple[str, int]:
    return o.symbol, int(phase_at(instruments[o.symbol].asset_class, o.ts))


def calibrate(instruments: dict[str, Instrument], sources: Callable[[], Sequence[Iterable[Event]]],
              orders: Sequence[RecordedOrder], fills: Sequence[RecordedFill], base: QueueVenueConfig,
              fees: FeeSchedule | None = None) -> Calibration:
    """Fit per (symbol, phase) parameters; ``sources`` builds the session's market data afresh each call."""
    first: dict[str, int] = {}
    for f in fills:
        first[f.order_id] = min(first.get(f.order_id, f.ts), f.ts)
    groups: dict[tuple[str, int], list[RecordedOrder]] = {}
    for o in orders:
        groups.setdefault(_phase(instruments, o), []).append(o)
    params: dict[tuple[str, int], VenueParams] = {}
    samples: dict[tuple[str, int], int] = {}
    for key, group in sorted(groups.items()):
        p = base.params(*key)
        waits = [first[o.order_id] - o.ts for o in group if o.order_type == OrderType.MARKET and o.order_id in first]
        samples[key] = len(waits)
        if waits:
            p = p._replace(latency_ns=max(0, int(statistics.median(waits))))
        trips = [o.ts_ack - o.ts for o in group if o.ts_ack >= o.ts > 0]
        if trips:
            p = p._replace(ack_latency_ns=max(0, int(statistics.median(trips)) - p.latency_ns))
        params[key] = p

    def run(factor: float | None) -> list[dict[str, Any]]:
        cal = {k: (v if factor is None else v._replace(queue_factor=factor)) for k, v in params.items()}
        rows, _ = shadow_compare(instruments, sources(), orders, fills, replace(base, calibrated=cal), fees)
        return rows

    by_id = {o.order_id: o for o in orders}
    rows = run(None)
    worse: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        o = by_id[r["order_id"]]
        if o.order_type == OrderType.MARKET and r["price_diff_ticks"] is not None:
            sign = 1 if o.side == 1 else -1
            worse.setdefault(_phase(instruments, o), []).append(-sign * r["price_diff_ticks"])
    for key, diffs in worse.items():
        params[key] = params[key]._replace(slippage_ticks=max(0, round(statistics.median(diffs))))
    limits = [o for o in orders if o.order_type == OrderType.LIMIT and o.order_id in first]
    if limits:
        def err(factor: float) -> float:
            got = [r for r in run(factor) if r["order_id"] in {o.order_id for o in limits}]
            timed = [abs(r["time_diff_ms"]) for r in got if r["time_diff_ms"] is not None]
            missed = sum(1 for r in got if not r["predicted_qty"])
            return (sum(timed) / len(timed) if timed else 0.0) + 1e6 * missed
        best = min(QUEUE_FACTORS, key=err)
        for key in params:
            if any(_phase(instruments, o) == key for o in limits):
                params[key] = params[key]._replace(queue_factor=best)
    return Calibration(params, samples)
