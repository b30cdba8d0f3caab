"""Fetching into the store: SGS series (incremental, revisions kept as vintages), feeds and files of posts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from tradingsystem.adapters.altdata.config import AltDataConfig, FeedConfig
from tradingsystem.adapters.altdata.http import HttpClient, SourceError
from tradingsystem.adapters.altdata.news import AliasTable, parse_feed, read_posts_file
from tradingsystem.adapters.altdata.sentiment import LexiconScorer, Scorer
from tradingsystem.adapters.altdata.series import SERIES
from tradingsystem.adapters.altdata.sgs import SgsClient
from tradingsystem.adapters.altdata.store import AltStore, Change, Post

__all__ = ["AltDataSync", "FetchReport"]


@dataclass
class FetchReport:
    series: dict[str, list[Change]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, object]:
        return {"series": {n: {"new": sum(not c.revised for c in ch), "revised": sum(c.revised for c in ch)}
                           for n, ch in self.series.items()},
                "posts": len(self.posts), "errors": list(self.errors)}


class AltDataSync:
    """One fetch pass over the configured sources; a failing source is reported and the others go on."""

    def __init__(self, store: AltStore, config: AltDataConfig, http: HttpClient | None = None,
                 scorer: Scorer | None = None, aliases: AliasTable | None = None) -> None:
        self.store, self.config = store, config
        self.http = http or HttpClient(config.timeout_s, config.attempts)
        self.sgs = SgsClient(config.sgs_url, self.http)
        self.scorer = scorer or LexiconScorer()
        self.aliases = aliases or AliasTable.load(*([config.aliases] if config.aliases else []))

    def close(self) -> None:
        self.http.close()

    def fetch_series(self, name: str, today: date, fetched_ns: int) -> list[Change]:
        """From the configured start the first time, then from the last stored date less the revision window."""
        series = SERIES[name]
        last = self.store.last_ref(name)
        start = self.config.start if last is None else last - timedelta(days=series.revision_window_days)
        rows = self.sgs.fetch(series.code, start, today)
        return self.store.record_series(series, rows, fetched_ns)

    def fetch_feed(self, feed: FeedConfig, fetched_ns: int) -> list[Post]:
        resp = self.http.get(feed.url)
        if resp.status_code == 404:
            raise SourceError(f"feed {feed.name}: {feed.url} not found (404)")
        posts = parse_feed(resp.content, feed.name, fetched_ns, self.aliases, self.scorer, feed.lang)
        return self.store.record_posts(posts, fetched_ns)

    def import_posts(self, path: Path, fetched_ns: int) -> list[Post]:
        return self.store.record_posts(read_posts_file(path, self.aliases, self.scorer), fetched_ns)

    def run(self, today: date, now_ns: int, series: list[str] | None = None, feeds: bool = True,
            posts: bool = True) -> FetchReport:
        report = FetchReport()
        for name in self.config.series if series is None else series:
            try:
                report.series[name] = self.fetch_series(name, today, now_ns)
            except SourceError as exc:
                report.errors.append(f"series {name}: {exc}")
        for feed in self.config.feeds if feeds else []:
            try:
                report.posts += self.fetch_feed(feed, now_ns)
            except SourceError as exc:
                report.errors.append(str(exc))
        for path in self.config.posts if posts else []:
            try:
                report.posts += self.import_posts(path, now_ns)
            except SourceError as exc:
                report.errors.append(str(exc))
        return report
