"""Order validation rules of the matching engine (B3 flavour); each returns "" or a clear reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradingsystem.domain.orders import OrderType, TimeInForce
from tradingsystem.domain.sessions import Phase

if TYPE_CHECKING:
    from tradingsystem.backtest.matching import MatchingEngine, RestingOrder

BUY, SELL = 1, 2
MARKET, LIMIT, STOP_MARKET, STOP_LIMIT = 1, 2, 3, 4
DAY, IOC, FOK, GTC = 1, 2, 3, 4
_AUCTIONS = (Phase.OPENING_CALL, Phase.CLOSING_CALL)
_VALID_TYPES = frozenset(int(t) for t in OrderType)
_VALID_TIFS = frozenset(int(t) for t in TimeInForce)


def validate_new(eng: MatchingEngine, o: RestingOrder) -> str:
    """Why a new order is refused, or ""."""
    inst = eng.instrument
    if o.side != BUY and o.side != SELL:
        return f"side {o.side} is not 1 (buy) or 2 (sell)"
    if o.otype not in _VALID_TYPES:
        return f"order type {o.otype} is not supported"
    if o.tif not in _VALID_TIFS:
        return f"time in force {o.tif} is not supported"
    if type(o.quantity) is not int or o.quantity <= 0 or o.quantity % eng.lot:
        return f"quantity {o.quantity} is not a positive multiple of lot {eng.lot} for {eng.symbol}"
    phase = eng.phase
    if phase == Phase.CLOSED:
        return f"{eng.symbol} is closed (phase CLOSED): no new orders"
    if phase == Phase.CANCEL_ONLY:
        return f"{eng.symbol} is in the cancel-only phase: no new orders"
    auction = phase in _AUCTIONS
    otype = o.otype
    if auction:
        if otype == MARKET:
            return f"market orders are not accepted during the {phase.name} auction; send a limit"
        if otype in (STOP_MARKET, STOP_LIMIT):
            return f"stop orders are not accepted during the {phase.name} auction"
        if o.tif == IOC or o.tif == FOK:
            return f"IOC/FOK orders are not accepted during the {phase.name} auction"
    if otype in (LIMIT, STOP_LIMIT):
        if type(o.price) is not int or not inst.on_grid(o.price):
            return f"price {o.price} is off the {inst.tick_size} tick grid of {eng.symbol}"
    elif otype == MARKET:
        o.price = 0
    if otype in (STOP_MARKET, STOP_LIMIT):
        if type(o.trigger) is not int or not inst.on_grid(o.trigger):
            return f"trigger {o.trigger} is off the {inst.tick_size} tick grid of {eng.symbol}"
        last = eng.last_price
        if last and (o.trigger <= last if o.side == BUY else o.trigger >= last):
            return f"stop trigger {o.trigger} already reached (last trade {last})"
        if otype == STOP_LIMIT and (o.price < o.trigger if o.side == BUY else o.price > o.trigger):
            return "stop-limit price must be at or beyond the trigger (buy: >=, sell: <=)"
        if o.tif == FOK or o.tif == IOC:
            return "stop orders take DAY or GTC validity"
    return ""

def validate_modify(eng: MatchingEngine, o: RestingOrder, quantity: int, price: int, trigger: int) -> str:
    """Why a modify is refused, or "" (nothing is changed here)."""
    if not o.live:
        return "order is not working (already filled, cancelled or expired)"
    if eng.phase == Phase.CLOSED or eng.phase == Phase.CANCEL_ONLY:
        return f"{eng.symbol} is in phase {eng.phase.name}: modifies not accepted"
    if quantity:
        if type(quantity) is not int or quantity < 0 or quantity % eng.lot:
            return f"quantity {quantity} is not a positive multiple of lot {eng.lot}"
        if quantity <= o.filled:
            return f"new quantity {quantity} is not above the filled {o.filled}"
    stop = o.otype == STOP_MARKET or o.otype == STOP_LIMIT
    if price:
        if o.otype == STOP_MARKET:
            return "a stop-market order has no limit price to change"
        if type(price) is not int or not eng.instrument.on_grid(price):
            return f"price {price} is off the {eng.instrument.tick_size} tick grid of {eng.symbol}"
    if trigger:
        if not stop:
            return "only untriggered stop orders have a trigger to change"
        if type(trigger) is not int or not eng.instrument.on_grid(trigger):
            return f"trigger {trigger} is off the {eng.instrument.tick_size} tick grid of {eng.symbol}"
    if stop:
        trig = trigger or o.trigger
        px = price or o.price
        last = eng.last_price
        if last and (trig <= last if o.side == BUY else trig >= last):
            return f"stop trigger {trig} already reached (last trade {last})"
        if o.otype == STOP_LIMIT and (px < trig if o.side == BUY else px > trig):
            return "stop-limit price must be at or beyond the trigger (buy: >=, sell: <=)"
    return ""
