"""Application configuration: one YAML file validated by frozen typed models.

Errors name the key and, when read from a file, its line. Environment variables
``TRADINGSYSTEM__SECTION__KEY=value`` override the file (secrets such as ``TRADINGSYSTEM__REDIS__URL``); the
value is read as YAML. Only ``runtime`` reads files and the environment; components receive the typed sections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tradingsystem.adapters.altdata.config import AltDataConfig
from tradingsystem.adapters.profitdll.config import ProfitDLLConfig
from tradingsystem.adapters.redisbus.config import RedisConfig
from tradingsystem.adapters.simulator import SimMarketConfig
from tradingsystem.domain.fees import FeeSchedule
from tradingsystem.engine.guard import BreakerConfig
from tradingsystem.engine.risk import RiskConfig, TradingState
from tradingsystem.runtime.alerts_setup import AlertsConfig
from tradingsystem.runtime.backup_setup import BackupConfig
from tradingsystem.runtime.sharing_setup import FollowConfig, ShareConfig
from tradingsystem.strategies.ema_cross import EmaCrossConfig

_DEFAULT_FEES = FeeSchedule()


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key (and line) to fix."""


class FeesConfig(BaseModel):
    """B3 fees: futures from B3's tables (in BRL or USD) at the trader's monthly ADV, stocks in bps, brokerage.

    ``adv`` / ``day_trade_adv``: last month's average daily contracts per root (``{WIN: 40}``; all brokers,
    same CPF) pick the tier. USD fees (WDO, DOL) convert at the day's PTAX from the alternative-data catalog;
    ``usd_brl_fallback`` is used when none is loaded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    adv: dict[str, Decimal] = Field(default_factory=dict)
    day_trade_adv: dict[str, Decimal] = Field(default_factory=dict)
    usd_brl_fallback: Decimal = Field(_DEFAULT_FEES.usd_brl_fallback, gt=0)
    stock_day_trade_bps: Decimal = Field(_DEFAULT_FEES.stock_day_trade_bps, ge=0)
    stock_swing_bps: Decimal = Field(_DEFAULT_FEES.stock_swing_bps, ge=0)
    brokerage_per_fill: Decimal = Field(Decimal(0), ge=0)
    brokerage_tax_rate: Decimal = Field(Decimal(0), ge=0)

    def schedule(self, ptax: Mapping[date, Decimal] | None = None) -> FeeSchedule:
        """The schedule; ``ptax`` is USD/BRL per day (BCB series), e.g. from ``altdata.ptax_rates``."""
        return FeeSchedule(adv=dict(self.adv), day_trade_adv=dict(self.day_trade_adv),
                           stock_day_trade_bps=self.stock_day_trade_bps, stock_swing_bps=self.stock_swing_bps,
                           brokerage_per_fill=self.brokerage_per_fill, brokerage_tax_rate=self.brokerage_tax_rate,
                           usd_brl_fallback=self.usd_brl_fallback, ptax=dict(ptax or {}))


class GatewayConfig(BaseModel):
    """The gateway process of a split deployment (``tradingsystem gateway``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feed: str = Field("sim", pattern="^(sim|profitdll)$")  # the venue it drives
    speed: float | None = Field(None, gt=0)  # market seconds per wall second for sim; None = as fast as possible
    duration_s: float | None = Field(None, gt=0)  # market seconds to run (sim); None = the whole calendar
    log_json: bool = True


class ObservabilityConfig(BaseModel):
    """Logs and the node's one HTTP server (dashboard, control API, /health and /metrics)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    log_json: bool = False  # structured JSON logs on stderr (one object a line)
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$")
    control_host: str = "127.0.0.1"  # the HTTP server (run --host); /health and /metrics need no token: loopback
    control_port: int = Field(8000, ge=0, le=65535)  # its port (run --port); 0 or a taken port: a free one
    token_max_failures: int = Field(5, ge=1)  # wrong tokens in a row (login or bearer) before a client is locked out
    token_lockout_s: float = Field(60.0, gt=0)  # how long a locked-out client gets HTTP 429


class BarsConfig(BaseModel):
    """Live time bars built on the engine for a symbol (``WINFUT`` resolves to the front contract)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    timeframe: str = "1m"


class TemplateConfig(BaseModel):
    """A strategy template (``docs/backtesting.md``): ema_cross, donchian, zscore, ml_signal, orderflow."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    symbol: str
    params: dict[str, Any] = Field(default_factory=dict)


class SignalConfig(BaseModel):
    """A stored model publishing live signals (topic ``signals``) from its own feature set on bars."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    registry: Path = Path("models")
    altdata_dir: Path | None = None  # the altdata store a model's alt-data features read (default: data_dir)


SAFE_RISK = RiskConfig(
    max_order_qty=50, max_position=100, quantity_in_lots=True, max_order_qty_by_symbol={},
    max_position_by_symbol={}, max_gross_exposure_brl=Decimal(2_000_000), max_working_orders=50,
    max_orders_per_second=20, price_band_pct=Decimal(5), daily_loss_limit_brl=Decimal(1000),
    max_drawdown_brl=Decimal(1500), breach_action=TradingState.HALTED, flatten_on_kill=True,
    flatten_before_close_minutes=10,
)
SAFE_BREAKERS = BreakerConfig(stale_data_seconds=30, max_rejects=10, max_adapter_errors=5)


class ShadowConfig(BaseModel):
    """The shadow backtest of live sessions (``tradingsystem shadow``; ``nightly``: after each ``run``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nightly: bool = False  # shadow the session when ``run`` ends (report + alert)
    backtest: Path | None = None  # backtest config whose ``venue`` section models the venue (calibrate writes it)
    alert_gap_brl: Decimal = Field(Decimal(100), ge=0)  # alert when |replay P&L - live P&L| passes this
    window_ms: float = Field(5000, gt=0)  # live and replayed orders pair within this send-time distance


class AppConfig(BaseModel):
    """The whole node: where data lives, the market, risk limits, fees and strategies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Path("data")
    record: bool = True
    persist: bool = True
    state_url: str | None = None
    """SQLAlchemy URL of the state store; default ``sqlite:///{data_dir}/state.db``."""
    sim: SimMarketConfig = SimMarketConfig()
    risk: RiskConfig = SAFE_RISK
    """Protections are on by default (config/sim.yaml shows each with a comment); 0 turns one off."""
    fees: FeesConfig = FeesConfig()
    breakers: BreakerConfig = SAFE_BREAKERS
    alerts: AlertsConfig = AlertsConfig()
    bars: list[BarsConfig] = Field(default_factory=list)
    templates: list[TemplateConfig] = Field(default_factory=list)
    signals: list[SignalConfig] = Field(default_factory=list)
    strategies: list[EmaCrossConfig] = Field(default_factory=lambda: [EmaCrossConfig()])
    redis: RedisConfig = RedisConfig()
    profitdll: ProfitDLLConfig = ProfitDLLConfig()  # live B3 through ProfitDLL (docs/profitdll.md)
    gateway: GatewayConfig = GatewayConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    shadow: ShadowConfig = ShadowConfig()
    backup: BackupConfig = BackupConfig()
    share: ShareConfig | None = None
    follow: FollowConfig | None = None
    altdata: AltDataConfig = AltDataConfig()

    def fee_schedule(self, data_dir: Path | None = None) -> FeeSchedule:
        """The fee schedule with the PTAX stored under ``data_dir`` (USD fees; the fallback rate when none)."""
        from tradingsystem.runtime.altdata import load_ptax

        return self.fees.schedule(load_ptax(data_dir or self.data_dir))

    @field_validator("risk")
    @classmethod
    def _per_symbol_limits_positive(cls, risk: RiskConfig) -> RiskConfig:
        """A per-symbol limit of 0 or less would deny every order of that symbol: refuse it here."""
        for name in ("max_order_qty_by_symbol", "max_position_by_symbol"):
            bad = {sym: v for sym, v in getattr(risk, name).items() if v <= 0}
            if bad:
                raise ValueError(f"{name}: limits must be at least 1, got {bad} (remove a symbol to use the default)")
        return risk


def state_url(config: AppConfig, data_dir: Path | None = None) -> str:
    return config.state_url or f"sqlite:///{(data_dir or config.data_dir) / 'state.db'}"


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest one found)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


