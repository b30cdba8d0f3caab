"""Vectorised research mode: a target-position array in, fills, trades and equity out.

Same conventions as the event engine with ``QueueVenue`` at zero latency and no book data: when the
target changes at event ``i``, a market order for the difference fills at ``price[i]`` plus
``slippage_ticks`` against the order; fees come from the same :class:`~tradingsystem.backtest.costs.FeeModel`;
P&L is exact and equal to the average-cost ``Position``'s.

Everything is numpy over events and fills: fees are asked of the fee model once per distinct
(quantity, price, day) they depend on; the total raw P&L is an integer sum of cash flows; the open
position's cost basis (hence the realised/unrealised split) comes from replaying ``Position`` over the
fills since its last flat or flip only. ``fee_mode: auto`` depends on the order of fills within a day
and goes through the fee model fill by fill. ``fills`` are built on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

import numpy as np

from tradingsystem.backtest.costs import FeeMode, FeeModel
from tradingsystem.backtest.results import Fill
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.domain.instruments import AssetClass, Instrument, cents
from tradingsystem.domain.positions import Position
from tradingsystem.engine.session_gate import DAY_NS, OFFSET_NS

__all__ = ["VectorResult", "vector_backtest"]


@dataclass
class VectorResult:
    realized_brl: Decimal
    unrealized_brl: Decimal
    fees_brl: Decimal
    position: int
    fill_index: np.ndarray
    equity_raw: np.ndarray | None = None
    symbol: str = ""
    strategy_id: str = "vector"
    fill_ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fill_qty: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Signed: positive buys, negative sells."""
    fill_price: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fill_fee: list[Decimal] = field(default_factory=list)

    @property
    def net_brl(self) -> Decimal:
        return self.realized_brl + self.unrealized_brl - self.fees_brl

    @cached_property
    def fills(self) -> list[Fill]:
        return [Fill(t, self.symbol, self.strategy_id, "", 1 if q > 0 else -1, abs(q), p, f, 2)
                for t, q, p, f in zip(self.fill_ts.tolist(), self.fill_qty.tolist(), self.fill_price.tolist(),
                                      self.fill_fee, strict=True)]


def _fees(model: FeeModel, inst: Instrument, ts: np.ndarray, qty: np.ndarray, px: np.ndarray) -> list[Decimal]:
    """Fee of each fill, asking the fee model once per distinct input it depends on."""
    if model.mode == "auto":
        return [model.fee(inst, 1 if q > 0 else 2, abs(q), p, t)
                for t, q, p in zip(ts.tolist(), qty.tolist(), px.tolist(), strict=True)]
    days = (ts - OFFSET_NS) // DAY_NS  # B3 local day, as ``day_number``
    by_price = inst.asset_class is AssetClass.STOCK  # stock fees are a share of the notional
    key = np.zeros(len(ts), dtype=np.int64)
    for col in (np.abs(qty), px if by_price else None, days):
        if col is not None:
            uniq_col, code = np.unique(col, return_inverse=True)
            key = key * len(uniq_col) + code.ravel()  # mixed radix of small codes: stays well inside int64
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    table = [model.fee(inst, 1, abs(int(qty[i])), int(px[i]), int(ts[i])) for i in first.tolist()]
    return [table[k] for k in inverse.ravel().tolist()]


def vector_backtest(instrument: Instrument, ts: np.ndarray, price: np.ndarray, target: np.ndarray,
                    fees: FeeSchedule | None = None, fee_mode: FeeMode = "day_trade", slippage_ticks: int = 0,
                    strategy_id: str = "vector", equity: bool = False) -> VectorResult:
    """Simulate ``target`` (signed position wanted after each event) on one instrument.

    ``equity`` also returns the gross mark-to-market P&L per event in raw units (price x quantity).
    """
    price = np.asarray(price, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    ts = np.asarray(ts, dtype=np.int64)
    delta = np.diff(target, prepend=0)
    idx = np.flatnonzero(delta)
    slip = slippage_ticks * instrument.tick
    d = delta[idx]
    fill_px = price[idx] + np.where(d > 0, slip, -slip)
    if slip:
        fill_px = np.where(d < 0, np.maximum(instrument.tick, fill_px), fill_px)
    fill_fee = _fees(FeeModel(fees or FeeSchedule(), fee_mode), instrument, ts[idx], d, fill_px)
    fee_total = sum(fill_fee, Decimal(0))
    last = int(price[-1]) if len(price) else 0
    final = int(target[-1]) if len(target) else 0
    # exact total raw P&L: cash flows plus the open position at the last price (Python ints: no overflow)
    flows = d * fill_px
    big = len(d) and int(np.abs(flows).max()) * len(d) >= 2**62
    cash_raw = -(sum(int(x) for x in flows.tolist()) if big else int(flows.sum()))
    total_raw = cash_raw + final * last
    pos = Position(instrument)
    if final:  # the open position's cost basis: replay only the fills since its last flat or flip
        held = target[idx]
        before = held - d
        starts = np.flatnonzero((before == 0) | (np.sign(before) != np.sign(held)))
        k0 = int(starts[-1])
        h = int(held[k0])  # a flip or an open from flat leaves |held| at that fill's price
        pos.apply_fill(1 if h > 0 else -1, abs(h), int(fill_px[k0]))
        for q, p in zip(d[k0 + 1:].tolist(), fill_px[k0 + 1:].tolist(), strict=True):
            pos.apply_fill(1 if q > 0 else -1, abs(q), p)
    unrealized_raw = pos.unrealized_raw(last)
    realized = cents(Decimal(total_raw - unrealized_raw) * instrument.brl_per_raw) if isinstance(
        unrealized_raw, int) else _split(total_raw, unrealized_raw, instrument)
    eq = None
    if equity and len(price):
        cash = np.zeros(len(price), dtype=np.int64)
        cash[idx] = -d * fill_px
        eq = np.cumsum(cash) + target * price
    return VectorResult(realized, pos.unrealized_brl(last), fee_total, final, idx, eq, instrument.symbol,
                        strategy_id, ts[idx], d, fill_px, fill_fee)


def _split(total_raw: int, unrealized_raw: Fraction, instrument: Instrument) -> Decimal:
    r = Fraction(total_raw) - unrealized_raw
    return cents(Decimal(r.numerator) * instrument.brl_per_raw / Decimal(r.denominator))

