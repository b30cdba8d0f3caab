"""Message bus: publish/subscribe topics and point-to-point endpoints, synchronous and in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class MessageBus:
    """Topics fan a message out to every subscriber; an endpoint has exactly one handler.

    Delivery is synchronous on the caller's thread (the engine thread). Sinks that do I/O subscribe
    with a handler that only enqueues.
    """

    def __init__(self) -> None:
        self._topics: dict[str, list[Handler]] = {}
        self._endpoints: dict[str, Handler] = {}
        self.published = 0

    def subscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._topics.setdefault(topic, [])
        if handler not in handlers:
            handlers.append(handler)

    def unsubscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._topics.get(topic, [])
        if handler in handlers:
            handlers.remove(handler)

    def publish(self, topic: str, message: Any) -> None:
        self.published += 1
        for handler in self._topics.get(topic, ()):
            handler(message)

    def has_subscribers(self, topic: str) -> bool:
        return bool(self._topics.get(topic))

    def register(self, endpoint: str, handler: Handler) -> None:
        if endpoint in self._endpoints:
            raise ValueError(f"endpoint {endpoint!r} already registered")
        self._endpoints[endpoint] = handler

    def send(self, endpoint: str, message: Any) -> None:
        try:
            handler = self._endpoints[endpoint]
        except KeyError:
            raise KeyError(f"no handler registered at endpoint {endpoint!r}") from None
        handler(message)