ENV_PREFIX = "TRADINGSYSTEM__"


def env_overrides(data: dict[str, Any], environ: Mapping[str, str] | None = None) -> tuple[dict[str, Any], set[str]]:
    """``data`` with ``TRADINGSYSTEM__A__B=value`` applied (value parsed as YAML); also the dotted keys set."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = dict(data)
    keys: set[str] = set()
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or len(name) == len(ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__")]
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        for part in path[:-1]:
            child = node.get(part)
            child = dict(child) if isinstance(child, dict) else {}
            node[part] = child
            node = child
        node[path[-1]] = value
        keys.add(".".join(path))
    return out, keys


def parse_config(data: dict[str, Any] | None, source: str = "<config>", text: str = "",
                 environ: Mapping[str, str] | None = None) -> AppConfig:
    merged, from_env = env_overrides(data or {}, environ)
    for section, safe in (("risk", SAFE_RISK), ("breakers", SAFE_BREAKERS)):  # a partial section keeps the rest safe
        given = merged.get(section)
        if isinstance(given, dict):
            merged[section] = {**safe.model_dump(), **given}
    try:
        return AppConfig.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            env_key = next((k for k in from_env if key == k or key.startswith(k + ".")), None)
            line = _line_of(text, err["loc"]) if text and env_key is None else None
            where = f"env {ENV_PREFIX}{env_key.replace('.', '__').upper()}" if env_key else \
                (f"{source}:{line}" if line else source)
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {key}: {msg}")
        raise ConfigError("invalid configuration\n  " + "\n  ".join(problems)) from None


def read_utf8(path: Path) -> str:
    """A config file's text; a file that is not UTF-8 (latin-1 accents) is a ConfigError naming file and line."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8 "
                          "(a latin-1 editor writes accents this way)") from None


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Read and validate a YAML config file (``None``: the defaults), environment overrides applied."""
    if path is None:
        return parse_config({}, "<defaults>", "", environ)
    if not path.exists():
        raise ConfigError(f"config file {path} not found")
    text = read_utf8(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return parse_config(data, str(path), text, environ)
