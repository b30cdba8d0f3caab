"""Protocols between the engine and the outside world. Each has a handful of methods."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Protocol

from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import Bar, BookDelta, BookSnapshot, TradeTick
from tradingsystem.domain.records import AuditRecord, FillRecord, ManualActionRecord, OrderRecord, RiskStateRecord


class Clock(Protocol):
    """Time as the engine sees it: event time in backtests, wall time live (UTC ns)."""

    def now(self) -> int: ...

    def schedule(self, ts: int, callback: Callable[[int], None]) -> None:
        """Call ``callback(ts)`` once the clock reaches ``ts``."""
        ...


class DataSink(Protocol):
    """Where a feed delivers market data (the data engine). Called on the engine thread only."""

    def on_trade(self, tick: TradeTick) -> None: ...

    def on_book_delta(self, delta: BookDelta) -> None: ...

    def on_book_snapshot(self, snapshot: BookSnapshot) -> None: ...

    def on_bar(self, bar: Bar) -> None: ...


class ExecutionSink(Protocol):
    """Where an execution client reports order events (the order manager)."""

    def on_order_event(self, event: OrderEvent) -> None: ...


class MarketDataFeed(Protocol):
    """A source of market data driven by the kernel's loop.

    ``next_ts`` is the event time of the next event (None when exhausted, or, for a live feed,
    when nothing is waiting); ``step`` delivers that event (and any it causes) to the sink.
    """

    def connect(self, sink: DataSink) -> None: ...

    def subscribe(self, symbols: Iterable[str]) -> None: ...

    def next_ts(self) -> int | None: ...

    def step(self) -> None: ...

    def close(self) -> None: ...


class ExecutionClient(Protocol):
    """Routes commands to a venue; reports back through the ExecutionSink given to ``connect``."""

    def connect(self, sink: ExecutionSink) -> None: ...

    def submit(self, command: SubmitOrder) -> None: ...

    def modify(self, command: ModifyOrder) -> None: ...

    def cancel(self, command: CancelOrder) -> None: ...


class SessionCalendar(Protocol):
    """Which days B3 trades."""

    def is_session(self, day: date) -> bool: ...


class TickStore(Protocol):
    """Append-only store of market data (the recorder's backend)."""

    def append_trades(self, ticks: list[TradeTick]) -> None: ...

    def append_book(self, deltas: list[BookDelta]) -> None: ...

    def flush(self) -> None: ...


class StateStore(Protocol):
    """Durable engine state (orders, fills, risk state, audit). Writes must not block the engine:
    implementations queue them and write on their own thread; ``flush`` waits until written."""

    def save_order(self, record: OrderRecord) -> None: ...

    def save_fill(self, record: FillRecord) -> None: ...

    def save_risk_state(self, record: RiskStateRecord) -> None: ...

    def save_audit(self, records: list[AuditRecord]) -> None: ...

    def save_manual_action(self, record: ManualActionRecord) -> None: ...

    def flush(self) -> None: ...

    def load_orders(self, open_only: bool = False) -> list[OrderRecord]: ...

    def load_fills(self, since_ts: int = 0) -> list[FillRecord]: ...

    def load_risk_state(self) -> RiskStateRecord | None: ...

    def load_audit(self, limit: int = 1000) -> list[AuditRecord]: ...

    def load_manual_actions(self, limit: int = 100) -> list[ManualActionRecord]: ...

    def close(self) -> None: ...
