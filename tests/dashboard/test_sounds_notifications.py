"""Sounds and browser notifications on fills, denials, node alerts and kills, in Debian's chromium.

An init script records what the page asks of the browser: the frequency of every oscillator started on an
``AudioContext`` (the dashboard's beep) and every ``Notification`` made, with its text. The settings are
switched on with real clicks; the events come from the engine as they would in a session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.conftest import LiveNode, login
from tradingsystem.domain.alerts import Alert, Severity

FX = "WDOJ26"
HOLD_MS = 120
FILL, DENIAL, ALERT, KILL = 880, 330, 550, 220  # the beep of each event (app.js)

RECORD = """
window.__beeps = []; window.__notes = []; window.__permAsked = 0;
const RealAC = window.AudioContext;
window.AudioContext = class extends RealAC {
  createOscillator() {
    const o = super.createOscillator(), start = o.start.bind(o);
    o.start = (...a) => { window.__beeps.push(o.frequency.value); return start(...a); };
    return o;
  }
};
const RealN = window.Notification;
function Recorded(title, opts) {
  window.__notes.push({title, body: (opts || {}).body || ""});
  try { return new RealN(title, opts); } catch (err) { return {}; }
}
Object.defineProperty(Recorded, "permission", {get: () => RealN.permission});
Recorded.requestPermission = (...a) => { window.__permAsked++; return RealN.requestPermission(...a); };
window.Notification = Recorded;
"""


def press(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    page.mouse.down()
    page.wait_for_timeout(HOLD_MS)
    page.mouse.up()


def _open(browser: Any, live: LiveNode, **context: Any) -> Any:
    page = login(browser, live, **context)
    page.context.add_init_script(RECORD)
    page.goto(live.url + "/")
    page.wait_for_selector("#conn.on")
    for box in ("#s-sounds", "#s-notify"):
        page.locator(box).scroll_into_view_if_needed()
        press(page, box)
        page.wait_for_selector(f"{box}:checked")
    page.wait_for_function("() => localStorage.getItem('ts.sounds') === 'true' && localStorage.getItem('ts.notify')"
                           " === 'true'")
    return page


@pytest.fixture
def granted(live: LiveNode, browser: Any) -> Iterator[Any]:
    page = _open(browser, live, permissions=["notifications"])
    yield page
    page.context.close()


def _wait_note(page: Any, title: str, text: str) -> None:
    page.wait_for_function("([t, x]) => window.__notes.some((n) => n.title === t && n.body.includes(x))",
                           arg=[title, text])


def _wait_beep(page: Any, freq: int) -> None:
    page.wait_for_function("(f) => window.__beeps.includes(f)", arg=freq)


def _clear(page: Any) -> None:
    page.evaluate("() => { window.__beeps.length = 0; window.__notes.length = 0; }")


def test_fill_denial_alert_and_kill_each_sound_and_notify(live: LiveNode, granted: Any) -> None:
    page, k, ctl = granted, live.kernel, live.handle.controller
    assert page.evaluate("() => Notification.permission") == "granted"
    assert page.evaluate("() => window.__permAsked") == 0  # already granted: not asked again

    _clear(page)
    assert live.on_engine(lambda: ctl.order("test", {"symbol": FX, "side": "BUY", "quantity": 1,
                                                   "type": "MARKET"}))["ok"]
    _wait_note(page, "TradingSystem: fill", "new fill(s)")
    _wait_beep(page, FILL)
    live.on_engine(lambda: k.flatten("test", FX))

    _clear(page)
    denied = live.on_engine(lambda: ctl.order("test", {"symbol": FX, "side": "BUY", "quantity": 500,
                                                     "type": "MARKET"}))
    assert denied["status"] == "DENIED"
    _wait_note(page, "TradingSystem: denial", "denied by risk")
    _wait_beep(page, DENIAL)

    _clear(page)
    live.on_engine(lambda: k.publish_alert(Alert("indicator_release", Severity.INFO, "IPCA released", k.now())))
    live.on_engine(lambda: k.publish_alert(Alert("disk_low", Severity.WARNING, "disk low: 1.2 GB free", k.now())))
    _wait_note(page, "TradingSystem: alert", "disk_low: disk low: 1.2 GB free")
    _wait_beep(page, ALERT)
    notes = page.evaluate("() => window.__notes")
    assert not [n for n in notes if "IPCA" in n["body"]]  # INFO alerts stay quiet

    _clear(page)
    try:
        live.on_engine(lambda: ctl.kill("test", "test kill", False))
        _wait_note(page, "TradingSystem: kill", "kill switch engaged: test kill")
        _wait_beep(page, KILL)
    finally:
        live.on_engine(lambda: ctl.reset("test"))
    page.wait_for_selector("#risk-badge[data-state='ACTIVE']")
    alerts = [n for n in page.evaluate("() => window.__notes") if n["title"] == "TradingSystem: alert"]
    assert not [n for n in alerts if n["body"].startswith(("manual_action", "kill_switch"))]


def test_notifications_ask_permission_and_stay_silent_when_refused(live: LiveNode, browser: Any) -> None:
    page = _open(browser, live)  # no permission granted: the checkbox asks, headless chromium refuses
    try:
        assert page.evaluate("() => window.__permAsked") == 1
        assert page.evaluate("() => Notification.permission") != "granted"
        _clear(page)
        ctl = live.handle.controller
        live.on_engine(lambda: ctl.order("test", {"symbol": FX, "side": "BUY", "quantity": 500, "type": "MARKET"}))
        _wait_beep(page, DENIAL)  # the sound still plays
        assert page.evaluate("() => window.__notes") == []
    finally:
        page.context.close()
