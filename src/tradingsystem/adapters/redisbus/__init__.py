"""Split processes over Redis Streams: a gateway publishes market data and order events and executes
order commands; the engine consumes the events and sends the commands (at-least-once, de-duplicated).

``redis`` (redis-py) is imported only when the bus itself is used, so the configuration loads without it.
"""

from typing import Any

from tradingsystem.adapters.redisbus.config import RedisConfig

__all__ = ["Gateway", "GatewayStats", "RedisBus", "RedisConfig", "RedisExecution", "RedisFeed"]


def __getattr__(name: str) -> Any:
    if name in ("RedisBus", "RedisExecution", "RedisFeed"):
        from tradingsystem.adapters.redisbus import engine_side

        return getattr(engine_side, name)
    if name in ("Gateway", "GatewayStats"):
        from tradingsystem.adapters.redisbus import gateway

        return getattr(gateway, name)
    raise AttributeError(name)
