"""Keeping engine state durable and getting it back after a restart.

:class:`StateKeeper` listens to order events, risk decisions and risk-state changes and hands
records to a ``StateStore`` (which writes on its own thread). :func:`restore` rebuilds orders,
positions, futures settlements and the risk state from the store, then reconciles with the venue: fills
the venue made while we were down are applied, orders the venue never saw are closed as lost, nothing is
resent. A broker that lists its orders and positions (ProfitDLL) is reconciled by
:mod:`tradingsystem.engine.reconcile`: its orders and positions are adopted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from tradingsystem.domain.commands import OrderEvent, SubmitOrder
from tradingsystem.domain.orders import Order, OrderEventKind, OrderStatus, OrderType, Side, TimeInForce
from tradingsystem.domain.records import AuditRecord, FillRecord, ManualActionRecord, OrderRecord, RiskStateRecord
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.portfolio import Ajuste
from tradingsystem.engine.reconcile import (
    BROKER,
    BrokerReport,
    BrokerState,
    ensure_instrument,
    reconcile_broker,
)
from tradingsystem.engine.risk import Decision
from tradingsystem.ports.protocols import StateStore

_FILLED = int(OrderEventKind.FILLED)
SETTLE_KEY = "settle:"  # risk-state breakers entries "settle:SYMBOL" -> "DAY TS QTY PRICE" (last settlement)
_ACKS = (int(OrderEventKind.ACCEPTED), int(OrderEventKind.REJECTED), _FILLED)  # the venue's first answer


class StateKeeper:
    """Writes every order change, fill, risk decision and risk state to the store."""

    def __init__(self, kernel: Kernel, store: StateStore, audit_batch: int = 256, run_id: str | None = None) -> None:
        self.kernel = kernel
        self.store = store
        self.run_id = run_id or kernel.orders.id_prefix
        self._audit: list[AuditRecord] = []
        self._batch = audit_batch
        self._fill_seq: dict[str, int] = {}
        self._settled: dict[str, str] = {}
        self.keep_settlements(store.load_risk_state())  # a restarted node writes them on with every risk state
        self._acks: dict[str, int] = {}  # open order -> when the engine received its acknowledgement
        kernel.orders.add_listener(self.on_order_event)
        kernel.bus.subscribe("portfolio.ajuste", self.on_ajuste)
        kernel.risk.add_audit_listener(self.on_decision)
        kernel.bus.subscribe("risk.state", self.on_risk_state)
        kernel.bus.subscribe("manual.action", self.on_manual_action)
        if hasattr(store, "on_conflict"):  # a store that finds a fill stored with other content: halt
            store.on_conflict = self._on_conflict

    def _on_conflict(self, exc: Exception) -> None:
        """From the store's writer thread: the positions the store holds are wrong; stop trading."""
        def halt() -> None:
            self.kernel.guard.kill(f"state store: {exc}")

        self.kernel.call_soon_threadsafe(halt)

    def on_order_event(self, order: Order, event: OrderEvent) -> None:
        ack = self._acks.get(order.order_id, 0)
        if not ack and event.kind in _ACKS:
            ack = self._acks[order.order_id] = self.kernel.clock.now()
        self.store.save_order(OrderRecord.of(order, ts_ack=ack))
        if ack and order.is_closed:
            del self._acks[order.order_id]
        if event.kind == _FILLED:
            seq = self._fill_seq.get(order.order_id, 0) + 1
            self._fill_seq[order.order_id] = seq
            # Unique across runs: a restarted simulated venue numbers its orders and trades from 1 again.
            fill_id = f"{self.run_id}:{order.venue_order_id or order.order_id}:{event.trade_id or seq}"
            self.store.save_fill(FillRecord(fill_id, order.order_id, order.symbol, int(order.side), event.fill_qty,
                                            event.fill_price, event.fee, event.ts_event, order.strategy_id,
                                            event.liquidity, order.venue_order_id))
            if order.is_closed:
                self._fill_seq.pop(order.order_id, None)

    def on_decision(self, d: Decision) -> None:
        self._audit.append(AuditRecord(d.ts, d.order_id, d.rule, d.value, d.limit, d.passed, d.detail))
        if len(self._audit) >= self._batch:
            self.flush_audit()

    def on_risk_state(self, record: RiskStateRecord) -> None:
        """Risk-state changes are rare and must survive a crash (a kill switch above all): write through."""
        self.flush_audit()
        self.store.save_risk_state(self._with_settlements(record))
        self.store.flush()

    def on_ajuste(self, ajuste: Ajuste) -> None:
        """A futures settlement: kept with the risk state (written through) so a position carried overnight
        settles tomorrow against today's price after a restart."""
        self._settled[SETTLE_KEY + ajuste.symbol] = f"{ajuste.day} {self.kernel.clock.now()} {ajuste.quantity} " \
                                                    f"{ajuste.settlement_price}"
        self.on_risk_state(self.kernel.guard.record(self.kernel.clock.now()))

    def _with_settlements(self, record: RiskStateRecord) -> RiskStateRecord:
        if not self._settled:
            return record
        return msgspec.structs.replace(record, breakers={**record.breakers, **self._settled})

    def on_manual_action(self, record: ManualActionRecord) -> None:
        """A person's action: rare, and wanted after a crash: write through."""
        self.store.save_manual_action(record)
        self.store.flush()

    def flush_audit(self) -> None:
        if self._audit:
            batch, self._audit = self._audit, []
            self.store.save_audit(batch)

    def flush(self) -> None:
        self.flush_audit()
        self.store.save_risk_state(self._with_settlements(self.kernel.guard.record(self.kernel.clock.now())))
        self.store.flush()

    def keep_settlements(self, record: RiskStateRecord | None) -> None:
        """Carry the settlements of ``record`` on."""
        if record is not None:
            self._settled.update({k: v for k, v in record.breakers.items() if k.startswith(SETTLE_KEY)})


