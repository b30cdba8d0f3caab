"""ProfitDLL (Nelogica) adapter: ctypes binding, market-data feed and execution client."""

from tradingsystem.adapters.profitdll.binding import ProfitDLL
from tradingsystem.adapters.profitdll.config import ProfitDLLConfig
from tradingsystem.adapters.profitdll.errors import (
    AccountBlocked,
    ActivationInvalid,
    BadPassword,
    DLLFinalized,
    InvalidLogin,
    LicenseExpired,
    LoginError,
    LoginServerError,
    LoginTimeout,
    MissingExport,
    ProfitDLLError,
    ProfitDLLHalt,
    ProfitDLLInvalid,
    ProfitDLLRetry,
    RequestFromCallback,
)
from tradingsystem.adapters.profitdll.execution import (
    ProfitDLLExecution,
    Reconciliation,
    VenueOrder,
    VenuePosition,
)
from tradingsystem.adapters.profitdll.feed import ProfitDLLFeed
from tradingsystem.adapters.profitdll.session import ProfitSession

__all__ = [
    "AccountBlocked", "ActivationInvalid", "BadPassword", "DLLFinalized", "InvalidLogin", "LicenseExpired",
    "LoginError", "LoginServerError", "LoginTimeout", "MissingExport", "ProfitDLL", "ProfitDLLConfig", "ProfitDLLError",
    "ProfitDLLExecution", "ProfitDLLFeed", "ProfitDLLHalt", "ProfitDLLInvalid", "ProfitDLLRetry",
    "ProfitSession", "Reconciliation", "RequestFromCallback", "VenueOrder", "VenuePosition", "open_profitdll",
]


def open_profitdll(config: ProfitDLLConfig, calendar: object) -> tuple[ProfitDLLFeed, ProfitDLLExecution]:
    """One session shared by a feed and an execution client (nothing starts until ``connect``)."""
    session = ProfitSession(config)
    return ProfitDLLFeed(session, calendar), ProfitDLLExecution(session, calendar)
