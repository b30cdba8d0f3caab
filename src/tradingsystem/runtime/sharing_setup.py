"""Signal sharing from config: ``share:`` makes this node a leader, ``follow:`` makes it a follower.

Secrets come from the environment: the leader's Ed25519 private key (``share.key_env``) and the
Telegram bot token (``share.telegram.token_env``). The follower's config holds only the leader's
public key, which is not a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.adapters.sharing import (
    RedisStreamChannel,
    RedisStreamReader,
    Signal,
    SignalChannel,
    SignalFollower,
    SignalPublisher,
    Signer,
    TelegramChannel,
    Verifier,
    WebhookChannel,
)
from tradingsystem.engine.kernel import Kernel
from tradingsystem.strategies.mirror import Mirror, MirrorConfig


class StreamConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = "redis://127.0.0.1:6379/0"
    stream: str = "ts:signals"


class TelegramShareConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    chat_id: str
    token_env: str = "TRADINGSYSTEM_TELEGRAM_TOKEN"
    api_base: str = "https://api.telegram.org"


class ShareConfig(BaseModel):
    """Publish this node's strategy positions as signed signals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    leader: str
    """This node's name as followers know it."""
    key_env: str = "TRADINGSYSTEM_SHARE_KEY"
    strategies: list[str] = Field(default_factory=list)
    redis: StreamConfig | None = None
    webhooks: list[str] = Field(default_factory=list)
    telegram: TelegramShareConfig | None = None


class FollowConfig(BaseModel):
    """Mirror a leader's signals read from a Redis stream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    leader: str
    public_key: str
    redis: StreamConfig = StreamConfig()
    start: str = "$"
    """``$``: only signals sent from now on; ``0``: the whole stream."""
    max_age_s: float = Field(5.0, gt=0)
    """Older messages are refused as stale."""
    mirror: MirrorConfig = MirrorConfig()


class Sharing:
    """What ``run`` starts for sharing; ``summary()`` goes into the run summary."""

    def __init__(self) -> None:
        self.publisher: SignalPublisher | None = None
        self.follower: SignalFollower | None = None
        self.mirror: Mirror | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.publisher is not None:
            st = self.publisher.stats
            out["sharing"] = {"published": st.published, "sent": dict(st.sent), "failed": dict(st.failed)}
        if self.follower is not None and self.mirror is not None:
            fs = self.follower.stats
            out["following"] = {"received": fs.received, "accepted": fs.accepted, "refused": dict(fs.refused),
                                "latency_ms": fs.latency_ms(), "disconnects": fs.disconnects,
                                "applied": self.mirror.applied, "ignored": dict(self.mirror.ignored),
                                "tracking": self.mirror.tracking(),
                                "tracking_difference": self.mirror.tracking_difference(),
                                "leaderboard": self.mirror.leaderboard()}
        return out

    def close(self) -> None:
        if self.follower is not None:
            self.follower.close()
        if self.publisher is not None:
            self.publisher.close()


def _secret(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name)
    if not value:
        raise ValueError(f"{what}: set the environment variable {name}")
    return value


def attach_sharing(kernel: Kernel, share: ShareConfig | None, follow: FollowConfig | None,
                   environ: Mapping[str, str] | None = None) -> Sharing:
    env = os.environ if environ is None else environ
    out = Sharing()
    if share is not None:
        signer = Signer(_secret(env, share.key_env, "share"))
        channels: list[SignalChannel] = []
        if share.redis is not None:
            channels.append(RedisStreamChannel(share.redis.url, share.redis.stream))
        channels += [WebhookChannel(url) for url in share.webhooks]
        if share.telegram is not None:
            tg = share.telegram
            channels.append(TelegramChannel(_secret(env, tg.token_env, "share.telegram"), tg.chat_id, tg.api_base))
        if not channels:
            raise ValueError("share: name at least one of redis, webhooks or telegram")
        out.publisher = SignalPublisher(kernel, share.leader, signer, channels, frozenset(share.strategies))
    if follow is not None:
        mirror = Mirror(follow.mirror, sorted(kernel.instruments))
        kernel.add_strategy(mirror)
        verifier = Verifier(follow.public_key, follow.leader, int(follow.max_age_s * 1e9))

        def deliver(signal: Signal) -> None:
            kernel.call_soon_threadsafe(lambda: mirror.on_signal(signal.strategy, signal.instrument, signal.target,
                                                                 signal.price))

        reader = RedisStreamReader(follow.redis.url, follow.redis.stream, follow.start)
        out.mirror, out.follower = mirror, SignalFollower(reader, verifier, deliver).start()
    return out


__all__ = ["FollowConfig", "ShareConfig", "Sharing", "attach_sharing"]
