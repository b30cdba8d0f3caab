"""Configuration of the simulated B3 market (frozen, unknown fields rejected)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_SYMBOLS: tuple[str, ...] = (
    "WINFUT", "WDOFUT", "PETR4", "VALE3", "ITUB4", "BBDC4", "BBAS3", "ABEV3", "B3SA3", "WEGE3",
)

DEFAULT_PRICES: dict[str, Decimal] = {
    "WIN": Decimal("125000"), "IND": Decimal("125000"), "WDO": Decimal("5400.0"), "DOL": Decimal("5400.0"),
    "PETR4": Decimal("37.50"), "PETR3": Decimal("40.20"), "VALE3": Decimal("58.40"),
    "ITUB4": Decimal("35.10"), "BBDC4": Decimal("13.20"), "BBAS3": Decimal("27.80"),
    "ABEV3": Decimal("12.60"), "B3SA3": Decimal("11.90"), "WEGE3": Decimal("45.30"),
}
"""Opening reference prices by futures root or stock symbol; other stocks start at R$25.00."""

DEFAULT_WEIGHTS: dict[str, float] = {"WIN": 3.0, "IND": 1.0, "WDO": 2.0, "DOL": 1.0}
"""Share of the order flow by futures root or stock symbol; stocks not listed weigh 1."""

DEFAULT_BETAS: dict[str, float] = {"WIN": 1.0, "IND": 1.0, "WDO": -0.5, "DOL": -0.5}
"""Loading on the common (Ibovespa-like) factor; stocks not listed load 0.8."""


class AgentMix(BaseModel):
    """Relative frequency of each agent action in continuous trading (normalised internally)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    market_maker: float = Field(0.22, ge=0)
    noise_limit: float = Field(0.38, ge=0)
    noise_market: float = Field(0.20, ge=0)
    momentum: float = Field(0.05, ge=0)
    cancel: float = Field(0.15, ge=0)


class SimMarketConfig(BaseModel):
    """Everything the simulated market needs; deterministic for a given ``seed``.

    Times are B3 local. ``events_per_second`` is the mean agent-action rate summed over all
    instruments when every one is trading, before the U-shape and bursts.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 7
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS  # generic futures names resolve on the first session day
    session_date: date = date(2026, 3, 2)  # the first session on or after this day is the start
    start_time: time = time(9, 45)  # B3 local; instruments already trading start with a seeded book
    roll_sessions: int = Field(2, ge=0, le=20)  # WINFUT/WDOFUT roll this many sessions before expiry
    latency_in_ns: int = Field(1_000_000, ge=0)  # our command -> matching engine
    latency_out_ns: int = Field(1_000_000, ge=0)  # matching engine -> our order event
    events_per_second: float = Field(20.0, gt=0, le=100_000)  # agent actions/s, all instruments trading
    open_boost: float = Field(2.0, ge=0)  # U-shape: extra intensity at 09:00 (and 0.75x at 10:00)
    close_boost: float = Field(1.5, ge=0)  # U-shape: extra intensity around 18:00
    u_tau_minutes: float = Field(25.0, gt=0)  # decay of the open/close boosts
    burst_rate_per_hour: float = Field(4.0, ge=0)  # news bursts: how often
    burst_multiplier: float = Field(4.0, ge=1)  # ... how much faster the flow gets
    burst_mean_seconds: float = Field(30.0, gt=0)  # ... how long they last (exponential)
    factor_vol_daily: float = Field(0.012, ge=0)  # common factor volatility per session
    idio_vol_daily: float = Field(0.008, ge=0)  # each instrument's own volatility per session
    mm_levels: int = Field(5, ge=1, le=50)  # market-maker quotes per side
    max_resting_per_instrument: int = Field(300, ge=10)  # noise orders kept before extra cancels
    agents: AgentMix = AgentMix()
    prices: dict[str, Decimal] = Field(default_factory=dict)  # start prices by symbol or root
    weights: dict[str, float] = Field(default_factory=dict)  # flow share by symbol or root
    own_broker: int = Field(3, ge=0)  # broker code our orders print with
    fees_day_trade: bool = True  # price our fills with the day-trade fee table
    record_trades: bool = False  # keep every printed trade in ``SimulatedMarket.trades``

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one symbol is needed")
        if len(set(v)) != len(v):
            raise ValueError("symbols must be unique")
        return tuple(s.strip().upper() for s in v)

    def start_price(self, symbol: str, root: str) -> Decimal:
        for key in (symbol, root):
            if key in self.prices:
                return self.prices[key]
        return DEFAULT_PRICES.get(symbol, DEFAULT_PRICES.get(root, Decimal("25.00")))

    def weight(self, symbol: str, root: str) -> float:
        for key in (symbol, root):
            if key in self.weights:
                return self.weights[key]
        return DEFAULT_WEIGHTS.get(symbol, DEFAULT_WEIGHTS.get(root, 1.0))
