"""Market-data events. Immutable, timestamps in UTC nanoseconds, prices in raw units."""

from __future__ import annotations

from enum import IntEnum

import msgspec


class Aggressor(IntEnum):
    """Which side crossed the spread. NONE for auctions, crosses and unknown prints."""

    NONE = 0
    BUY = 1
    SELL = 2


class BookAction(IntEnum):
    SET = 0
    DELETE = 1


class TradeTick(msgspec.Struct, frozen=True, gc=False):
    """One trade print: price and size on the instrument's grid, aggressor, trade number, brokers."""

    symbol: str
    price: int
    size: int
    aggressor: int
    trade_id: int
    ts_event: int
    ts_init: int
    buyer: int = 0
    seller: int = 0


class BookDelta(msgspec.Struct, frozen=True, gc=False):
    """A price level changed: ``size`` is the new total at ``price`` (0 with DELETE)."""

    symbol: str
    side: int  # 1 bid, 2 ask
    price: int
    size: int
    action: int
    sequence: int
    ts_event: int
    ts_init: int
    orders: int = 0


class BookSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Top levels of both sides, best first, as (price, size) pairs."""

    symbol: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    sequence: int
    ts_event: int
    ts_init: int


class Quote(msgspec.Struct, frozen=True, gc=False):
    symbol: str
    bid: int
    bid_size: int
    ask: int
    ask_size: int
    ts_event: int
    ts_init: int


class Bar(msgspec.Struct, frozen=True, gc=False):
    """OHLCV over [ts_open, ts_event); volume in lots, ``trades`` the print count."""

    symbol: str
    timeframe: str
    open: int
    high: int
    low: int
    close: int
    volume: int
    trades: int
    ts_open: int
    ts_event: int
    ts_init: int
