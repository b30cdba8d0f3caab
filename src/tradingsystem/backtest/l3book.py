"""An order-level (L3) book rebuilt from B3 order messages, with queue positions.

Input rows are B3 order messages in the exchange's per-instrument sequence (``secondary_id``): the
``orders`` kind of the catalog (``tradingsystem data import b3-orders``, the OFER layout, and the ProfitDLL
offer book the recorder stores in the same columns). Each row is an order's state after the message: side,
limit price (0 for a market order), total quantity, quantity traded so far, priority time. ``New`` rests
what is left at the price with the priority time it carries; ``Update`` too, keeping the old priority
unless the price changes or the quantity grows; ``Trade`` takes the traded part out; ``Cancel`` removes
it. Orders first seen by an ``Update`` or ``Trade`` (resting before the file started) are added when they
first appear.

Queue position: orders at a level are served by priority time (``priority_ts``, then order number).
``ahead(side, price, priority)`` is the volume that would trade before an order of that priority;
the queue-aware venue uses it for resting orders when an L3 stream is replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradingsystem.domain.events import BookDelta

__all__ = ["L3Book", "L3Delta", "L3Order", "l3_events", "replay_messages"]

_NEW, _UPDATE, _TRADE, _CANCEL = "New", "Update", "Trade", "Cancel"


class L3Delta(BookDelta, frozen=True, gc=False):
    """A level change caused by one order: ``order_id`` now has ``order_qty`` at this level (0: it left).

    ``size``/``orders`` are the level's new totals as in any ``BookDelta``, so the engine's L2 book stays
    right; the queue-aware venue also reads the order fields to keep exact queue positions. ``member``: the
    broker (B3 member code, the ProfitDLL agent) where known.
    """

    order_id: int = 0
    order_qty: int = 0
    priority: int = 0
    member: int = 0


@dataclass(slots=True)
class L3Order:
    order_id: int
    side: int  # 1 bid, 2 ask
    price: int
    qty: int  # what is left resting
    priority: int  # priority time (ns); ties by order id


class L3Book:
    """Resting orders by id, grouped by (side, price)."""

    def __init__(self) -> None:
        self.orders: dict[int, L3Order] = {}
        self.levels: tuple[dict[int, dict[int, L3Order]], dict[int, dict[int, L3Order]]] = ({}, {})
        self.totals: tuple[dict[int, int], dict[int, int]] = ({}, {})

    # --- queries ----------------------------------------------------------------------------
    def best_bid(self) -> int | None:
        return max(self.totals[0]) if self.totals[0] else None

    def best_ask(self) -> int | None:
        return min(self.totals[1]) if self.totals[1] else None

    def crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid >= ask

    def level(self, side: int, price: int) -> int:
        return self.totals[side - 1].get(price, 0)

    def queue(self, side: int, price: int) -> list[L3Order]:
        """Orders at a level in the order they trade."""
        lvl = self.levels[side - 1].get(price, {})
        return sorted(lvl.values(), key=lambda o: (o.priority, o.order_id))

    def ahead(self, side: int, price: int, priority: int) -> int:
        """Volume at the level that trades before an order with this priority time."""
        lvl = self.levels[side - 1].get(price)
        if not lvl:
            return 0
        return sum(o.qty for o in lvl.values() if o.priority <= priority)

    # --- changes ----------------------------------------------------------------------------
    def remove(self, order_id: int) -> L3Order | None:
        o = self.orders.pop(order_id, None)
        if o is None:
            return None
        s = o.side - 1
        lvl = self.levels[s][o.price]
        del lvl[order_id]
        total = self.totals[s][o.price] - o.qty
        if lvl:
            self.totals[s][o.price] = total
        else:
            del self.levels[s][o.price]
            del self.totals[s][o.price]
        return o

    def put(self, order_id: int, side: int, price: int, qty: int, priority: int) -> None:
        """Rest ``qty`` of an order at ``price`` (replacing what it had)."""
        self.remove(order_id)
        o = L3Order(order_id, side, price, qty, priority)
        self.orders[order_id] = o
        s = side - 1
        self.levels[s].setdefault(price, {})[order_id] = o
        self.totals[s][price] = self.totals[s].get(price, 0) + qty

    def apply(self, exec_type: str, side: int, order_id: int, price: int, quantity: int, traded: int,
              priority: int) -> list[tuple[int, int]]:
        """Apply one message; return the (side, price) levels it changed."""
        before = self.orders.get(order_id)
        touched: list[tuple[int, int]] = []
        if before is not None:
            touched.append((before.side, before.price))
        left = quantity - traded
        if exec_type == _CANCEL or left <= 0 or price <= 0:
            self.remove(order_id)
        elif exec_type == _TRADE and before is not None:
            self.put(order_id, before.side, before.price, left, before.priority)
        else:  # New, Update, or a Trade of an order not seen before
            keep = exec_type != _NEW and before is not None and before.price == price and left <= before.qty
            self.put(order_id, side, price, left, before.priority if keep and before else priority)
        after = self.orders.get(order_id)
        if after is not None and (after.side, after.price) not in touched:
            touched.append((after.side, after.price))
        return touched


def _columns(cols: dict[str, Any]) -> dict[str, list[Any]]:
    order = np.argsort(np.asarray(cols["secondary_id"], dtype=np.int64), kind="stable")
    return {k: np.asarray(v)[order].tolist() for k, v in cols.items()}


def replay_messages(cols: dict[str, Any]) -> Iterator[tuple[int, L3Book, dict[str, Any]]]:
    """Apply order messages in exchange sequence; yield (index, book after the message, the message)."""
    c = _columns(cols)
    book = L3Book()
    names = list(c)
    for i, values in enumerate(zip(*c.values(), strict=True)):
        row = dict(zip(names, values, strict=True))
        book.apply(row["exec_type"], row["side"], row["order_id"], row["price"], row["quantity"], row["traded"],
                   row["priority_ts"])
        yield i, book, row


def l3_events(symbol: str, cols: dict[str, Any]) -> Iterator[L3Delta]:
    """Order messages (the catalog's ``orders`` columns) as ``L3Delta``s in exchange order.

    Event time is the message time made monotonic: the later of ``ts_event`` (whole seconds in the OFER
    layout) and ``priority_ts``, never earlier than the message before it.
    """
    c = _columns(cols)
    book = L3Book()
    seq = 0
    last_ts = 0
    members = c.get("member") or [0] * len(c["order_id"])
    for et, side, oid, price, qty, traded, prio, ts, member in zip(
            c["exec_type"], c["side"], c["order_id"], c["price"], c["quantity"], c["traded"], c["priority_ts"],
            c["ts_event"], members, strict=True):
        last_ts = max(last_ts, ts, prio)
        for s, px in book.apply(et, side, oid, price, qty, traded, prio):
            o = book.orders.get(oid)
            here = o is not None and o.side == s and o.price == px
            total = book.level(s, px)
            seq += 1
            yield L3Delta(symbol, s, px, total, 0 if total else 1, seq, last_ts, last_ts,
                          len(book.levels[s - 1].get(px, {})), oid, o.qty if here and o else 0,
                          o.priority if here and o else prio, member)
