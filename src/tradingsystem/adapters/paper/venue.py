"""A paper venue whose state outlives the node: every arrival and order event is journalled
(JSON lines, fsynced) and reloaded on start, so a restarted node can reconcile against it.

``PaperVenue`` fills on the tape (``TickVenue``); ``QueuePaperVenue`` is the queue-aware backtest venue
(``QueueVenue``: the recorded book, queue positions) with the same journal, used by ``run --feed replay``.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from tradingsystem.backtest.queue_venue import BookSource, QueueVenue, QueueVenueConfig
from tradingsystem.backtest.queue_venue import Tape as QueueTape
from tradingsystem.backtest.tick_venue import Tape, TickVenue, TickVenueConfig, _Resting
from tradingsystem.domain.commands import OrderEvent, SubmitOrder
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderEventKind, OrderType
from tradingsystem.ports.protocols import Clock

_CLOSING = {int(OrderEventKind.CANCELLED), int(OrderEventKind.EXPIRED), int(OrderEventKind.REJECTED)}
_FILLED = int(OrderEventKind.FILLED)
_UPDATED = int(OrderEventKind.UPDATED)


class _Entry(msgspec.Struct):
    t: str
    cmd: SubmitOrder | None = None
    ev: OrderEvent | None = None


class _Journalled:
    """The journal, over a venue with ``_arrive``/``_emit``/``_resting``; ``_restore`` re-rests an order."""

    _fill_id: int

    def _open_journal(self, path: Path) -> None:
        self.path = Path(path)
        self._encoder = msgspec.json.Encoder()
        self._fills: list[OrderEvent] = []
        self._commands: dict[str, SubmitOrder] = {}
        self._closed: set[str] = set()
        self._load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("ab")

    # --- journal -------------------------------------------------------------------------------
    def _write(self, entry: _Entry) -> None:
        self._fh.write(self._encoder.encode(entry) + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _load(self) -> None:
        if not self.path.exists():
            return
        decoder = msgspec.json.Decoder(_Entry)
        filled: dict[str, int] = {}
        with self.path.open("rb") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    break  # a torn last line from a crash: the write never completed
                try:
                    entry = decoder.decode(line)
                except msgspec.DecodeError as exc:
                    raise ValueError(f"{self.path}:{lineno}: corrupt venue journal entry: {exc}") from None
                if entry.t == "arrive" and entry.cmd is not None:
                    self._commands[entry.cmd.order_id] = entry.cmd
                elif entry.t == "event" and entry.ev is not None:
                    ev = entry.ev
                    if ev.kind == _FILLED:
                        self._fills.append(ev)
                        filled[ev.order_id] = filled.get(ev.order_id, 0) + ev.fill_qty
                        self._fill_id = max(self._fill_id, ev.trade_id)
                    elif ev.kind in _CLOSING:
                        self._closed.add(ev.order_id)
                    elif ev.kind == _UPDATED and ev.order_id in self._commands:
                        c = self._commands[ev.order_id]
                        self._commands[ev.order_id] = msgspec.structs.replace(
                            c, quantity=ev.quantity or c.quantity, price=ev.price or c.price)
        for oid, cmd in self._commands.items():
            done = filled.get(oid, 0)
            if oid in self._closed or done >= cmd.quantity or cmd.order_type == OrderType.MARKET:
                self._closed.add(oid)
                continue
            self._restore(cmd, cmd.quantity - done)

    def _restore(self, cmd: SubmitOrder, leaves: int) -> None:
        raise NotImplementedError

    def _journal_arrive(self, cmd: SubmitOrder) -> None:
        self._commands[cmd.order_id] = cmd
        self._write(_Entry("arrive", cmd=cmd))

    def _journal_emit(self, event: OrderEvent) -> None:
        self._write(_Entry("event", ev=event))
        if event.kind == _FILLED:
            self._fills.append(event)
        elif event.kind in _CLOSING:
            self._closed.add(event.order_id)

    # --- reconciliation ------------------------------------------------------------------------
    def known_orders(self) -> list[SubmitOrder]:
        return list(self._commands.values())

    def open_order_ids(self) -> set[str]:
        return {oid for book in self._resting.values() for oid in book}  # type: ignore[attr-defined]

    def fills_since(self, ts: int) -> list[OrderEvent]:
        return [f for f in self._fills if f.ts_event >= ts]

    def close(self) -> None:
        self._fh.close()


class PaperVenue(_Journalled, TickVenue):
    """``TickVenue`` plus a journal at ``path``. ``open_order_ids``/``fills_since`` serve reconciliation."""

    def __init__(self, instruments: dict[str, Instrument], clock: Clock, path: Path,
                 config: TickVenueConfig | None = None, tape: Tape | None = None) -> None:
        TickVenue.__init__(self, instruments, clock, config, tape)
        self._open_journal(path)

    def _restore(self, cmd: SubmitOrder, leaves: int) -> None:
        rest = _Resting(cmd)
        rest.leaves = leaves
        self._resting.setdefault(cmd.symbol, {})[cmd.order_id] = rest
        if self._tape is not None:
            self._tape.watch(cmd.symbol, self._on_watched)

    def _arrive(self, ts: int, cmd: SubmitOrder) -> None:
        self._journal_arrive(cmd)
        super()._arrive(ts, cmd)

    def _emit(self, event: OrderEvent) -> None:
        self._journal_emit(event)
        super()._emit(event)


class QueuePaperVenue(_Journalled, QueueVenue):
    """``QueueVenue`` (recorded book, queue positions, latency, fees) plus the journal at ``path``."""

    def __init__(self, instruments: dict[str, Instrument], clock: Clock, path: Path, tape: QueueTape,
                 config: QueueVenueConfig | None = None, books: BookSource | None = None,
                 fees: FeeSchedule | None = None) -> None:
        QueueVenue.__init__(self, instruments, clock, tape, config, books, fees)
        self._open_journal(path)

    def _restore(self, cmd: SubmitOrder, leaves: int) -> None:
        self.restore(cmd, leaves)

    def _arrive(self, ts: int, cmd: SubmitOrder) -> None:
        self._journal_arrive(cmd)
        super()._arrive(ts, cmd)

    def _emit(self, event: OrderEvent) -> None:
        self._journal_emit(event)
        super()._emit(event)
