"""Session phases as a trader reads them: pre-opening, opening auction, continuous, closing call, closed."""

from __future__ import annotations

from tradingsystem.domain.sessions import Phase

__all__ = ["phase_label", "session_note"]

_LABELS = {Phase.CANCEL_ONLY: "pre-opening", Phase.OPENING_CALL: "opening auction", Phase.CONTINUOUS: "continuous",
           Phase.CLOSING_CALL: "closing call", Phase.CLOSED: "closed"}


def phase_label(phase: Phase, after_close: bool = False) -> str:
    """``after_close`` (local time past noon) tells the after-market close from the night before the open."""
    if phase is Phase.CLOSED and after_close:
        return "after close"
    return _LABELS[phase]


def session_note(phase: Phase, crossed: bool) -> str:
    """Why the instrument does not trade now, or ``""`` when it does."""
    if phase is Phase.OPENING_CALL or phase is Phase.CLOSING_CALL:
        return "auction: orders queue, no trades until it ends" + (" (book crossed)" if crossed else "")
    if phase is Phase.CANCEL_ONLY:
        return "pre-opening: cancels only"
    if phase is Phase.CLOSED:
        return "market closed"
    return ""
