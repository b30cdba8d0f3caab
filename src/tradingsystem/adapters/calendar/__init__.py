"""B3 session calendar backed by exchange-calendars ``BVMF``."""

from tradingsystem.adapters.calendar.bvmf import BvmfCalendar

__all__ = ["BvmfCalendar"]
