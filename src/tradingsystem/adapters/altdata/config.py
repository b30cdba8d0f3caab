"""The ``altdata:`` section: SGS series, feeds, files of posts, aliases and the node's poller."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradingsystem.adapters.altdata.series import SERIES
from tradingsystem.adapters.altdata.sgs import DEFAULT_BASE_URL

__all__ = ["AltDataConfig", "FeedConfig", "SpikeConfig"]


class FeedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    url: str
    lang: str | None = Field(None, pattern="^(pt|en)$")  # None: detected per item


class SpikeConfig(BaseModel):
    """A sentiment spike: the mean of an instrument's last ``recent`` items is ``z`` deviations from its history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recent: int = Field(3, ge=1)
    history: int = Field(50, ge=3)
    min_history: int = Field(10, ge=2)
    z: float = Field(2.5, gt=0)


class AltDataConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    poll: bool = False  # run the poller in the node
    sgs_url: str = DEFAULT_BASE_URL
    series: list[str] = Field(default_factory=lambda: list(SERIES))
    start: date = date(2015, 1, 1)  # first day asked for when a series is fetched the first time
    feeds: list[FeedConfig] = Field(default_factory=list)
    posts: list[Path] = Field(default_factory=list)  # files of posts imported by `altdata fetch`
    aliases: Path | None = None  # YAML extending the bundled alias table
    poll_interval_s: float = Field(300.0, gt=0)
    max_backoff_s: float = Field(3600.0, gt=0)
    timeout_s: float = Field(20.0, gt=0)
    attempts: int = Field(3, ge=1)  # HTTP tries per request within one poll
    spike: SpikeConfig = SpikeConfig()

    @field_validator("series")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SERIES]
        if bad:
            raise ValueError(f"unknown series {bad}; available: {', '.join(SERIES)}")
        return v
