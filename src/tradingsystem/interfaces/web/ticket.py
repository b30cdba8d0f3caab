"""The order ticket's input: prices typed as a trader types them, order kinds, time in force.

``parse_price`` accepts ``37,50``, ``37.50``, ``1.234,50`` and ``128150``; every error is one readable line
(``TicketError``) that names the field, never a Python class. ``parse_ticket`` turns the ticket's JSON into
raw-unit prices on the instrument's grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tradingsystem.domain.errors import InvalidRequest
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import OrderType, Side, TimeInForce

__all__ = ["KINDS", "Ticket", "TicketError", "fmt_price", "fmt_raw", "parse_price", "parse_ticket"]

# what the ticket offers -> the engine order type of the entry (OCO has no entry: exits only)
KINDS = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT, "STOP": OrderType.STOP_MARKET,
         "STOP_MARKET": OrderType.STOP_MARKET, "STOP_LIMIT": OrderType.STOP_LIMIT, "OCO": None}
_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.234,50 or 128.150
_NUMBER = re.compile(r"^\d+(,\d+)?$|^\d+(\.\d+)?$")


class TicketError(InvalidRequest):
    """A ticket field is wrong; the message says which and how to write it."""


def parse_price(inst: Instrument, text: object, field: str = "price") -> int:
    """A price on ``inst``'s grid in raw units from ``37,50`` / ``37.50`` / ``1.234,50``."""
    s = str(text if text is not None else "").strip().replace(" ", "")
    if not s:
        raise TicketError(f"{field}: enter a price")
    grouped = bool(_GROUPED.match(s)) and ("," in s or inst.scale < 3)  # no B3 quote has 3 decimals
    if not grouped and not _NUMBER.match(s):
        raise TicketError(f"{field}: {s!r} is not a price (write it like 37,50 or 37.50)")
    if grouped or "," in s:
        s = s.replace(".", "").replace(",", ".")
    try:
        value = Decimal(s)
    except InvalidOperation:  # the pattern above should have caught it
        raise TicketError(f"{field}: {s!r} is not a price (write it like 37,50 or 37.50)") from None
    if value <= 0:
        raise TicketError(f"{field}: the price must be above zero")
    try:
        return inst.to_raw(value)
    except InvalidRequest as exc:
        raise TicketError(f"{field}: {exc}") from None


def fmt_raw(raw: int, scale: int) -> str:
    """Raw units as the exact quote with ``scale`` decimals (``3750, 2 -> "37.50"``); no float on the way."""
    if scale <= 0:
        return str(raw)
    sign, digits = ("-", str(-raw)) if raw < 0 else ("", str(raw))
    digits = digits.rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def fmt_price(inst: Instrument, raw: int) -> str:
    """A raw price as its exact quote with the instrument's decimals (``37.50``, ``128150``, ``5234.5``)."""
    return fmt_raw(raw, inst.scale)


@dataclass(frozen=True)
class Ticket:
    """A validated ticket: the entry (``kind`` None for an OCO of exits only) and its protective legs."""

    symbol: str
    side: Side
    quantity: int
    kind: OrderType | None
    price: int = 0
    trigger: int = 0
    tif: TimeInForce = TimeInForce.DAY
    take_profit: int = 0
    stop_loss: int = 0


def _opt_price(inst: Instrument, data: dict[str, Any], key: str, label: str) -> int:
    value = data.get(key)
    return 0 if value in (None, "") else parse_price(inst, value, label)


def parse_ticket(instruments: dict[str, Instrument], data: dict[str, Any]) -> Ticket:
    """Validate the ticket's fields; raise :class:`TicketError` with the field's name on the first bad one."""
    symbol = str(data.get("symbol") or "")
    inst = instruments.get(symbol)
    if inst is None:
        raise TicketError(f"instrument: unknown instrument {symbol!r}")
    side_text = str(data.get("side") or "").upper()
    if side_text not in ("BUY", "SELL"):
        raise TicketError("side: choose BUY or SELL")
    side = Side[side_text]
    try:
        quantity = int(str(data.get("quantity") or "0").strip())
    except ValueError:
        raise TicketError(f"quantity: {data.get('quantity')!r} is not a whole number") from None
    if quantity <= 0 or quantity % inst.lot:
        raise TicketError(f"quantity: {quantity} is not a positive multiple of the lot ({inst.lot})")
    kind_text = str(data.get("type") or "MARKET").upper().replace("-", "_")
    if kind_text not in KINDS:
        raise TicketError("type: choose MARKET, LIMIT, STOP, STOP_LIMIT or OCO")
    kind = KINDS[kind_text]
    tif_text = str(data.get("tif") or "DAY").upper()
    if tif_text not in TimeInForce.__members__:
        raise TicketError("time in force: choose DAY, IOC, FOK or GTC")
    price = trigger = 0
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        price = parse_price(inst, data.get("price"), "limit price")
    if kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        trigger = parse_price(inst, data.get("trigger") or data.get("stop_price")
                              or (data.get("price") if kind is OrderType.STOP_MARKET else None), "stop price")
    take_profit = _opt_price(inst, data, "take_profit", "take profit")
    stop_loss = _opt_price(inst, data, "stop_loss", "stop loss")
    if kind is None and not (take_profit or stop_loss):
        raise TicketError("OCO: enter a take profit, a stop loss or both")
    ticket = Ticket(symbol, side, quantity, kind, price, trigger, TimeInForce[tif_text], take_profit, stop_loss)
    _check_legs(inst, ticket)
    return ticket


def _check_legs(inst: Instrument, t: Ticket) -> None:
    """Exits on the right side of the entry (or of each other for an OCO)."""
    ref = t.price or t.trigger
    buy = t.side is Side.BUY  # the entry side; for an OCO the side of the exit orders
    if t.kind is None:
        wrong = t.take_profit >= t.stop_loss if buy else t.take_profit <= t.stop_loss
        if t.take_profit and t.stop_loss and wrong:
            raise TicketError("OCO: the take profit must be on the profit side of the stop loss")
        return
    if ref and t.take_profit and (t.take_profit <= ref if buy else t.take_profit >= ref):
        raise TicketError(f"take profit: {fmt_price(inst, t.take_profit)} must be "
                          f"{'above' if buy else 'below'} the entry {fmt_price(inst, ref)}")
    if ref and t.stop_loss and (t.stop_loss >= ref if buy else t.stop_loss <= ref):
        raise TicketError(f"stop loss: {fmt_price(inst, t.stop_loss)} must be "
                          f"{'below' if buy else 'above'} the entry {fmt_price(inst, ref)}")