class VenueState(Protocol):
    """What a venue tells us on reconnect: the orders it received, which still work, and its fills."""

    def known_orders(self) -> list[SubmitOrder]: ...

    def open_order_ids(self) -> set[str]: ...

    def fills_since(self, ts: int) -> list[OrderEvent]: ...


@dataclass
class RestoreReport:
    orders_loaded: int = 0
    open_orders: int = 0
    fills_replayed: int = 0
    fills_recovered: int = 0
    orders_lost: list[str] = field(default_factory=list)
    orders_vanished: list[str] = field(default_factory=list)  # of orders_lost: accepted, unknown to the venue
    kill_switch: bool = False
    positions: dict[str, int] = field(default_factory=dict)
    settlements: dict[str, int] = field(default_factory=dict)  # symbol -> settlement price a carried position uses
    broker: BrokerReport | None = None  # a broker's reconciliation (ProfitDLL)


def _order_from(r: OrderRecord) -> Order:
    o = Order(r.order_id, r.symbol, Side(r.side), OrderType(r.order_type), r.quantity, r.price, r.trigger_price,
              TimeInForce(r.tif), r.strategy_id, r.ts_init, tuple(r.tags))
    o.status = OrderStatus(r.status)
    o.filled_qty, o.filled_cost = 0, 0  # fills are replayed below
    o.venue_order_id, o.ts_last, o.reason = r.venue_order_id, r.ts_last, r.reason
    return o


def _settlements(record: RiskStateRecord | None) -> dict[str, tuple[str, int, int, int]]:
    """symbol -> (day, ts, quantity, price) of its last stored settlement."""
    out = {}
    for key, value in (record.breakers if record else {}).items():
        if key.startswith(SETTLE_KEY):
            day, ts, qty, price = value.split()
            out[key[len(SETTLE_KEY):]] = (day, int(ts), int(qty), int(price))
    return out


def _replay(kernel: Kernel, fills: list[FillRecord], orders: dict[str, Order], record: RiskStateRecord | None,
            report: RestoreReport) -> None:
    """Apply the stored fills in time order; at each symbol's last stored settlement, settle it again, so a
    position carried overnight is marked from that settlement price, as the day it was settled."""
    due = sorted((ts, day, sym, price) for sym, (day, ts, _q, price) in _settlements(record).items()
                 if kernel.instruments.get(sym) is not None and kernel.instruments[sym].is_future)
    for f in sorted(fills, key=lambda f: f.ts):
        while due and due[0][0] < f.ts:
            _settle_again(kernel, due.pop(0), report)
        order = orders.get(f.order_id)
        kernel.portfolio.apply_fill(f.symbol, f.strategy_id, 1 if f.side == 1 else -1, f.quantity, f.price, f.fee)
        if order is not None:
            order.filled_qty += f.quantity
            order.filled_cost += f.quantity * f.price
        report.fills_replayed += 1
    for item in due:
        _settle_again(kernel, item, report)


def _settle_again(kernel: Kernel, item: tuple[int, str, str, int], report: RestoreReport) -> None:
    _ts, day, symbol, price = item
    kernel.portfolio.settle(day, {symbol: price})
    report.settlements[symbol] = price


