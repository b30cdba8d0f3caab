"""News and posts: RSS/Atom feeds (feedparser), files of posts (JSON lines or CSV), the alias table.

A feed item becomes known when a fetch first sees it (``known_ns`` = fetch time, never earlier than the
item's own time); a file of posts is taken at its word (``known_ns`` = the post's time). Ids: the feed's
guid or link, a file's ``id`` column, else a hash of source, author, time and text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from calendar import timegm
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import yaml

from tradingsystem.adapters.altdata.http import SourceError
from tradingsystem.adapters.altdata.sentiment import Scorer, detect_language
from tradingsystem.adapters.altdata.store import Post
from tradingsystem.domain.sessions import B3_TZ

__all__ = ["DEFAULT_ALIASES", "AliasTable", "parse_feed", "read_posts_file"]

DEFAULT_ALIASES = Path(__file__).with_name("aliases.yaml")
_TAG = re.compile(r"<[^>]+>")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class AliasTable:
    """Instrument -> names; ``match(text)`` lists the instruments a text mentions (sorted)."""

    def __init__(self, table: Mapping[str, Iterable[str]]) -> None:
        self.table = {str(k).upper(): [str(a) for a in v] for k, v in table.items()}
        self._folded: list[tuple[str, re.Pattern[str]]] = []
        self._exact: list[tuple[str, re.Pattern[str]]] = []
        for inst, names in self.table.items():
            for a in names:
                pat = r"(?<![\w])" + re.escape(_fold(a) if a.islower() else a) + r"(?![\w])"
                (self._folded if a.islower() else self._exact).append((inst, re.compile(pat)))

    @classmethod
    def load(cls, *paths: Path) -> AliasTable:
        """The bundled table, extended (and overridden per instrument) by each YAML file given."""
        merged: dict[str, list[str]] = {}
        for p in (DEFAULT_ALIASES, *paths):
            try:
                data = yaml.safe_load(Path(p).read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise SourceError(f"alias table {p}: {exc}") from None
            if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
                raise SourceError(f"alias table {p}: expected a mapping INSTRUMENT: [name, ...]")
            for k, v in data.items():
                merged.setdefault(str(k).upper(), [])
                merged[str(k).upper()] += [str(a) for a in v if str(a) not in merged[str(k).upper()]]
        return cls(merged)

    def match(self, text: str) -> list[str]:
        folded = _fold(text).casefold()
        hits = {i for i, pat in self._folded if pat.search(folded)}
        hits |= {i for i, pat in self._exact if pat.search(text)}
        return sorted(hits)


def _clean(text: str) -> str:
    return " ".join(_TAG.sub(" ", text).split())


def _make_post(source: str, author: str, text: str, url: str, ts_ns: int, known_ns: int, ident: str,
               aliases: AliasTable, scorer: Scorer, lang: str | None) -> Post:
    language = lang or detect_language(text)
    ident = ident or hashlib.sha1(f"{source}|{author}|{ts_ns}|{text}".encode()).hexdigest()[:24]
    return Post(ident, source, author, text, url, language, ts_ns, known_ns, scorer.score(text, language),
                ",".join(aliases.match(text)))


def parse_feed(body: bytes, source: str, fetched_ns: int, aliases: AliasTable, scorer: Scorer,
               lang: str | None = None) -> list[Post]:
    """Items of an RSS or Atom document (title and summary as the text)."""
    doc: Any = feedparser.parse(body)
    if doc.get("bozo") and not doc.entries:
        raise SourceError(f"feed {source}: not RSS or Atom ({doc.get('bozo_exception')})")
    out = []
    for e in doc.entries:
        text = _clean(" ".join(x for x in (e.get("title", ""), e.get("summary", "")) if x))
        if not text:
            continue
        stamp = e.get("published_parsed") or e.get("updated_parsed")
        ts = timegm(stamp) * 1_000_000_000 if stamp else fetched_ns
        out.append(_make_post(source, str(e.get("author", "")), text, str(e.get("link", "")), ts,
                              max(ts, fetched_ns), str(e.get("id") or e.get("link") or ""), aliases, scorer, lang))
    return out


def _ts(text: str, where: str) -> int:
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(f"{where}: time {text!r} is not ISO 8601 (2026-03-02T10:15:00-03:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=B3_TZ)  # B3 local time when no offset is given
    return int(dt.astimezone(UTC).timestamp() * 1_000_000) * 1000


def read_posts_file(path: Path, aliases: AliasTable, scorer: Scorer) -> list[Post]:
    """Posts from ``.jsonl`` (one object a line) or ``.csv``: ``time, source, author, text`` (+ ``id``, ``url``,
    ``lang``). Time is ISO 8601; without an offset it is B3 local time."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SourceError(f"{path}: {exc}") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        rows = list(enumerate(csv.DictReader(io.StringIO(raw)), start=2))
    elif path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for i, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise SourceError(f"{path}:{i}: not JSON ({exc})") from None
                if not isinstance(obj, dict):
                    raise SourceError(f"{path}:{i}: expected an object")
                rows.append((i, obj))
    else:
        raise SourceError(f"{path}: posts files are .jsonl or .csv")
    out = []
    for i, row in rows:
        where = f"{path}:{i}"
        missing = [c for c in ("time", "source", "text") if not str(row.get(c) or "").strip()]
        if missing:
            raise SourceError(f"{where}: missing {', '.join(missing)}")
        ts = _ts(str(row["time"]), where)
        out.append(_make_post(str(row["source"]), str(row.get("author") or ""), _clean(str(row["text"])),
                              str(row.get("url") or ""), ts, ts, str(row.get("id") or ""), aliases, scorer,
                              str(row["lang"]) if row.get("lang") else None))
    return out
