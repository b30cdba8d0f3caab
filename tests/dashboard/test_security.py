"""Requests without the token are refused; cross-site and CSRF-less control requests are refused."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.dashboard.conftest import TOKEN, LiveNode, login


def _session(live: LiveNode) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=live.url, timeout=10)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    csrf = re.search(r'name="csrf" content="([^"]+)"', client.get("/").text)
    assert csrf is not None
    return client, csrf.group(1)


def test_requests_without_the_token_are_refused(live: LiveNode) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as anon:
        assert anon.get("/api/state").status_code == 401
        assert anon.post("/api/control/kill", json={}).status_code == 401
        page = anon.get("/")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert anon.post("/login", data={"token": "wrong"}).status_code == 401
        assert anon.get("/api/state", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert anon.get("/api/state", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert anon.get("/api/state", headers={"Host": "evil.example"}).status_code == 400  # DNS rebinding



def test_cross_site_and_csrf_less_posts_are_refused(live: LiveNode) -> None:
    client, csrf = _session(live)
    try:
        assert client.post("/api/control/cancel_all", json={}).status_code == 403  # no CSRF token
        assert client.post("/api/control/cancel_all", json={}, headers={"X-CSRF-Token": "nope"}).status_code == 403
        evil = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
        assert client.post("/api/control/kill", json={}, headers=evil).status_code == 403
        cross = {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}
        assert client.post("/api/control/kill", json={}, headers=cross).status_code == 403
        ok = client.post("/api/control/cancel_all", json={}, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200 and "cancelled" in ok.json()
    finally:
        client.close()
    assert live.on_engine(lambda: live.kernel.guard.status()["trading_state"]) == "ACTIVE"


def test_a_cross_site_form_in_a_browser_cannot_kill(live: LiveNode, browser) -> None:
    """A page on another origin auto-posts a form to the kill switch of a logged-in browser: refused."""
    target = live.url + "/api/control/kill"

    class Evil(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            body = (f"<html><body><form id=f method=post action='{target}'><input name=reason value=evil></form>"
                    "<script>document.getElementById('f').submit()</script></body></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = login(browser, live)
        with page.expect_response(target) as info:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        assert info.value.status == 403
        page.context.close()
    finally:
        server.shutdown()
    assert live.on_engine(lambda: live.kernel.guard.kill_switch) is False

def test_websocket_needs_a_session(live: LiveNode) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    ws_url = live.url.replace("http://", "ws://") + "/ws"
    with pytest.raises(InvalidStatus):
        connect(ws_url, open_timeout=10).close()
    client, _ = _session(live)
    cookie = f"ts_session={client.cookies['ts_session']}"
    with pytest.raises(InvalidStatus):  # a session cookie from a foreign origin (cross-site WebSocket hijacking)
        connect(ws_url, additional_headers={"Cookie": cookie}, origin="http://evil.example", open_timeout=10).close()
    with connect(ws_url, additional_headers={"Cookie": cookie}, origin=live.url, open_timeout=10) as ws:
        assert '"type":"state"' in str(ws.recv(timeout=10))
    client.close()