def restore(kernel: Kernel, store: StateStore, venue: VenueState | BrokerState | None = None) -> RestoreReport:
    """Rebuild the kernel's orders, positions and risk state from ``store``, then reconcile with ``venue``."""
    report = RestoreReport()
    records = store.load_orders()
    orders = {r.order_id: _order_from(r) for r in records}
    report.orders_loaded = len(orders)
    fills = store.load_fills()
    risk_state = store.load_risk_state()
    if isinstance(venue, BrokerState):  # positions adopted from the broker in a symbol the node does not trade
        for sym in sorted({f.symbol for f in fills} | {o.symbol for o in orders.values()}):
            ensure_instrument(kernel, venue, sym)
    _replay(kernel, fills, orders, risk_state, report)
    listed = venue.broker_orders() if isinstance(venue, BrokerState) else []
    top = 0
    for o in orders.values():
        n = o.order_id.rsplit("-", 1)[-1]
        if n.isdigit() and o.strategy_id != BROKER:  # "profit-<local id>": the broker's numbering
            top = max(top, int(n))
        if o.is_open:
            kernel.cache.add_order(o)
            kernel.orders.track_pending(o)
        else:
            kernel.cache.closed_orders.append(o)
    kernel.orders.reserve_ids(top)
    kernel.guard.restore(risk_state)
    report.kill_switch = kernel.guard.kill_switch
    if isinstance(venue, BrokerState):
        report.broker = b = reconcile_broker(kernel, venue, listed, orders)
        report.fills_recovered, report.orders_lost = b.fills_recovered, b.orders_lost
        for oid in b.orders_adopted:  # stored now, so the next restart knows them
            adopted = kernel.cache.order(oid)
            if adopted is not None:
                store.save_order(OrderRecord.of(adopted))
        if b.mismatches:
            kernel.guard.restore_mismatch(f"after restart the broker and the state store differ: "
                                          f"{'; '.join(b.mismatches[:5])}"
                                          + (f" (and {len(b.mismatches) - 5} more)" if len(b.mismatches) > 5 else ""))
    elif venue is not None:
        _reconcile(kernel, venue, fills, report)
        if report.orders_vanished:  # acknowledged by the venue, gone from it, no fill to explain it
            kernel.guard.restore_mismatch(
                f"after restart {len(report.orders_vanished)} orders the venue had accepted are not working there "
                f"({', '.join(report.orders_vanished[:5])}): closed here, not resent; check the venue")
    report.open_orders = len(kernel.cache.open_orders)
    report.positions = {s: p.quantity for s, p in kernel.portfolio.positions.items() if p.quantity}
    return report


def _reconcile(kernel: Kernel, venue: VenueState, known: Iterable[FillRecord], report: RestoreReport) -> None:
    om, cache = kernel.orders, kernel.cache
    # Orders the venue received that our store never saw (we died before writing them): adopt them.
    top = 0
    known_ids = set()
    for cmd in venue.known_orders():
        known_ids.add(cmd.order_id)
        if cache.order(cmd.order_id) is None:
            o = Order(cmd.order_id, cmd.symbol, Side(cmd.side), OrderType(cmd.order_type), cmd.quantity, cmd.price,
                      cmd.trigger_price, TimeInForce(cmd.tif), cmd.strategy_id, cmd.ts_init)
            o.status = OrderStatus.SUBMITTED
            cache.add_order(o)
            om.track_pending(o)
            report.orders_loaded += 1
        n = cmd.order_id.rsplit("-", 1)[-1]
        if n.isdigit():
            top = max(top, int(n))
    om.reserve_ids(top)
    seen = {(f.order_id, f.ts, f.quantity, f.price) for f in known}
    for event in venue.fills_since(0):
        if (event.order_id, event.ts_event, event.fill_qty, event.fill_price) in seen:
            continue
        order = cache.order(event.order_id)
        if order is None or order.is_closed:
            continue
        if order.status is OrderStatus.SUBMITTED:
            om.on_order_event(OrderEvent(order.order_id, int(OrderEventKind.ACCEPTED), event.ts_event, order.symbol))
        om.on_order_event(event)
        report.fills_recovered += 1
    working = venue.open_order_ids()
    for order in list(cache.open_orders.values()):
        if order.order_id in working:
            if order.status is OrderStatus.SUBMITTED:
                om.on_order_event(OrderEvent(order.order_id, int(OrderEventKind.ACCEPTED), kernel.clock.now(),
                                             order.symbol))
            continue
        # The venue has no such working order: it never arrived, or it ended while we were down.
        # Close it here; never resend.
        kind = OrderEventKind.REJECTED if order.status is OrderStatus.SUBMITTED else OrderEventKind.CANCELLED
        if kind is OrderEventKind.CANCELLED and order.order_id not in known_ids:
            report.orders_vanished.append(order.order_id)  # accepted, yet the venue has no record of it
        om.on_order_event(OrderEvent(order.order_id, int(kind), kernel.clock.now(), order.symbol,
                                     reason="not working at the venue after restart"))
        report.orders_lost.append(order.order_id)


def restored_summary(kernel: Kernel, report: RestoreReport) -> dict[str, object]:
    """What a restart found, JSON-ready: the run summary's ``restored``."""
    pf = kernel.portfolio
    out: dict[str, object] = {
        "orders_loaded": report.orders_loaded, "open_orders": report.open_orders,
        "fills_replayed": report.fills_replayed, "fills_recovered": report.fills_recovered,
        "orders_lost": len(report.orders_lost), "positions": dict(sorted(report.positions.items())),
        "working": sorted(o.order_id for o in kernel.cache.open_orders.values()),
        "realized_pnl_brl": str(pf.realized_brl()), "fees_brl": str(pf.fees_brl()),
        "trading_state": kernel.risk.state.value, "kill_switch": kernel.guard.kill_switch,
        "day_start_equity_brl": str(kernel.guard.day_start_equity), "settlements": dict(report.settlements),
    }
    b = report.broker
    if b is not None:
        out["broker"] = {"listed": b.listed, "matched": b.matched, "positions": b.broker_positions,
                         "orders_adopted": b.orders_adopted,
                         "positions_adopted": b.positions_adopted, "mismatches": b.mismatches}
    return out
