"""Alternative data: BCB SGS economic series, news feeds and posts with sentiment, stored point in time."""

from tradingsystem.adapters.altdata.config import AltDataConfig, FeedConfig, SpikeConfig
from tradingsystem.adapters.altdata.http import HttpClient, SourceError
from tradingsystem.adapters.altdata.news import AliasTable, parse_feed, read_posts_file
from tradingsystem.adapters.altdata.poller import TOPIC, AltDataPoller
from tradingsystem.adapters.altdata.sentiment import LexiconScorer, Scorer, detect_language
from tradingsystem.adapters.altdata.series import SERIES, Series, published_at
from tradingsystem.adapters.altdata.sgs import SgsClient, SgsError, parse_sgs_csv, parse_sgs_json
from tradingsystem.adapters.altdata.store import AltStore, Change, Post, ptax_rates
from tradingsystem.adapters.altdata.sync import AltDataSync, FetchReport

__all__ = [
    "SERIES", "TOPIC", "AliasTable", "AltDataConfig", "AltDataPoller", "AltDataSync", "AltStore", "Change",
    "FeedConfig", "FetchReport", "HttpClient", "LexiconScorer", "Post", "Scorer", "Series", "SgsClient", "SgsError",
    "SourceError", "SpikeConfig", "detect_language", "parse_feed", "parse_sgs_csv", "parse_sgs_json", "ptax_rates",
    "published_at", "read_posts_file",
]
