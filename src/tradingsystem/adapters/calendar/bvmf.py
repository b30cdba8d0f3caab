"""Session days from exchange-calendars ``BVMF`` (holidays only; hours live in ``domain.sessions``)."""

from __future__ import annotations

from datetime import date, timedelta


class BvmfCalendar:
    """Which days B3 trades. Built once; look-ups are set membership."""

    def __init__(self, start: date = date(2015, 1, 1), end: date | None = None) -> None:
        import exchange_calendars as xcals

        end = end or date.today().replace(month=12, day=31) + timedelta(days=366)
        cal = xcals.get_calendar("BVMF", start=start.isoformat(), end=end.isoformat())
        self._sessions = frozenset(ts.date() for ts in cal.sessions)
        self.start, self.end = start, end

    def is_session(self, day: date) -> bool:
        if not (self.start <= day <= self.end):
            # Outside the library's range: fall back to weekdays so far-dated contracts still resolve.
            return day.weekday() < 5
        return day in self._sessions

    def sessions(self, start: date, end: date) -> list[date]:
        """Session days in [start, end]."""
        return sorted(d for d in self._sessions if start <= d <= end)
