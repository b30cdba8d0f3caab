"""Brute-force limit on checks of the node's one token (dashboard login, ``Authorization: Bearer`` on any route).

After ``max_failures`` wrong tokens in a row from one client, every try from it (right or wrong) is refused
for ``lockout_s`` seconds; callers answer HTTP 429 with ``Retry-After``. A right token resets the count.
The clock is injected (monotonic seconds) so tests step it.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Callable

__all__ = ["Locked", "TokenThrottle"]


class Locked(Exception):
    """A client is locked out; ``retry_after_s`` until it may try again."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many wrong tokens: try again in {math.ceil(retry_after_s)} s")
        self.retry_after_s = retry_after_s

    @property
    def retry_after(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


class TokenThrottle:
    """Checks tokens in constant time and locks out a client after repeated failures."""

    def __init__(self, token: str, max_failures: int = 5, lockout_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000) -> None:
        if max_failures < 1 or lockout_s <= 0:
            raise ValueError("max_failures must be >= 1 and lockout_s > 0")
        self._token = token.encode()
        self.max_failures, self.lockout_s, self.clock, self.max_clients = max_failures, lockout_s, clock, max_clients
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.failures = 0  # wrong tokens in all (shown on the dashboard's health)
        self.refused = 0  # tries refused while locked out

    def check(self, candidate: str | None, client: str) -> bool:
        """True for the right token; False for a wrong one; raises ``Locked`` while ``client`` is locked out."""
        with self._lock:
            now = self.clock()
            until = self._until.get(client)
            if until is not None:
                if now < until:
                    self.refused += 1
                    raise Locked(until - now)
                del self._until[client]
            ok = bool(candidate) and hmac.compare_digest(str(candidate).encode(), self._token)
            if ok:
                self._failures.pop(client, None)
                return True
            self.failures += 1
            n = self._failures.get(client, 0) + 1
            if n >= self.max_failures:
                self._failures.pop(client, None)
                self._until[client] = now + self.lockout_s
            else:
                if len(self._failures) >= self.max_clients and client not in self._failures:
                    self._failures.pop(next(iter(self._failures)))
                self._failures[client] = n
            if len(self._until) > self.max_clients:
                self._until = {c: t for c, t in self._until.items() if t > now}
            return False
