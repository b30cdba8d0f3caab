"""Typed configuration of the storage adapter."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class StorageConfig(BaseModel):
    """Where and how the recorder writes.

    ``flush_interval_ms`` bounds how long an accepted event may wait before it is fsynced to the
    write-ahead log; ``part_rows``/``part_interval_s`` say when the log is rolled into Parquet parts.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path
    flush_interval_ms: int = Field(default=100, ge=1, le=10_000)
    queue_size: int = Field(default=1_000_000, ge=16)
    part_rows: int = Field(default=2_000_000, ge=1)
    part_interval_s: float = Field(default=300.0, gt=0)
    fsync: bool = True
    trade_id_step: int = Field(default=1, ge=1)
    silence_s: float = Field(default=60.0, gt=0)
    scales: dict[str, int] = Field(default_factory=dict)
    default_scale: int = Field(default=2, ge=0, le=8)
    compression: str = "zstd"
    compression_level: int = 3
