"""Shadow backtest: compare a live session with its replay through the venue model.

Two ways in:

* ``shadow_compare``: resubmit the session's recorded orders at their send times against its market
  data (same kernel, risk off except lot and tick checks) and compare predicted and actual fills.
* ``compare_sessions``: the strategy itself was replayed (``tradingsystem shadow``); live and replayed
  orders are paired (same strategy, symbol, side and quantity, nearest send time within a window) and
  compared per order: filled in each, average price difference in ticks, first-fill time difference,
  P&L gap; the summary ranks the causes of the gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradingsystem.backtest.feeds import Event, MergedFeed
from tradingsystem.backtest.queue_venue import QueueVenue, QueueVenueConfig
from tradingsystem.backtest.results import FillRecorder
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderType, Side, TimeInForce
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.risk import RiskConfig

__all__ = ["RecordedFill", "RecordedOrder", "compare_sessions", "session_pnl", "shadow_compare"]


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
    strategy_id: str = ""
    ts_ack: int = 0  # when the engine received the venue's acknowledgement (0: not recorded)


@dataclass(frozen=True, slots=True)
class RecordedFill:
    order_id: str
    quantity: int
    price: int
    ts: int
    fee: Decimal = Decimal(0)


def shadow_compare(instruments: dict[str, Instrument], sources: Sequence[Iterable[Event]],
                   orders: Sequence[RecordedOrder], fills: Sequence[RecordedFill],
                   venue: QueueVenueConfig | None = None, fees: FeeSchedule | None = None
                   ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-order comparison rows and a summary (mean absolute price error in ticks, fill-rate match)."""
    risk = RiskConfig(check_session=False, max_order_qty=10**9, max_position=10**12)
    k = Kernel(instruments, risk=risk, fees=fees)
    v = QueueVenue(instruments, k.clock, k.data, venue or QueueVenueConfig(), books=k.cache, fees=fees)
    k.connect(MergedFeed(sources), v)
    for symbol in instruments:
        k.data.subscribe_book(symbol, v.on_book_delta)
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


def session_pnl(instruments: dict[str, Instrument], orders: Sequence[RecordedOrder], fills: Sequence[RecordedFill],
                marks: dict[str, int]) -> tuple[Decimal, Decimal]:
    """(gross P&L, fees) in BRL of a session's fills, open positions marked at ``marks`` (last prices)."""
    side = {o.order_id: (o.symbol, 1 if o.side == 1 else -1) for o in orders}
    cash = fees = Decimal(0)
    pos: dict[str, int] = {}
    for f in fills:
        if f.order_id not in side:
            continue
        symbol, sign = side[f.order_id]
        cash -= sign * f.quantity * f.price * instruments[symbol].brl_per_raw
        fees += f.fee
        pos[symbol] = pos.get(symbol, 0) + sign * f.quantity
    for symbol, q in pos.items():
        if q:
            cash += q * marks.get(symbol, 0) * instruments[symbol].brl_per_raw
    return cash, fees


def _pair(live: Sequence[RecordedOrder], replay: Sequence[RecordedOrder], window_ns: int
          ) -> list[tuple[RecordedOrder | None, RecordedOrder | None]]:
    """Pair orders of the same strategy, symbol, side and quantity, nearest send time within ``window_ns``."""
    free = sorted(replay, key=lambda o: (o.ts, o.order_id))
    used: set[str] = set()
    pairs: list[tuple[RecordedOrder | None, RecordedOrder | None]] = []
    for lo in sorted(live, key=lambda o: (o.ts, o.order_id)):
        best = None
        for ro in free:
            if ro.order_id in used or ro.ts > lo.ts + window_ns:
                continue
            if ro.ts < lo.ts - window_ns:
                continue
            if (ro.strategy_id, ro.symbol, ro.side, ro.quantity) != (lo.strategy_id, lo.symbol, lo.side, lo.quantity):
                continue
            if best is None or abs(ro.ts - lo.ts) < abs(best.ts - lo.ts):
                best = ro
        if best is not None:
            used.add(best.order_id)
        pairs.append((lo, best))
    pairs += [(None, ro) for ro in free if ro.order_id not in used]
    pairs.sort(key=lambda p: min(o.ts for o in p if o is not None))
    return pairs


