"""`tradingsystem run --feed profitdll` logs in, subscribes, trades live and exits cleanly (against the double)."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from tests.profitdll.helpers import Double
from tradingsystem.runtime.cli import app

pytestmark = pytest.mark.integration


@contextmanager
def streaming(double: Double, dll_path: str, monkeypatch, offers: bool = False):
    """The DLL settings in the environment and the double streaming trades (and offer-book events) while the
    block runs."""
    for k, v in {"DLL_PATH": dll_path, "ACTIVATION_KEY": "k3y-secret", "USER": "trader", "PASSWORD": "s3cret"}.items():
        monkeypatch.setenv(f"TRADINGSYSTEM_PROFITDLL_{k}", v)
    double.define_all()
    stop = threading.Event()

    def stream() -> None:
        seed = 1
        while not stop.wait(0.05):
            double.TestStream(20)
            if offers:
                for sym in ("WINZ26", "PETR4"):
                    double.TestOfferStream(sym, 20, seed)
                    seed += 1

    t = threading.Thread(target=stream, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


def test_run_feed_profitdll(double: Double, dll_path: str, tmp_path, monkeypatch) -> None:
    with streaming(double, dll_path, monkeypatch):
        result = CliRunner().invoke(app, ["run", "--feed", "profitdll", "--book", "price_depth", "--duration", "2",
                                          "--no-status",
                                          "--no-control", "--no-dashboard", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output and "k3y-secret" not in result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert len(summary["instruments"]) >= 10
    assert summary["trades_seen"] > 0


def test_run_feed_profitdll_without_settings_says_what_is_missing(tmp_path, monkeypatch) -> None:
    for k in ("DLL_PATH", "ACTIVATION_KEY", "USER", "PASSWORD"):
        monkeypatch.delenv(f"TRADINGSYSTEM_PROFITDLL_{k}", raising=False)
    result = CliRunner().invoke(app, ["run", "--feed", "profitdll", "--duration", "1", "--no-status",
                                      "--no-control", "--no-dashboard", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "TRADINGSYSTEM_PROFITDLL_DLL_PATH" in result.output


def test_capture_feed_profitdll_into_the_catalog(double: Double, dll_path: str, tmp_path, monkeypatch) -> None:
    from tradingsystem.adapters.storage import Catalog

    with streaming(double, dll_path, monkeypatch):
        result = CliRunner().invoke(app, ["capture", "--feed", "profitdll", "--instruments", "WINZ26,PETR4,VALE3",
                                          "--duration", "2", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = Catalog(tmp_path).query("select instrument, count(*) as n from trades group by 1").to_pylist()
    counts = {r["instrument"]: r["n"] for r in rows}
    assert set(counts) == {"WINZ26", "PETR4", "VALE3"} and all(n > 0 for n in counts.values())


def test_capture_feed_profitdll_records_the_book_configured_in_yaml(double: Double, dll_path: str, tmp_path,
                                                                   monkeypatch) -> None:
    from tradingsystem.adapters.storage import Catalog

    cfg = tmp_path / "profitdll.yaml"
    cfg.write_text("profitdll:\n  market_only: true\n  book_depth: true\n  book_source: offer_book\n")
    with streaming(double, dll_path, monkeypatch, offers=True):
        result = CliRunner().invoke(app, ["capture", "--feed", "profitdll", "--config", str(cfg), "--instruments",
                                          "WINZ26,PETR4", "--duration", "2", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    catalog = Catalog(tmp_path / "d")
    books = catalog.query("select instrument, count(*) as n from orders group by 1").to_pylist()  # order level
    assert {r["instrument"] for r in books} == {"WINZ26", "PETR4"} and all(r["n"] > 0 for r in books)
    trades = catalog.query("select count(*) as n from trades").to_pylist()
    assert trades[0]["n"] > 0


def test_capture_with_a_bad_book_option_is_one_line(tmp_path, monkeypatch) -> None:
    for k, v in {"DLL_PATH": "/x", "ACTIVATION_KEY": "k", "USER": "u", "PASSWORD": "p"}.items():
        monkeypatch.setenv(f"TRADINGSYSTEM_PROFITDLL_{k}", v)
    result = CliRunner().invoke(app, ["capture", "--feed", "profitdll", "--book", "tape", "--duration", "1",
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "--book must be one of" in result.output
    assert "Traceback" not in result.output
