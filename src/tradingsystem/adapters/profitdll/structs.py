"""ctypes mirrors of ProfitDLL's records and callback types (modern subset, x64 only).

Written from the vendor's documented Delphi headers (``shared/docs/profitdll.md``). The ``TConnector*``
records are naturally aligned, so plain ``ctypes.Structure`` matches them; callback record arguments
are declared by value. Windows uses ``WINFUNCTYPE`` (stdcall, which on x64 is the one convention);
elsewhere ``CFUNCTYPE`` (the Linux test double).
"""

from __future__ import annotations

import ctypes
import struct
import sys
from ctypes import (
    POINTER,
    Structure,
    c_double,
    c_int32,
    c_int64,
    c_ubyte,
    c_uint16,
    c_uint32,
    c_void_p,
    c_wchar,
    c_wchar_p,
)

__all__ = [
    "FUNCTYPE",
    "OB_LAST_PACKET",
    "OFFER_BOOK_CALLBACK",
    "OFFER_ENTRY_V2",
    "OFFER_HEADER",
    "OFFER_TRAILER",
    "ORDER_CALLBACK",
    "PRICE_DEPTH_CALLBACK",
    "PROGRESS_CALLBACK",
    "STATE_CALLBACK",
    "TRADE_CALLBACK",
    "TRADE_LAYOUT",
    "TAssetIDRec",
    "TConnectorAccountIdentifier",
    "TConnectorAccountIdentifierOut",
    "TConnectorAssetIdentifier",
    "TConnectorAssetIdentifierOut",
    "TConnectorCancelAllOrders",
    "TConnectorCancelOrder",
    "TConnectorCancelOrders",
    "TConnectorChangeOrder",
    "TConnectorOrder",
    "TConnectorOrderIdentifier",
    "TConnectorOrderOut",
    "TConnectorPriceGroup",
    "TConnectorSendOrder",
    "TConnectorTrade",
    "TConnectorTradingAccountPosition",
    "TConnectorTradingMessageResult",
    "TConnectorZeroPosition",
    "TSystemTime",
]

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    FUNCTYPE = ctypes.WINFUNCTYPE
else:
    FUNCTYPE = ctypes.CFUNCTYPE

LPARAM = ctypes.c_ssize_t  # pointer-sized, never c_long (32-bit on Win64)
BOOL = c_int32


class TSystemTime(Structure):
    _fields_ = [
        ("wYear", c_uint16), ("wMonth", c_uint16), ("wDayOfWeek", c_uint16), ("wDay", c_uint16),
        ("wHour", c_uint16), ("wMinute", c_uint16), ("wSecond", c_uint16), ("wMilliseconds", c_uint16),
    ]


class TAssetIDRec(Structure):
    _fields_ = [("Ticker", c_wchar_p), ("Exchange", c_wchar_p), ("Feed", c_int32)]


class TConnectorAssetIdentifier(Structure):
    _fields_ = [("Version", c_ubyte), ("Ticker", c_wchar_p), ("Exchange", c_wchar_p), ("FeedType", c_ubyte)]


class TConnectorAssetIdentifierOut(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("Ticker", c_void_p), ("TickerLength", c_int32),
        ("Exchange", c_void_p), ("ExchangeLength", c_int32), ("FeedType", c_ubyte),
    ]


class TConnectorAccountIdentifier(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("BrokerID", c_int32), ("AccountID", c_wchar_p),
        ("SubAccountID", c_wchar_p), ("Reserved", c_int64),
    ]


class TConnectorAccountIdentifierOut(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("BrokerID", c_int32), ("AccountID", c_wchar * 100),
        ("AccountIDLength", c_int32), ("SubAccountID", c_wchar * 100), ("SubAccountIDLength", c_int32),
        ("Reserved", c_int64),
    ]


class TConnectorOrderIdentifier(Structure):
    _fields_ = [("Version", c_ubyte), ("LocalOrderID", c_int64), ("ClOrderID", c_wchar_p)]


