"""Token login, sessions and cross-site protection for the node's web server (dashboard and control API).

One token: a person logs in with it and gets a session cookie (HttpOnly, SameSite=Strict); scripts and the
CLI send it as ``Authorization: Bearer <token>``. Every action with a session also needs the session's CSRF
token in ``X-CSRF-Token`` and a same-origin ``Origin`` (when the browser sends one). Repeated wrong tokens
from one client, by either way, lock it out for a while (one ``interfaces.throttle``, HTTP 429).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

from tradingsystem.interfaces.throttle import TokenThrottle

__all__ = ["COOKIE", "Access", "Session", "Sessions", "same_origin"]

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


class Access:
    """The guards of every route: ``reader`` (a session or the bearer token) and ``actor`` (the bearer token, or
    a session with its CSRF token from the same origin); each returns who it is, or raises 401/403/``Locked``."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    @staticmethod
    def client_of(request: Request) -> str:
        return request.client.host if request.client else "?"

    def session_of(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    def reader(self, request: Request) -> str:
        session = self.session_of(request)
        if session is not None:
            return session.who
        if self.sessions.bearer(request.headers.get("authorization"), self.client_of(request)):
            return "api"
        raise HTTPException(401, "log in first (session cookie or Authorization: Bearer <token>)")

    def actor(self, request: Request) -> str:
        if self.sessions.bearer(request.headers.get("authorization"), self.client_of(request)):
            return "api"
        session = self.session_of(request)
        if session is None:
            raise HTTPException(401, "log in first (session cookie or Authorization: Bearer <token>)")
        if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            raise HTTPException(403, "cross-site request refused")
        if not same_origin(request.headers.get("origin"), request.headers.get("host"), request.url.scheme):
            raise HTTPException(403, "cross-origin request refused")
        if not Sessions.csrf_ok(session, request.headers.get("x-csrf-token")):
            raise HTTPException(403, "missing or wrong CSRF token")
        return session.who
