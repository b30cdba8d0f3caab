"""Vectorised research mode: a target-position array in, fills, trades and equity out.

Same conventions as the event engine with ``QueueVenue`` at zero latency and no book data: when the
target changes at event ``i``, a market order for the difference fills at ``price[i]`` plus
``slippage_ticks`` against the order; fees come from the same :class:`~tradingsystem.backtest.costs.FeeModel`;
positions and P&L use the same exact average-cost ``Position``. The work is numpy over events plus a
Python loop over fills only, so it is fast when fills are few relative to events.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradingsystem.backtest.costs import FeeMode, FeeModel
from tradingsystem.backtest.results import Fill
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import Instrument
from tradingsystem.domain.positions import Position

__all__ = ["VectorResult", "vector_backtest"]


@dataclass
class VectorResult:
    fills: list[Fill]
    realized_brl: Decimal
    unrealized_brl: Decimal
    fees_brl: Decimal
    position: int
    fill_index: np.ndarray
    equity_raw: np.ndarray | None = None

    @property
    def net_brl(self) -> Decimal:
        return self.realized_brl + self.unrealized_brl - self.fees_brl


def vector_backtest(instrument: Instrument, ts: np.ndarray, price: np.ndarray, target: np.ndarray,
                    fees: FeeSchedule | None = None, fee_mode: FeeMode = "day_trade", slippage_ticks: int = 0,
                    strategy_id: str = "vector", equity: bool = False) -> VectorResult:
    """Simulate ``target`` (signed position wanted after each event) on one instrument.

    ``equity`` also returns the gross mark-to-market P&L per event in raw units (price x quantity).
    """
    price = np.asarray(price, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    delta = np.diff(target, prepend=0)
    idx = np.flatnonzero(delta)
    model = FeeModel(fees or FeeSchedule(), fee_mode)
    pos = Position(instrument)
    slip = slippage_ticks * instrument.tick
    fills: list[Fill] = []
    fee_total = Decimal(0)
    ts_l = np.asarray(ts, dtype=np.int64)[idx].tolist()
    px_l = price[idx].tolist()
    d_l = delta[idx].tolist()
    for t, p, d in zip(ts_l, px_l, d_l, strict=True):
        side = 1 if d > 0 else -1
        qty = d if d > 0 else -d
        fill_px = p + slip if side > 0 else max(instrument.tick, p - slip)
        fee = model.fee(instrument, 1 if side > 0 else 2, qty, fill_px, t)
        pos.apply_fill(side, qty, fill_px, fee)
        fee_total += fee
        fills.append(Fill(t, instrument.symbol, strategy_id, "", side, qty, fill_px, fee, 2))
    last = int(price[-1]) if len(price) else 0
    eq = None
    if equity and len(price):
        fill_px_arr = price[idx] + np.where(delta[idx] > 0, slip, -slip)
        cash = np.zeros(len(price), dtype=np.int64)
        cash[idx] = -delta[idx] * fill_px_arr
        eq = np.cumsum(cash) + target * price
    return VectorResult(fills, pos.realized_brl(), pos.unrealized_brl(last), fee_total, pos.quantity, idx, eq)
