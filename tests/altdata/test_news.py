"""Feeds (RSS 2.0, Atom) and files of posts: parsing, de-duplication, aliases and sentiment."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tests.altdata.server import AltDataServer
from tradingsystem.adapters.altdata import (
    AliasTable,
    AltDataConfig,
    AltDataSync,
    AltStore,
    FeedConfig,
    HttpClient,
    LexiconScorer,
    SourceError,
    detect_language,
    read_posts_file,
)
from tradingsystem.domain.sessions import B3_TZ

NOW = int(datetime(2026, 3, 2, 12, 0, tzinfo=B3_TZ).timestamp()) * 1_000_000_000


def sync_for(server: AltDataServer, tmp: Path) -> AltDataSync:
    cfg = AltDataConfig(sgs_url=server.url, series=[], feeds=[
        FeedConfig(name="mercado", url=f"{server.url}/feeds/mercado.xml"),
        FeedConfig(name="markets", url=f"{server.url}/feeds/markets.atom", lang="en")])
    return AltDataSync(AltStore(tmp), cfg, HttpClient(timeout_s=5, attempts=1))


def test_feeds_are_parsed_linked_scored_and_deduplicated(server: AltDataServer, tmp_path: Path) -> None:
    sync = sync_for(server, tmp_path)
    report = sync.run(date(2026, 3, 2), NOW)
    assert report.errors == []
    by_text = {p.text.split(" ")[0]: p for p in report.posts}
    assert len(report.posts) == 5
    petr = next(p for p in report.posts if p.source == "mercado" and p.text.startswith("Petrobras"))
    assert petr.instruments == "PETR4" and petr.lang == "pt" and -1 <= petr.score <= 1
    assert petr.ts_ns < NOW and petr.known_ns == NOW  # known from the fetch that first saw it
    assert "<p>" not in petr.text and "dividendos" in petr.text
    vale = next(p for p in report.posts if p.text.startswith("Vale"))
    assert vale.instruments == "VALE3" and vale.score < 0
    assert by_text["Dólar"].instruments == "WDO"
    ibov = next(p for p in report.posts if p.text.startswith("Ibovespa"))
    assert ibov.instruments == "WIN" and ibov.lang == "en" and ibov.score < 0
    # a second fetch stores nothing new
    assert sync.run(date(2026, 3, 2), NOW + 1).posts == []
    assert sync.store.posts().num_rows == 5


def test_same_text_under_another_id_is_a_duplicate(tmp_path: Path) -> None:
    aliases, scorer = AliasTable.load(), LexiconScorer()
    f = tmp_path / "posts.jsonl"
    f.write_text('{"time": "2026-03-02T10:00:00", "source": "x", "author": "a", "text": "PETR4 dispara!"}\n'
                 '{"time": "2026-03-02T10:01:00", "source": "x", "author": "a", "text": "petr4   DISPARA"}\n'
                 '{"time": "2026-03-02T10:02:00", "source": "x", "author": "b", "text": "Vale cai forte hoje"}\n',
                 encoding="utf-8")
    store = AltStore(tmp_path / "d")
    fresh = store.record_posts(read_posts_file(f, aliases, scorer), NOW)
    assert [p.text for p in fresh] == ["PETR4 dispara!", "Vale cai forte hoje"]
    assert fresh[0].known_ns == fresh[0].ts_ns  # a file is taken at its word


def test_csv_posts_and_bad_lines(tmp_path: Path) -> None:
    aliases, scorer = AliasTable.load(), LexiconScorer()
    f = tmp_path / "posts.csv"
    f.write_text("time,source,author,text\n2026-03-02T10:00:00-03:00,forum,joe,Magalu vai subir muito\n",
                 encoding="utf-8")
    (p,) = read_posts_file(f, aliases, scorer)
    assert p.instruments == "MGLU3" and p.author == "joe"
    f.write_text("time,source,author,text\nontem,forum,joe,texto\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"posts.csv:2: time 'ontem' is not ISO 8601"):
        read_posts_file(f, aliases, scorer)


def test_users_extend_the_alias_table(tmp_path: Path) -> None:
    extra = tmp_path / "aliases.yaml"
    extra.write_text("PETR4: [estatal]\nPRIO3: [prio, petrorio]\n", encoding="utf-8")
    table = AliasTable.load(extra)
    assert table.match("A estatal e a PetroRio sobem") == ["PETR4", "PRIO3"]
    assert table.match("vale a pena esperar") == []  # "Vale" the company needs its capital
    assert table.match("Vale sobe 3%") == ["VALE3"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(SourceError, match="expected a mapping"):
        AliasTable.load(bad)


# Hand-labelled: +1 good news for the asset, -1 bad news.
PT = [
    ("Petrobras tem lucro recorde e ações disparam", 1),
    ("Vale despenca após prejuízo bilionário", -1),
    ("Itaú supera expectativas e eleva dividendos", 1),
    ("Magazine Luiza amplia perdas e ações caem forte", -1),
    ("Ibovespa fecha em alta com otimismo dos investidores", 1),
    ("Bradesco decepciona com resultado fraco e lucro menor", -1),
    ("Ambev cresce e agrada o mercado", 1),
    ("Dólar sobe com medo de crise fiscal", -1),
    ("WEG anuncia forte crescimento e ótimo resultado", 1),
    ("Empresa enfrenta grave crise e risco de falência", -1),
]
EN = [
    ("Petrobras shares soar after record profit", 1),
    ("Vale plunges after a huge loss", -1),
    ("Brazilian stocks rally on strong earnings", 1),
    ("Ibovespa slumps as fiscal worries hit banks", -1),
    ("Itau beats estimates and raises its dividend", 1),
    ("Investors fear a painful recession in Brazil", -1),
    ("Analysts praise Ambev's excellent quarter", 1),
    ("Magazine Luiza warns of weak sales and layoffs", -1),
    ("Real gains as inflation eases, a positive surprise", 1),
    ("Fraud scandal hurts the bank's reputation", -1),
]


@pytest.mark.parametrize(("sample", "lang"), [(PT, "pt"), (EN, "en")])
def test_sentiment_agrees_with_hand_labels_in_a_majority(sample: list[tuple[str, int]], lang: str) -> None:
    scorer = LexiconScorer()
    scores = [scorer.score(text, lang) for text, _ in sample]
    agree = sum(s != 0 and (s > 0) == (label > 0) for s, (_, label) in zip(scores, sample, strict=True))
    assert agree > len(sample) / 2, scores
    detected = sum(detect_language(t) == lang for t, _ in sample)
    assert detected > len(sample) / 2
