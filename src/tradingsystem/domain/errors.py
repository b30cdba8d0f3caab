"""Errors typed by what the caller must do (retry, fix the request, halt)."""

from __future__ import annotations


class TradingSystemError(Exception):
    """Base of every error the project raises on purpose."""


class InvalidRequest(TradingSystemError):
    """The request is wrong: fix it, do not retry it as is."""


class UnknownInstrument(InvalidRequest):
    """The symbol is not in the instrument registry."""


class OffGrid(InvalidRequest):
    """A price is off the instrument's tick grid or a quantity off its lot."""


class InvalidTransition(TradingSystemError):
    """An order event does not apply to the order's current state."""


class RetryLater(TradingSystemError):
    """A transient failure: the same call may succeed later."""


class HaltRequired(TradingSystemError):
    """Something is wrong enough that a person must look before trading goes on."""
