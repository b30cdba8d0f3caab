"""Performance attribution: exact P&L by strategy, instrument, model/signal, hour and side; Brinson; beta/alpha.

P&L attribution matches fills FIFO per (strategy, symbol). Every realised chunk, open lot (marked to
the given price) and fee becomes a :class:`Contribution` in exact BRL, so any grouping of them sums
to the total P&L: cash flows of all fills, minus fees, plus the marked value of open positions.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

__all__ = [
    "Contribution",
    "Fill",
    "attribute",
    "brinson",
    "group_pnl",
    "market_attribution",
    "total_pnl",
]

_HOUR_NS = 3_600_000_000_000
_B3_OFFSET_NS = -3 * _HOUR_NS
KEYS = ("strategy", "symbol", "tag", "side", "hour", "kind")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``side`` +1 buy / -1 sell; ``price`` in BRL per unit of quantity times ``multiplier``."""

    ts: int
    symbol: str
    side: int
    quantity: int
    price: Decimal
    fee: Decimal = Decimal(0)
    strategy: str = "manual"
    tag: str = ""
    multiplier: Decimal = Decimal(1)

    @property
    def hour(self) -> int:
        """B3 local hour (UTC-3) of the fill."""
        return int((self.ts + _B3_OFFSET_NS) // _HOUR_NS % 24)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One piece of P&L. ``side`` is the side of the position (long/short); ``hour`` the entry hour."""

    strategy: str
    symbol: str
    tag: str
    side: str
    hour: int
    kind: str  # realized | unrealized | fee
    pnl: Decimal


@dataclass(slots=True)
class _Lot:
    fill: Fill
    qty: int  # signed


def attribute(fills: Iterable[Fill], marks: Mapping[str, Decimal]) -> list[Contribution]:
    """FIFO-matched contributions; open lots are marked at ``marks[symbol]``."""
    books: dict[tuple[str, str], deque[_Lot]] = defaultdict(deque)
    out: list[Contribution] = []
    for f in sorted(fills, key=lambda x: x.ts):
        book = books[(f.strategy, f.symbol)]
        left = f.quantity
        closed = 0
        while left and book and (book[0].qty > 0) != (f.side > 0):
            lot = book[0]
            take = min(left, abs(lot.qty))
            sign = 1 if lot.qty > 0 else -1
            pnl = (f.price - lot.fill.price) * take * sign * f.multiplier
            out.append(_contrib(lot.fill, sign, "realized", pnl))
            lot.qty -= sign * take
            left -= take
            closed += take
            if lot.qty == 0:
                book.popleft()
        if left:
            book.append(_Lot(f, f.side * left))
        if f.fee:
            step = Decimal(1).scaleb(min(int(f.fee.as_tuple().exponent), -2))  # split at the fee's precision
            fee_closed = (f.fee * closed / f.quantity).quantize(step) if closed and left else (
                f.fee if closed else Decimal(0))
            if fee_closed:
                out.append(_contrib(f, -f.side, "fee", -fee_closed))
            if f.fee - fee_closed:
                out.append(_contrib(f, f.side, "fee", -(f.fee - fee_closed)))
    for (_, symbol), book in sorted(books.items()):
        for lot in book:
            sign = 1 if lot.qty > 0 else -1
            pnl = (Decimal(marks[symbol]) - lot.fill.price) * abs(lot.qty) * sign * lot.fill.multiplier
            out.append(_contrib(lot.fill, sign, "unrealized", pnl))
    return out


def _contrib(f: Fill, sign: int, kind: str, pnl: Decimal) -> Contribution:
    return Contribution(f.strategy, f.symbol, f.tag, "long" if sign > 0 else "short", f.hour, kind, pnl)


def total_pnl(fills: Iterable[Fill], marks: Mapping[str, Decimal]) -> Decimal:
    """Independent total: fill cash flows, minus fees, plus open positions at the marks."""
    total = Decimal(0)
    pos: dict[tuple[str, Decimal], int] = defaultdict(int)
    for f in fills:
        total -= f.side * f.quantity * f.price * f.multiplier + f.fee
        pos[(f.symbol, f.multiplier)] += f.side * f.quantity
    for (symbol, mult), q in pos.items():
        if q:
            total += q * Decimal(marks[symbol]) * mult
    return total


def group_pnl(contributions: Iterable[Contribution], key: str) -> dict[str, Decimal]:
    """Sum of contributions per value of ``key`` (one of strategy, symbol, tag, side, hour, kind)."""
    if key not in KEYS:
        raise ValueError(f"key must be one of {KEYS}")
    out: dict[str, Decimal] = defaultdict(Decimal)
    for c in contributions:
        out[str(getattr(c, key))] += c.pnl
    return dict(sorted(out.items()))


def brinson(wp: Mapping[str, float], wb: Mapping[str, float], rp: Mapping[str, float], rb: Mapping[str, float]
            ) -> pd.DataFrame:
    """Brinson-Fachler per segment: allocation, selection, interaction; their sum is Rp - Rb.

    ``wp``/``wb`` portfolio/benchmark segment weights, ``rp``/``rb`` segment returns.
    """
    segs = sorted(set(wp) | set(wb))
    total_b = sum(wb.get(s, 0.0) * rb.get(s, 0.0) for s in segs)
    rows = []
    for s in segs:
        w_p, w_b = wp.get(s, 0.0), wb.get(s, 0.0)
        r_p, r_b = rp.get(s, rb.get(s, 0.0)), rb.get(s, 0.0)
        rows.append({"segment": s, "allocation": (w_p - w_b) * (r_b - total_b),
                     "selection": w_b * (r_p - r_b), "interaction": (w_p - w_b) * (r_p - r_b)})
    df = pd.DataFrame(rows).set_index("segment")
    df["total"] = df.sum(axis=1)
    return df


def market_attribution(portfolio: pd.Series, market: pd.Series) -> dict[str, float]:
    """Split the summed daily return into market (beta x market) and alpha (the rest), exactly additive."""
    df = pd.concat([portfolio, market], axis=1, join="inner").dropna()
    y, x = df.iloc[:, 0].to_numpy(), df.iloc[:, 1].to_numpy()
    b = float(np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1))
    market_part = float(b * x.sum())
    total = float(y.sum())
    return {"beta": b, "total": total, "market": market_part, "alpha": total - market_part}
