"""Trading from the screen in Debian's chromium while the page updates ~10 times a second.

Every click is human-like: the pointer moves onto the element, presses, holds 120 ms and releases.
Each action is repeated 10 times and must work 10 of 10: per-instrument flatten, strategy pause,
per-order cancel, drag-to-modify and click-to-trade on the book; a denied order shows its rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.conftest import LiveNode, login, shot

FX = "WDOJ26"  # no strategy trades it: its position is ours alone
STOCK = "PETR4"  # one tick is a small move: a resting order 9 ticks away stays resting
ROUNDS = 10
HOLD_MS = 120


def press(page: Any, selector: str) -> None:
    """Move onto the element, press, hold, release: the way a person clicks."""
    loc = page.locator(selector)
    loc.wait_for(state="visible")
    loc.scroll_into_view_if_needed()
    box = loc.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    page.mouse.down()
    page.wait_for_timeout(HOLD_MS)
    page.mouse.up()


def drag(page: Any, src: str, dst: str) -> None:
    a, b = page.locator(src).bounding_box(), page.locator(dst).bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2, steps=3)
    page.mouse.down()
    page.wait_for_timeout(HOLD_MS)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    page.mouse.up()


@pytest.fixture(scope="module")
def page(live: LiveNode, browser: Any) -> Iterator[Any]:
    p = login(browser, live, one_click=True)
    p.wait_for_selector("#conn.on")
    yield p
    p.context.close()


def _order(live: LiveNode, **ticket: Any) -> dict[str, Any]:
    ctl = live.handle.controller
    out: dict[str, Any] = live.on_engine(lambda: ctl.order("test", ticket))
    return out


def _position(live: LiveNode, symbol: str) -> int:
    return int(live.on_engine(lambda: live.kernel.portfolio.positions[symbol].quantity
                              if symbol in live.kernel.portfolio.positions else 0))


def _open(live: LiveNode, order_id: str) -> Any:
    return live.on_engine(lambda: live.kernel.cache.open_orders.get(order_id))


def _raw(live: LiveNode, symbol: str, price: str) -> int:
    return int(live.kernel.instruments[symbol].to_raw(price))


def test_flatten_one_instrument_ten_of_ten(live: LiveNode, page: Any) -> None:
    page.goto(live.url + "/")
    done = 0
    for _ in range(ROUNDS):
        assert _order(live, symbol=FX, side="BUY", quantity=1, type="MARKET")["ok"]
        row = f"#instruments tr[data-symbol='{FX}']"
        page.wait_for_selector(f"{row} .flatten-one:not([disabled])")
        press(page, f"{row} .flatten-one")
        page.wait_for_function(f"() => document.querySelector(\"{row} .qty\")?.textContent === '0'")
        done += _position(live, FX) == 0
    assert done == ROUNDS
    page.wait_for_selector("#position-out.accepted")


def test_pause_and_resume_ten_of_ten(live: LiveNode, page: Any) -> None:
    page.goto(live.url + "/")
    strat = live.kernel.strategies[0]
    done = 0
    for i in range(ROUNDS):
        want = "true" if i % 2 == 0 else "false"
        page.wait_for_selector("#strategies button.pause")
        press(page, "#strategies button.pause")
        page.wait_for_selector(f"#strategies button.pause[data-paused='{want}']")
        done += live.on_engine(lambda: strat.strategy_id in live.handle.controller.paused) == (want == "true")
    assert done == ROUNDS
    assert not live.on_engine(lambda: strat.strategy_id in live.handle.controller.paused)


def test_cancel_each_working_order_ten_of_ten(live: LiveNode, page: Any) -> None:
    page.goto(live.url + "/")
    inst = live.kernel.instruments[FX]
    last = live.on_engine(lambda: live.kernel.data.last_price(FX))
    ids = [_order(live, symbol=FX, side="BUY", quantity=1, type="LIMIT",
                  price=str(inst.to_price(last - (200 + i) * inst.tick)))["order_id"] for i in range(ROUNDS)]
    done = 0
    for oid in ids:
        row = f"#orders tr[data-key='{oid}']"
        page.wait_for_selector(f"{row} .cancel-one")
        press(page, f"{row} .cancel-one")
        page.wait_for_selector(row, state="detached")
        done += _open(live, oid) is None
    assert done == ROUNDS
    page.wait_for_selector("#orders-out.accepted")


def _ladder_ready(page: Any, live: LiveNode, symbol: str) -> None:
    page.goto(f"{live.url}/instrument/{symbol}")
    page.wait_for_selector("#ladder tr[data-row='12'][data-price]")


def _freeze_ladder(page: Any) -> None:
    """Recenter on the last price, then hold the pointer over the ladder (it does not move under a pointer)."""
    press(page, "#l-center")
    box = page.locator("#ladder thead").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)


def _row_price(page: Any, row: int) -> str:
    return str(page.get_attribute(f"#ladder tr[data-row='{row}']", "data-price"))


def test_drag_a_working_order_to_modify_it_ten_of_ten(live: LiveNode, page: Any) -> None:
    _ladder_ready(page, live, STOCK)
    done = 0
    for i in range(ROUNDS):
        _freeze_ladder(page)
        src, dst = (21, 23) if i % 2 == 0 else (22, 20)
        src_px, dst_px = _row_price(page, src), _row_price(page, dst)
        oid = _order(live, symbol=STOCK, side="BUY", quantity=100, type="LIMIT", price=src_px)["order_id"]
        page.wait_for_selector(f"#ladder tr[data-row='{src}'] td.mine.buy.has")
        drag(page, f"#ladder tr[data-row='{src}'] td.mine.buy", f"#ladder tr[data-row='{dst}'] td.mine.buy")
        page.wait_for_selector(f"#ladder tr[data-row='{dst}'] td.mine.buy.has")
        order = _open(live, oid)
        done += order is not None and order.price == _raw(live, STOCK, dst_px)
        live.on_engine(lambda oid=oid: live.kernel.orders.cancel(oid))
        page.wait_for_selector(f"#ladder tr[data-row='{dst}'] td.mine.buy:not(.has)")
    assert done == ROUNDS
    assert page.get_attribute("#l-out", "data-status") == "PENDING_UPDATE"


def test_click_the_book_to_place_a_limit_ten_of_ten(live: LiveNode, page: Any) -> None:
    _ladder_ready(page, live, STOCK)
    done = 0
    for i in range(ROUNDS):
        _freeze_ladder(page)
        row = 21 + i % 3
        price = _row_price(page, row)
        before = set(live.on_engine(lambda: list(live.kernel.cache.open_orders)))
        press(page, f"#ladder tr[data-row='{row}'] td.bid")
        page.wait_for_selector(f"#ladder tr[data-row='{row}'] td.mine.buy.has")
        new = [o for o in live.on_engine(lambda: list(live.kernel.cache.open_orders.values()))
               if o.order_id not in before and o.strategy_id == "manual"]
        done += len(new) == 1 and new[0].price == _raw(live, STOCK, price) and new[0].side.name == "BUY"
        for o in new:
            live.on_engine(lambda o=o: live.kernel.orders.cancel(o.order_id))
        page.wait_for_selector(f"#ladder tr[data-row='{row}'] td.mine.buy:not(.has)")
    assert done == ROUNDS
    shot(page, "instrument-ladder")


def test_denied_order_shows_its_rule_and_bad_input_reads_plainly(live: LiveNode, page: Any) -> None:
    page.goto(live.url + "/")
    page.wait_for_selector("#t-symbol option", state="attached")
    page.select_option("#t-symbol", FX)
    page.fill("#t-qty", "500")  # over max_order_qty (50)
    page.select_option("#t-type", "MARKET")
    press(page, "#t-send")
    page.wait_for_selector("#t-out.denied[data-rule='max_order_qty']")
    assert "max_order_qty" in page.text_content("#t-out")
    shot(page, "overview-denied")

    page.fill("#t-qty", "1")
    page.select_option("#t-type", "LIMIT")
    page.fill("#t-price", "37,5x")
    press(page, "#t-send")
    page.wait_for_selector("#t-out.error")
    text = page.text_content("#t-out") or ""
    assert "limit price" in text and "class" not in text and "decimal" not in text.lower()

    last = live.on_engine(lambda: live.kernel.data.last_price(FX))
    inst = live.kernel.instruments[FX]
    brazilian = f"{inst.to_price(last - 300 * inst.tick):.1f}".replace(".", ",")  # e.g. 5234,5
    page.fill("#t-price", brazilian)
    press(page, "#t-send")
    page.wait_for_selector("#t-out.accepted")
    oid = (page.text_content("#t-out") or "").split(":")[0]
    order = _open(live, oid)
    assert order is not None and order.price == inst.to_raw(brazilian.replace(",", "."))
    live.on_engine(lambda: live.kernel.orders.cancel(oid))


PAGES = ["/", f"/instrument/{STOCK}", "/performance", "/trades", "/log", "/heatmap", "/health", "/reports",
         "/altdata", "/leaderboard"]


@pytest.mark.parametrize(("size", "viewport"), [("desktop", {"width": 1400, "height": 1000}),
                                                ("phone", {"width": 390, "height": 844})])
def test_every_page_screenshot_and_no_sideways_scroll(live: LiveNode, browser: Any, size: str,
                                                      viewport: dict[str, int]) -> None:
    extra = {"is_mobile": True, "has_touch": True} if size == "phone" else {}
    p = login(browser, live, viewport=viewport, **extra)
    for path in PAGES:
        p.goto(live.url + path)
        p.wait_for_function("() => window.__paints > 2 || document.body.dataset.loaded === '1'")
        width = p.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} scrolls sideways at {viewport['width']} px ({width} px)"
        name = path.strip("/").split("/")[0] or "overview"
        shot(p, f"{name}-{size}")
    p.context.close()


def test_numbers_follow_the_locale_setting(live: LiveNode, page: Any) -> None:
    page.goto(live.url + "/")
    page.select_option("#s-locale", "pt-BR")
    page.reload()
    cell = f"#instruments tr[data-symbol='{FX}'] .last"
    page.wait_for_function(f"() => /^\\d{{1,3}}\\.\\d{{3}},\\d$/.test(document.querySelector(\"{cell}\")?.textContent)")
    page.select_option("#s-locale", "en")
    page.reload()
    page.wait_for_function(f"() => /^\\d{{1,3}},\\d{{3}}\\.\\d$/.test(document.querySelector(\"{cell}\")?.textContent)")


def test_a_flatten_shows_strategies_paused_and_the_resume_button_hands_back(live: LiveNode, page: Any) -> None:
    page.goto(live.url + "/")
    symbol = live.kernel.strategies[0].symbols[0]
    live.on_engine(lambda: live.handle.controller.flatten("test", symbol))
    row = f"#instruments tr[data-symbol='{symbol}']"
    page.wait_for_function(f"() => document.querySelector(\"{row} .phase\")?.textContent.includes('strategies paused')")
    press(page, f"{row} .resume-one")
    page.wait_for_selector(f"{row} .resume-one", state="hidden")
    assert live.on_engine(lambda: dict(live.kernel.guard.paused)) == {}
    assert "strategies paused" not in (page.text_content(f"{row} .phase") or "")
