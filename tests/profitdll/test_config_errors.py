"""Config, secrets, setup from the environment, and NL code mapping (no DLL needed)."""

from __future__ import annotations

import ctypes
import logging

import pytest
from pydantic import ValidationError

from tests.profitdll.helpers import Double, Sink, weekdays
from tradingsystem.adapters.profitdll import ProfitDLLConfig, ProfitDLLHalt, ProfitDLLInvalid, ProfitDLLRetry
from tradingsystem.adapters.profitdll import structs as s
from tradingsystem.adapters.profitdll.errors import NL, check, error_for, nl_name
from tradingsystem.domain.errors import HaltRequired, InvalidRequest, RetryLater
from tradingsystem.runtime.profitdll_setup import build_profitdll, profitdll_config

ENV = {
    "TRADINGSYSTEM_PROFITDLL_DLL_PATH": "/nowhere/ProfitDLL64.dll",
    "TRADINGSYSTEM_PROFITDLL_ACTIVATION_KEY": "KEY-TOP-SECRET",
    "TRADINGSYSTEM_PROFITDLL_USER": "ana",
    "TRADINGSYSTEM_PROFITDLL_PASSWORD": "PW-TOP-SECRET",
}


def test_nl_codes_match_the_manual() -> None:
    assert NL["INVALID_ARGS"] == -2147483645
    assert NL["WAITING_SERVER"] == 0x80000004 - 2**32
    assert NL["INVALID_TICKER"] == 0x8000001F - 2**32
    assert NL["HISTORY_PERIOD_LIMIT"] == 0x8000002E - 2**32
    assert nl_name(90) == "INVALID_ARGS"  # legacy code


@pytest.mark.parametrize(
    ("name", "cls", "must"),
    [("WAITING_SERVER", ProfitDLLRetry, RetryLater), ("INVALID_ARGS", ProfitDLLInvalid, InvalidRequest),
     ("INVALID_TICKER", ProfitDLLInvalid, InvalidRequest), ("NO_LICENSE", ProfitDLLHalt, HaltRequired),
     ("NOT_INITIALIZED", ProfitDLLHalt, HaltRequired), ("HISTORY_PERIOD_LIMIT", ProfitDLLInvalid, InvalidRequest)],
)
def test_errors_are_typed_by_what_the_caller_must_do(name: str, cls: type, must: type) -> None:
    err = error_for(NL[name], "SendOrder")
    assert isinstance(err, cls) and isinstance(err, must)
    assert name in str(err) and err.code == NL[name]


def test_check_passes_counts_and_ok() -> None:
    assert check(0, "x") == 0
    assert check(90, "GetPriceDepthSideCount", legacy=False) == 90
    with pytest.raises(ProfitDLLInvalid):
        check(90, "SubscribeTicker")


def test_struct_layouts_follow_natural_alignment() -> None:
    assert ctypes.sizeof(s.TConnectorAssetIdentifier) == 32
    assert ctypes.sizeof(s.TConnectorAccountIdentifier) == 32
    assert s.TConnectorSendOrder.Price.offset == 88 and s.TConnectorSendOrder.MessageID.offset == 112
    assert s.TConnectorTrade.TradeNumber.offset == 20 and s.TConnectorTrade.TradeType.offset == 56
    assert s.TRADE_LAYOUT.size <= ctypes.sizeof(s.TConnectorTrade)
    assert s.TConnectorPriceGroup.Quantity.offset == 24


def _env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for k in ("DLL_PATH", "ACTIVATION_KEY", "USER", "PASSWORD", "BOOK_DEPTH", "BOOK_SOURCE", "OFFER_EDIT"):
        monkeypatch.delenv(f"TRADINGSYSTEM_PROFITDLL_{k}", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def test_config_is_frozen_strict_and_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, ENV)
    cfg = profitdll_config()
    assert cfg.dll_path == ENV["TRADINGSYSTEM_PROFITDLL_DLL_PATH"] and cfg.user == "ana"
    assert type(cfg) is ProfitDLLConfig
    assert "SECRET" not in repr(cfg) and "SECRET" not in str(cfg.model_dump())
    assert cfg.routing_secret() == "PW-TOP-SECRET"
    with pytest.raises(ValidationError):
        ProfitDLLConfig(dll_path="x", activation_key="k", user="u", password="p", colour="blue")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        cfg.user = "bob"  # type: ignore[misc]


