"""Login state machine against the double: every failure code surfaces as its own clear error."""

from __future__ import annotations

import pytest

from tests.profitdll.helpers import Double, Sink, config, weekdays
from tradingsystem.adapters.profitdll import (
    AccountBlocked,
    ActivationInvalid,
    BadPassword,
    DLLFinalized,
    InvalidLogin,
    LicenseExpired,
    LoginError,
    LoginServerError,
    LoginTimeout,
    ProfitDLLInvalid,
    ProfitSession,
    open_profitdll,
)
from tradingsystem.domain.errors import HaltRequired, InvalidRequest, RetryLater

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("state_type", "code", "error", "must"),
    [
        (0, 1, InvalidLogin, HaltRequired),
        (0, 2, BadPassword, HaltRequired),
        (0, 3, AccountBlocked, HaltRequired),
        (0, 4, LicenseExpired, HaltRequired),
        (0, 200, LoginServerError, RetryLater),
        (3, 1, ActivationInvalid, HaltRequired),
    ],
)
def test_each_login_failure_code_is_its_own_error(double: Double, dll_path: str, state_type: int, code: int,
                                                  error: type[LoginError], must: type[Exception]) -> None:
    double.TestSetLoginResult(state_type, code)
    feed, _ = open_profitdll(config(dll_path), weekdays)
    try:
        with pytest.raises(error) as info:
            feed.connect(Sink())
        assert isinstance(info.value, must)
        assert info.value.state_type == state_type and info.value.result == code
        assert "SECRET" not in str(info.value)
    finally:
        feed.session.dll.finalize()


def test_login_that_never_completes_times_out_with_the_last_states(double: Double, dll_path: str) -> None:
    double.TestSetLoginHang(1)
    session = ProfitSession(config(dll_path, login_timeout_s=0.2))
    try:
        with pytest.raises(LoginTimeout, match="last states: none") as info:
            session.start()
        assert isinstance(info.value, RetryLater)
    finally:
        session.dll.finalize()


def test_successful_login_reaches_routing_and_market_data(double: Double, dll_path: str) -> None:
    feed, execution = open_profitdll(config(dll_path), weekdays)
    feed.connect(Sink())
    execution.connect(Sink())
    assert feed.session.states == {0: 0, 1: 5, 2: 4, 3: 0}
    feed.close()
    execution.close()  # the last user finalizes


def test_market_only_login_has_no_routing(double: Double, dll_path: str) -> None:
    feed, execution = open_profitdll(config(dll_path, market_only=True), weekdays)
    feed.connect(Sink())
    assert 1 not in feed.session.states
    with pytest.raises(HaltRequired):
        execution.connect(Sink())
    feed.session.dll.finalize()


def test_empty_user_is_a_request_error_from_the_dll(double: Double, dll_path: str) -> None:
    session = ProfitSession(config(dll_path, user=""))
    with pytest.raises(ProfitDLLInvalid, match="NO_USER") as info:
        session.start()
    assert isinstance(info.value, InvalidRequest)


def test_no_second_initialisation_after_finalize(double: Double, dll_path: str) -> None:
    first = ProfitSession(config(dll_path))
    first.start()
    first.close()
    assert double.DLLInitializeLogin(None, None, None, None, None, None, None, None, None, None, None,
                                     None, None, None) != 0
    second = ProfitSession(config(dll_path))
    with pytest.raises(DLLFinalized):
        second.start()
