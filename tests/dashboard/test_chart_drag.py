"""Drag a working order's price line on the candle chart to move it, in Debian's chromium while the page updates.

The drag is a person's: move onto the line, press, hold 120 ms, move in steps, release. It must work 10 of 10
(the order's price at the engine is the price under the release point); a denied move shows its rule under
the chart and leaves the order where it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.conftest import LiveNode, login, shot

STOCK = "PETR4"
ROUNDS = 10
HOLD_MS = 120


@pytest.fixture(scope="module")
def page(live: LiveNode, browser: Any) -> Iterator[Any]:
    p = login(browser, live, one_click=True)
    p.goto(f"{live.url}/instrument/{STOCK}")
    p.wait_for_function("() => window.__chart && window.__chart.candles.data().length > 3")
    yield p
    p.context.close()


def _place(live: LiveNode, ticks_away: int) -> tuple[str, int, str]:
    """A resting limit ``ticks_away`` from the last price on the side that adds to the position."""
    k = live.kernel
    inst = k.instruments[STOCK]
    pos = live.on_engine(lambda: k.portfolio.positions[STOCK].quantity if STOCK in k.portfolio.positions else 0)
    side = "BUY" if pos >= 0 else "SELL"
    last = live.on_engine(lambda: k.data.last_price(STOCK))
    raw = last - ticks_away * inst.tick if side == "BUY" else last + ticks_away * inst.tick
    ctl = live.handle.controller
    out = live.on_engine(lambda: ctl.order("test", {"symbol": STOCK, "side": side, "quantity": 100, "type": "LIMIT",
                                                  "price": str(inst.to_price(raw))}))
    assert out["ok"], out
    return out["order_id"], raw, side


def _line_point(page: Any, live: LiveNode, raw: int) -> tuple[float, float]:
    inst = live.kernel.instruments[STOCK]
    box = page.locator("#chart").bounding_box()
    y = page.evaluate("(p) => window.__chart.candles.priceToCoordinate(p)", float(inst.to_price(raw)))
    assert y is not None and 5 < y < box["height"] * 0.8, f"order line off the pane at y={y}"
    return box["x"] + box["width"] * 0.4, box["y"] + y


def _drag(page: Any, x: float, y: float, dy: float) -> None:
    page.mouse.move(x, y, steps=3)
    page.mouse.down()
    page.wait_for_timeout(HOLD_MS)
    page.mouse.move(x, y + dy, steps=8)
    page.mouse.up()


def _order_price(live: LiveNode, oid: str) -> int | None:
    o = live.on_engine(lambda: live.kernel.cache.open_orders.get(oid))
    return None if o is None else int(o.price)


def _wait_price(live: LiveNode, oid: str, want: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _order_price(live, oid) == want:
            return True
        time.sleep(0.05)
    return False


def test_drag_an_order_line_on_the_chart_moves_the_order_ten_of_ten(live: LiveNode, page: Any) -> None:
    inst = live.kernel.instruments[STOCK]
    done = 0
    for i in range(ROUNDS):
        oid, raw, side = _place(live, 10)
        page.wait_for_selector(f"#my-orders tr[data-key='{oid}']")
        page.wait_for_timeout(150)  # the next frame has drawn the line
        x, y = _line_point(page, live, raw)
        away = 1 if side == "BUY" else -1  # down for a buy below the market, up for a sell above it
        per_tick = abs(_line_point(page, live, raw + inst.tick)[1] - y)
        toward = 5 * per_tick  # 5 ticks nearer the market: it keeps resting
        dy = away * 25 if i % 2 == 0 or toward < 4 else -away * min(25, toward)
        page.evaluate("() => { window.__lastModify = null; }")
        _drag(page, x, y, dy)
        page.wait_for_function(f"() => window.__lastModify && window.__lastModify.id === '{oid}'")
        sent = inst.to_raw(page.evaluate("() => window.__lastModify.price"))
        moved = (sent < raw) if dy > 0 else (sent > raw)
        page.wait_for_selector("#c-out.accepted")
        done += moved and _wait_price(live, oid, sent) and page.is_hidden("#chart-menu")  # not a click-to-trade
        live.on_engine(lambda oid=oid: live.kernel.orders.cancel(oid))
        page.wait_for_selector(f"#my-orders tr[data-key='{oid}']", state="detached")
    assert done == ROUNDS
    shot(page, "instrument-chart-drag")


def test_a_denied_move_shows_its_rule_under_the_chart(live: LiveNode, page: Any) -> None:
    oid, raw, _ = _place(live, 8)
    page.wait_for_selector(f"#my-orders tr[data-key='{oid}']")
    page.wait_for_timeout(150)
    x, y = _line_point(page, live, raw)
    risk = live.kernel.risk
    live.on_engine(lambda: risk.closing.add(STOCK))  # as after the pre-close flatten: only reducing orders
    try:
        _drag(page, x, y, 25)
        page.wait_for_selector("#c-out.denied[data-rule='before_close']")
        assert "before_close" in (page.text_content("#c-out") or "") or "close" in (page.text_content("#c-out") or "")
        assert _order_price(live, oid) == raw
    finally:
        live.on_engine(lambda: risk.closing.discard(STOCK))
        live.on_engine(lambda: live.kernel.orders.cancel(oid))


def test_click_the_chart_to_place_a_limit_ten_of_ten(live: LiveNode, page: Any) -> None:
    inst = live.kernel.instruments[STOCK]
    box = page.locator("#chart").bounding_box()
    done = 0
    for i in range(ROUNDS):
        x, y = box["x"] + box["width"] * (0.3 + 0.03 * i), box["y"] + box["height"] * (0.15 if i % 2 else 0.6)
        page.mouse.move(x, y, steps=3)
        page.mouse.down()
        page.wait_for_timeout(HOLD_MS)
        page.mouse.up()
        button = page.locator("#chart-menu button[data-kind='LIMIT']")
        button.wait_for(state="visible")
        side, price = button.get_attribute("data-side"), str(button.get_attribute("data-price"))
        b = button.bounding_box()
        page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=3)
        page.mouse.down()
        page.wait_for_timeout(HOLD_MS)
        page.mouse.up()
        page.wait_for_selector("#l-out.accepted")
        oid = (page.text_content("#l-out") or "").split(":")[0]
        o = live.on_engine(lambda oid=oid: live.kernel.cache.order(oid))  # resting, or filled if the market came
        done += o is not None and o.side.name == side and o.price == inst.to_raw(price) and o.strategy_id == "manual"
        live.on_engine(lambda oid=oid: live.kernel.orders.cancel(oid) if oid in live.kernel.cache.open_orders else None)
        page.evaluate("() => { const o = document.querySelector('#l-out'); o.className = 'outcome'; }")
        assert page.is_hidden("#chart-menu")
    assert done == ROUNDS
