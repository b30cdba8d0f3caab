"""Alert events: what operators are told (risk breaches, kill switch, breakers, feed state)."""

from __future__ import annotations

from enum import IntEnum

import msgspec


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    CRITICAL = 2


class Alert(msgspec.Struct, frozen=True):
    """``kind`` names the rule (``kill_switch``, ``daily_loss``, ``stale_data``, ``fill``...)."""

    kind: str
    severity: int
    message: str
    ts_event: int
    data: dict[str, str] = {}