class TConnectorPriceGroup(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("Price", c_double), ("Count", c_uint32), ("Quantity", c_int64),
        ("PriceGroupFlags", c_uint32),
    ]


class TConnectorTrade(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("TradeDate", TSystemTime), ("TradeNumber", c_uint32), ("Price", c_double),
        ("Quantity", c_int64), ("Volume", c_double), ("BuyAgent", c_int32), ("SellAgent", c_int32),
        ("TradeType", c_ubyte),
    ]


# The trade record's bytes, unpacked on the engine thread: native alignment equals the C layout.
# Fields: version, year, month, dow, day, hour, minute, second, ms, number, price, qty, volume,
# buy agent, sell agent, trade type.
TRADE_LAYOUT = struct.Struct("@B8HIdqdiiB")


class TConnectorSendOrder(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("AccountID", TConnectorAccountIdentifier),
        ("AssetID", TConnectorAssetIdentifier), ("Password", c_wchar_p), ("OrderType", c_ubyte),
        ("OrderSide", c_ubyte), ("Price", c_double), ("StopPrice", c_double), ("Quantity", c_int64),
        ("MessageID", c_int64),  # V2, filled by the DLL
    ]


class TConnectorChangeOrder(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("AccountID", TConnectorAccountIdentifier),
        ("OrderID", TConnectorOrderIdentifier), ("Password", c_wchar_p), ("Price", c_double),
        ("StopPrice", c_double), ("Quantity", c_int64), ("MessageID", c_int64),  # V1
    ]


class TConnectorCancelOrder(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("AccountID", TConnectorAccountIdentifier),
        ("OrderID", TConnectorOrderIdentifier), ("Password", c_wchar_p), ("MessageID", c_int64),  # V1
    ]


class TConnectorCancelOrders(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("AccountID", TConnectorAccountIdentifier),
        ("AssetID", TConnectorAssetIdentifier), ("Password", c_wchar_p),
    ]


class TConnectorCancelAllOrders(Structure):
    _fields_ = [("Version", c_ubyte), ("AccountID", TConnectorAccountIdentifier), ("Password", c_wchar_p)]


class TConnectorZeroPosition(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("AccountID", TConnectorAccountIdentifier),
        ("AssetID", TConnectorAssetIdentifier), ("Password", c_wchar_p), ("Price", c_double),
        ("PositionType", c_ubyte),  # V1: 1 day trade, 2 consolidated
        ("MessageID", c_int64),  # V2
    ]


class TConnectorOrderOut(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("OrderID", TConnectorOrderIdentifier),
        ("AccountID", TConnectorAccountIdentifierOut), ("AssetID", TConnectorAssetIdentifierOut),
        ("Quantity", c_int64), ("TradedQuantity", c_int64), ("LeavesQuantity", c_int64),
        ("Price", c_double), ("StopPrice", c_double), ("AveragePrice", c_double),
        ("OrderSide", c_ubyte), ("OrderType", c_ubyte), ("OrderStatus", c_ubyte), ("ValidityType", c_ubyte),
        ("Date", TSystemTime), ("LastUpdate", TSystemTime), ("CloseDate", TSystemTime),
        ("ValidityDate", TSystemTime), ("TextMessage", c_void_p), ("TextMessageLength", c_int32),
        ("EventID", c_int64),  # V1
    ]


class TConnectorOrder(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("OrderID", TConnectorOrderIdentifier),
        ("AccountID", TConnectorAccountIdentifier), ("AssetID", TConnectorAssetIdentifier),
        ("Quantity", c_int64), ("TradedQuantity", c_int64), ("LeavesQuantity", c_int64),
        ("Price", c_double), ("StopPrice", c_double), ("AveragePrice", c_double),
        ("OrderSide", c_ubyte), ("OrderType", c_ubyte), ("OrderStatus", c_ubyte), ("ValidityType", c_ubyte),
        ("Date", TSystemTime), ("LastUpdate", TSystemTime), ("CloseDate", TSystemTime),
        ("ValidityDate", TSystemTime), ("TextMessage", c_wchar_p), ("EventID", c_int64),
    ]


