"""Net positions rebuilt from fills: signed quantity per (strategy, symbol), exact ints."""

from __future__ import annotations

from collections.abc import Iterable

from tradingsystem.domain.orders import Side
from tradingsystem.domain.records import FillRecord

__all__ = ["PositionKey", "net_positions"]

PositionKey = tuple[str, str]  # (strategy_id, symbol)


def net_positions(fills: Iterable[FillRecord], keep_flat: bool = False) -> dict[PositionKey, int]:
    """Sum of buys minus sells per (strategy, symbol); flat ones are left out unless ``keep_flat``."""
    out: dict[PositionKey, int] = {}
    buy = int(Side.BUY)
    for f in fills:
        key = (f.strategy_id, f.symbol)
        out[key] = out.get(key, 0) + (f.quantity if f.side == buy else -f.quantity)
    return out if keep_flat else {k: v for k, v in out.items() if v != 0}
