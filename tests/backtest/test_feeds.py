"""Replay feeds: time-ordered merge across instruments, bars as close prints, sessions, rolls."""

from __future__ import annotations

from datetime import date

from tests.backtest.helpers import MS, T0, Harness, weekdays
from tradingsystem.backtest.feeds import MergedFeed, bar_events, roll_days, session_filter, trade_events
from tradingsystem.domain import b3
from tradingsystem.domain.events import Bar, TradeTick
from tradingsystem.engine.strategy import Strategy

DAY_NS = 86_400 * 10**9


class Tape(Strategy):
    def __init__(self, symbols: list[str]) -> None:
        super().__init__("tape", symbols)
        self.seen: list[tuple[str, int, str]] = []

    def on_trade(self, tick: TradeTick) -> None:
        self.seen.append((tick.symbol, tick.ts_event, "t"))

    def on_bar(self, bar: Bar) -> None:
        self.seen.append((bar.symbol, bar.ts_event, "b"))


def test_merge_across_instruments_is_time_ordered_with_bars_as_close_prints() -> None:
    win = trade_events("WINZ26", {"ts_event": [T0 + 1 * MS, T0 + 4 * MS], "price": [125_000, 125_005],
                                  "size": [1, 1]})
    petr = bar_events("PETR4", "1m", {"ts_open": [T0], "ts_event": [T0 + 2 * MS], "open": [3000], "high": [3010],
                                      "low": [2990], "close": [3005], "volume": [700]})
    h = Harness([], symbols=("WINZ26", "PETR4"), book=False)
    tape = Tape(["WINZ26", "PETR4"])
    h.kernel.add_strategy(tape)
    h.kernel.connect(MergedFeed([win, petr]), h.venue)
    h.run()
    assert tape.seen == [("WINZ26", T0 + MS, "t"), ("PETR4", T0 + 2 * MS, "t"), ("PETR4", T0 + 2 * MS, "b"),
                         ("WINZ26", T0 + 4 * MS, "t")]
    assert h.kernel.data.last_price("PETR4") == 3005
    assert h.kernel.events_processed == 4


def test_session_filter_drops_non_session_days() -> None:
    saturday = T0 + 2 * DAY_NS  # 2026-11-28
    events = list(trade_events("WINZ26", {"ts_event": [T0, saturday, T0 + 4 * DAY_NS], "price": [1, 2, 3],
                                          "size": [1, 1, 1]}))
    kept = list(session_filter(events, weekdays))
    assert [e.price for e in kept] == [1, 3]


def test_generic_futures_roll_before_expiry() -> None:
    days = [date(2026, 12, d) for d in (9, 10, 11, 14)]
    plan = roll_days(days, lambda d: b3.current_contract("WIN", d, weekdays, 2))
    # WINZ26 last trades on 2026-12-16; rolling 2 sessions early moves to WING27 on 2026-12-14
    assert [plan[d] for d in days] == ["WINZ26", "WINZ26", "WINZ26", "WING27"]
