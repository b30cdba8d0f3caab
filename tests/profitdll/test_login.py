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


ROUTING_UP = [(1, 1), (1, 2), (1, 4), (1, 5)]
MARKET_UP = [(2, 1), (2, 2), (2, 4)]


@pytest.mark.parametrize("order", [
    [(0, 0), (3, 0), *ROUTING_UP, *MARKET_UP],  # the double's default order
    [(0, 0), *MARKET_UP, *ROUTING_UP, (3, 0)],  # activation last
    [*MARKET_UP, (3, 0), *ROUTING_UP, (0, 0)],  # login last
])
def test_ready_needs_login_activation_market_and_routing_in_any_order(double: Double, dll_path: str,
                                                                      order: list[tuple[int, int]]) -> None:
    double.login_sequence(order)
    session = ProfitSession(config(dll_path))
    try:
        session.start()
        assert session.states == {0: 0, 1: 5, 2: 4, 3: 0}
    finally:
        session.dll.finalize()


def test_without_activation_the_session_is_not_ready(double: Double, dll_path: str) -> None:
    double.login_sequence([(0, 0), *ROUTING_UP, *MARKET_UP])
    session = ProfitSession(config(dll_path, login_timeout_s=0.3))
    try:
        with pytest.raises(LoginTimeout, match="market=4"):
            session.start()
    finally:
        session.dll.finalize()


def test_activation_failure_after_market_data_is_activation_invalid(double: Double, dll_path: str) -> None:
    double.login_sequence([(0, 0), *ROUTING_UP, *MARKET_UP, (3, 1)])
    feed, execution = open_profitdll(config(dll_path), weekdays)
    try:
        with pytest.raises(ActivationInvalid) as info:
            feed.connect(Sink())
        assert (info.value.state_type, info.value.result) == (3, 1)
        with pytest.raises(ActivationInvalid):  # not a generic NL_NO_LICENSE from the next call
            execution.connect(Sink())
    finally:
        feed.session.dll.finalize()


def test_activation_revoked_while_running_stops_feed_and_routing(double: Double, dll_path: str) -> None:
    from tradingsystem.domain.commands import SubmitOrder

    feed, execution = open_profitdll(config(dll_path), weekdays)
    sink = Sink()
    try:
        feed.connect(sink)
        execution.connect(sink)
        feed.subscribe(["WINZ26"])
        double.TestStream(5)
        double.TestInjectState(3, 1)
        double.TestWaitIdle()
        with pytest.raises(ActivationInvalid):
            while feed.next_ts() is not None:
                feed.step()
        assert len(sink.trades) == 5  # what came before the failure was delivered
        with pytest.raises(ActivationInvalid):
            execution.submit(SubmitOrder("a-1", "WINZ26", 1, 2, 1, price=120000))
    finally:
        feed.session.dll.finalize()
