"""A control action on the dashboard is an audited manual action in the state store (issue 16 item 7), recorded
with what really happened once it ran: accepted, denied by a risk rule with its reason, or the error."""

from __future__ import annotations

from tests.dashboard.conftest import LiveNode
from tests.dashboard.test_security import _session
from tradingsystem.engine.state import StateKeeper
from tradingsystem.ports.memory import MemoryStateStore

FX = "WDOJ26"  # no strategy trades it


def test_dashboard_actions_are_recorded_with_their_outcome(live: LiveNode) -> None:
    store = MemoryStateStore()
    live.on_engine(lambda: StateKeeper(live.kernel, store) and None)
    client, csrf = _session(live)
    headers = {"X-CSRF-Token": csrf}
    try:
        ok = client.post("/api/control/cancel_all", json={}, headers=headers)
        assert ok.status_code == 200
        denied = client.post("/api/control/order", headers=headers,
                             json={"symbol": FX, "side": "BUY", "quantity": "500", "type": "MARKET"})
        assert denied.status_code == 200 and denied.json()["rule"] == "max_order_qty"
        bad = client.post("/api/control/order", headers=headers,
                          json={"symbol": FX, "side": "BUY", "quantity": "1", "type": "LIMIT", "price": "37,5x"})
        assert bad.status_code == 400
        unknown = client.post("/api/control/flatten", headers=headers, json={"symbol": "NOPE"})
        assert unknown.status_code == 400
    finally:
        client.close()
    rows = {r.action + ("" if r.action != "order" else ":" + r.detail.split("quantity=")[1].split()[0]): r
            for r in store.manual}
    cancel = rows["cancel_all"]
    assert cancel.channel == "dashboard:web:127.0.0.1" and cancel.ts > 0
    assert cancel.result.startswith("accepted cancelled=")
    over = rows["order:500"]
    assert over.result.startswith("denied by max_order_qty: ") and f"symbol={FX}" in over.detail
    assert rows["order:1"].result.startswith("error: limit price: ")
    assert rows["flatten"].result.startswith("error: ") and "NOPE" in rows["flatten"].result
    alerts = live.on_engine(lambda: [a.message for a in live.kernel.alerts if a.kind == "manual_action"])
    assert any("-> denied by max_order_qty" in a for a in alerts)


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
