"""The Redis Streams link in one process: exact resume of the gateway, de-duplication on the engine side."""

from __future__ import annotations

from datetime import date

import pytest

redis = pytest.importorskip("redis")

from tradingsystem.adapters.redisbus import Gateway, RedisBus, RedisConfig  # noqa: E402
from tradingsystem.adapters.redisbus.messages import field  # noqa: E402
from tradingsystem.domain.commands import SubmitOrder  # noqa: E402
from tradingsystem.domain.orders import OrderType, Side  # noqa: E402
from tradingsystem.runtime.config import AppConfig  # noqa: E402
from tradingsystem.runtime.node import build_sim_venue  # noqa: E402

NS = 1_000_000_000


def _cfg() -> AppConfig:
    return AppConfig.model_validate({"sim": {"seed": 11, "session_date": date(2026, 3, 2), "events_per_second": 20,
                                             "symbols": ["WINFUT", "PETR4"]}})


def _stream(client: redis.Redis, prefix: str) -> list[tuple[str, str, bytes]]:
    return [(field(f, "s"), field(f, "k"), f[b"b"]) for _, f in client.xrange(f"{prefix}:events")]


def _order(n: int) -> tuple[dict[str, object], SubmitOrder]:
    from tradingsystem.adapters.redisbus.messages import encode_event

    cmd = SubmitOrder(f"T-{n}", "WINFUT", int(Side.BUY), int(OrderType.MARKET), 1)
    return {"c": f"S:{cmd.order_id}", "k": "submit", "b": encode_event(cmd)}, cmd


def test_gateway_resumes_exactly_where_it_stopped(redis_server) -> None:
    client = redis.Redis.from_url(redis_server.url)
    cfg = _cfg()
    start = build_sim_venue(cfg).start_ns
    until = start + 120 * NS
    # the reference: one uninterrupted gateway, one command after 300 steps
    ref = Gateway(client, lambda: build_sim_venue(cfg), RedisConfig(prefix="ref", batch=100), until_ns=until)
    ref.run(max_steps=300)
    entry, _ = _order(1)
    client.xadd("ref:cmd", entry)
    ref.run()
    # the same, killed twice (after the command, and mid-batch) and restarted from Redis
    c = RedisConfig(prefix="cut", batch=100)
    Gateway(client, lambda: build_sim_venue(cfg), c, until_ns=until).run(max_steps=300)
    client.xadd("cut:cmd", entry)
    client.xadd("cut:cmd", entry)  # sent twice (at-least-once): applied once
    Gateway(client, lambda: build_sim_venue(cfg), c, until_ns=until).run(max_steps=650)
    last = Gateway(client, lambda: build_sim_venue(cfg), c, until_ns=until)
    stats = last.run()
    assert stats.replayed_steps == 650
    assert _stream(client, "cut") == _stream(client, "ref")
    assert client.xlen("cut:gw:journal") == 1
    kinds = [k for _, k, _ in _stream(client, "cut")]
    assert kinds[-1] == "end" and kinds.count("order") >= 2  # accepted and filled


def test_engine_side_skips_what_it_already_handled(redis_server) -> None:
    client = redis.Redis.from_url(redis_server.url)
    cfg = _cfg()
    start = build_sim_venue(cfg).start_ns
    Gateway(client, lambda: build_sim_venue(cfg), RedisConfig(prefix="e"), until_ns=start + 60 * NS).run()
    total = client.xlen("e:events")

    class Sink:
        def __init__(self) -> None:
            self.seqs: list[int] = []

        def on_trade(self, t: object) -> None:
            self.seqs.append(1)

        def on_book_delta(self, d: object) -> None:
            self.seqs.append(1)

        def on_book_snapshot(self, s: object) -> None:
            self.seqs.append(1)

        def on_order_event(self, e: object) -> None:
            self.seqs.append(1)

    rc = RedisConfig(prefix="e", batch=64)
    first, sink1 = RedisBus(client, rc), Sink()
    first.feed.connect(sink1)
    for _ in range(100):  # handle 100, acknowledge only what was polled before (a crash after handling)
        assert first.next_ts() is not None
        first.step()
    first._ack()  # 100 handled and acknowledged with their sequence
    for _ in range(20):  # 20 more handled but never acknowledged: the engine dies here
        first.step()
    ended: list[bool] = []
    second, sink2 = RedisBus(client, rc, on_end=lambda: ended.append(True)), Sink()
    second.feed.connect(sink2)
    for _ in range(10_000):
        if second.ended or second.next_ts() is None:
            break
        second.step()
    assert ended == [True]
    assert len(sink1.seqs) + len(sink2.seqs) == total - 1 + 20  # the 20 unacknowledged come again ...
    assert second.duplicates == 0  # ... since their sequence was never stored: at-least-once
    third = RedisBus(client, rc)
    third.feed.connect(Sink())
    assert third.next_ts() is None and third.duplicates == 0  # everything acknowledged


def test_a_live_gateway_waits_when_its_feed_is_quiet(redis_server) -> None:
    from tradingsystem.domain.events import TradeTick

    class QuietFeed:
        """Trades 1..5, with nothing waiting between them (a live feed)."""

        def __init__(self) -> None:
            self.sink, self.n, self.quiet = None, 0, True

        def connect(self, sink) -> None:  # type: ignore[no-untyped-def]
            self.sink = sink

        def subscribe(self, symbols) -> None:  # type: ignore[no-untyped-def]
            return None

        def next_ts(self) -> int | None:
            self.quiet = not self.quiet
            return None if self.quiet or self.n >= 5 else 1_000 + self.n

        def step(self) -> None:
            self.n += 1
            self.sink.on_trade(TradeTick("PETR4", 3750, 100, 1, self.n, 1_000 + self.n, 1_000 + self.n))

    class Venue:
        def __init__(self) -> None:
            self.feed = QuietFeed()
            self.execution = self

        def connect(self, sink) -> None:  # type: ignore[no-untyped-def]
            return None

    client = redis.Redis.from_url(redis_server.url)
    gw = Gateway(client, Venue, RedisConfig(prefix="live"), replay=False, live=True)
    stats = gw.run(max_steps=5)
    assert stats.steps == 5 and client.xlen("live:events") == 5
    assert not client.exists("live:gw:ended")  # a quiet live feed is not the end
