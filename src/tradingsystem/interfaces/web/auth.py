"""Token login, sessions and cross-site protection for the dashboard.

A person logs in with the node's token and gets a session cookie (HttpOnly, SameSite=Strict). Every
control action also needs the session's CSRF token in ``X-CSRF-Token`` and a same-origin ``Origin``
(when the browser sends one); scripts may instead send ``Authorization: Bearer <token>``. Repeated wrong
tokens from one client lock it out for a while (``interfaces.throttle``, HTTP 429).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tradingsystem.interfaces.throttle import TokenThrottle

__all__ = ["COOKIE", "Session", "Sessions", "same_origin"]

COOKIE = "ts_session"


@dataclass
class Session:
    sid: str
    csrf: str
    who: str
    expires: float


class Sessions:
    """In-memory sessions (the dashboard lives and dies with its node)."""

    def __init__(self, token: str, ttl_s: float = 12 * 3600, max_sessions: int = 100,
                 throttle: TokenThrottle | None = None) -> None:
        self.throttle = throttle or TokenThrottle(token)
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._by_id: dict[str, Session] = {}

    @property
    def failures(self) -> int:
        return self.throttle.failures

    def check_token(self, candidate: str | None, client: str = "?") -> bool:
        """Raises ``Locked`` while ``client`` is locked out after too many wrong tokens."""
        return self.throttle.check(candidate, client)

    def bearer(self, authorization: str | None, client: str = "?") -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        return self.check_token(authorization.removeprefix("Bearer ").strip(), client)

    def login(self, who: str = "operator") -> Session:
        now = time.monotonic()
        self._by_id = {k: s for k, s in self._by_id.items() if s.expires > now}
        while len(self._by_id) >= self.max_sessions:
            self._by_id.pop(next(iter(self._by_id)))
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), who, now + self.ttl_s)
        self._by_id[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        session = self._by_id.get(sid)
        if session is None or session.expires <= time.monotonic():
            return None
        session.expires = time.monotonic() + self.ttl_s
        return session

    def logout(self, sid: str | None) -> None:
        if sid:
            self._by_id.pop(sid, None)

    @staticmethod
    def csrf_ok(session: Session, header: str | None) -> bool:
        return bool(header) and hmac.compare_digest(str(header).encode(), session.csrf.encode())


def same_origin(origin: str | None, host: str | None, scheme: str) -> bool:
    """True when the browser's ``Origin`` is absent (not a browser request) or names this server."""
    if origin is None:
        return True
    if not host or origin == "null":
        return False
    parts = urlsplit(origin)
    want = "https" if scheme in ("https", "wss") else "http"
    return parts.scheme == want and parts.netloc.lower() == host.lower()
