"""A control action on the dashboard is an audited manual action in the state store (issue 16 item 7)."""

from __future__ import annotations

from tests.dashboard.conftest import LiveNode
from tests.dashboard.test_security import _session
from tradingsystem.engine.state import StateKeeper
from tradingsystem.ports.memory import MemoryStateStore


def test_a_dashboard_cancel_all_is_recorded_with_its_channel(live: LiveNode) -> None:
    store = MemoryStateStore()
    live.on_engine(lambda: StateKeeper(live.kernel, store) and None)
    client, csrf = _session(live)
    try:
        ok = client.post("/api/control/cancel_all", json={}, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200
    finally:
        client.close()
    [rec] = [r for r in store.manual if r.action == "cancel_all"]
    assert rec.channel == "dashboard:web:127.0.0.1" and rec.result == "accepted" and rec.ts > 0
