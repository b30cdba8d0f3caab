"""The Indicators page: latest value per stored series and news with sentiment per instrument."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.dashboard.conftest import TOKEN, shot
from tradingsystem.adapters.altdata import SERIES, AltStore, Post
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.node import build_sim_node
from tradingsystem.runtime.server import start_server

NOW = int(datetime(2026, 3, 2, 12, tzinfo=B3_TZ).timestamp()) * 1_000_000_000


def test_indicators_page_and_api(tmp_path: Path, browser: Any) -> None:
    store = AltStore(tmp_path)
    store.record_series(SERIES["ipca"], [(date(2026, 1, 1), Decimal("0.33")), (date(2026, 2, 1), Decimal("0.70"))],
                        NOW)
    store.record_posts([Post("a", "mercado", "", "Petrobras sobe forte", "", "pt", NOW, NOW, 0.4, "PETR4"),
                        Post("b", "mercado", "", "Petrobras cai", "", "pt", NOW, NOW, -0.3, "PETR4")], NOW)
    node = build_sim_node(AppConfig(data_dir=tmp_path), seed=1)
    handle = start_server(node.kernel, "127.0.0.1", 0, TOKEN, data_dir=tmp_path)
    try:
        with httpx.Client(base_url=handle.url, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            d = c.get("/api/altdata").json()
            assert d["indicators"] == [{"series": "ipca", "ref": "2026-02-01", "value": "0.70", "previous": "0.33",
                                        "published": "2026-03-02T12:00-03:00"}]
            petr = d["instruments"]["PETR4"]
            assert petr["count"] == 2 and petr["negative_share"] == 0.5 and petr["items"][0]["text"] == "Petrobras cai"
            assert httpx.get(f"{handle.url}/api/altdata", timeout=10).status_code == 401
            c.post("/login", data={"token": TOKEN})
            page = c.get("/altdata")
            assert page.status_code == 200 and "Economic indicators" in page.text and "altdata.js" in page.text
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        tab = ctx.new_page()
        tab.set_default_timeout(20_000)
        tab.goto(f"{handle.url}/login?next=/altdata")
        tab.fill("#token", TOKEN)
        tab.click("#login")
        tab.goto(f"{handle.url}/altdata")
        tab.wait_for_selector("#indicators tbody tr td")
        assert "ipca" in tab.inner_text("#indicators") and "0.70" in tab.inner_text("#indicators")
        news = tab.inner_text("#news")
        assert "PETR4" in news and "Petrobras cai" in news and "50% negative" in news
        shot(tab, "altdata")
        ctx.close()
    finally:
        handle.stop()
        node.market.close()
