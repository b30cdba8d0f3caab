"""ProfitDLL result codes and login states mapped to errors typed by what the caller must do."""

from __future__ import annotations

from tradingsystem.domain.errors import HaltRequired, InvalidRequest, RetryLater, TradingSystemError

__all__ = [
    "NL", "AccountBlocked", "ActivationInvalid", "BadPassword", "DLLFinalized", "InvalidLogin",
    "LicenseExpired", "LoginError", "LoginServerError", "LoginTimeout", "MissingExport", "ProfitDLLError",
    "ProfitDLLHalt", "ProfitDLLInvalid", "ProfitDLLRetry", "RequestFromCallback", "check", "error_for",
    "login_error", "nl_name",
]

_BASE = 0x80000000
_NAMES = [
    "INTERNAL_ERROR", "NOT_INITIALIZED", "INVALID_ARGS", "WAITING_SERVER", "NO_LOGIN", "NO_LICENSE",
    "PASSWORD_HASH_SHA1", "PASSWORD_HASH_MD5", "OUT_OF_RANGE", "MARKET_ONLY", "NO_POSITION", "NOT_FOUND",
    "VERSION_NOT_SUPPORTED", "OCO_NO_RULES", "EXCHANGE_UNKNOWN", "NO_OCO_DEFINED", "INVALID_SERIE",
    "LICENSE_NOT_ALLOWED", "NOT_HARD_LOGOUT", "SERIE_NO_HISTORY", "ASSET_NO_DATA", "SERIE_NO_DATA",
    "HAS_STRATEGY_RUNNING", "SERIE_NO_MORE_HISTORY", "SERIE_MAX_COUNT", "DUPLICATE_RESOURCE",
    "UNSIGNED_CONTRACT", "NO_PASSWORD", "NO_USER", "FILE_ALREADY_EXISTS", "INVALID_TICKER",
    "NOT_MASTER_ACCOUNT",
]
NL: dict[str, int] = {"OK": 0}
for _i, _name in enumerate(_NAMES, start=1):
    NL[_name] = (_BASE + _i) - (1 << 32)
NL["HISTORY_PERIOD_LIMIT"] = 0x8000002E - (1 << 32)
_BY_CODE = {v: k for k, v in NL.items()}
# Older DLLs and examples used small positive codes.
_LEGACY = {80: "NOT_INITIALIZED", 90: "INVALID_ARGS", 100: "INTERNAL_ERROR", 110: "WAITING_SERVER"}


class ProfitDLLError(TradingSystemError):
    """An error reported by ProfitDLL; ``code`` is the NL result, ``name`` its symbolic name."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.name = nl_name(code)


class ProfitDLLRetry(ProfitDLLError, RetryLater):
    """Transient: the server is not ready or the connection is down; the same call may work later."""


class ProfitDLLInvalid(ProfitDLLError, InvalidRequest):
    """The request is wrong (arguments, ticker, version, account): fix it, do not retry as is."""


class ProfitDLLHalt(ProfitDLLError, HaltRequired):
    """Licence, login or DLL-state problem: a person must look before trading goes on."""


class RequestFromCallback(ProfitDLLInvalid):
    """A request function was called on the DLL's callback thread; the manual forbids it."""


class DLLFinalized(ProfitDLLHalt):
    """DLLFinalize was called: the DLL supports one lifecycle per process; restart the process."""


class MissingExport(ProfitDLLHalt):
    """The DLL lacks an export the adapter cannot run without; ``exports`` names them."""

    def __init__(self, message: str, exports: list[str]) -> None:
        super().__init__(message)
        self.exports = tuple(exports)


class LoginError(ProfitDLLHalt):
    """Login failed; ``state_type`` and ``result`` are the state callback's values."""

    def __init__(self, message: str, state_type: int = 0, result: int = 0) -> None:
        super().__init__(message)
        self.state_type = state_type
        self.result = result


class InvalidLogin(LoginError):
    """LOGIN 1: the user is unknown to Nelogica."""


class BadPassword(LoginError):
    """LOGIN 2: wrong password."""


class AccountBlocked(LoginError):
    """LOGIN 3: the account is blocked."""


class LicenseExpired(LoginError):
    """LOGIN 4: the licence expired."""


class ActivationInvalid(LoginError):
    """MARKET_LOGIN 1: the activation key is not valid."""


class LoginServerError(LoginError, RetryLater):
    """LOGIN 200: internal server error; try again later."""


class LoginTimeout(ProfitDLLRetry):
    """The state sequence did not reach 'connected' in time."""


_LOGIN = {
    1: (InvalidLogin, "invalid login: the user is not known (check the user name)"),
    2: (BadPassword, "wrong password"),
    3: (AccountBlocked, "account blocked: contact Nelogica or the broker"),
    4: (LicenseExpired, "licence expired: renew the ProfitDLL licence"),
    200: (LoginServerError, "login server internal error: retry later"),
}


def login_error(state_type: int, result: int) -> LoginError:
    """The error for a failed LOGIN (type 0) or MARKET_LOGIN (type 3) state."""
    if state_type == 3:
        return ActivationInvalid("activation key rejected (MARKET_LOGIN 1): check the key", 3, result)
    cls, text = _LOGIN.get(result, (LoginError, f"login failed with code {result}"))
    return cls(f"ProfitDLL login failed: {text}", state_type, result)


_RETRY = {"WAITING_SERVER", "NOT_HARD_LOGOUT", "HAS_STRATEGY_RUNNING", "SERIE_NO_DATA", "ASSET_NO_DATA"}
_HALT = {
    "INTERNAL_ERROR", "NOT_INITIALIZED", "NO_LOGIN", "NO_LICENSE", "LICENSE_NOT_ALLOWED", "UNSIGNED_CONTRACT",
    "PASSWORD_HASH_SHA1", "PASSWORD_HASH_MD5", "NOT_MASTER_ACCOUNT", "MARKET_ONLY",
}


def nl_name(code: int) -> str:
    return _BY_CODE.get(code) or _LEGACY.get(code) or f"NL_{code:#x}"


def error_for(code: int, what: str) -> ProfitDLLError:
    """The typed error for a negative (or legacy) NL code returned by ``what``."""
    name = nl_name(code)
    msg = f"{what} failed: NL_{name} ({code})" if not name.startswith("NL_") else f"{what} failed: {name}"
    if name in _RETRY:
        return ProfitDLLRetry(msg, code)
    if name in _HALT:
        return ProfitDLLHalt(msg, code)
    return ProfitDLLInvalid(msg, code)


def check(code: int, what: str, legacy: bool = True) -> int:
    """Raise the typed error for a failing NL code; return the code otherwise.

    ``legacy`` also treats the old positive codes (80, 90, 100, 110) as errors; pass False for
    functions that return a count.
    """
    if code < 0 or (legacy and code in _LEGACY):
        raise error_for(code, what)
    return code
