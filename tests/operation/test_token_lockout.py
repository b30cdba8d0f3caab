"""Brute-force limit on the node's one token (control API bearer and dashboard login): after a few wrong tokens
from one client every try from it gets HTTP 429 until the cool-down ends; then the right token works again.
The lockout clock is injected (a list the test steps), so nothing waits on the wall clock."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.interfaces.throttle import Locked, TokenThrottle
from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.node import Node, build_sim_node
from tradingsystem.runtime.server import start_server

TOKEN = "right-token-0123456789"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["a", "b"]), st.floats(0, 40)), max_size=60),
       st.integers(1, 6), st.floats(1, 100))
def test_no_client_gets_more_than_max_failures_wrong_tries_per_lockout(tries, max_failures, lockout_s):
    clock = Clock()
    throttle = TokenThrottle(TOKEN, max_failures, lockout_s, clock)
    wrong_since_lock: dict[str, int] = {}
    locked_until: dict[str, float] = {}
    for right, client, step in tries:
        clock.t += step
        try:
            ok = throttle.check(TOKEN if right else "guess", client)
        except Locked as exc:
            assert clock.t < locked_until[client] and exc.retry_after_s > 0
            continue
        assert ok is right
        assert clock.t >= locked_until.get(client, 0.0)
        if right:
            wrong_since_lock[client] = 0
        else:
            wrong_since_lock[client] = wrong_since_lock.get(client, 0) + 1
            assert wrong_since_lock[client] <= max_failures
            if wrong_since_lock[client] == max_failures:
                locked_until[client], wrong_since_lock[client] = clock.t + lockout_s, 0


def _locks_then_recovers(get, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):  # the fourth wrong token locks the client out
        assert get("wrong").status_code == 401
    locked = get("wrong")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "30"
    assert get(TOKEN).status_code == 429  # the right token too, while locked out
    clock.t += 29.5
    assert get(TOKEN).status_code == 429
    clock.t += 1
    assert get(TOKEN).status_code == 200  # after the cool-down
    assert get("wrong").status_code == 401  # the count starts again from zero


@contextlib.contextmanager
def _running(node: Node, stop: Callable[[], None]) -> Iterator[None]:
    kernel = node.kernel
    runner = threading.Thread(target=lambda: kernel.run(live=True, speed=1.0), daemon=True)
    runner.start()
    try:
        yield
    finally:
        kernel.call_soon_threadsafe(kernel.stop)
        runner.join(timeout=30)
        stop()
        node.market.close()


def test_the_control_api_locks_out_a_guessing_client() -> None:
    node = build_sim_node(AppConfig(record=False, persist=False), seed=3)
    clock = Clock()
    server = start_server(node.kernel, "127.0.0.1", 0, TOKEN, dashboard=False, token_max_failures=4,
                          token_lockout_s=30, clock=clock)
    with _running(node, server.stop), httpx.Client(base_url=server.url, timeout=10) as http:
        _locks_then_recovers(lambda tok: http.get("/risk", headers={"Authorization": f"Bearer {tok}"}), clock)
        assert http.get("/health").status_code == 200  # open routes are not throttled
        assert http.get("/").status_code == 404  # no dashboard pages with dashboard=False


def test_the_dashboard_locks_out_a_guessing_client(tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = build_sim_node(AppConfig(data_dir=tmp_path, record=False, persist=False), seed=3)
    clock = Clock()
    handle = start_server(node.kernel, "127.0.0.1", 0, TOKEN, data_dir=tmp_path, token_max_failures=4,
                          token_lockout_s=30, clock=clock)
    with _running(node, handle.stop), httpx.Client(base_url=handle.url, timeout=10) as http:
        _locks_then_recovers(lambda tok: http.get("/api/state", headers={"Authorization": f"Bearer {tok}"}), clock)
        for _ in range(3):  # the login form shares the count with the bearer token (one wrong one above)
            assert http.post("/login", data={"token": "wrong"}).status_code == 401
        assert http.post("/login", data={"token": "wrong"}).status_code == 429
        assert http.post("/login", data={"token": TOKEN}).status_code == 429
        clock.t += 31
        assert http.post("/login", data={"token": TOKEN}).status_code == 303


def test_the_api_and_the_login_share_one_token_and_one_count(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Wrong bearer tokens on the control API and wrong logins add up to one lockout; the token that logs in to
    the dashboard is the one the API takes."""
    node = build_sim_node(AppConfig(data_dir=tmp_path, record=False, persist=False), seed=3)
    clock = Clock()
    handle = start_server(node.kernel, "127.0.0.1", 0, TOKEN, data_dir=tmp_path, token_max_failures=4,
                          token_lockout_s=30, clock=clock)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with _running(node, handle.stop), httpx.Client(base_url=handle.url, timeout=10) as http:
        assert http.get("/risk", headers=bearer).json()["trading_state"] == "ACTIVE"
        assert http.post("/login", data={"token": TOKEN}).status_code == 303
        assert http.get("/risk").status_code == 200  # the session reads the API too
        http.cookies.clear()
        for _ in range(2):
            assert http.get("/orders", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert http.post("/login", data={"token": "wrong"}).status_code == 401
        assert http.get("/risk", headers=bearer).status_code == 429
        assert http.post("/login", data={"token": TOKEN}).status_code == 429
        assert http.post("/risk/kill", headers=bearer, json={"reason": "x"}).status_code == 429
