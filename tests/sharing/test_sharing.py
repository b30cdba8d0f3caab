"""Signal sharing between two real nodes over a real Redis: a leader publishes signed target positions,
a follower mirrors them with its own sizing through its own risk engine and refuses forged, unsigned and
stale messages."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.alerts.servers import TelegramFake, wait_until
from tradingsystem.adapters.sharing import (
    RedisStreamReader,
    Signal,
    SignalFollower,
    Signer,
    TelegramChannel,
    Verifier,
    new_keypair,
)
from tradingsystem.adapters.sharing.channels import FIELD

CLI = [sys.executable, "-m", "tradingsystem.runtime.cli"]
STREAM = "ts:signals"
pytestmark = pytest.mark.integration


def _node(args: list[str], env: dict[str, str] | None = None) -> dict:
    import os

    proc = subprocess.run([*CLI, *args, "--no-status", "--no-dashboard", "--no-control"], capture_output=True,
                          text=True, timeout=300, check=False, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_leader_to_follower_over_redis_refuses_forged_unsigned_and_stale(redis_server, tmp_path: Path) -> None:
    private, public = new_keypair()
    leader_cfg = tmp_path / "leader.yaml"
    leader_cfg.write_text(f"data_dir: {tmp_path / 'leader'}\nshare:\n  leader: desk-1\n"
                          f"  redis: {{url: '{redis_server.url}', stream: '{STREAM}'}}\n", encoding="utf-8")
    lead = _node(["run", "--config", str(leader_cfg), "--duration", "1800", "--speed", "max", "--seed", "4"],
                 {"TRADINGSYSTEM_SHARE_KEY": private})
    published = lead["sharing"]["published"]
    assert published > 5 and lead["sharing"]["sent"] == {f"redis:{STREAM}": published}
    r = redis.Redis.from_url(redis_server.url)
    assert r.xlen(STREAM) == published
    # three bad messages after the good ones: forged (another key), unsigned, stale (two hours old)
    last = json.loads(json.loads(r.xrevrange(STREAM, count=1)[0][1][FIELD])["m"])
    other, _ = new_keypair()
    forged = Signal(**{**last, "seq": last["seq"] + 1, "target": 99})
    r.xadd(STREAM, {FIELD: Signer(other).envelope(forged)})
    r.xadd(STREAM, {FIELD: json.dumps({"m": forged.canonical().decode()}).encode()})
    stale = Signal(**{**last, "seq": last["seq"] + 2, "target": -99, "sent_ns": time.time_ns() - 7200 * 10**9})
    r.xadd(STREAM, {FIELD: Signer(private).envelope(stale)})

    follower_cfg = tmp_path / "follower.yaml"
    follower_cfg.write_text(
        f"data_dir: {tmp_path / 'follower'}\nstrategies: []\nfollow:\n  leader: desk-1\n  public_key: '{public}'\n"
        f"  redis: {{url: '{redis_server.url}', stream: '{STREAM}'}}\n  start: '0'\n  max_age_s: 600\n"
        "  mirror: {sizing: ratio, ratio: 2, max_abs: {WIN: 3}}\n", encoding="utf-8")
    follow = _node(["follow", "--config", str(follower_cfg), "--duration", "1800", "--speed", "max", "--seed", "4"])
    f = follow["following"]
    assert f["received"] == published + 3 and f["accepted"] == published
    assert f["refused"] == {"bad_signature": 1, "unsigned": 1, "stale": 1}
    assert f["latency_ms"]["max"] > 0
    (symbol, track), = f["tracking"].items()
    leader_final = lead["positions"].get(symbol, 0)
    assert track["leader"] == leader_final
    assert track["desired"] == max(-3, min(3, 2 * leader_final))
    assert f["tracking_difference"] == 0 and follow["positions"].get(symbol, 0) == track["desired"]
    (row,) = f["leaderboard"]  # the leader's strategy as its signals tell it, next to ours
    assert row["strategy"] == "ema_cross" and row["leader_position"] == leader_final
    assert row["our_position"] == track["desired"] and row["leader_pnl_brl"] != "0.00"


def test_follower_survives_the_stream_server_going_away(redis_server) -> None:
    private, public = new_keypair()
    signer, got = Signer(private), []
    r = redis.Redis.from_url(redis_server.url)

    def send(seq: int) -> None:
        r.xadd(STREAM, {FIELD: signer.envelope(Signal("desk-1", "s", "WINZ26", seq, seq, time.time_ns(), 0))})

    send(1)
    follower = SignalFollower(RedisStreamReader(redis_server.url, STREAM, "0", block_ms=50),
                              Verifier(public, "desk-1", 60 * 10**9), got.append, retry_s=0.05).start()
    try:
        assert wait_until(lambda: len(got) == 1)
        redis_server.kill()
        assert wait_until(lambda: follower.stats.disconnects >= 1)
        redis_server.start()  # same port; the AOF brings the stream back
        r = redis.Redis.from_url(redis_server.url)
        send(2)
        assert wait_until(lambda: len(got) == 2)
        assert [s.seq for s in got] == [1, 2]  # resumed after the last entry: nothing applied twice
    finally:
        follower.close()


def test_telegram_channel_posts_a_readable_line_and_the_verifiable_envelope() -> None:
    private, public = new_keypair()
    fake = TelegramFake()
    fake.start()
    try:
        signal = Signal("desk-1", "ema_cross", "WINZ26", 2, 7, time.time_ns(), 0)
        env = Signer(private).envelope(signal)
        TelegramChannel(fake.token, "-100123", fake.base).send(signal, env)
        (sent,) = fake.sent
        assert sent["chat_id"] == -100123
        first, body = sent["text"].split("\n", 1)
        assert first == "ema_cross WINZ26: target +2 (seq 7)"
        assert Verifier(public, "desk-1", 60 * 10**9).open(body.encode(), time.time_ns()) == signal
    finally:
        fake.stop()


def test_webhook_channel_posts_the_envelope_and_retries_a_failure() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tradingsystem.adapters.sharing import WebhookChannel

    got: list[bytes] = []
    fail = [1]  # the first POST answers 503: tenacity retries it

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            code = 503 if fail[0] else 200
            fail[0] = 0
            if code == 200:
                got.append(body)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    private, public = new_keypair()
    try:
        signal = Signal("desk-1", "ema_cross", "PETR4", 100, 3, time.time_ns(), 0, price=3751)
        channel = WebhookChannel(f"http://127.0.0.1:{server.server_address[1]}/hook")
        channel.send(signal, Signer(private).envelope(signal))
        channel.close()
        (body,) = got
        assert Verifier(public, "desk-1", 60 * 10**9).open(body, time.time_ns()) == signal
    finally:
        server.shutdown()