def compare_sessions(instruments: dict[str, Instrument], live_orders: Sequence[RecordedOrder],
                     live_fills: Sequence[RecordedFill], replay_orders: Sequence[RecordedOrder],
                     replay_fills: Sequence[RecordedFill], marks: dict[str, int],
                     window_ns: int = 5 * 10**9) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-order rows (live vs replay) and a summary with the P&L gap and its largest causes.

    P&L is net of fees; ``gross_gap_brl`` leaves them out (fees are rounded to the cent per fill, and a venue
    that reports one fill per resting order it hits rounds more often than the model's one per level).
    """
    def by_order(fills: Sequence[RecordedFill]) -> dict[str, list[tuple[int, int, int]]]:
        out: dict[str, list[tuple[int, int, int]]] = {}
        for f in fills:
            out.setdefault(f.order_id, []).append((f.quantity, f.price, f.ts))
        return out

    lf, rf = by_order(live_fills), by_order(replay_fills)
    rows: list[dict[str, Any]] = []
    causes: dict[str, Decimal] = {}
    for lo, ro in _pair(live_orders, replay_orders, window_ns):
        o = lo or ro
        assert o is not None
        inst = instruments[o.symbol]
        sign = 1 if o.side == 1 else -1
        lq, lp, lt = _agg(lf.get(lo.order_id, [])) if lo else (0, 0, 0)
        rq, rp, rt = _agg(rf.get(ro.order_id, [])) if ro else (0, 0, 0)
        mark = marks.get(o.symbol, lp or rp)
        # what each side's fills are worth at the session's last price; the gap is replay minus live
        live_val = sign * lq * (mark - lp) if lq else 0
        rep_val = sign * rq * (mark - rp) if rq else 0
        gap = (Decimal(rep_val) - Decimal(live_val)) * inst.brl_per_raw
        if lo is None or ro is None:
            cause = "order only in replay" if lo is None else "order only live"
        elif bool(lq) != bool(rq) or lq != rq:
            cause = "fill quantity"
        elif lq and lp != rp:
            cause = "fill price"
        elif lq and lt != rt:
            cause = "fill time"
        else:
            cause = "match"
        causes[cause] = causes.get(cause, Decimal(0)) + abs(gap)
        rows.append({
            "live_order_id": lo.order_id if lo else "", "replay_order_id": ro.order_id if ro else "",
            "strategy_id": o.strategy_id, "symbol": o.symbol, "side": o.side, "quantity": o.quantity,
            "live_sent_ts": lo.ts if lo else None, "replay_sent_ts": ro.ts if ro else None,
            "live_filled": lq, "replay_filled": rq,
            "live_avg_price": str(inst.to_price(lp)) if lq else "", "replay_avg_price":
                str(inst.to_price(rp)) if rq else "",
            "price_diff_ticks": round(sign * (rp - lp) / inst.tick, 4) if lq and rq else None,
            "time_diff_ms": round((rt - lt) / 1e6, 3) if lq and rq else None,
            "pnl_gap_brl": str(gap), "cause": cause,
        })
    both = [r for r in rows if r["price_diff_ticks"] is not None]
    live_gross, live_fees = session_pnl(instruments, live_orders, live_fills, marks)
    rep_gross, rep_fees = session_pnl(instruments, replay_orders, replay_fills, marks)
    live_pnl, rep_pnl = live_gross - live_fees, rep_gross - rep_fees
    ranked = sorted(((c, v) for c, v in causes.items() if c != "match"), key=lambda cv: -cv[1])
    summary = {
        "orders_live": len(live_orders), "orders_replay": len(replay_orders),
        "paired": sum(1 for r in rows if r["live_order_id"] and r["replay_order_id"]),
        "matched": sum(1 for r in rows if r["cause"] == "match"),
        "filled_live": sum(1 for r in rows if r["live_filled"]),
        "filled_replay": sum(1 for r in rows if r["replay_filled"]),
        "fills_live": len(live_fills), "fills_replay": len(replay_fills),
        "mean_abs_price_diff_ticks": round(sum(abs(r["price_diff_ticks"]) for r in both) / len(both), 4)
        if both else None,
        "mean_abs_time_diff_ms": round(sum(abs(r["time_diff_ms"]) for r in both) / len(both), 3) if both else None,
        "pnl_live_brl": str(live_pnl), "pnl_replay_brl": str(rep_pnl), "pnl_gap_brl": str(rep_pnl - live_pnl),
        "gross_gap_brl": str(rep_gross - live_gross), "fees_live_brl": str(live_fees),
        "fees_replay_brl": str(rep_fees),
        "abs_order_gap_brl": str(sum((abs(Decimal(r["pnl_gap_brl"])) for r in rows), Decimal(0))),
        "causes": [{"cause": c, "abs_gap_brl": str(v), "orders": sum(1 for r in rows if r["cause"] == c)}
                   for c, v in ranked],
        "largest": sorted((r for r in rows if r["cause"] != "match"),
                          key=lambda r: -abs(Decimal(r["pnl_gap_brl"])))[:10],
    }
    return rows, summary
