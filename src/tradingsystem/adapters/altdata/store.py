"""Point-in-time alternative data in the data directory, written with the catalog's atomic Parquet writes.

``{data_dir}/altdata/series/{name}/part-*.parquet``: one row per vintage — ``ref`` (reference date),
``value`` (decimal string), ``published_ns`` (from when it is known), ``fetched_ns``. A value first seen
gets its release-rule time (or the fetch time if that is earlier); a changed value for a known reference
date is a revision, a new vintage known from the fetch that saw it. Nothing is ever overwritten.

``{data_dir}/altdata/posts/part-*.parquet``: news and posts, de-duplicated by id and by text, with
``ts_ns`` (the item's own time), ``known_ns`` (from when it is known), language, score and instruments.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tradingsystem.adapters.altdata.series import Series, published_at
from tradingsystem.adapters.storage.parts import read_part, write_table_atomic
from tradingsystem.adapters.storage.schema import StorageError

__all__ = ["POST_SCHEMA", "SERIES_SCHEMA", "AltStore", "Change", "Post", "ptax_rates", "text_key"]

SERIES_SCHEMA = pa.schema([("ref", pa.date32()), ("value", pa.string()), ("published_ns", pa.int64()),
                           ("fetched_ns", pa.int64())])
POST_SCHEMA = pa.schema([("id", pa.string()), ("key", pa.string()), ("source", pa.string()),
                         ("author", pa.string()), ("text", pa.string()), ("url", pa.string()),
                         ("lang", pa.string()), ("ts_ns", pa.int64()), ("known_ns", pa.int64()),
                         ("score", pa.float64()), ("instruments", pa.string())])
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class Change:
    """A value first seen (``revised`` False; ``previous`` = the prior reference date's value) or revised."""

    ref: date
    value: Decimal
    previous: Decimal | None
    revised: bool


@dataclass(frozen=True, slots=True)
class Post:
    """One news item or post; ``instruments`` comma-separated roots/tickers it mentions."""

    id: str
    source: str
    author: str
    text: str
    url: str
    lang: str
    ts_ns: int
    known_ns: int
    score: float = 0.0
    instruments: str = ""


def text_key(text: str) -> str:
    """The de-duplication key of a text: accents, case, punctuation and spacing do not count."""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return hashlib.sha1(" ".join(re.findall(r"[a-z0-9]+", t)).encode()).hexdigest()[:20]


class AltStore:
    """Read and append point-in-time series and posts under ``{data_dir}/altdata``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "altdata"

    # ---- series ----
    def _series_dir(self, name: str) -> Path:
        if not _NAME.match(name):
            raise StorageError(f"bad series name {name!r}")
        return self.root / "series" / name

    def series_names(self) -> list[str]:
        base = self.root / "series"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def vintages(self, name: str) -> pa.Table:
        """Every vintage of a series, ordered by (published_ns, ref)."""
        d = self._series_dir(name)
        parts = [read_part(p) for p in sorted(d.glob("part-*.parquet"))] if d.is_dir() else []
        if not parts:
            return SERIES_SCHEMA.empty_table()
        t = pa.concat_tables(parts).cast(SERIES_SCHEMA)
        return t.take(pc.sort_indices(t, [("published_ns", "ascending"), ("ref", "ascending")]))

    def latest(self, name: str, as_of_ns: int | None = None) -> dict[date, Decimal]:
        """Reference date -> value, the last vintage known at ``as_of_ns`` (None: everything stored)."""
        t = self.vintages(name)
        out: dict[date, Decimal] = {}
        for ref, value, pub in zip(t.column("ref").to_pylist(), t.column("value").to_pylist(),
                                   t.column("published_ns").to_pylist(), strict=True):
            if as_of_ns is None or pub <= as_of_ns:
                out[ref] = Decimal(value)
        return dict(sorted(out.items()))

    def record_series(self, series: Series, rows: Iterable[tuple[date, Decimal]], fetched_ns: int) -> list[Change]:
        """Append what is new (first seen) or revised (changed value); return those changes in row order."""
        known = self.latest(series.name)
        changes: list[Change] = []
        pubs: list[int] = []
        for ref, value in rows:
            old = known.get(ref)
            if old is None:
                prev = max((r for r in known if r < ref), default=None)
                changes.append(Change(ref, value, known[prev] if prev else None, False))
                pubs.append(min(published_at(series, ref), fetched_ns))
            elif old != value:
                changes.append(Change(ref, value, old, True))
                pubs.append(fetched_ns)
            known[ref] = value
        if changes:
            table = pa.table({"ref": [c.ref for c in changes], "value": [str(c.value) for c in changes],
                              "published_ns": pubs, "fetched_ns": [fetched_ns] * len(changes)},
                             schema=SERIES_SCHEMA)
            self._write(self._series_dir(series.name), table, fetched_ns, "altdata_series")
        return changes

    def last_ref(self, name: str) -> date | None:
        t = self.vintages(name)
        return pc.max(t.column("ref")).as_py() if t.num_rows else None

    # ---- posts ----
    def posts(self) -> pa.Table:
        d = self.root / "posts"
        parts = [read_part(p) for p in sorted(d.glob("part-*.parquet"))] if d.is_dir() else []
        if not parts:
            return POST_SCHEMA.empty_table()
        t = pa.concat_tables(parts).cast(POST_SCHEMA)
        return t.take(pc.sort_indices(t, [("known_ns", "ascending"), ("ts_ns", "ascending")]))

    def record_posts(self, posts: Iterable[Post], fetched_ns: int) -> list[Post]:
        """Append the posts not stored yet (same id, or same text from the same author); return them."""
        t = self.posts()
        ids, keys = set(t.column("id").to_pylist()), set(t.column("key").to_pylist())
        fresh: list[tuple[Post, str]] = []
        for p in posts:
            key = text_key(p.author + " " + p.text)
            if p.id in ids or key in keys:
                continue
            ids.add(p.id)
            keys.add(key)
            fresh.append((p, key))
        if fresh:
            cols: dict[str, list[object]] = {name: [] for name in POST_SCHEMA.names}
            for p, key in fresh:
                for name in POST_SCHEMA.names:
                    cols[name].append(key if name == "key" else getattr(p, name))
            self._write(self.root / "posts", pa.table(cols, schema=POST_SCHEMA), fetched_ns, "altdata_posts")
        return [p for p, _ in fresh]

    def _write(self, d: Path, table: pa.Table, seg: int, kind: str) -> None:
        n = 0
        while (final := d / f"part-{seg:020d}-{n:04d}.parquet").exists():
            n += 1
        write_table_atomic(self.data_dir, final, table, kind)


def ptax_rates(data_dir: Path) -> dict[date, Decimal]:
    """USD/BRL PTAX per day from the stored ``ptax`` series (latest vintage); empty when none is stored."""
    return AltStore(data_dir).latest("ptax")
