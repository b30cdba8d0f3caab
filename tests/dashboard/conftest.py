"""A real node for the dashboard tests: the simulated market at speed on an engine thread, uvicorn on 127.0.0.1."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from tradingsystem.adapters.simulator import SimMarketConfig
from tradingsystem.engine.risk import RiskConfig
from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.node import Node, build_sim_node
from tradingsystem.runtime.server import NodeServer, start_server

TOKEN = "test-token-0123456789"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class LiveNode:
    def __init__(self, node: Node, handle: NodeServer) -> None:
        self.node = node
        self.kernel = node.kernel
        self.handle = handle
        self.url = handle.url

    def on_engine(self, fn: Any) -> Any:
        """Read or act on the engine from the test thread, the same way the dashboard does."""
        return self.handle.controller.submit(fn).result(timeout=10)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    root = tmp_path_factory.mktemp("dash")
    reports = root / "reports"
    (reports / "run1").mkdir(parents=True)
    (reports / "run1" / "report.html").write_text(
        "<!doctype html><html><body><h1>Backtest run1</h1><p>net P&amp;L R$ 123.45</p></body></html>")
    (reports / "run1" / "summary.json").write_text('{"net_pnl_brl": "123.45"}')
    (reports / "tax").mkdir()
    (reports / "tax" / "tax.json").write_text('{"months": []}')
    # stocks trade in lots of 100: PETR4 gets room for the book-trading tests
    risk = RiskConfig(max_order_qty=50, max_position=100, max_order_qty_by_symbol={"PETR4": 1000},
                      max_position_by_symbol={"PETR4": 10_000})
    cfg = AppConfig(data_dir=root, sim=SimMarketConfig(start_time=time(10, 5), events_per_second=60), risk=risk)
    node = build_sim_node(cfg, seed=11)
    handle = start_server(node.kernel, "127.0.0.1", 0, TOKEN, data_dir=root, reports_dir=reports)
    thread = threading.Thread(target=lambda: node.kernel.run(speed=30), name="engine", daemon=True)
    thread.start()
    try:
        yield LiveNode(node, handle)
    finally:
        node.kernel.stop()
        thread.join(10)
        handle.stop()
        node.market.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed")
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        except Exception as exc:  # no display libraries, sandbox trouble...
            pytest.skip(f"chromium does not start here: {exc}")
        try:
            yield b
        finally:
            b.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(browser: Any, live: LiveNode, one_click: bool = False, **context: Any) -> Any:
    ctx = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **context})
    if one_click:
        ctx.add_init_script("localStorage.setItem('ts.oneClick', 'true')")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto(live.url + "/")
    page.wait_for_url("**/login**")
    page.fill("#token", TOKEN)
    page.click("#login")
    page.wait_for_selector("#instruments tbody tr")
    return page
