"""Thin ctypes binding of ProfitDLL's modern subset, with the manual's threading rule built in.

Every *request* function refuses to run on the DLL's callback thread (``RequestFromCallback``) and
after ``DLLFinalize`` (``DLLFinalized``); negative NL codes become typed errors. The *accessors*
(``TranslateTrade``, ``GetOrderDetails``, ``GetPriceGroup``, ``GetPriceDepthSideCount``) and
``FreePointer`` (for the offer book's arrays) are exposed raw, for the callback trampolines that must
call them synchronously inside their callback.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from ctypes import POINTER, byref, c_double, c_int32, c_int64, c_ubyte, c_void_p, c_wchar_p
from typing import Any

from tradingsystem.adapters.profitdll import structs as s
from tradingsystem.adapters.profitdll.errors import DLLFinalized, RequestFromCallback, check

__all__ = ["ProfitDLL"]

_FINALIZED: set[str] = set()  # DLL paths finalized in this process: the DLL has one lifecycle per process.

_CALLBACK_SETTERS = {
    "state": ("SetStateCallback", s.STATE_CALLBACK),
    "health": ("SetHealthCallback", s.HEALTH_CALLBACK),
    "trade": ("SetTradeCallbackV2", s.TRADE_CALLBACK),
    "history_trade": ("SetHistoryTradeCallbackV2", s.TRADE_CALLBACK),
    "progress": ("SetProgressCallback", s.PROGRESS_CALLBACK),
    "price_depth": ("SetPriceDepthCallback", s.PRICE_DEPTH_CALLBACK),
    "offer_book": ("SetOfferBookCallbackV2", s.OFFER_BOOK_CALLBACK),
    "order": ("SetOrderCallback", s.ORDER_CALLBACK),
    "trading_message": ("SetTradingMessageResultCallback", s.MESSAGE_CALLBACK),
}

_I32, _I64, _P, _W = c_int32, c_int64, c_void_p, c_wchar_p
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "DLLInitializeLogin": (_I32, [_W, _W, _W, s.STATE_CALLBACK, _P, _P, s.ACCOUNT_CALLBACK, _P, _P, _P, _P, _P,
                                  s.PROGRESS_CALLBACK, _P]),
    "DLLInitializeMarketLogin": (_I32, [_W, _W, _W, s.STATE_CALLBACK, _P, _P, _P, _P, _P,
                                        s.PROGRESS_CALLBACK, _P]),
    "DLLFinalize": (_I32, []),
    "GetServerClock": (_I32, [POINTER(c_double)] + [POINTER(c_int32)] * 7),
    "GetHealthStatus": (_I32, [POINTER(c_int32)]),
    "SubscribeTicker": (_I32, [_W, _W]),
    "UnsubscribeTicker": (_I32, [_W, _W]),
    "SubscribePriceDepth": (_I32, [POINTER(s.TConnectorAssetIdentifier)]),
    "UnsubscribePriceDepth": (_I32, [POINTER(s.TConnectorAssetIdentifier)]),
    "GetPriceDepthSideCount": (_I32, [POINTER(s.TConnectorAssetIdentifier), c_ubyte]),
    "GetPriceGroup": (_I32, [POINTER(s.TConnectorAssetIdentifier), c_ubyte, c_int32,
                             POINTER(s.TConnectorPriceGroup)]),
    "SubscribeOfferBook": (_I32, [_W, _W]),
    "UnsubscribeOfferBook": (_I32, [_W, _W]),
    "TranslateTrade": (_I32, [_P, _P]),
    "GetHistoryTrades": (_I32, [_W, _W, _W, _W]),
    "SendOrder": (_I64, [POINTER(s.TConnectorSendOrder)]),
    "SendChangeOrderV2": (_I32, [POINTER(s.TConnectorChangeOrder)]),
    "SendCancelOrderV2": (_I32, [POINTER(s.TConnectorCancelOrder)]),
    "SendCancelOrdersV2": (_I32, [POINTER(s.TConnectorCancelOrders)]),
    "SendCancelAllOrdersV2": (_I32, [POINTER(s.TConnectorCancelAllOrders)]),
    "SendZeroPositionV2": (_I64, [POINTER(s.TConnectorZeroPosition)]),
    "GetOrderDetails": (_I32, [POINTER(s.TConnectorOrderOut)]),
    "GetAccountCount": (_I32, []),
    "GetAccounts": (_I32, [c_int32, c_int32, c_int32, POINTER(s.TConnectorAccountIdentifierOut)]),
    "EnumerateAllOrders": (_I32, [POINTER(s.TConnectorAccountIdentifier), c_ubyte, s.LPARAM,
                                  s.ENUM_ORDERS_PROC]),
    "EnumerateAllPositionAssets": (_I32, [POINTER(s.TConnectorAccountIdentifier), c_ubyte, s.LPARAM,
                                          s.ENUM_ASSETS_PROC]),
    "GetPositionV2": (_I32, [POINTER(s.TConnectorTradingAccountPosition)]),
    "FreePointer": (None, [_P, c_int32]),
}


def _pin_thread_state() -> None:
    ensure = ctypes.pythonapi.PyGILState_Ensure
    ensure.restype = ctypes.c_int
    ensure()


class ProfitDLL:
    """The loaded library. One per process; request methods run only on non-callback threads."""

    def __init__(self, path: str) -> None:
        loader = ctypes.WinDLL if sys.platform == "win32" else ctypes.CDLL  # type: ignore[attr-defined]
        self.path = path
        self.lib = loader(path)
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(self.lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        for setter, ftype in _CALLBACK_SETTERS.values():
            fn = getattr(self.lib, setter)
            fn.restype = c_int32
            fn.argtypes = [ftype]
        # accessors, called raw from inside callbacks
        self.translate_trade = self.lib.TranslateTrade
        self.get_order_details = self.lib.GetOrderDetails
        self.get_price_group = self.lib.GetPriceGroup
        self.get_price_depth_side_count = self.lib.GetPriceDepthSideCount
        self.free_pointer = self.lib.FreePointer  # frees the offer book's full-book arrays, inside the callback
        self.callback_thread: int | None = None
        self._keep: list[Any] = []  # callback objects must outlive the DLL's use of them

    # --- the threading rule -------------------------------------------------------------------
    def note_callback_thread(self) -> None:
        """Called by trampolines: remember the DLL's callback thread and pin a Python thread state on it.

        ctypes runs each callback on a foreign thread inside PyGILState_Ensure/Release; without a
        pinned state CPython creates and destroys a thread state per callback (about 20x the cost of
        an empty callback). One Ensure that is never released keeps the state for the thread's life.
        """
        ident = threading.get_ident()
        if ident != self.callback_thread:
            self.callback_thread = ident
            _pin_thread_state()

    def on_callback_thread(self) -> bool:
        return self.callback_thread is not None and threading.get_ident() == self.callback_thread

    def _guard(self, what: str) -> None:
        if self.on_callback_thread():
            raise RequestFromCallback(f"{what} called from the DLL callback thread; callbacks only enqueue")
        if self.path in _FINALIZED:
            raise DLLFinalized(f"{what} after DLLFinalize: ProfitDLL has one lifecycle per process")

    def _call(self, what: str, *args: Any, legacy: bool = True) -> int:
        self._guard(what)
        return check(int(getattr(self.lib, what)(*args)), what, legacy)

    # --- lifecycle ----------------------------------------------------------------------------
    def initialize(self, key: str, user: str, password: str, callbacks: dict[str, Any], market_only: bool) -> None:
        """DLLInitializeLogin (or ...MarketLogin), then register every V2 callback at once."""
        state = s.STATE_CALLBACK(callbacks["state"])
        progress = s.PROGRESS_CALLBACK(callbacks["progress"])
        self._keep += [state, progress]
        if market_only:
            self._call("DLLInitializeMarketLogin", key, user, password, state, None, None, None, None, None,
                       progress, None)
        else:
            account = s.ACCOUNT_CALLBACK(callbacks.get("account") or (lambda *a: None))
            self._keep.append(account)
            self._call("DLLInitializeLogin", key, user, password, state, None, None, account, None, None,
                       None, None, None, progress, None)
        for name, fn in callbacks.items():
            if name in _CALLBACK_SETTERS and name not in ("state", "progress"):
                self.set_callback(name, fn)

    def set_callback(self, name: str, fn: Any) -> None:
        setter, ftype = _CALLBACK_SETTERS[name]
        cb = ftype(fn)
        self._keep.append(cb)
        self._call(setter, cb)

    def finalize(self) -> None:
        if self.path in _FINALIZED:
            return
        self._guard("DLLFinalize")
        _FINALIZED.add(self.path)
        self.lib.DLLFinalize()

    # --- market data --------------------------------------------------------------------------
    def subscribe_ticker(self, ticker: str, exchange: str) -> None:
        self._call("SubscribeTicker", ticker, exchange)

    def unsubscribe_ticker(self, ticker: str, exchange: str) -> None:
        self._call("UnsubscribeTicker", ticker, exchange)

    def subscribe_price_depth(self, ticker: str, exchange: str) -> None:
        asset = s.TConnectorAssetIdentifier(0, ticker, exchange, 0)
        self._call("SubscribePriceDepth", byref(asset))

    def unsubscribe_price_depth(self, ticker: str, exchange: str) -> None:
        asset = s.TConnectorAssetIdentifier(0, ticker, exchange, 0)
        self._call("UnsubscribePriceDepth", byref(asset))

    def subscribe_offer_book(self, ticker: str, exchange: str) -> None:
        """Order-level book (V2 callback); full-book arrays arrive in the callback and are freed there."""
        self._call("SubscribeOfferBook", ticker, exchange)

    def unsubscribe_offer_book(self, ticker: str, exchange: str) -> None:
        self._call("UnsubscribeOfferBook", ticker, exchange)

    def get_history_trades(self, ticker: str, exchange: str, start: str, end: str) -> None:
        """Dates as 'DD/MM/YYYY HH:mm:SS' (B3 local time)."""
        self._call("GetHistoryTrades", ticker, exchange, start, end)

    def get_server_clock(self) -> tuple[int, int, int, int, int, int, int]:
        dt = c_double()
        parts = [c_int32() for _ in range(7)]
        self._call("GetServerClock", byref(dt), *(byref(p) for p in parts))
        y, mo, d, h, mi, sec, ms = (p.value for p in parts)
        return y, mo, d, h, mi, sec, ms

    def get_health_status(self) -> int:
        out = c_int32()
        self._call("GetHealthStatus", byref(out))
        return out.value

    # --- routing ------------------------------------------------------------------------------
    def send_order(self, order: s.TConnectorSendOrder) -> int:
        return self._call("SendOrder", byref(order))

    def change_order(self, change: s.TConnectorChangeOrder) -> None:
        self._call("SendChangeOrderV2", byref(change))

    def cancel_order(self, cancel: s.TConnectorCancelOrder) -> None:
        self._call("SendCancelOrderV2", byref(cancel))

    def cancel_orders(self, cancel: s.TConnectorCancelOrders) -> None:
        self._call("SendCancelOrdersV2", byref(cancel))

    def cancel_all_orders(self, cancel: s.TConnectorCancelAllOrders) -> None:
        self._call("SendCancelAllOrdersV2", byref(cancel))

    def zero_position(self, zero: s.TConnectorZeroPosition) -> int:
        return self._call("SendZeroPositionV2", byref(zero))

    def accounts(self) -> list[tuple[int, str, str]]:
        """(broker id, account id, sub-account id) for every routing account."""
        n = self._call("GetAccountCount", legacy=False)
        if n <= 0:
            return []
        out = (s.TConnectorAccountIdentifierOut * n)()
        got = self._call("GetAccounts", 0, 0, n, out, legacy=False)
        return [(a.BrokerID, a.AccountID, a.SubAccountID) for a in out[:got]]

    def enumerate_orders(self, account: s.TConnectorAccountIdentifier, proc: Any) -> None:
        cb = s.ENUM_ORDERS_PROC(proc)
        self._call("EnumerateAllOrders", byref(account), 0, 0, cb)

    def enumerate_position_assets(self, account: s.TConnectorAccountIdentifier, proc: Any) -> None:
        cb = s.ENUM_ASSETS_PROC(proc)
        self._call("EnumerateAllPositionAssets", byref(account), 0, 0, cb)

    def get_position(self, position: s.TConnectorTradingAccountPosition) -> None:
        self._call("GetPositionV2", byref(position))
