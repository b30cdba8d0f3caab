"""Settings of the Redis Streams link (frozen, unknown keys rejected)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RedisConfig(BaseModel):
    """Where the streams live and who reads them. Put a password in ``url`` through the environment
    (``TRADINGSYSTEM__REDIS__URL``), not in the file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = "ts"  # keys: {prefix}:events, {prefix}:cmd, {prefix}:gw:*, {prefix}:eng:*
    engine_consumer: str = "engine-1"
    gateway_consumer: str = "gateway-1"
    batch: int = Field(500, ge=1, le=100_000)  # messages read or written per round trip
    maxlen: int | None = Field(None, ge=1000)  # approximate trim of the event stream (None keeps all)
    retry_s: float = Field(0.2, gt=0, le=60)  # wait between reconnect attempts
