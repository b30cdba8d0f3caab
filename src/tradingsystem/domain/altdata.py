"""Alternative-data events on the bus (topic ``altdata``): indicator releases and scored news items."""

from __future__ import annotations

import msgspec

__all__ = ["IndicatorRelease", "NewsItem"]


class IndicatorRelease(msgspec.Struct, frozen=True):
    """A new (or revised) value of an economic series; ``previous`` is the value before it ("" if none)."""

    series: str
    ref: str  # reference date, ISO
    value: str  # decimal string
    previous: str
    revised: bool
    ts_event: int  # UTC ns the node learnt it


class NewsItem(msgspec.Struct, frozen=True):
    """A news item or post, de-duplicated, with its sentiment score and the instruments it names."""

    id: str
    source: str
    text: str
    lang: str
    score: float
    instruments: tuple[str, ...]
    ts_event: int
    url: str = ""
