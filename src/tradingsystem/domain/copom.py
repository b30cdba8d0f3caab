"""Copom meeting calendar: the scheduled decision days, and from when each year's calendar was known.

The Banco Central publishes the next year's ordinary meetings by June (Circular 3.593, art. 6). A meeting
takes two days (Tuesday and Wednesday); the decision is announced on the second day after the market
closes (from 18:00 B3 time until 2022, 18:30 since 2023) and the minutes at 08:00 on the Tuesday after.
``DECISIONS`` holds the second days of the calendars we could verify in two or more public sources (see
docs/altdata.md); ``PUBLISHED`` the day each calendar was released, or 30 June of the year before where the
day is not known (later than any real release, so a backtest never sees a calendar early). Years not
listed are unknown: users add them in a file (:func:`parse_calendar`), never guessed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

__all__ = ["DECISIONS", "PUBLISHED", "CopomCalendar", "Meeting", "parse_calendar"]

_D = date
DECISIONS: dict[int, tuple[date, ...]] = {
    2018: (_D(2018, 2, 7), _D(2018, 3, 21), _D(2018, 5, 16), _D(2018, 6, 20), _D(2018, 8, 1), _D(2018, 9, 19),
           _D(2018, 10, 31), _D(2018, 12, 12)),
    2020: (_D(2020, 2, 5), _D(2020, 3, 18), _D(2020, 5, 6), _D(2020, 6, 17), _D(2020, 8, 5), _D(2020, 9, 16),
           _D(2020, 10, 28), _D(2020, 12, 9)),
    2021: (_D(2021, 1, 20), _D(2021, 3, 17), _D(2021, 5, 5), _D(2021, 6, 16), _D(2021, 8, 4), _D(2021, 9, 22),
           _D(2021, 10, 27), _D(2021, 12, 8)),
    2022: (_D(2022, 2, 2), _D(2022, 3, 16), _D(2022, 5, 4), _D(2022, 6, 15), _D(2022, 8, 3), _D(2022, 9, 21),
           _D(2022, 10, 26), _D(2022, 12, 7)),
    2023: (_D(2023, 2, 1), _D(2023, 3, 22), _D(2023, 5, 3), _D(2023, 6, 21), _D(2023, 8, 2), _D(2023, 9, 20),
           _D(2023, 11, 1), _D(2023, 12, 13)),
    2024: (_D(2024, 1, 31), _D(2024, 3, 20), _D(2024, 5, 8), _D(2024, 6, 19), _D(2024, 7, 31), _D(2024, 9, 18),
           _D(2024, 11, 6), _D(2024, 12, 11)),
    2025: (_D(2025, 1, 29), _D(2025, 3, 19), _D(2025, 5, 7), _D(2025, 6, 18), _D(2025, 7, 30), _D(2025, 9, 17),
           _D(2025, 11, 5), _D(2025, 12, 10)),
    2026: (_D(2026, 1, 28), _D(2026, 3, 18), _D(2026, 4, 29), _D(2026, 6, 17), _D(2026, 8, 5), _D(2026, 9, 16),
           _D(2026, 11, 4), _D(2026, 12, 9)),
}
PUBLISHED: dict[int, date] = {2018: _D(2017, 6, 30), 2020: _D(2019, 6, 24), 2021: _D(2020, 6, 22),
                              2022: _D(2021, 6, 18), 2023: _D(2022, 6, 20), 2024: _D(2023, 6, 30),
                              2025: _D(2024, 6, 24), 2026: _D(2025, 6, 30)}  # fmt: skip

NS = 1_000_000_000
_UTC_OFFSET_NS = 3 * 3600 * NS  # B3 is UTC-3 all year
_EPOCH = date(1970, 1, 1).toordinal()


def _b3_ns(day: date, hour: int, minute: int = 0) -> int:
    return ((day.toordinal() - _EPOCH) * 86_400 + hour * 3600 + minute * 60) * NS + _UTC_OFFSET_NS


@dataclass(frozen=True, slots=True)
class Meeting:
    """One scheduled decision: its day, the announcement instant and from when the schedule was known."""

    day: date
    known_from: date
    source: str = "built-in"

    @property
    def decision_ns(self) -> int:
        return _b3_ns(self.day, 18, 30) if self.day.year >= 2023 else _b3_ns(self.day, 18)

    @property
    def known_ns(self) -> int:
        """The end of the publication day (B3 time): the schedule is used only after it."""
        return _b3_ns(self.known_from, 23, 59)


class CopomCalendar:
    """The built-in meetings plus any given ones (a given day replaces a built-in one of the same day)."""

    def __init__(self, extra: Iterable[Meeting] = ()) -> None:
        by_day = {d: Meeting(d, PUBLISHED[y]) for y, days in DECISIONS.items() for d in days}
        for m in extra:
            by_day[m.day] = m
        self.meetings: tuple[Meeting, ...] = tuple(by_day[d] for d in sorted(by_day))

    def years(self) -> list[int]:
        return sorted({m.day.year for m in self.meetings})

    def next_after(self, ts_ns: int) -> Meeting | None:
        """The first decision announced after ``ts_ns`` among the meetings known at ``ts_ns``."""
        for m in self.meetings:
            if m.decision_ns > ts_ns and m.known_ns <= ts_ns:
                return m
        return None


def parse_calendar(text: str, name: str = "calendar") -> list[Meeting]:
    """Meetings from lines ``YYYY-MM-DD[,published YYYY-MM-DD]`` (the decision day; ``#`` starts a comment).

    Without a publication date, 30 June of the year before is assumed. Raises ``ValueError`` naming the line.
    """
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.lower().startswith("day"):
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            day = date.fromisoformat(parts[0])
            known = date.fromisoformat(parts[1]) if len(parts) > 1 and parts[1] else date(day.year - 1, 6, 30)
        except ValueError as exc:
            raise ValueError(f"{name} line {n}: {raw.strip()!r} is not YYYY-MM-DD[,YYYY-MM-DD]") from exc
        if len(parts) > 2 or known >= day:
            raise ValueError(f"{name} line {n}: {raw.strip()!r}: the schedule must be published before the day")
        out.append(Meeting(day, known, name))
    return out
