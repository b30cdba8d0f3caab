"""Thin ctypes binding of ProfitDLL's modern subset, with the manual's threading rule built in.

Every *request* function refuses to run on the DLL's callback thread (``RequestFromCallback``) and
after ``DLLFinalize`` (``DLLFinalized``); negative NL codes become typed errors. The *accessors*
(``TranslateTrade``, ``GetOrderDetails``, ``GetPriceGroup``, ``GetPriceDepthSideCount``) and
``FreePointer`` (for the offer book's arrays) are exposed raw, for the callback trampolines that must
call them synchronously inside their callback.
"""

from __future__ import annotations

import ctypes
import logging
import struct
import sys
import threading
from ctypes import POINTER, byref, c_double, c_int32, c_int64, c_ubyte, c_void_p, c_wchar_p
from pathlib import Path
from typing import Any

from tradingsystem.adapters.profitdll import structs as s
from tradingsystem.adapters.profitdll.errors import (
    DLLFinalized,
    MissingExport,
    ProfitDLLHalt,
    RequestFromCallback,
    check,
)

__all__ = ["FEATURES", "ProfitDLL", "dll_version"]

_FINALIZED: set[str] = set()  # DLL paths finalized in this process: the DLL has one lifecycle per process.

log = logging.getLogger(__name__)

_I32, _I64, _P, _W = c_int32, c_int64, c_void_p, c_wchar_p
# Every export this binding uses, with its signature; names as in the vendor's manual (4.0.0.42) and
# Delphi units (ProfitFunctionsU.pas, LegacyProfitFunctionsU.pas).
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "DLLInitializeLogin": (_I32, [_W, _W, _W, s.STATE_CALLBACK, _P, _P, s.ACCOUNT_CALLBACK, _P, _P, _P, _P, _P,
                                  s.PROGRESS_CALLBACK, _P]),
    "DLLInitializeMarketLogin": (_I32, [_W, _W, _W, s.STATE_CALLBACK, _P, _P, _P, _P, _P,
                                        s.PROGRESS_CALLBACK, _P]),
    "DLLFinalize": (_I32, []),
    "SetStateCallback": (_I32, [s.STATE_CALLBACK]),
    "SetTradeCallbackV2": (_I32, [s.TRADE_CALLBACK]),
    "SetHistoryTradeCallbackV2": (_I32, [s.TRADE_CALLBACK]),
    "SetHealthCallback": (_I32, [s.HEALTH_CALLBACK]),
    "SetPriceDepthCallback": (_I32, [s.PRICE_DEPTH_CALLBACK]),
    "SetOfferBookCallbackV2": (_I32, [s.OFFER_BOOK_CALLBACK]),
    "SetOrderCallback": (_I32, [s.ORDER_CALLBACK]),
    "SetTradingMessageResultCallback": (_I32, [s.MESSAGE_CALLBACK]),
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
    "FreePointer": (_I32, [_P, c_int32]),
}

# Optional features and the exports each needs: a DLL without one of them loads, logs what is missing
# and runs without the feature. Every other export in ``_SIGNATURES`` is required.
FEATURES: dict[str, tuple[str, ...]] = {
    "health": ("SetHealthCallback", "GetHealthStatus"),  # 4.0.0.41
    "history": ("GetHistoryTrades", "SetHistoryTradeCallbackV2", "GetServerClock"),  # backfill after a gap
    "price_depth": ("SubscribePriceDepth", "UnsubscribePriceDepth", "GetPriceDepthSideCount", "GetPriceGroup",
                    "SetPriceDepthCallback"),
    "offer_book": ("SubscribeOfferBook", "UnsubscribeOfferBook", "SetOfferBookCallbackV2", "FreePointer"),
    "trading_message": ("SetTradingMessageResultCallback",),  # reasons of refusals before the broker
}
_OPTIONAL = {name for names in FEATURES.values() for name in names}

