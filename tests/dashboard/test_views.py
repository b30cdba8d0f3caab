"""Pure parts of the dashboard: candle aggregation, analytics, correlation, win/loss scoring, origin checks."""

from __future__ import annotations

from decimal import Decimal

from tradingsystem.domain.events import TradeTick
from tradingsystem.interfaces.web.auth import Sessions, same_origin
from tradingsystem.interfaces.web.collector import BASE_NS, Collector
from tradingsystem.interfaces.web.views import aggregate, chart_time, correlation, performance

S = 1_000_000_000
T0 = 1_772_452_800 * S  # 2026-03-02 09:00 BRT, on a whole hour


def test_collector_builds_base_bars_and_tape() -> None:
    c = Collector(["WINJ26"])
    for i, px in enumerate([100, 105, 95, 102]):
        c.on_trade(TradeTick("WINJ26", px, 2, 1, i, T0 + i * S, T0))
    c.on_trade(TradeTick("WINJ26", 110, 1, 2, 9, T0 + BASE_NS, T0))
    assert c.recent_bars("WINJ26", 0) == [(T0, 100, 105, 95, 102, 8), (T0 + BASE_NS, 110, 110, 110, 110, 1)]
    assert [t[2] for t in c.tape_since("WINJ26", 3)] == [102, 110]
    first, last = c.take_walls()
    assert 0 < first <= last and c.take_walls()[0] == 0.0


def test_aggregate_to_one_minute() -> None:
    bars = [(T0 + i * BASE_NS, 100 + i, 101 + i, 99 + i, 100 + i, 1) for i in range(13)]  # 65 s of 5 s bars
    candles = aggregate(bars, 60, 0)
    assert [c["time"] for c in candles] == [chart_time(T0), chart_time(T0 + 60 * S)]
    assert candles[0] == {"time": chart_time(T0), "open": 100, "high": 112, "low": 99, "close": 111, "volume": 12}
    assert candles[1]["open"] == 112 and candles[1]["volume"] == 1


def test_win_loss_scoring_on_closing_fills() -> None:
    c = Collector(["X"])
    c._score("s", "X", 2, 100)  # long 2 @ 100
    c._score("s", "X", -1, 110)  # win
    c._score("s", "X", -2, 90)  # closes 1 at a loss, opens short 1 @ 90
    c._score("s", "X", 1, 80)  # short covered lower: win
    assert c.results["s"] == [2, 1, 3]


def test_performance_drawdown_daily_and_hit_rate() -> None:
    day2 = T0 + 24 * 3600 * S
    curve = [(T0, "total", Decimal(0)), (T0 + 60 * S, "total", Decimal(100)), (T0 + 120 * S, "total", Decimal(40)),
             (day2, "total", Decimal(70))]
    out = performance(curve, {"ema": [3, 1, 4]})
    total = out["series"]["total"]
    assert total["daily_pnl"] == [40.0, 30.0] and total["days"] == ["2026-03-02", "2026-03-03"]
    assert [v for _, v in total["drawdown"]] == [0.0, 0.0, -60.0, -30.0]
    assert out["stats"][0]["max_drawdown_brl"] == -60.0 and out["stats"][0]["hit_rate"] == 0.75


def test_correlation_of_moving_together_and_against() -> None:
    bars = {"A": [], "B": [], "C": []}
    for i in range(30):
        px = 1000 + (i % 7) * 10 + i
        bars["A"].append((T0 + i * 60 * S, px, px, px, px, 1))
        bars["B"].append((T0 + i * 60 * S, 2 * px, 2 * px, 2 * px, 2 * px, 1))
        bars["C"].append((T0 + i * 60 * S, 10**6 // px, 10**6 // px, 10**6 // px, 10**6 // px, 1))
    out = correlation(bars, 60)
    assert out["symbols"] == ["A", "B", "C"] and out["points"] == 29
    assert out["matrix"][0][1] > 0.99 and out["matrix"][0][2] < -0.9


def test_origin_and_token_checks() -> None:
    assert same_origin(None, "127.0.0.1:8000", "http")
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000", "http")
    assert not same_origin("http://127.0.0.1:9000", "127.0.0.1:8000", "http")
    assert not same_origin("null", "127.0.0.1:8000", "http")
    sessions = Sessions("secret")
    assert not sessions.check_token("nope") and not sessions.check_token(None) and sessions.check_token("secret")
    s = sessions.login()
    assert sessions.get(s.sid) is s and Sessions.csrf_ok(s, s.csrf) and not Sessions.csrf_ok(s, "x")
    sessions.logout(s.sid)
    assert sessions.get(s.sid) is None
