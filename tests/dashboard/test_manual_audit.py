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


def test_a_dashboard_flatten_pauses_the_strategies_until_its_resume_button(live: LiveNode) -> None:
    symbol = live.kernel.strategies[0].symbols[0]
    client, csrf = _session(live)
    headers = {"X-CSRF-Token": csrf}
    try:
        out = client.post("/api/control/flatten", json={"symbol": symbol}, headers=headers).json()
        assert out["paused"] == symbol
        state = client.get("/api/state").json()
        assert state["risk"]["paused"] == {symbol: "manual flatten by dashboard:web:127.0.0.1"}
        back = client.post("/api/control/resume_symbol", json={"symbol": symbol}, headers=headers).json()
        assert back == {"resumed": symbol, "paused": {}}
        bad = client.post("/api/control/resume_symbol", json={"symbol": "NOPE"}, headers=headers)
        assert bad.status_code in (400, 404) and "NOPE" in bad.text
    finally:
        client.close()