_CALLBACK_SETTERS = {  # callback name -> (setter export, type, feature or "" when required)
    "state": ("SetStateCallback", s.STATE_CALLBACK, ""),
    "trade": ("SetTradeCallbackV2", s.TRADE_CALLBACK, ""),
    "order": ("SetOrderCallback", s.ORDER_CALLBACK, ""),
    "health": ("SetHealthCallback", s.HEALTH_CALLBACK, "health"),
    "history_trade": ("SetHistoryTradeCallbackV2", s.TRADE_CALLBACK, "history"),
    "price_depth": ("SetPriceDepthCallback", s.PRICE_DEPTH_CALLBACK, "price_depth"),
    "offer_book": ("SetOfferBookCallbackV2", s.OFFER_BOOK_CALLBACK, "offer_book"),
    "trading_message": ("SetTradingMessageResultCallback", s.MESSAGE_CALLBACK, "trading_message"),
}
_VS_FIXED = b"\xbd\x04\xef\xfe"  # VS_FIXEDFILEINFO signature (0xFEEF04BD, little-endian)


def dll_version(path: str) -> str:
    """The file version of the DLL (``VS_FIXEDFILEINFO`` in its version resource), or "unknown"."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return "unknown"
    at = data.find(_VS_FIXED)
    if at < 0 or at + 16 > len(data):
        return "unknown"
    _sig, _struc, ms, ls = struct.unpack_from("<4I", data, at)
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def _pin_thread_state() -> None:
    ensure = ctypes.pythonapi.PyGILState_Ensure
    ensure.restype = ctypes.c_int
    ensure()


class ProfitDLL:
    """The loaded library. One per process; request methods run only on non-callback threads."""

    def __init__(self, path: str) -> None:
        loader = ctypes.WinDLL if sys.platform == "win32" else ctypes.CDLL  # type: ignore[attr-defined]
        self.path = path
        try:
            self.lib = loader(path)
        except OSError as exc:
            raise ProfitDLLHalt(f"cannot load ProfitDLL from {path}: {exc}") from None
        missing = [name for name in _SIGNATURES if not hasattr(self.lib, name)]
        required = [name for name in missing if name not in _OPTIONAL]
        if required:
            raise MissingExport(
                f"ProfitDLL {dll_version(path)} ({path}) does not export {', '.join(required)}: "
                "this adapter needs ProfitDLL 4.0.0.28 or later", required)
        self.missing = frozenset(missing)
        self.disabled = frozenset(f for f, names in FEATURES.items() if any(n in self.missing for n in names))
        for feature in sorted(self.disabled):
            absent = [n for n in FEATURES[feature] if n in self.missing]
            log.warning("ProfitDLL %s does not export %s: %s disabled", dll_version(path), ", ".join(absent), feature)
        for name, (restype, argtypes) in _SIGNATURES.items():
            if name not in self.missing:
                fn = getattr(self.lib, name)
                fn.restype = restype
                fn.argtypes = argtypes
        # accessors, called raw from inside callbacks
        self.translate_trade = self.lib.TranslateTrade
        self.get_order_details = self.lib.GetOrderDetails
        self.get_price_group: Any = getattr(self.lib, "GetPriceGroup", None)
        self.get_price_depth_side_count: Any = getattr(self.lib, "GetPriceDepthSideCount", None)
        self.free_pointer: Any = getattr(self.lib, "FreePointer", None)  # frees the offer-book arrays in the callback
        self.callback_thread: int | None = None
        self._keep: list[Any] = []  # callback objects must outlive the DLL's use of them
        self.on_finalize: list[Any] = []  # called once DLLFinalize has returned (no callback runs after it)

    def has(self, feature: str) -> bool:
        """Whether the DLL exports everything ``feature`` (a key of ``FEATURES``) needs."""
        return feature not in self.disabled

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
        if what in self.missing:
            raise ProfitDLLHalt(f"{what} is not exported by ProfitDLL {dll_version(self.path)}")
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
            if name in _CALLBACK_SETTERS and name != "state":
                feature = _CALLBACK_SETTERS[name][2]
                if not feature or self.has(feature):
                    self.set_callback(name, fn)

    def set_callback(self, name: str, fn: Any) -> None:
        """Register ``fn``: a Python callable, or a C function pointer of the callback's type (taken as is)."""
        setter, ftype, _feature = _CALLBACK_SETTERS[name]
        cb = fn if isinstance(fn, ftype) else ftype(fn)
        self._keep.append(cb)
        self._call(setter, cb)

    def finalize(self) -> None:
        if self.path in _FINALIZED:
            return
        self._guard("DLLFinalize")
        _FINALIZED.add(self.path)
        self.lib.DLLFinalize()
        for hook in self.on_finalize:
            hook()

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
