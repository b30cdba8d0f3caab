"""Shadow backtest: replay a recorded session's orders against the venue model and compare fills.

Give it the market data of the session, the orders that were sent (with their send times) and the fills
that really happened. Each order is resubmitted at its recorded time through the same kernel (risk off
except lot and tick checks) and the fill model's predicted fills are compared with the actual ones,
per order: quantity, average price (in ticks) and time of the first fill.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tradingsystem.backtest.feeds import Event, MergedFeed
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig
from tradingsystem.backtest.results import FillRecorder
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderType, Side, TimeInForce
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig

__all__ = ["RecordedFill", "RecordedOrder", "shadow_compare"]


@dataclass(frozen=True, slots=True)
class RecordedOrder:
    order_id: str
    symbol: str
    side: int  # 1 buy, 2 sell
    order_type: int
    quantity: int
    price: int
    ts: int  # when it was sent
    trigger_price: int = 0
    tif: int = 1


@dataclass(frozen=True, slots=True)
class RecordedFill:
    order_id: str
    quantity: int
    price: int
    ts: int


def shadow_compare(instruments: dict[str, Instrument], sources: Sequence[Iterable[Event]],
                   orders: Sequence[RecordedOrder], fills: Sequence[RecordedFill],
                   venue: QueueVenueConfig | None = None, fees: FeeSchedule | None = None
                   ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-order comparison rows and a summary (mean absolute price error in ticks, fill-rate match)."""
    risk = RiskConfig(check_session=False, max_order_qty=10**9, max_position=10**12)
    k = Kernel(instruments, risk=risk, fees=fees)
    v = QueueVenue(instruments, k.clock, k.data, venue or QueueVenueConfig(), books=k.cache, fees=fees)
    k.connect(MergedFeed(sources), v)
    ids: dict[str, str] = {}
    for rec in sorted(orders, key=lambda o: (o.ts, o.order_id)):
        def send(_ts: int, rec: RecordedOrder = rec) -> None:
            order = k.orders.new_order(rec.symbol, Side(rec.side), rec.quantity, OrderType(rec.order_type),
                                       rec.price, rec.trigger_price, TimeInForce(rec.tif), "shadow")
            ids[order.order_id] = rec.order_id
            k.orders.submit(order)
        k.clock.schedule(rec.ts, send)
    recorder = FillRecorder()
    k.orders.add_listener(recorder)
    k.run()
    k.clock.advance_to(k.clock.now())
    predicted: dict[str, list[tuple[int, int, int]]] = {}
    for f in recorder.fills:
        predicted.setdefault(ids[f.order_id], []).append((f.quantity, f.price, f.ts))
    actual: dict[str, list[tuple[int, int, int]]] = {}
    for a in fills:
        actual.setdefault(a.order_id, []).append((a.quantity, a.price, a.ts))
    rows: list[dict[str, Any]] = []
    for rec in sorted(orders, key=lambda o: (o.ts, o.order_id)):
        inst = instruments[rec.symbol]
        aq, ap, at = _agg(actual.get(rec.order_id, []))
        pq, pp, pt = _agg(predicted.get(rec.order_id, []))
        rows.append({
            "order_id": rec.order_id, "symbol": rec.symbol, "side": rec.side, "quantity": rec.quantity,
            "actual_qty": aq, "predicted_qty": pq, "qty_diff": pq - aq,
            "actual_avg_price": str(inst.to_price(ap)) if aq else "", "predicted_avg_price":
                str(inst.to_price(pp)) if pq else "",
            "price_diff_ticks": round((pp - ap) / inst.tick, 4) if aq and pq else None,
            "actual_first_ts": at, "predicted_first_ts": pt,
            "time_diff_ms": round((pt - at) / 1e6, 3) if aq and pq else None,
        })
    both = [r for r in rows if r["price_diff_ticks"] is not None]
    summary = {
        "orders": len(rows),
        "filled_actual": sum(1 for r in rows if r["actual_qty"]),
        "filled_predicted": sum(1 for r in rows if r["predicted_qty"]),
        "qty_match": sum(1 for r in rows if r["qty_diff"] == 0),
        "mean_abs_price_diff_ticks": round(sum(abs(r["price_diff_ticks"]) for r in both) / len(both), 4)
        if both else None,
        "mean_abs_time_diff_ms": round(sum(abs(r["time_diff_ms"]) for r in both) / len(both), 3) if both else None,
    }
    return rows, summary


def _agg(fills: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """(total qty, average price rounded to raw units, first fill ts)."""
    if not fills:
        return 0, 0, 0
    q = sum(f[0] for f in fills)
    return q, round(sum(f[0] * f[1] for f in fills) / q), min(f[2] for f in fills)
