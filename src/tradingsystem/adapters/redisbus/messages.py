"""Wire format: one msgpack payload (msgspec) per stream entry, with a kind and a sequence id.

Stream entry fields: ``s`` (the gateway's event sequence, the de-duplication id), ``t`` (market time,
UTC ns), ``k`` (kind), ``b`` (the msgpack body). Commands carry ``c`` (command id) instead of ``s``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradingsystem.domain.commands import CancelOrder, ModifyOrder, OrderEvent, SubmitOrder
from tradingsystem.domain.events import BookDelta, BookSnapshot, TradeTick

KINDS: dict[str, type[Any]] = {
    "trade": TradeTick, "delta": BookDelta, "snap": BookSnapshot, "order": OrderEvent,
    "submit": SubmitOrder, "modify": ModifyOrder, "cancel": CancelOrder,
}
_ENC = msgspec.msgpack.Encoder()
_DEC = {k: msgspec.msgpack.Decoder(t) for k, t in KINDS.items()}


def encode_event(obj: Any) -> bytes:
    return _ENC.encode(obj)


def decode_event(kind: str, body: bytes) -> Any:
    """Decode a body of ``kind`` (``end`` has no body and gives None)."""
    dec = _DEC.get(kind)
    return dec.decode(body) if dec is not None else None


def field(fields: dict[bytes, bytes], name: str) -> str:
    value = fields.get(name.encode())
    return value.decode() if value is not None else ""
