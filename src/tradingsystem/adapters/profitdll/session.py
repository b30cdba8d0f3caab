"""One ProfitDLL session: login state machine, callback trampolines and the hand-off queues.

The DLL delivers every callback on its own thread. The trampolines here run there and do only this:
call the accessor the manual requires inside the callback, copy the result into a tuple, and append
it to a deque (``market`` for market data, ``orders`` for routing). Nothing blocks, nothing touches
engine state, and nothing calls a request function (the binding would refuse). Live trades and book
updates are bounded by ``queue_capacity``: past it they are dropped, counted per symbol, and the feed
backfills the hole from history. States, history and order events are never dropped.

Live trades, the hot path, have their own queue (``trades``): the C hand-off's ring (``handoff.c``) when
it builds, where the DLL calls C directly, without the GIL; else a deque that the ctypes trampoline
below fills. Each ``market`` item carries the number of live trades queued before it, so the feed
replays both in the DLL's order.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from ctypes import byref
from typing import Any

from tradingsystem.adapters.profitdll import structs as s
from tradingsystem.adapters.profitdll.binding import ProfitDLL
from tradingsystem.adapters.profitdll.config import ProfitDLLConfig
from tradingsystem.adapters.profitdll.errors import LoginError, LoginTimeout, login_error
from tradingsystem.adapters.profitdll.handoff import GAP, CallbackQueue, HandoffUnavailable, Ring, open_ring

__all__ = [
    "K_DEPTH", "K_HEALTH", "K_HIST", "K_OFFER", "K_PROGRESS", "K_STATE", "K_TRADE", "O_MESSAGE", "O_ORDER",
    "STATE_ACTIVATION", "STATE_LOGIN", "STATE_MARKET", "STATE_ROUTING", "ProfitSession",
]

log = logging.getLogger(__name__)

K_TRADE, K_HIST, K_PROGRESS, K_STATE, K_HEALTH, K_DEPTH, K_OFFER = range(7)
O_ORDER, O_MESSAGE = range(2)

STATE_LOGIN, STATE_ROUTING, STATE_MARKET, STATE_ACTIVATION = 0, 1, 2, 3
ROUTING_READY = (2, 5)
MARKET_CONNECTED = 4


def _st(t: s.TSystemTime) -> tuple[int, int, int, int, int, int, int]:
    return t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds


class ProfitSession:
    """Owns the binding and the queues; shared by the feed and the execution client."""

    def __init__(self, config: ProfitDLLConfig, dll: ProfitDLL | None = None) -> None:
        self.config = config
        self.dll = dll or ProfitDLL(config.dll_path)
        self.market: deque[tuple[Any, ...]] = deque()
        self.orders: deque[tuple[Any, ...]] = deque()
        self.capacity = config.queue_capacity
        self.overflow = 0
        self.overflow_symbols: set[str] = set()
        self.max_depth = 0
        self.callback_errors = 0
        self.accessor_errors = 0
        self.offer_bad_arrays = 0  # full-book arrays whose header did not match their size (freed, not read)
        self.book_lost: set[str] = set()  # symbols whose offer-book events were dropped on overflow
        self.health = 0
        self.states: dict[int, int] = {}
        self.accounts_seen: list[tuple[int, str, str]] = []
        self.order_pump: Callable[[], int] | None = None  # set by the execution client on connect
        self.waiting = False  # the engine is blocked in wait(): callbacks set ``wake``
        self.wake: threading.Event | Ring = threading.Event()
        # live trades: the C ring when it builds (``start``), else the ctypes callback's queue
        self.trades: Ring | CallbackQueue = CallbackQueue(config.queue_capacity)
        self._cond = threading.Condition()
        self._started = False
        self._users = 0
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Initialise the DLL (once) and wait for the state sequence; raise a typed error on failure."""
        self._users += 1
        if self._started:
            return
        cfg = self.config
        trade = self._open_ring() if cfg.handoff == "auto" else None
        callbacks = {
            "state": self._on_state, "progress": self._on_progress, "account": self._on_account,
            "health": self._on_health, "trade": self._trade_trampoline(K_TRADE) if trade is None else trade,
            "history_trade": self._trade_trampoline(K_HIST), "price_depth": self._on_depth,
            "offer_book": self._on_offer,
        }
        if not cfg.market_only:
            callbacks["order"] = self._on_order
            callbacks["trading_message"] = self._on_message
        try:
            self.dll.initialize(
                cfg.activation_key.get_secret_value(), cfg.user, cfg.password.get_secret_value(), callbacks,
                cfg.market_only,
            )
        except BaseException:
            if isinstance(self.trades, Ring):  # the DLL may hold its callback: give the slot back, keep the memory
                self.trades.close(freeable=False)
            raise
        self._started = True
        self.wait_ready(cfg.login_timeout_s)

    def _open_ring(self) -> Any:
        """Route live trades through the C hand-off; None (and one log line) when it cannot be built."""
        try:
            ring = open_ring(self.config.queue_capacity, self.dll.lib.TranslateTrade)
        except HandoffUnavailable as exc:
            log.warning("ProfitDLL C hand-off unavailable (%s): live trades use the ctypes callback", exc)
            return None
        self.trades = self.wake = ring
        self.dll.on_finalize.append(ring.close)  # the DLL calls it no more once DLLFinalize returns
        return ring.callback

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                failure = self._login_failure()
                if failure is not None:
                    raise failure
                if self._ready():
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LoginTimeout(
                        f"ProfitDLL did not connect within {timeout_s:g}s (last states: {self.describe_states()})"
                    )
                self._cond.wait(remaining)

    def _login_failure(self) -> LoginError | None:
        login = self.states.get(STATE_LOGIN)
        if login not in (None, 0):
            return login_error(STATE_LOGIN, login)
        if self.states.get(STATE_ACTIVATION) == 1:
            return login_error(STATE_ACTIVATION, 1)
        return None

    def _ready(self) -> bool:
        """LOGIN 0, activation 0 and market data 4 (plus routing 2 or 5), whatever order they came in."""
        st = self.states
        if st.get(STATE_LOGIN) != 0 or st.get(STATE_ACTIVATION) != 0 or st.get(STATE_MARKET) != MARKET_CONNECTED:
            return False
        return self.config.market_only or st.get(STATE_ROUTING) in ROUTING_READY

    def describe_states(self) -> str:
        names = {0: "login", 1: "routing", 2: "market", 3: "activation"}
        return ", ".join(f"{names.get(k, k)}={v}" for k, v in sorted(self.states.items())) or "none"

    def raise_failure(self) -> None:
        """Raise the login or activation failure the DLL reported, even one that came after the session was
        ready (the DLL then answers every request with NL_NO_LICENSE); engine thread only."""
        failure = self._login_failure()
        if failure is not None:
            raise failure

    def routing_ready(self) -> bool:
        return self.states.get(STATE_ROUTING) in ROUTING_READY

    def close(self) -> None:
        """Release one user; the last one finalizes the DLL (which cannot be initialised again)."""
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._started and not self._closed:
            self._closed = True
            self.dll.finalize()

    def depth(self) -> int:
        """Market-data events waiting for the feed (live trades and the rest)."""
        return len(self.market) + self.trades.depth()

    def stats(self) -> dict[str, int]:
        trades = self.trades
        return {
            "queue_depth": self.depth(), "max_queue_depth": self.max_depth,
            "queue_capacity": self.capacity, "overflow": self.overflow + trades.dropped(),
            "order_queue": len(self.orders), "callback_errors": self.callback_errors,
            "accessor_errors": self.accessor_errors + trades.accessor_errors(),
            "offer_bad_arrays": self.offer_bad_arrays, "health": self.health,
            "c_handoff": int(isinstance(trades, Ring)),
        }

    def _put(self, item: tuple[Any, ...]) -> None:
        """Queue a market-data event with the number of live trades queued before it (their order)."""
        self.market.append((self.trades.written(), item))

    # --- trampolines (DLL thread) -------------------------------------------------------------
    def _on_state(self, state_type: int, result: int) -> None:
        try:
            self.dll.note_callback_thread()
            with self._cond:
                self.states[state_type] = result
                self._cond.notify_all()
            self._put((K_STATE, state_type, result, time.time_ns()))
            self.wake.set()
        except BaseException:  # never let an exception cross into the DLL
            self.callback_errors += 1

    def _on_health(self, status: int) -> None:
        try:
            self.dll.note_callback_thread()
            self.health = status
            self._put((K_HEALTH, status, time.time_ns()))
        except BaseException:
            self.callback_errors += 1

    def _on_account(self, broker: int, broker_name: str | None, account: str | None, holder: str | None) -> None:
        try:
            self.dll.note_callback_thread()
            self.accounts_seen.append((broker, account or "", ""))
        except BaseException:
            self.callback_errors += 1

    def _on_progress(self, asset: s.TAssetIDRec, progress: int) -> None:
        try:
            self.dll.note_callback_thread()
            self._put((K_PROGRESS, asset.Ticker, progress))
            self.wake.set()
        except BaseException:
            self.callback_errors += 1

    def _trade_trampoline(self, kind: int) -> Any:
        """The ctypes trade callback: live trades (``K_TRADE``) into ``trades``, history into ``market``."""
        translate = self.dll.translate_trade
        rec = s.TConnectorTrade()
        addr = ctypes.addressof(rec)
        unpack = s.TRADE_LAYOUT.unpack_from
        time_ns = time.time_ns
        session = self
        if kind == K_HIST:
            put = self._put

            def on_history(asset: s.TConnectorAssetIdentifier, ptr: int, flags: int) -> None:
                try:
                    if session.dll.callback_thread is None:
                        session.dll.note_callback_thread()
                    if translate(ptr, addr) != 0:
                        session.accessor_errors += 1
                        return
                    ticker = asset.Ticker
                    put((K_HIST, ticker, (*unpack(rec), ticker, flags, time_ns())))
                    if session.waiting:
                        session.wake.set()
                except BaseException:
                    session.callback_errors += 1

            return on_history
        queue = self.trades
        assert isinstance(queue, CallbackQueue)
        append = queue.records.append
        records, cap, gaps = queue.records, queue.capacity, queue.gaps

        def on_trade(asset: s.TConnectorAssetIdentifier, ptr: int, flags: int) -> None:
            try:
                if session.dll.callback_thread is None:  # normally a state callback came first
                    session.dll.note_callback_thread()
                if translate(ptr, addr) != 0:
                    session.accessor_errors += 1
                    return
                ticker = asset.Ticker
                if len(records) >= cap:
                    queue.drop(ticker)
                    return
                if gaps and ticker in gaps:
                    gaps.discard(ticker)
                    flags |= GAP
                append((*unpack(rec), ticker, flags, time_ns()))
                queue.count += 1
                if session.waiting:
                    session.wake.set()
            except BaseException:
                session.callback_errors += 1

        return on_trade

    def _on_depth(self, asset: s.TConnectorAssetIdentifier, side: int, pos: int, update: int) -> None:
        try:
            self.dll.note_callback_thread()
            ticker = asset.Ticker
            ts = time.time_ns()
            if update in (5, 6, 7):  # prepare, flush, theoretical price: nothing to copy
                return
            if len(self.market) >= self.capacity:
                self.overflow += 1
                self.overflow_symbols.add(ticker)
                return
            ref = byref(asset)
            if update in (0, 1, 3):
                pg = s.TConnectorPriceGroup()
                if self.dll.get_price_group(ref, side, pos, byref(pg)) != 0:
                    self.accessor_errors += 1
                    return
                self._put((K_DEPTH, ticker, side, pos, update, ((pg.Price, pg.Quantity, pg.Count),), ts))
            elif update == 4:
                for sd in ((0, 1) if side == 254 else (side,)):
                    n = self.dll.get_price_depth_side_count(ref, sd)
                    levels = []
                    for i in range(max(n, 0)):
                        pg = s.TConnectorPriceGroup()
                        if self.dll.get_price_group(ref, sd, i, byref(pg)) == 0:
                            levels.append((pg.Price, pg.Quantity, pg.Count))
                    self._put((K_DEPTH, ticker, sd, 0, 4, tuple(levels), ts))
            else:  # 2 delete, 8 delete-from
                self._put((K_DEPTH, ticker, side, pos, update, (), ts))
        except BaseException:
            self.callback_errors += 1

    def _take_array(self, ptr: int | None) -> bytes | None:
        """Copy one full-book array and free it with ``FreePointer`` (always, exactly once).

        None: no array for that side; b"": a header that does not match the layout (not read past it).
        """
        if not ptr:
            return None
        size = 0
        try:
            count, size = s.OFFER_HEADER.unpack(ctypes.string_at(ptr, s.OFFER_HEADER.size))
            expected = s.OFFER_HEADER.size + count * s.OFFER_ENTRY_V2.size + s.OFFER_TRAILER.size
            if count < 0 or size != expected:
                self.offer_bad_arrays += 1
                return b""
            return ctypes.string_at(ptr, size)
        finally:
            self.dll.free_pointer(ptr, size)

    def _on_offer(self, asset: s.TAssetIDRec, action: int, pos: int, side: int, qty: int, agent: int,
                  offer_id: int, price: float, has_price: int, has_qty: int, has_date: int, has_id: int,
                  has_agent: int, date: str | None, p_sell: int | None, p_buy: int | None) -> None:
        """Offer book V2: copy the event (and, for a full book, both arrays, freed here) and enqueue it."""
        sell = buy = None
        try:
            self.dll.note_callback_thread()
            if p_sell or p_buy:  # arrays come only with a full book; free them whatever the action says
                try:
                    sell = self._take_array(p_sell)
                finally:
                    buy = self._take_array(p_buy)
            ticker = asset.Ticker
            if len(self.market) >= self.capacity:
                self.overflow += 1
                self.book_lost.add(ticker)
                return
            has = (bool(has_price), bool(has_qty), bool(has_id), bool(has_agent))
            self._put((K_OFFER, ticker, action, pos, side, qty, agent, offer_id, price, has, sell, buy,
                                time.time_ns()))
            if self.waiting:
                self.wake.set()
        except BaseException:
            self.callback_errors += 1

    def _on_order(self, ident: s.TConnectorOrderIdentifier) -> None:
        try:
            self.dll.note_callback_thread()
            out = s.TConnectorOrderOut()
            out.Version = 1
            out.OrderID = ident
            ref = byref(out)
            if self.dll.get_order_details(ref) != 0:  # first call: lengths
                self.accessor_errors += 1
                return
            ticker = ctypes.create_unicode_buffer(out.AssetID.TickerLength + 1)
            exch = ctypes.create_unicode_buffer(out.AssetID.ExchangeLength + 1)
            text = ctypes.create_unicode_buffer(out.TextMessageLength + 1)
            out.AssetID.Ticker, out.AssetID.TickerLength = ctypes.addressof(ticker), len(ticker)
            out.AssetID.Exchange, out.AssetID.ExchangeLength = ctypes.addressof(exch), len(exch)
            out.TextMessage, out.TextMessageLength = ctypes.addressof(text), len(text)
            if self.dll.get_order_details(ref) != 0:
                self.accessor_errors += 1
                return
            self.orders.append((
                O_ORDER, ident.LocalOrderID, ident.ClOrderID or "", ticker.value, exch.value, out.Quantity,
                out.TradedQuantity, out.LeavesQuantity, out.Price, out.StopPrice, out.AveragePrice,
                out.OrderSide, out.OrderType, out.OrderStatus, text.value, _st(out.LastUpdate), time.time_ns(),
            ))
            self.wake.set()
        except BaseException:
            self.callback_errors += 1

    def _on_message(self, result: Any) -> None:
        try:
            self.dll.note_callback_thread()
            r = result.contents
            self.orders.append((
                O_MESSAGE, r.OrderID.LocalOrderID, r.MessageID, r.ResultCode, r.Message or "", time.time_ns(),
            ))
            self.wake.set()
        except BaseException:
            self.callback_errors += 1
