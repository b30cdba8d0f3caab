"""ProfitDLL order routing: implements ``ports.ExecutionClient``.

Commands become ``SendOrder``/``SendChangeOrderV2``/``SendCancelOrderV2``/``SendCancelAllOrdersV2``/
``SendZeroPositionV2`` calls; order callbacks (read with ``GetOrderDetails`` inside the callback) and
``TradingMessageResult`` messages come back through the session's order queue and are turned into
``OrderEvent``s on the engine thread: by ``next_ts``/``step``, ``drain_events``, or by the feed sharing
the session, whose ``next_ts`` delivers waiting order events first (so a kernel that polls only the feed
still sees them). Fills are the growth of the
traded quantity; their price comes from the change in average price. Cancel is idempotent.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from tradingsystem.adapters.profitdll import structs as s
from tradingsystem.adapters.profitdll.convert import LocalTime, price_to_raw, raw_to_float
from tradingsystem.adapters.profitdll.errors import ProfitDLLHalt, ProfitDLLInvalid
from tradingsystem.adapters.profitdll.feed import exchange_of, session_predicate
from tradingsystem.adapters.profitdll.reconcile import (
    OPEN_STATUSES,
    ST_CANCELED,
    ST_EXPIRED,
    ST_FILLED,
    ST_NEW,
    ST_PARTIAL,
    ST_PENDING_NEW,
    ST_REJECTED,
    Reconciliation,
    VenueOrder,
    VenuePosition,
    avg_raw,
    list_orders,
    list_positions,
)
from tradingsystem.adapters.profitdll.session import O_MESSAGE, O_ORDER, ProfitSession
from tradingsystem.domain.b3 import instrument
from tradingsystem.domain.commands import CancelAllOrders, CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.errors import InvalidRequest, OffGrid
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderEventKind as K
from tradingsystem.domain.orders import OrderType, Side
from tradingsystem.ports.protocols import ExecutionSink

__all__ = ["ProfitDLLExecution", "Reconciliation", "VenueOrder", "VenuePosition"]

log = logging.getLogger(__name__)

# TradingMessageResult codes that mean "refused": not connected, rejected at proxy/hades/broker/market, risk.
REJECT_CODES = frozenset({1, 3, 5, 7, 9, 24})
_DLL_TYPE = {OrderType.MARKET: 1, OrderType.LIMIT: 2, OrderType.STOP_LIMIT: 4}


class _Order:
    __slots__ = ("accepted", "avg", "closed", "inst", "local_id", "order_id", "pending", "price", "qty",
                 "side", "stop", "symbol", "traded", "venue_id", "want")

    def __init__(self, order_id: str, local_id: int, inst: Instrument, side: int, qty: int, price: float,
                 stop: float) -> None:
        self.order_id, self.local_id, self.inst, self.symbol = order_id, local_id, inst, inst.symbol
        self.side, self.qty, self.price, self.stop = side, qty, price, stop
        self.traded, self.avg = 0, 0.0
        self.accepted = self.closed = False
        self.pending = ""
        self.venue_id = ""
        self.want: tuple[float, float, int] | None = None  # (price, stop, qty) of a modify not yet confirmed


class ProfitDLLExecution:
    """Routes domain commands through ProfitDLL and reports ``OrderEvent``s to the sink."""

    def __init__(self, session: ProfitSession, calendar: Any) -> None:
        self.session = session
        self._is_session = session_predicate(calendar)
        self._sink: ExecutionSink | None = None
        self._by_id: dict[str, _Order] = {}
        self._by_local: dict[int, _Order] = {}
        self._ready: deque[OrderEvent] = deque()
        self._time = LocalTime()
        self._account: s.TConnectorAccountIdentifier | None = None
        self._instruments: dict[str, Instrument] = {}
        self.reconciliation: Reconciliation | None = None
        self.counters = {"duplicate_cancels": 0, "unknown_orders": 0, "ignored_statuses": 0}

    # --- ExecutionClient ----------------------------------------------------------------------
    def connect(self, sink: ExecutionSink) -> None:
        """Log in (if the feed has not), pick the account and reconcile open orders and positions."""
        if self.session.config.market_only:
            raise ProfitDLLHalt("routing needs DLLInitializeLogin: market_only is set in the config")
        self._sink = sink
        self.session.start()
        self.session.raise_failure()
        self._account = self._pick_account()
        self.reconciliation = self.reconcile()
        self.session.order_pump = self.drain_events  # the feed's loop delivers order events too

    def submit(self, command: SubmitOrder) -> None:
        self.session.raise_failure()
        if command.order_id in self._by_id:
            raise InvalidRequest(f"order id {command.order_id!r} was already submitted")
        inst = self._instrument(command.symbol)
        inst.check_quantity(command.quantity)
        otype = OrderType(command.order_type)
        if otype not in _DLL_TYPE:
            raise InvalidRequest("ProfitDLL SendOrder has market, limit and stop-limit orders only; stop-market is "
                                 "emulated by the engine (a stop leg of engine/emulator.py, sent as a market order)")
        price = stop = -1.0
        if otype in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            price = self._price(inst, command.price)
        if otype is OrderType.STOP_LIMIT:
            stop = self._price(inst, command.trigger_price)
        side = Side(command.side)
        rec = s.TConnectorSendOrder(
            Version=2, AccountID=self._acct(), AssetID=self._asset(inst), Password=self._password(),
            OrderType=_DLL_TYPE[otype], OrderSide=int(side), Price=price, StopPrice=stop, Quantity=command.quantity,
        )
        local = self.session.dll.send_order(rec)
        self._track(_Order(command.order_id, local, inst, int(side), command.quantity, price, stop))

    def modify(self, command: ModifyOrder) -> None:
        """SendChangeOrderV2; confirmed (UPDATED with the new quantity and prices) when an order callback shows
        them, whatever its status (a partially filled order stays partially filled after the replace)."""
        self.session.raise_failure()
        o = self._known(command.order_id)
        if o.closed:
            raise InvalidRequest(f"order {o.order_id} is closed and cannot be modified")
        qty = command.quantity or o.qty
        o.inst.check_quantity(qty)
        price = self._price(o.inst, command.price) if command.price else o.price
        stop = self._price(o.inst, command.trigger_price) if command.trigger_price else o.stop
        rec = s.TConnectorChangeOrder(
            Version=1, AccountID=self._acct(), OrderID=self._ident(o), Password=self._password(),
            Price=price, StopPrice=stop, Quantity=qty,
        )
        self.session.dll.change_order(rec)
        o.pending, o.want = "modify", (price, stop, qty)

    def cancel(self, command: CancelOrder) -> None:
        """Idempotent: cancelling a closed order, or one already being cancelled, does nothing."""
        self.session.raise_failure()
        o = self._known(command.order_id)
        if o.closed or o.pending == "cancel":
            self.counters["duplicate_cancels"] += 1
            return
        rec = s.TConnectorCancelOrder(Version=1, AccountID=self._acct(), OrderID=self._ident(o),
                                      Password=self._password())
        self.session.dll.cancel_order(rec)
        o.pending = "cancel"

    def cancel_all(self, command: CancelAllOrders | None = None) -> None:
        """Cancel every open order of the account, or of one symbol."""
        self.session.raise_failure()
        symbol = command.symbol if command else ""
        dll = self.session.dll
        if symbol:
            inst = self._instrument(symbol)
            dll.cancel_orders(s.TConnectorCancelOrders(Version=0, AccountID=self._acct(), AssetID=self._asset(inst),
                                                       Password=self._password()))
        else:
            dll.cancel_all_orders(s.TConnectorCancelAllOrders(Version=0, AccountID=self._acct(),
                                                              Password=self._password()))
        for o in self._by_id.values():
            if not o.closed and (not symbol or o.symbol == symbol):
                o.pending = "cancel"

    def zero_position(self, symbol: str, price: int | None = None, order_id: str | None = None) -> str:
        """Flatten ``symbol`` (market, or limit at ``price``); return the order id of the closing order."""
        self.session.raise_failure()
        inst = self._instrument(symbol)
        px = self._price(inst, price) if price else -1.0
        rec = s.TConnectorZeroPosition(
            Version=2, AccountID=self._acct(), AssetID=self._asset(inst), Password=self._password(), Price=px,
            PositionType=self.session.config.position_type,
        )
        local = self.session.dll.zero_position(rec)
        oid = order_id or f"zero-{local}"
        self._track(_Order(oid, local, inst, 0, 0, px, -1.0))
        return oid

    # --- engine-thread delivery ---------------------------------------------------------------
    def next_ts(self) -> int | None:
        if not self._ready:
            self._pump()
        return self._ready[0].ts_event if self._ready else None

    def step(self) -> None:
        if not self._ready:
            self._pump()
        if self._ready and self._sink is not None:
            self._sink.on_order_event(self._ready.popleft())

    def drain_events(self) -> int:
        """Deliver every waiting order event to the sink; return how many (engine thread only)."""
        n = 0
        while self.next_ts() is not None:
            self.step()
            n += 1
        return n

    def close(self) -> None:
        self.session.close()

    def order_ids(self) -> dict[str, int]:
        """Our order id -> the DLL's local order id."""
        return {k: o.local_id for k, o in self._by_id.items()}

    # --- reconciliation (reconcile.py) ------------------------------------------------------
    def reconcile(self) -> Reconciliation:
        """Read every order and position from the DLL; adopt open orders so they can be cancelled."""
        acct = self._acct()
        listed = []
        for local, cl, ticker, qty, traded, price, avg, side, status in list_orders(self.session.dll, acct):
            inst = self._instrument(ticker)
            o = self._by_local.get(local)
            if o is None and status in OPEN_STATUSES:
                o = _Order(f"profit-{local}", local, inst, side, qty, price, -1.0)
                o.accepted, o.traded, o.avg, o.venue_id = True, traded, avg, cl
                self._track(o)
            listed.append(VenueOrder(o.order_id if o else f"profit-{local}", cl, local, inst.symbol, Side(side), qty,
                                     traded, price_to_raw(inst, price) or 0, status, avg_raw(inst, avg)))
        positions = list_positions(self.session.dll, acct, self._instrument)
        return Reconciliation(tuple(o for o in listed if o.status in OPEN_STATUSES), positions, tuple(listed))

    def broker_orders(self) -> list[VenueOrder]:
        """Every order the DLL listed at connect (``engine.reconcile.BrokerState``)."""
        return list(self.reconciliation.orders) if self.reconciliation else []

    def broker_positions(self) -> dict[str, tuple[int, int]]:
        """symbol -> (signed quantity, average price in raw units) as listed at connect."""
        if self.reconciliation is None:
            return {}
        return {p.symbol: (p.quantity, avg_raw(self._instrument(p.symbol), p.avg_price))
                for p in self.reconciliation.positions}

    def adopt(self, order_id: str, broker_order_id: str) -> None:
        """Our ``order_id`` for the broker's order (reports and commands follow it from now on)."""
        o = self._by_id.pop(broker_order_id, None)
        if o is None:
            return
        o.order_id = order_id
        self._by_id[order_id] = o

    def instrument(self, symbol: str) -> Instrument:
        return self._instrument(symbol)

    # --- callbacks -> events ------------------------------------------------------------------
    def _pump(self) -> None:
        q = self.session.orders
        while q:
            item = q.popleft()
            if item[0] == O_ORDER:
                self._on_order(item)
            elif item[0] == O_MESSAGE:
                self._on_message(item)

    def _emit(self, o: _Order, kind: K, ts: int, **kw: Any) -> None:
        self._ready.append(OrderEvent(o.order_id, int(kind), ts, o.symbol, venue_order_id=o.venue_id, **kw))

    def _on_order(self, item: tuple[Any, ...]) -> None:
        (_k, local, cl, ticker, _ex, qty, traded, _leaves, price, stop, avg, side, _type, status, text, last,
         ts_init) = item
        o = self._by_local.get(local)
        if o is None:  # an order placed elsewhere (Profit's screen): adopt it
            self.counters["unknown_orders"] += 1
            o = _Order(f"profit-{local}", local, self._instrument(ticker), side, qty, price, stop)
            self._track(o)
        if o.closed:
            return
        if cl:
            o.venue_id = cl
        if o.qty == 0:  # zero-position order: size known only now
            o.qty, o.side = qty, side
        ts = self._time.to_ns(*last) or ts_init
        if traded > o.traded:
            if not o.accepted:
                o.accepted = True
                self._emit(o, K.ACCEPTED, ts)
            delta = traded - o.traded
            px_f = (avg * traded - o.avg * o.traded) / delta
            px = price_to_raw(o.inst, px_f) or 0
            o.traded, o.avg = traded, avg
            self._emit(o, K.FILLED, ts, fill_qty=delta, fill_price=px, liquidity=0)
        if o.pending == "modify" and status in OPEN_STATUSES and self._confirms(o, price, stop, qty):
            o.pending, o.want = "", None
            o.price, o.stop, o.qty = price, stop, qty
            self._emit(o, K.UPDATED, ts, quantity=qty, price=price_to_raw(o.inst, price) or 0,
                       trigger_price=price_to_raw(o.inst, stop) or 0)
        if status == ST_FILLED or (0 < qty <= traded and status not in OPEN_STATUSES):  # the report's quantity
            o.closed = True
            return
        if status == ST_NEW:
            if not o.accepted:
                o.accepted = True
                self._emit(o, K.ACCEPTED, ts)
        elif status == ST_CANCELED:
            o.closed = True
            self._emit(o, K.CANCELLED, ts)
        elif status == ST_REJECTED:
            o.closed = True
            self._emit(o, K.REJECTED, ts, reason=text or "rejected by ProfitDLL")
        elif status == ST_EXPIRED:
            o.closed = True
            self._emit(o, K.EXPIRED, ts)
        elif status not in (ST_PARTIAL, ST_PENDING_NEW):
            self.counters["ignored_statuses"] += 1

    @staticmethod
    def _confirms(o: _Order, price: float, stop: float, qty: int) -> bool:
        """Whether an order report shows the modify ``o`` waits for (prices compared on the tick grid)."""
        assert o.want is not None
        w_price, w_stop, w_qty = o.want
        inst = o.inst
        return qty == w_qty and price_to_raw(inst, price) == price_to_raw(inst, w_price) and \
            price_to_raw(inst, stop) == price_to_raw(inst, w_stop)

    def _on_message(self, item: tuple[Any, ...]) -> None:
        _k, local, _msg_id, code, text, ts = item
        o = self._by_local.get(local)
        if o is None or code not in REJECT_CODES or o.closed:
            return
        reason = f"{text} (TradingMessageResult {code})" if text else f"TradingMessageResult {code}"
        if o.pending == "modify":
            o.pending, o.want = "", None
            self._emit(o, K.MODIFY_REJECTED, ts, reason=reason)
        elif o.pending == "cancel":
            o.pending = ""
            self._emit(o, K.CANCEL_REJECTED, ts, reason=reason)
        elif not o.accepted:
            o.closed = True
            self._emit(o, K.REJECTED, ts, reason=reason)

    # --- helpers ------------------------------------------------------------------------------
    def _track(self, o: _Order) -> None:
        self._by_id[o.order_id] = o
        self._by_local[o.local_id] = o

    def _known(self, order_id: str) -> _Order:
        o = self._by_id.get(order_id)
        if o is None:
            raise InvalidRequest(f"unknown order id {order_id!r}")
        return o

    def _instrument(self, symbol: str) -> Instrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            inst = self._instruments[symbol] = instrument(symbol, self._is_session)
        return inst

    @staticmethod
    def _price(inst: Instrument, raw: int) -> float:
        if not inst.on_grid(raw):
            raise OffGrid(f"{inst.symbol}: price {raw} (raw units) is not on the {inst.tick_size} grid")
        return raw_to_float(inst, raw)

    def _pick_account(self) -> s.TConnectorAccountIdentifier:
        cfg = self.session.config
        accounts = self.session.dll.accounts()
        for broker, account, sub in accounts:
            if (cfg.broker_id is None or cfg.broker_id == broker) and (cfg.account_id in (None, account)):
                return s.TConnectorAccountIdentifier(0, broker, account, sub or cfg.sub_account_id, 0)
        raise ProfitDLLInvalid(f"no routing account matches broker={cfg.broker_id} account={cfg.account_id} "
                               f"({len(accounts)} accounts available)")

    def _acct(self) -> s.TConnectorAccountIdentifier:
        if self._account is None:
            raise ProfitDLLHalt("execution client is not connected")
        return self._account

    @staticmethod
    def _asset(inst: Instrument) -> s.TConnectorAssetIdentifier:
        return s.TConnectorAssetIdentifier(0, inst.symbol, exchange_of(inst), 0)

    @staticmethod
    def _ident(o: _Order) -> s.TConnectorOrderIdentifier:
        return s.TConnectorOrderIdentifier(0, o.local_id, o.venue_id or None)

    def _password(self) -> str:
        return self.session.config.routing_secret()
