"""Paper trading venue: fills against the tape and keeps a durable journal, like a broker would."""

from tradingsystem.adapters.paper.venue import PaperVenue, QueuePaperVenue

__all__ = ["PaperVenue", "QueuePaperVenue"]
