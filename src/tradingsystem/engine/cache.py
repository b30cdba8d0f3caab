"""The engine's state in memory: instruments, last trades, books, orders. Bounded in history."""

from __future__ import annotations

from collections import deque

from tradingsystem.domain.errors import UnknownInstrument
from tradingsystem.domain.events import BookDelta, TradeTick
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Order


class Book:
    """Price levels of one instrument as {raw price: size} per side."""

    __slots__ = ("asks", "bids", "sequence")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.sequence = 0

    def apply(self, delta: BookDelta) -> None:
        levels = self.bids if delta.side == 1 else self.asks
        if delta.size <= 0 or delta.action == 1:
            levels.pop(delta.price, None)
        else:
            levels[delta.price] = delta.size
        self.sequence = delta.sequence

    def best_bid(self) -> int | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> int | None:
        return min(self.asks) if self.asks else None

    def top(self, depth: int = 5) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return bids, asks


class Cache:
    """Written by the engine only. Strategies get a :class:`CacheView`."""

    def __init__(self, instruments: dict[str, Instrument], closed_orders_kept: int = 1000) -> None:
        self.instruments = instruments
        self.last_trade: dict[str, TradeTick] = {}
        self.books: dict[str, Book] = {}
        self.open_orders: dict[str, Order] = {}
        self.closed_orders: deque[Order] = deque(maxlen=closed_orders_kept)
        self._order_index: dict[str, Order] = {}

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise UnknownInstrument(f"unknown instrument {symbol!r}") from None

    def book(self, symbol: str) -> Book:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = Book()
        return book

    def add_order(self, order: Order) -> None:
        self.open_orders[order.order_id] = order
        self._order_index[order.order_id] = order

    def order(self, order_id: str) -> Order | None:
        return self._order_index.get(order_id)

    def close_order(self, order: Order) -> None:
        self.open_orders.pop(order.order_id, None)
        self.closed_orders.append(order)
        # Keep the index bounded: forget orders that fell out of the closed-order window.
        if len(self._order_index) > len(self.open_orders) + self.closed_orders.maxlen * 2:  # type: ignore[operator]
            keep = set(self.open_orders) | {o.order_id for o in self.closed_orders}
            self._order_index = {k: v for k, v in self._order_index.items() if k in keep}


class CacheView:
    """Read-only facade of the cache for strategies."""

    __slots__ = ("_cache",)

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def instrument(self, symbol: str) -> Instrument:
        return self._cache.instrument(symbol)

    @property
    def symbols(self) -> list[str]:
        return list(self._cache.instruments)

    def last_trade(self, symbol: str) -> TradeTick | None:
        return self._cache.last_trade.get(symbol)

    def last_price(self, symbol: str) -> int | None:
        tick = self._cache.last_trade.get(symbol)
        return tick.price if tick else None

    def best_bid(self, symbol: str) -> int | None:
        book = self._cache.books.get(symbol)
        return book.best_bid() if book else None

    def best_ask(self, symbol: str) -> int | None:
        book = self._cache.books.get(symbol)
        return book.best_ask() if book else None

    def book_top(self, symbol: str, depth: int = 5) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        book = self._cache.books.get(symbol)
        return book.top(depth) if book else ([], [])

    def open_orders(self, symbol: str | None = None, strategy_id: str | None = None) -> list[Order]:
        return [
            o for o in self._cache.open_orders.values()
            if (symbol is None or o.symbol == symbol) and (strategy_id is None or o.strategy_id == strategy_id)
        ]

    def order(self, order_id: str) -> Order | None:
        return self._cache.order(order_id)
