"""SGS fetch into the point-in-time store: first fetch, incremental update, revisions as vintages, retries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.altdata.server import AltDataServer
from tradingsystem.adapters.altdata import (
    SERIES,
    AltDataConfig,
    AltDataSync,
    AltStore,
    HttpClient,
    SgsClient,
    SgsError,
    SourceError,
    parse_sgs_csv,
    published_at,
)
from tradingsystem.domain.sessions import B3_TZ
from tradingsystem.features.altdata import INDICATORS


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=B3_TZ).timestamp()) * 1_000_000_000


def sync_for(server: AltDataServer, tmp: Path, **kw: object) -> AltDataSync:
    cfg = AltDataConfig(sgs_url=server.url, start=date(2024, 1, 1), **kw)  # type: ignore[arg-type]
    return AltDataSync(AltStore(tmp), cfg, HttpClient(timeout_s=5, attempts=3, backoff_s=0.01))


def test_series_registry_matches_the_feature_columns() -> None:
    assert set(SERIES) == set(INDICATORS)


def test_monthly_value_is_known_only_from_its_release(server: AltDataServer, tmp_path: Path) -> None:
    sync = sync_for(server, tmp_path)
    changes = sync.fetch_series("ipca", date(2024, 12, 20), ns("2024-12-20T12:00:00"))
    assert len(changes) == 11 and not any(c.revised for c in changes)
    store = sync.store
    # IPCA of October 2024 (0.56) is taken as public on 15 November 09:00, not on 1 October.
    assert store.latest("ipca", ns("2024-11-15T08:59:00"))[date(2024, 9, 1)] == Decimal("0.44")
    assert date(2024, 10, 1) not in store.latest("ipca", ns("2024-11-15T08:59:00"))
    assert store.latest("ipca", ns("2024-11-15T09:00:00"))[date(2024, 10, 1)] == Decimal("0.56")
    assert published_at(SERIES["ipca"], date(2024, 10, 1)) == ns("2024-11-15T09:00:00")


def test_incremental_update_asks_from_the_last_date_less_the_revision_window(server: AltDataServer,
                                                                              tmp_path: Path) -> None:
    sync = sync_for(server, tmp_path)
    assert len(sync.fetch_series("ptax", date(2025, 1, 7), ns("2025-01-07T18:00:00"))) == 4
    server.requests.clear()
    changes = sync.fetch_series("ptax", date(2025, 1, 8), ns("2025-01-08T18:00:00"))
    assert [(c.ref, c.value, c.previous) for c in changes] == [(date(2025, 1, 8), Decimal("6.1197"),
                                                                 Decimal("6.1085"))]
    (_, q), = server.requests
    assert q["dataInicial"] == "28/12/2024" and q["dataFinal"] == "08/01/2025"  # 7 Jan less 10 days
    # nothing new: nothing written
    assert sync.fetch_series("ptax", date(2025, 1, 8), ns("2025-01-08T19:00:00")) == []
    assert sync.store.vintages("ptax").num_rows == 5


def test_a_revision_is_a_new_vintage_known_from_the_fetch_that_saw_it(server: AltDataServer, tmp_path: Path) -> None:
    sync = sync_for(server, tmp_path)
    sync.fetch_series("ipca", date(2024, 12, 20), ns("2024-12-20T12:00:00"))
    server.series[433][-1]["valor"] = "0.40"  # November 2024 revised
    server.series[433].append({"data": "01/12/2024", "valor": "0.52"})
    changes = sync.fetch_series("ipca", date(2025, 1, 20), ns("2025-01-20T12:00:00"))
    assert [(c.ref, c.value, c.previous, c.revised) for c in changes] == [
        (date(2024, 11, 1), Decimal("0.40"), Decimal("0.39"), True),
        (date(2024, 12, 1), Decimal("0.52"), Decimal("0.40"), False)]
    store = sync.store
    assert store.latest("ipca", ns("2025-01-19T00:00:00"))[date(2024, 11, 1)] == Decimal("0.39")
    assert store.latest("ipca", ns("2025-01-20T12:00:00"))[date(2024, 11, 1)] == Decimal("0.40")
    v = store.vintages("ipca").to_pylist()
    assert [r["value"] for r in v if r["ref"] == date(2024, 11, 1)] == ["0.39", "0.40"]


def test_server_errors_are_retried_then_reported(server: AltDataServer, tmp_path: Path) -> None:
    sync = sync_for(server, tmp_path)
    server.fail = 2  # two 500s, then the answer
    assert len(sync.fetch_series("selic_target", date(2024, 10, 4), ns("2024-10-04T20:00:00"))) == 33
    server.fail = 10
    report = sync.run(date(2024, 10, 5), ns("2024-10-05T20:00:00"), ["ptax"], feeds=False, posts=False)
    assert report.errors and "500" in report.errors[0]
    server.stop()
    with pytest.raises(SourceError, match=r"127\.0\.0\.1"):
        sync.fetch_series("ptax", date(2025, 1, 8), ns("2025-01-08T18:00:00"))


def test_csv_download_and_bad_answers() -> None:
    assert parse_sgs_csv('"data";"valor"\n"02/01/2025";"6,2086"\n') == [(date(2025, 1, 2), Decimal("6.2086"))]
    with pytest.raises(SgsError, match="header"):
        parse_sgs_csv("foo;bar\n1;2\n")


def test_csv_format_through_the_client(server: AltDataServer) -> None:
    client = SgsClient(server.url, HttpClient(timeout_s=5, attempts=1), fmt="csv")
    assert client.fetch(1, date(2025, 1, 1), date(2025, 1, 3)) == [(date(2025, 1, 2), Decimal("6.2086")),
                                                                    (date(2025, 1, 3), Decimal("6.1624"))]
