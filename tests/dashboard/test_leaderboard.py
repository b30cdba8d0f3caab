"""The leaderboard page on a follower node: the followed strategy with its P&L as signalled, and ours."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import time
from pathlib import Path

import httpx
import pytest

from tests.dashboard.conftest import TOKEN, LiveNode
from tradingsystem.adapters.simulator import SimMarketConfig
from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.node import build_sim_node
from tradingsystem.runtime.server import start_server
from tradingsystem.strategies.mirror import Mirror, MirrorConfig


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[LiveNode]:
    """A node of its own (the shared one must not gain a strategy)."""
    cfg = AppConfig(data_dir=tmp_path, record=False, persist=False, strategies=[],
                    sim=SimMarketConfig(start_time=time(10, 5), events_per_second=20))
    node = build_sim_node(cfg, seed=3)
    handle = start_server(node.kernel, "127.0.0.1", 0, TOKEN, data_dir=tmp_path)
    thread = threading.Thread(target=lambda: node.kernel.run(speed=10), name="engine", daemon=True)
    thread.start()
    try:
        yield LiveNode(node, handle)
    finally:
        node.kernel.stop()
        thread.join(10)
        handle.stop()
        node.market.close()


def test_leaderboard_lists_followed_strategies(follower: LiveNode) -> None:
    live = follower
    client = httpx.Client(base_url=live.url, timeout=10)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    assert client.get("/api/leaderboard").json() == {"following": False, "rows": []}
    symbol = sorted(s for s in live.kernel.instruments if s.startswith("WIN"))[0]

    def follow() -> None:
        mirror = Mirror(MirrorConfig(), [symbol])
        live.kernel.add_strategy(mirror)
        price = live.kernel.data.last_price(symbol) or 125_000
        mirror.on_signal("ema_cross", symbol, 1, price)
        mirror.on_signal("ema_cross", symbol, -1, price + 50)  # a reversal 10 points up: +R$2 on 1 WIN

    live.on_engine(follow)
    d = client.get("/api/leaderboard").json()
    assert d["following"] and d["applied"] == 2
    (row,) = d["rows"]
    assert row["strategy"] == "ema_cross" and row["instrument"] == symbol and row["leader_position"] == -1
    page = client.get("/leaderboard")
    assert page.status_code == 200 and "Followed strategies" in page.text and "leaderboard.js" in page.text
