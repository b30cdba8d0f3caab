"""OCO pairs, brackets and trailing stops emulated on our side."""

from tests.engine.helpers import Script, kernel, ticks
from tradingsystem.domain.orders import OrderStatus, OrderType, Side


def run(prices, actions, **kw):
    k, _ = kernel(ticks("WINZ26", prices), latency_ns=kw.pop("latency_ns", 0), **kw)
    k.add_strategy(Script(actions))
    k.run()
    return k


def test_oco_take_profit_cancels_stop():
    def go(s):
        s.buy("WINZ26", 2)
        s.kernel.emulator.oco("WINZ26", Side.SELL, 2, take_profit=125_100, stop=124_900, strategy_id="s")

    k = run([125_000, 125_000, 125_050, 125_100, 124_800], {0: go})
    assert k.portfolio.quantity("WINZ26") == 0
    assert k.portfolio.realized_brl("WINZ26") == 40  # 100 points x R$0.20 x 2
    assert not k.emulator.groups  # the stop leg is gone: the later drop to 124,800 sends nothing


def test_oco_stop_leg():
    def go(s):
        s.buy("WINZ26", 1)
        s.kernel.emulator.oco("WINZ26", Side.SELL, 1, take_profit=125_500, stop=124_900, strategy_id="s")

    k = run([125_000, 125_000, 124_950, 124_900, 124_850, 125_600], {0: go})
    assert k.portfolio.quantity("WINZ26") == 0
    assert k.portfolio.realized_brl("WINZ26") == -20  # stopped at the 124,900 print


def test_bracket_entry_partial_fills_protect_only_what_filled():
    def go(s):
        entry = s.kernel.orders.new_order("WINZ26", Side.BUY, 10, OrderType.LIMIT, 125_000, strategy_id="s")
        s.kernel.emulator.bracket(entry, take_profit=125_200, stop=124_800)

    # Trades of size 1 at 124,995 fill the resting buy limit one lot at a time (capped by traded size).
    prices = [125_010, 125_005] + [124_995] * 3 + [125_200]
    k = run(prices, {0: go}, cap_by_trade_size=True)
    entry = k.cache.order("O-1")
    assert entry.filled_qty == 3 and entry.status is OrderStatus.PARTIALLY_FILLED
    assert k.portfolio.quantity("WINZ26") == 0  # the take profit closed exactly the 3 that filled


def test_bracket_entry_rejected_leaves_no_children():
    def go(s):
        entry = s.kernel.orders.new_order("WINZ26", Side.BUY, 1, OrderType.LIMIT, 125_002, strategy_id="s")
        s.kernel.emulator.bracket(entry, take_profit=125_200, stop=124_800)

    k = run([125_000, 125_000, 124_700, 125_300], {0: go})
    assert not k.emulator.groups and k.orders.submitted == 0


def test_trailing_stop_follows_the_high():
    def go(s):
        s.buy("WINZ26", 1)
        s.kernel.emulator.trailing_stop("WINZ26", Side.SELL, 1, trail=50, strategy_id="s")

    k = run([125_000, 125_000, 125_100, 125_200, 125_160, 125_150, 125_100], {0: go})
    assert k.portfolio.quantity("WINZ26") == 0
    assert k.portfolio.realized_brl("WINZ26") == 30  # high 125,200, stop 125,150, filled at that print


def test_kill_switch_cancels_emulated_groups():
    def go(s):
        s.buy("WINZ26", 1)
        s.kernel.emulator.oco("WINZ26", Side.SELL, 1, take_profit=125_500, stop=124_500, strategy_id="s")

    k = run([125_000, 125_000], {0: go})
    k.guard.kill("test")
    assert not k.emulator.groups
