"""One HTTP client for the alternative-data sources: httpx, retried by tenacity on 5xx, 429 and network errors."""

from __future__ import annotations

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

__all__ = ["HttpClient", "SourceError"]


class SourceError(RuntimeError):
    """A source could not be reached or answered something unusable; the message names it."""


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, httpx.TransportError)


class HttpClient:
    """``get(url, params)`` returns the response (a 404 is returned, not raised); exponential backoff between tries."""

    def __init__(self, timeout_s: float = 20.0, attempts: int = 4, backoff_s: float = 1.0) -> None:
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=True,
                                  headers={"User-Agent": "tradingsystem-altdata"})
        self._get = retry(retry=retry_if_exception(_retryable), stop=stop_after_attempt(attempts),
                          wait=wait_exponential(multiplier=backoff_s, max=30 * backoff_s), reraise=True)(self._once)

    def _once(self, url: str, params: dict[str, str] | None) -> httpx.Response:
        resp = self._http.get(url, params=params)
        if resp.status_code != 404:
            resp.raise_for_status()
        return resp

    def get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            return self._get(url, params)
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: {exc}") from None

    def close(self) -> None:
        self._http.close()
