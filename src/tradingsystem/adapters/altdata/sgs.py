"""Client of the Banco Central do Brasil SGS API (httpx with tenacity retries) and its CSV downloads.

``GET {base}/dados/serie/bcdata.sgs.{code}/dados?formato=json&dataInicial=dd/mm/aaaa&dataFinal=dd/mm/aaaa``
answers ``[{"data": "02/01/2025", "valor": "6.1923"}, ...]``; ``formato=csv`` answers ``"data";"valor"``
lines with a decimal comma. Daily series are asked for in windows of at most five years (the API refuses
more than ten). A 404 means no value in the window.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from tradingsystem.adapters.altdata.http import HttpClient, SourceError

__all__ = ["DEFAULT_BASE_URL", "SgsClient", "SgsError", "parse_sgs_csv", "parse_sgs_json"]

DEFAULT_BASE_URL = "https://api.bcb.gov.br"
_WINDOW_DAYS = 5 * 365


class SgsError(SourceError):
    """The SGS server answered something that is not a series."""


def _day(text: str) -> date:
    return datetime.strptime(text.strip(), "%d/%m/%Y").date()


def _value(text: str) -> Decimal:
    try:
        v = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise SgsError(f"not a number: {text!r}") from None
    if not v.is_finite():
        raise SgsError(f"not a number: {text!r}")
    return v


def parse_sgs_json(body: bytes | str) -> list[tuple[date, Decimal]]:
    """Rows of an SGS JSON answer, in reference-date order; an empty value is skipped."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SgsError(f"not SGS JSON: {exc}") from None
    if not isinstance(data, list):
        raise SgsError(f"not SGS JSON: expected a list, got {type(data).__name__}")
    out = []
    for row in data:
        if not isinstance(row, dict) or "data" not in row or "valor" not in row:
            raise SgsError(f"not an SGS row: {row!r}")
        if str(row["valor"]).strip():
            out.append((_day(str(row["data"])), _value(str(row["valor"]))))
    return sorted(out)


def parse_sgs_csv(body: bytes | str) -> list[tuple[date, Decimal]]:
    """Rows of an SGS CSV download (``data;valor``, decimal comma)."""
    text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != ["data", "valor"]:
        raise SgsError(f"not an SGS CSV: header {header!r}")
    return sorted((_day(r[0]), _value(r[1])) for r in reader if len(r) >= 2 and r[1].strip())


def _windows(start: date, end: date) -> Iterator[tuple[date, date]]:
    lo = start
    while lo <= end:
        hi = min(end, lo + timedelta(days=_WINDOW_DAYS))
        yield lo, hi
        lo = hi + timedelta(days=1)


class SgsClient:
    """``fetch(code, start, end)``: a series' values over [start, end] (retries in ``HttpClient``)."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, http: HttpClient | None = None, fmt: str = "json") -> None:
        self.base_url = base_url.rstrip("/")
        self.fmt = fmt
        self.http = http or HttpClient()

    def fetch(self, code: int, start: date, end: date) -> list[tuple[date, Decimal]]:
        url = f"{self.base_url}/dados/serie/bcdata.sgs.{code}/dados"
        out: list[tuple[date, Decimal]] = []
        for lo, hi in _windows(start, end):
            params = {"formato": self.fmt, "dataInicial": f"{lo:%d/%m/%Y}", "dataFinal": f"{hi:%d/%m/%Y}"}
            resp = self.http.get(url, params)
            if resp.status_code == 404:
                continue
            try:
                out += parse_sgs_csv(resp.content) if self.fmt == "csv" else parse_sgs_json(resp.content)
            except SgsError as exc:
                raise SgsError(f"SGS series {code}: {exc}") from None
        return out
