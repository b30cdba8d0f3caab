"""What the broker says at connect: every order of the day (``EnumerateAllOrders``) and every open position
(``EnumerateAllPositionAssets`` + ``GetPositionV2``), read on the engine thread before trading starts.

``ProfitDLLExecution`` keeps the result and serves it to ``engine.reconcile`` (the restart reconciliation),
which matches the broker's orders to the state store's by ``ClOrderID`` and adopts the rest. Positions are
read consolidated (``PositionType`` 2: carried plus today's), since the engine's portfolio holds positions
carried overnight too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradingsystem.adapters.profitdll import structs as s
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.orders import Side

__all__ = ["OPEN_STATUSES", "Reconciliation", "VenueOrder", "VenuePosition", "avg_raw", "list_orders",
           "list_positions"]

# Order status codes (profitdll.md §4): 0 new, 1 partial, 2 filled, 4 canceled, 8 rejected,
# 10 pending new, 12 expired.
ST_NEW, ST_PARTIAL, ST_FILLED, ST_CANCELED, ST_REJECTED, ST_PENDING_NEW, ST_EXPIRED = 0, 1, 2, 4, 8, 10, 12
OPEN_STATUSES = (ST_NEW, ST_PARTIAL, ST_PENDING_NEW)
_STATE = {ST_FILLED: "filled", ST_CANCELED: "cancelled", ST_REJECTED: "rejected", ST_EXPIRED: "expired"}
CONSOLIDATED = 2


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order the DLL lists at connect; prices in raw units (``avg_price`` off the grid: an average)."""

    order_id: str
    venue_order_id: str
    local_id: int
    symbol: str
    side: Side
    quantity: int
    filled: int
    price: int
    status: int
    avg_price: int = 0

    @property
    def state(self) -> str:
        """open, filled, cancelled, rejected or expired (``engine.reconcile.BrokerOrder``)."""
        return "open" if self.status in OPEN_STATUSES else _STATE.get(self.status, "cancelled")


@dataclass(frozen=True, slots=True)
class VenuePosition:
    symbol: str
    quantity: int  # signed: + long, - short
    avg_price: Decimal


@dataclass(frozen=True, slots=True)
class Reconciliation:
    open_orders: tuple[VenueOrder, ...]
    positions: tuple[VenuePosition, ...]
    orders: tuple[VenueOrder, ...] = ()  # every order listed, open or not


def avg_raw(inst: Instrument, price: float | Decimal) -> int:
    """An average price from the DLL in raw units, not rounded to the grid (0 for none)."""
    raw = round(Decimal(repr(price) if isinstance(price, float) else price).scaleb(inst.scale))
    return max(int(raw), 0)


def list_orders(dll: Any, acct: s.TConnectorAccountIdentifier) -> list[tuple[Any, ...]]:
    """(local id, ClOrderID, ticker, qty, traded, price, avg, side, status) of every order of the day."""
    rows: list[tuple[Any, ...]] = []

    def on_order(p: Any, _param: int) -> int:
        o = p.contents
        rows.append((o.OrderID.LocalOrderID, o.OrderID.ClOrderID or "", o.AssetID.Ticker, o.Quantity,
                     o.TradedQuantity, o.Price, o.AveragePrice, o.OrderSide, o.OrderStatus))
        return 1

    dll.enumerate_orders(acct, on_order)
    return rows


def list_positions(dll: Any, acct: s.TConnectorAccountIdentifier, instrument: Callable[[str], Instrument]
                   ) -> tuple[VenuePosition, ...]:
    assets: list[tuple[str, str]] = []

    def on_asset(a: s.TConnectorAssetIdentifier, _param: int) -> int:
        assets.append((a.Ticker, a.Exchange))
        return 1

    dll.enumerate_position_assets(acct, on_asset)
    positions = []
    for ticker, exch in assets:
        pos = s.TConnectorTradingAccountPosition(Version=2, AccountID=acct,
                                                 AssetID=s.TConnectorAssetIdentifier(0, ticker, exch, 0),
                                                 PositionType=CONSOLIDATED)
        dll.get_position(pos)
        sign = 1 if pos.OpenSide == 1 else -1 if pos.OpenSide == 2 else 0
        if sign and pos.OpenQuantity:
            instrument(ticker)  # a ticker the node can model (raises a clear error otherwise)
            positions.append(VenuePosition(ticker, sign * pos.OpenQuantity, Decimal(repr(pos.OpenAveragePrice))))
    return tuple(positions)
