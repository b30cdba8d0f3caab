"""The dashboard in Debian's headless chromium: log in, live prices, candles, every page, the kill switch."""

from __future__ import annotations

from typing import Any

from tests.dashboard.conftest import LiveNode, login, shot

FUTURE = "WINJ26"


def _last_prices(page: Any) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#instruments tbody tr",
        "rows => Object.fromEntries(rows.map(r => [r.dataset.symbol, r.querySelector('.last').textContent]))")


def test_login_live_prices_and_overview(live: LiveNode, browser: Any) -> None:
    page = login(browser, live)
    page.wait_for_selector("#conn.on")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#instruments .last')].filter(td => td.textContent).length >= 5")
    before = _last_prices(page)
    page.wait_for_function(
        "before => [...document.querySelectorAll('#instruments tbody tr')].some("
        "r => r.querySelector('.last').textContent !== before[r.dataset.symbol])", arg=before)
    assert _last_prices(page) != before
    page.wait_for_selector("#risk-badge[data-state=ACTIVE]")
    shot(page, "overview")
    page.context.close()


def test_candles_ladder_and_tape(live: LiveNode, browser: Any) -> None:
    page = login(browser, live)
    page.goto(f"{live.url}/instrument/{FUTURE}")
    page.wait_for_function("() => Number(document.body.dataset.candles || 0) >= 2")
    page.wait_for_selector("#chart canvas")
    page.wait_for_selector("#tape tbody tr")
    page.wait_for_selector("#ladder td.bid")
    page.click("#tfs button[data-tf='5s']")
    page.wait_for_selector("#tfs button[data-tf='5s'].active")
    page.wait_for_function("() => Number(document.body.dataset.candles || 0) >= 3")
    page.wait_for_function("() => window.__paints > 5")
    shot(page, "instrument")
    page.context.close()


def test_analytics_pages_render(live: LiveNode, browser: Any) -> None:
    page = login(browser, live)
    for name in ("performance", "heatmap", "health", "reports"):
        page.goto(f"{live.url}/{name}")
        page.wait_for_selector("body[data-loaded='1']")
        if name == "heatmap":
            page.wait_for_function("() => Number(document.body.dataset.cells || 0) >= 4", timeout=30_000)
        if name == "health":
            page.wait_for_selector("#rates tbody tr")
        if name == "reports":  # backtest and tax reports, by kind; a JSON report shows as text
            page.click("#kinds button[data-kind='tax']")
            page.click("#report-list a[data-path='tax/tax.json']")
            page.wait_for_function("() => document.querySelector('#report-text')?.textContent.includes('months')")
            page.click("#kinds button[data-kind='backtest']")
            page.click("#report-list a[data-path='run1/report.html']")
            page.frame_locator("#report-frame").locator("h1").wait_for()
        page.wait_for_timeout(300)  # let charts finish their animation for the screenshot
        shot(page, name)
    page.context.close()


def test_phone_layout(live: LiveNode, browser: Any) -> None:
    page = login(browser, live, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.wait_for_selector("#kill")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 400, "the overview must not scroll sideways on a phone"
    shot(page, "overview-phone")
    page.context.close()


def test_order_ticket_then_kill_switch_halts_and_cancels(live: LiveNode, browser: Any) -> None:
    page = login(browser, live)
    last = live.on_engine(lambda: live.kernel.data.last_price(FUTURE))
    inst = live.kernel.instruments[FUTURE]
    limit = inst.to_price(last - 100 * inst.tick)  # a resting buy, far below the market
    page.select_option("#t-symbol", FUTURE)
    page.click(".side.buy")
    page.fill("#t-qty", "1")
    page.select_option("#t-type", "LIMIT")
    page.fill("#t-price", str(limit))
    page.click("#t-send")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#orders tbody td')].some(td => td.textContent === '{FUTURE}')")
    assert live.on_engine(lambda: len(live.kernel.cache.open_orders)) >= 1
    shot(page, "overview-working-order")

    page.click("#kill")
    page.wait_for_selector("#risk-badge[data-state=HALTED]")
    status = live.on_engine(lambda: live.kernel.guard.status())
    assert status["trading_state"] == "HALTED" and status["kill_switch"] is True
    page.wait_for_function("() => document.querySelector('#orders tbody td.muted') !== null")
    assert live.on_engine(lambda: [o.status.name for o in live.kernel.cache.open_orders.values()]) == []
    assert any(a.kind == "manual_action" for a in live.on_engine(lambda: list(live.kernel.alerts)))
    shot(page, "overview-halted")

    page.click("#reset")
    page.click("#confirm-ok")  # the reset asks for confirmation in the page
    page.wait_for_selector("#risk-badge[data-state=ACTIVE]")
    assert live.on_engine(lambda: live.kernel.guard.status()["trading_state"]) == "ACTIVE"
    page.context.close()


def test_pause_and_resume_a_strategy(live: LiveNode, browser: Any) -> None:
    page = login(browser, live)
    page.wait_for_selector("#strategies button.pause[data-paused='false']")
    page.click("#strategies button.pause")
    page.wait_for_selector("#strategies button.pause[data-paused='true']")
    strat = live.kernel.strategies[0]
    assert live.on_engine(lambda: strat.on_trade not in live.kernel.data._trade_dispatch[strat.symbols[0]])
    page.click("#strategies button.pause")
    page.wait_for_selector("#strategies button.pause[data-paused='false']")
    assert live.on_engine(lambda: strat.on_trade in live.kernel.data._trade_dispatch[strat.symbols[0]])
    page.context.close()