def test_missing_settings_name_the_key_and_the_variable_not_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    env = dict(ENV)
    del env["TRADINGSYSTEM_PROFITDLL_PASSWORD"]
    _env(monkeypatch, env)
    with pytest.raises(ValueError, match=r"profitdll\.password or TRADINGSYSTEM_PROFITDLL_PASSWORD") as info:
        profitdll_config()
    assert "SECRET" not in str(info.value)


def test_yaml_section_environment_and_book_option_in_that_order(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tradingsystem.runtime.config import ConfigError, load_config

    path = tmp_path / "c.yaml"
    path.write_text("profitdll:\n  dll_path: /yaml/ProfitDLL64.dll\n  user: yaml-user\n  book_depth: true\n"
                    "  book_source: offer_book\n  offer_edit: absolute\n")
    section = load_config(path, environ={}).profitdll
    _env(monkeypatch, {"TRADINGSYSTEM_PROFITDLL_USER": "env-user", "TRADINGSYSTEM_PROFITDLL_ACTIVATION_KEY": "K",
                       "TRADINGSYSTEM_PROFITDLL_PASSWORD": "P", "TRADINGSYSTEM_PROFITDLL_OFFER_EDIT": "delta"})
    cfg = profitdll_config(section)
    assert (cfg.dll_path, cfg.user, cfg.book_depth, cfg.book_source, cfg.offer_edit) == (
        "/yaml/ProfitDLL64.dll", "env-user", True, "offer_book", "delta")
    assert profitdll_config(section, book="price_depth").book_source == "price_depth"
    assert profitdll_config(section, book="none").book_depth is False
    with pytest.raises(ValueError, match="--book"):
        profitdll_config(section, book="tape")
    monkeypatch.setenv("TRADINGSYSTEM_PROFITDLL_QUEUE_CAPACITY", "3")
    with pytest.raises(ValueError, match="TRADINGSYSTEM_PROFITDLL_QUEUE_CAPACITY"):
        profitdll_config(section)
    path.write_text("profitdll:\n  book_sauce: offer_book\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:2: profitdll\.book_sauce: unknown key"):
        load_config(path, environ={})


@pytest.mark.integration
def test_build_profitdll_loads_the_double_with_vendor_names_from_yaml(double: Double, dll_path: str, tmp_path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """The path ``run`` uses: the YAML section, secrets from the environment, ``build_profitdll``."""
    from tradingsystem.runtime.config import load_config

    caplog.set_level(logging.DEBUG)
    path = tmp_path / "c.yaml"
    path.write_text(f"profitdll:\n  dll_path: {dll_path}\n  user: ana\n  login_timeout_s: 20\n")
    _env(monkeypatch, {"TRADINGSYSTEM_PROFITDLL_ACTIVATION_KEY": "KEY-TOP-SECRET",
                       "TRADINGSYSTEM_PROFITDLL_PASSWORD": "PW-TOP-SECRET"})
    feed, execution = build_profitdll(load_config(path).profitdll, weekdays)
    try:
        assert feed.session.dll.disabled == frozenset()  # every vendor export found
        sink = Sink()
        feed.connect(sink)
        execution.connect(sink)
        assert feed.session is execution.session
        feed.subscribe(["PETR4"])
        double.TestStream(10)
        from tests.profitdll.helpers import settle

        settle(double, feed)
        assert len(sink.trades) == 10
    finally:
        feed.session.dll.finalize()
    assert "SECRET" not in caplog.text


def test_dll_doubles_become_grid_prices_and_bad_ones_are_refused() -> None:
    from tradingsystem.adapters.profitdll.convert import LocalTime, dll_date, price_to_raw, raw_to_float
    from tradingsystem.domain import b3

    petr4, wdo = b3.stock("PETR4"), b3.future("WDOZ26", weekdays)
    assert price_to_raw(petr4, 38.449999999999996) == 3845
    assert price_to_raw(wdo, 5000.25) == 50000  # nearest tick (ties go down)
    assert price_to_raw(wdo, 5000.4) == 50005
    for bad in (float("nan"), float("inf"), -1.0, 0.0):
        assert price_to_raw(petr4, bad) is None
    assert raw_to_float(wdo, 50005) == 5000.5
    ns = LocalTime().to_ns(2026, 11, 26, 10, 0, 0, 1)
    assert ns == 1_795_698_000_001_000_000  # 13:00:00.001 UTC
    assert dll_date(ns) == "26/11/2026 10:00:00" and dll_date(ns, -3600) == "26/11/2026 09:00:00"
