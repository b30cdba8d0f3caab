"""Configuration of the simulated B3 market (frozen, unknown fields rejected).

Per-instrument market parameters (``InstrumentParams``) default to ``calibrated.CALIBRATED``, which
``tradingsystem sim calibrate`` fitted on the real bars in ``../shared/data``; the rest come from
``BUILTIN_PARAMS``. A config's ``sim.instruments`` overrides either, field by field.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .calibrated import CALIBRATED, CALIBRATED_VOL

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




class InstrumentParams(BaseModel):
    """How one instrument moves and trades. Volatilities are of log prices; shares are of variance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    price: Decimal | None = None  # start price (None: DEFAULT_PRICES, then R$25.00)
    vol_daily: float = Field(0.018, ge=0, le=0.5)  # std of the open-to-close return
    gap_share: float = Field(0.35, ge=0, lt=1)  # overnight gap's share of close-to-close variance
    idio_share: float = Field(0.5, ge=0, le=1)  # share of intraday variance not from the common factor
    beta_sign: float = Field(1.0, ge=-1, le=1)  # direction of the factor loading (WDO moves against WIN)
    lag_seconds: float = Field(20.0, ge=0, le=3600)  # delay behind the common factor (lead-lag)
    weight: float = Field(1.0, gt=0)  # share of the agent flow
    median_lots: float = Field(2.0, gt=0)  # median taker size in lots
    size_sigma: float = Field(1.6, ge=0, le=4)  # log-normal spread of sizes (p99/median = exp(2.33 sigma))
    closing_share: float = Field(0.06, ge=0, lt=0.5)  # closing-call volume over the day's volume


class VolModel(BaseModel):
    """Stochastic volatility shared by every instrument: per-minute GARCH(1,1), day levels, news jumps,
    intraday seasonality of variance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    garch_alpha: float = Field(0.06, ge=0, lt=1)
    garch_beta: float = Field(0.92, ge=0, lt=1)
    slow_sd: float = Field(1.0, ge=0, le=3)  # std of the slow log-variance factor (hours-long clustering)
    slow_minutes: float = Field(120.0, gt=0)  # its AR(1) timescale
    day_vol_sd: float = Field(0.05, ge=0, le=2)  # log-normal spread of each session's volatility level
    jump_size: float = Field(5.0, ge=0)  # news jump std in one-minute standard deviations
    jump_df: float = Field(4.0, gt=2)  # Student-t tails of the jumps
    open_boost: float = Field(6.0, ge=0)  # variance at the stock open is 1 + this times midday's
    close_boost: float = Field(0.8, ge=0)  # ... and before the closing call
    tau_minutes: float = Field(20.0, gt=0)  # decay of both
    offhours: float = Field(0.3, ge=0)  # variance outside stock hours (futures only) relative to midday
    weekend_gap: float = Field(1.3, ge=1)  # std multiplier of a gap over more than one night
    micro_noise: float = Field(0.3, ge=0, le=2)  # traded level's transient deviation, in 1-min std units
    micro_seconds: float = Field(20.0, gt=0)  # ... its mean-reversion time (bid-ask bounce beyond one tick)

    @model_validator(mode="after")
    def _stationary(self) -> VolModel:
        if self.garch_alpha + self.garch_beta >= 1:
            raise ValueError("garch_alpha + garch_beta must stay below 1")
        return self


class FlowModel(BaseModel):
    """Order flow with memory: two-kernel Hawkes arrivals per instrument, metaorders split in children."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fast_branching: float = Field(0.7, ge=0, lt=1)  # events each event triggers, fast kernel
    fast_seconds: float = Field(0.05, gt=0)
    slow_branching: float = Field(0.25, ge=0, lt=1)  # ... slow kernel
    slow_seconds: float = Field(300.0, gt=0)
    vol_activity: float = Field(0.5, ge=0, le=2)  # arrival rate scales with (variance level) ** this
    meta_share: float = Field(0.1, ge=0, le=1)  # share of taker orders that are children of a metaorder
    meta_tail: float = Field(1.6, gt=1)  # Pareto tail of a metaorder's number of children
    block_share: float = Field(0.08, ge=0, le=1)  # share of taker orders that are block prints
    block_tail: float = Field(1.2, gt=1)  # Pareto tail of a block's size (in median sizes, from 4)

    @model_validator(mode="after")
    def _stationary(self) -> FlowModel:
        if self.fast_branching + self.slow_branching >= 1:
            raise ValueError("fast_branching + slow_branching must stay below 1 (a stationary Hawkes process)")
        return self


BUILTIN_PARAMS: dict[str, dict[str, float]] = {
    "WIN": {"vol_daily": 0.016, "gap_share": 0.3, "idio_share": 0.08, "lag_seconds": 0.0, "weight": 3.0,
            "median_lots": 2.0, "size_sigma": 1.0, "closing_share": 0.02},
    "IND": {"vol_daily": 0.016, "gap_share": 0.3, "idio_share": 0.05, "lag_seconds": 0.0, "median_lots": 1.0,
            "size_sigma": 0.8, "closing_share": 0.02},
    "WDO": {"vol_daily": 0.009, "gap_share": 0.3, "idio_share": 0.7, "beta_sign": -1.0, "lag_seconds": 5.0,
            "weight": 2.0, "median_lots": 1.0, "size_sigma": 1.0, "closing_share": 0.0},
    "DOL": {"vol_daily": 0.009, "gap_share": 0.3, "idio_share": 0.7, "beta_sign": -1.0, "lag_seconds": 5.0,
            "median_lots": 1.0, "size_sigma": 0.8, "closing_share": 0.0},
}
"""Parameters of instruments the real data does not cover, by futures root or stock symbol."""


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
    burst_rate_per_hour: float = Field(1.0, ge=0)  # news: how often (a factor jump and faster flow)
    burst_multiplier: float = Field(3.0, ge=1)  # ... how much faster the flow gets
    burst_mean_seconds: float = Field(60.0, gt=0)  # ... how long that lasts (exponential)
    vol: VolModel = VolModel.model_validate(CALIBRATED_VOL)  # fitted; VolModel() holds the fit's starting point
    flow: FlowModel = FlowModel()
    instruments: dict[str, InstrumentParams] = Field(default_factory=dict)  # by symbol or root, over defaults
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

    def params(self, symbol: str, root: str) -> InstrumentParams:
        """The instrument's parameters: built-in, then calibrated, then this config's overrides."""
        merged: dict[str, object] = {}
        for table in (BUILTIN_PARAMS, CALIBRATED):
            for key in (root, symbol):
                merged.update(table.get(key, {}))
        for key in (root, symbol):
            if key in self.instruments:
                merged.update(self.instruments[key].model_dump(exclude_unset=True))
        return InstrumentParams.model_validate(merged)

    def start_price(self, symbol: str, root: str) -> Decimal:
        for key in (symbol, root):
            if key in self.prices:
                return self.prices[key]
        price = self.params(symbol, root).price
        if price is not None:
            return price
        return DEFAULT_PRICES.get(symbol, DEFAULT_PRICES.get(root, Decimal("25.00")))

    def weight(self, symbol: str, root: str) -> float:
        for key in (symbol, root):
            if key in self.weights:
                return self.weights[key]
        return self.params(symbol, root).weight
