"""Restart reconciliation with a broker (``engine/reconcile.py``), for any store and any broker listing: after
``restore`` the positions are the broker's, the working orders are exactly the broker's working orders (ours
under our ids, the rest adopted), nothing is sent, and a broker that agrees with the store raises nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.helpers import weekdays
from tradingsystem.domain import b3
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderStatus, Side
from tradingsystem.domain.records import FillRecord, OrderRecord, RiskStateRecord
from tradingsystem.engine.kernel import Kernel
from tradingsystem.engine.state import StateKeeper, restore

SYMBOLS = ("WINZ26", "WDOZ26")
PRICE = {"WINZ26": 120000, "WDOZ26": 50000}


@dataclass(frozen=True)
class Listed:
    order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    quantity: int
    filled: int
    price: int
    avg_price: int
    state: str


@dataclass
class Broker:
    orders: list[Listed]
    positions: dict[str, tuple[int, int]]
    adopted: dict[str, str] = field(default_factory=dict)

    def broker_orders(self) -> list[Listed]:
        return self.orders

    def broker_positions(self) -> dict[str, tuple[int, int]]:
        return self.positions

    def adopt(self, order_id: str, broker_order_id: str) -> None:
        self.adopted[broker_order_id] = order_id

    def instrument(self, symbol: str) -> Instrument:
        return b3.instrument(symbol, weekdays)


class Store:
    """The state store's read side, in memory (what ``restore`` reads and the adoption writes)."""

    def __init__(self, orders: list[OrderRecord], fills: list[FillRecord]) -> None:
        self.orders, self.fills = orders, fills

    def load_orders(self, open_only: bool = False) -> list[OrderRecord]:
        return list(self.orders)

    def load_fills(self, since_ts: int = 0) -> list[FillRecord]:
        return list(self.fills)

    def load_risk_state(self) -> RiskStateRecord | None:
        return None

    def save_order(self, record: OrderRecord) -> None:
        self.orders = [r for r in self.orders if r.order_id != record.order_id] + [record]

    def save_fill(self, record: FillRecord) -> None:
        self.fills.append(record)

    def save_risk_state(self, record: RiskStateRecord) -> None:
        pass

    def save_audit(self, records: list) -> None:
        pass

    def flush(self) -> None:
        pass


_order = st.fixed_dictionaries({
    "symbol": st.sampled_from(SYMBOLS), "side": st.sampled_from([Side.BUY, Side.SELL]),
    "qty": st.integers(1, 5), "stored_fill": st.integers(0, 5), "more": st.integers(0, 5),
    "acked": st.booleans(), "listed": st.booleans(), "closed_here": st.booleans(),
    "state": st.sampled_from(["open", "open", "filled", "cancelled", "rejected", "expired"]),
})
_foreign = st.fixed_dictionaries({"symbol": st.sampled_from(SYMBOLS), "qty": st.integers(1, 4),
                                  "filled": st.integers(0, 3), "side": st.sampled_from([Side.BUY, Side.SELL])})


def _case(ours: list[dict], foreign: list[dict], extra: dict[str, int]) -> tuple[Store, Broker, bool]:
    """A store of orders (some never acknowledged, some closed here) and a broker that filled some of them further,
    ended some, never got some, and holds orders and positions of its own."""
    records, fills, listed = [], [], []
    signed = dict.fromkeys(SYMBOLS, 0)
    differ = bool(foreign) or any(extra.values()) or \
        any(o["acked"] and not o["closed_here"] and not o["listed"] for o in ours)
    for i, spec in enumerate(ours):
        sym, side, qty, acked = spec["symbol"], spec["side"], spec["qty"], spec["acked"]
        stored = min(spec["stored_fill"], qty - 1) if acked else 0
        status = OrderStatus.SUBMITTED if not acked else OrderStatus.CANCELLED if spec["closed_here"] else \
            OrderStatus.PARTIALLY_FILLED if stored else OrderStatus.ACCEPTED
        vid = f"CL{i}" if acked else ""
        records.append(OrderRecord(f"R1-{i + 1}", sym, int(side), 2, qty, PRICE[sym], 0, 1, "s", int(status), 0, 0,
                                   vid, i, i))
        if stored:
            fills.append(FillRecord(f"f{i}", f"R1-{i + 1}", sym, int(side), stored, PRICE[sym], Decimal("0.5"), i,
                                    "s", 0, vid))
        filled = stored
        if spec["listed"]:
            state = spec["state"]
            filled = qty if state == "filled" else min(qty, stored + spec["more"])
            state = "filled" if filled == qty else state
            listed.append(Listed(f"profit-{i}", f"CL{i}", sym, side, qty, filled, PRICE[sym], PRICE[sym], state))
            if acked and spec["closed_here"] and (state == "open" or filled != stored):
                differ = True  # closed here (by an earlier restart), yet working or filled further there
        signed[sym] += (1 if side is Side.BUY else -1) * filled
    for j, spec in enumerate(foreign):
        filled = min(spec["filled"], spec["qty"] - 1)
        px = PRICE[spec["symbol"]] - 500  # not one of ours unacknowledged (same symbol, side, size and price)
        listed.append(Listed(f"profit-9{j}", f"CLX{j}", spec["symbol"], spec["side"], spec["qty"], filled, px, px,
                             "open"))
        signed[spec["symbol"]] += (1 if spec["side"] is Side.BUY else -1) * filled
    positions = {s: (q + extra.get(s, 0), PRICE[s]) for s, q in signed.items() if q + extra.get(s, 0)}
    return Store(records, fills), Broker(listed, positions), differ


@settings(max_examples=1000, deadline=None)
@given(st.lists(_order, max_size=6), st.lists(_foreign, max_size=3),
       st.dictionaries(st.sampled_from(SYMBOLS), st.integers(-4, 4)))
def test_after_restore_the_node_holds_what_the_broker_holds(ours, foreign, extra) -> None:
    store, broker, differ = _case(ours, foreign, extra)
    kernel = Kernel({"WINZ26": b3.instrument("WINZ26", weekdays)}, is_session=weekdays)
    StateKeeper(kernel, store, run_id="R2")  # what the reconciliation does is stored
    report = restore(kernel, store, broker)
    for sym in SYMBOLS:
        assert kernel.portfolio.quantity(sym) == broker.positions.get(sym, (0, 0))[0]
    working_at_broker = {broker.adopted.get(b.order_id, b.order_id) for b in broker.orders if b.state == "open"}
    assert set(kernel.cache.open_orders) == working_at_broker
    assert kernel.orders.submitted == 0  # nothing sent
    assert report.broker is not None
    assert bool(report.broker.mismatches) == differ
    assert kernel.risk.state.value == ("REDUCING" if differ else "ACTIVE")
    assert any(a.kind == "reconcile" for a in kernel.alerts) == differ
    # A second restart against the same broker finds the store and the broker in agreement.
    again = Kernel({"WINZ26": b3.instrument("WINZ26", weekdays)}, is_session=weekdays)
    second = restore(again, store, Broker(broker.orders, broker.positions))
    assert second.broker is not None and second.broker.mismatches == []
    assert {s: again.portfolio.quantity(s) for s in SYMBOLS} == {s: kernel.portfolio.quantity(s) for s in SYMBOLS}
    assert len(again.cache.open_orders) == len(working_at_broker)