class TConnectorTradingAccountPosition(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("AccountID", TConnectorAccountIdentifier),
        ("AssetID", TConnectorAssetIdentifier), ("OpenQuantity", c_int64), ("OpenAveragePrice", c_double),
        ("OpenSide", c_ubyte), ("DailyAverageSellPrice", c_double), ("DailySellQuantity", c_int64),
        ("DailyAverageBuyPrice", c_double), ("DailyBuyQuantity", c_int64), ("DailyQuantityD1", c_int64),
        ("DailyQuantityD2", c_int64), ("DailyQuantityD3", c_int64), ("DailyQuantityBlocked", c_int64),
        ("DailyQuantityPending", c_int64), ("DailyQuantityAlloc", c_int64),
        ("DailyQuantityProvision", c_int64), ("DailyQuantity", c_int64), ("DailyQuantityAvailable", c_int64),
        ("PositionType", c_ubyte), ("EventID", c_int64),
    ]


class TConnectorTradingMessageResult(Structure):
    _fields_ = [
        ("Version", c_ubyte), ("BrokerID", c_int32), ("OrderID", TConnectorOrderIdentifier),
        ("MessageID", c_int64), ("ResultCode", c_ubyte), ("Message", c_wchar_p), ("MessageLength", c_int32),
    ]


STATE_CALLBACK = FUNCTYPE(None, c_int32, c_int32)
HEALTH_CALLBACK = FUNCTYPE(None, c_int32)
TRADE_CALLBACK = FUNCTYPE(None, TConnectorAssetIdentifier, c_void_p, c_uint32)
PROGRESS_CALLBACK = FUNCTYPE(None, TAssetIDRec, c_int32)
PRICE_DEPTH_CALLBACK = FUNCTYPE(None, TConnectorAssetIdentifier, c_ubyte, c_int32, c_ubyte)
ORDER_CALLBACK = FUNCTYPE(None, TConnectorOrderIdentifier)
MESSAGE_CALLBACK = FUNCTYPE(None, POINTER(TConnectorTradingMessageResult))
ACCOUNT_CALLBACK = FUNCTYPE(None, c_int32, c_wchar_p, c_wchar_p, c_wchar_p)
# OfferBook V2: (asset, action, pos, side, i64 qty, agent, i64 offerId, price, 5 x has-flag (Delphi Char:
# one argument slot each; only "non-zero" is read), W date, ptr sell array, ptr buy array).
OFFER_BOOK_CALLBACK = FUNCTYPE(
    None, TAssetIDRec, c_int32, c_int32, c_int32, c_int64, c_int32, c_int64, c_double,
    c_ubyte, c_ubyte, c_ubyte, c_ubyte, c_ubyte, c_wchar_p, c_void_p, c_void_p,
)

# Full-book arrays (offer book V2), packed little-endian: header {i32 count, i32 size in bytes}, ``count``
# entries {f64 price, i64 qty, i32 agent, i64 offerId, u16 date length, 23-byte 8-bit date} (53 bytes),
# then a u32 flags trailer at ``size - 4``. The client frees each array with ``FreePointer(ptr, size)``.
OFFER_HEADER = struct.Struct("<ii")
OFFER_ENTRY_V2 = struct.Struct("<dqiqH23s")
OFFER_TRAILER = struct.Struct("<I")
OB_LAST_PACKET = 1
ENUM_ORDERS_PROC = FUNCTYPE(BOOL, POINTER(TConnectorOrder), LPARAM)
ENUM_ASSETS_PROC = FUNCTYPE(BOOL, TConnectorAssetIdentifier, LPARAM)
