"""Signal sharing: a leader node publishes signed target positions; followers verify and mirror them."""

from tradingsystem.adapters.sharing.channels import (
    RedisStreamChannel,
    RedisStreamReader,
    SignalChannel,
    TelegramChannel,
    WebhookChannel,
)
from tradingsystem.adapters.sharing.follower import FollowerStats, SignalFollower
from tradingsystem.adapters.sharing.leader import PublisherStats, SignalPublisher
from tradingsystem.adapters.sharing.messages import Signal, SignalRefused, Signer, Verifier, new_keypair

__all__ = [
    "FollowerStats", "PublisherStats", "RedisStreamChannel", "RedisStreamReader", "Signal", "SignalChannel",
    "SignalFollower", "SignalPublisher", "SignalRefused", "Signer", "TelegramChannel", "Verifier", "WebhookChannel",
    "new_keypair",
]
