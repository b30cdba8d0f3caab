"""The BCB SGS series we fetch, with when each value becomes public.

SGS gives a reference date and a value, not a publication time. Each series carries a conservative
release rule (a value is taken as public no earlier than the rule says), so a monthly IPCA is known only
from its release, never at the start of its month. When a fetch sees a value before its rule's time, the
fetch time is used instead (it was public by then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tradingsystem.domain.sessions import B3_TZ

__all__ = ["SERIES", "Series", "published_at"]


@dataclass(frozen=True, slots=True)
class Series:
    """``lag``: days after the reference date (daily) or ``(months, day)`` after the reference month."""

    name: str
    code: int
    frequency: str  # "daily" or "monthly"
    description: str
    lag_days: int = 0
    lag_months: int = 0
    release_day: int = 1
    release_time: time = time(9, 0)
    revision_window_days: int = 10  # how far back an incremental fetch looks again for revisions


SERIES: dict[str, Series] = {s.name: s for s in (
    Series("selic_target", 432, "daily", "Selic target (Copom), % a.a.", 0, release_time=time(0, 0)),
    Series("selic", 11, "daily", "Selic daily rate, % a.d.", 1),
    Series("cdi", 12, "daily", "CDI daily rate, % a.d.", 1),
    Series("ptax", 1, "daily", "PTAX USD/BRL selling rate", 0, release_time=time(13, 30)),
    Series("ipca", 433, "monthly", "IPCA, % in the month", lag_months=1, release_day=15, revision_window_days=100),
    Series("ipca_12m", 13522, "monthly", "IPCA, % in 12 months", lag_months=1, release_day=15,
           revision_window_days=100),
    Series("igpm", 189, "monthly", "IGP-M, % in the month", lag_months=1, release_day=1, release_time=time(9, 0),
           revision_window_days=100),
    Series("ibc_br", 24363, "monthly", "IBC-Br economic activity index", lag_months=2, release_day=20,
           revision_window_days=400),
    Series("unemployment", 24369, "monthly", "Unemployment rate (PNAD Contínua), %", lag_months=2, release_day=1,
           revision_window_days=100),
)}


def published_at(series: Series, ref: date) -> int:
    """UTC ns from which the value for ``ref`` is taken as public under the series' release rule."""
    if series.frequency == "monthly":
        months = ref.year * 12 + ref.month - 1 + series.lag_months
        day = date(months // 12, months % 12 + 1, series.release_day)
    else:
        day = ref + timedelta(days=series.lag_days)
    return int(datetime.combine(day, series.release_time, tzinfo=B3_TZ).timestamp()) * 1_000_000_000
