"""Composition of the ProfitDLL adapter: the ``profitdll:`` config section, environment overrides, the CLI's book.

``build_profitdll(section, calendar, book)`` returns ``(feed, execution)`` sharing one DLL session. The section
comes from the YAML config loader (``AppConfig.profitdll``); ``TRADINGSYSTEM_PROFITDLL_<FIELD>`` environment
variables (pydantic-settings: ``..._DLL_PATH``, ``..._ACTIVATION_KEY``, ``..._PASSWORD``, ``..._BOOK_SOURCE``...)
override it, and ``book`` (the ``--book`` option) overrides both. Secrets stay ``SecretStr``; an error for a
missing setting names the key and the variable, never a value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tradingsystem.adapters.calendar import BvmfCalendar
from tradingsystem.adapters.profitdll import ProfitDLLConfig, ProfitDLLExecution, ProfitDLLFeed, open_profitdll

__all__ = ["BOOKS", "ENV_PREFIX", "build_profitdll", "profitdll_config"]

ENV_PREFIX = "TRADINGSYSTEM_PROFITDLL_"
_REQUIRED = ("dll_path", "activation_key", "user", "password")
BOOKS = ("none", "price_depth", "offer_book")  # the CLI's --book


class _Settings(BaseSettings, ProfitDLLConfig):
    """The section with the environment applied on top (the environment wins: secrets live there)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings


def profitdll_config(section: ProfitDLLConfig | Mapping[str, Any] | None = None, book: str | None = None
                     ) -> ProfitDLLConfig:
    """The adapter's config: ``section`` (the YAML's ``profitdll:``), then the environment, then ``book``."""
    if isinstance(section, ProfitDLLConfig):
        values = {k: getattr(section, k) for k in section.model_fields_set}
    else:
        values = {k: v for k, v in (section or {}).items() if v is not None}
    try:
        merged = _Settings(**values)
        cfg = ProfitDLLConfig(**{k: getattr(merged, k) for k in ProfitDLLConfig.model_fields})
    except ValidationError as exc:
        problems = "; ".join(f"profitdll.{'.'.join(str(p) for p in e['loc'])} "
                             f"({ENV_PREFIX}{str(e['loc'][0]).upper()}): {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid ProfitDLL settings: {problems}") from None
    if book is not None:
        if book not in BOOKS:
            raise ValueError(f"--book must be one of {', '.join(BOOKS)}, not {book!r}")
        cfg = cfg.model_copy(update={"book_depth": book != "none"} | ({"book_source": book} if book != "none" else {}))
    missing = [n for n in _REQUIRED if not _filled(getattr(cfg, n))]
    if missing:
        where = ", ".join(f"profitdll.{n} or {ENV_PREFIX}{n.upper()}" for n in missing)
        raise ValueError(f"ProfitDLL settings missing: {', '.join(missing)} (set {where})")
    return cfg


def _filled(value: Any) -> bool:
    return bool(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def build_profitdll(
    section: ProfitDLLConfig | Mapping[str, Any] | None = None,
    calendar: Callable[[date], bool] | Any = None,
    book: str | None = None,
) -> tuple[ProfitDLLFeed, ProfitDLLExecution]:
    """(feed, execution) for ``capture --feed profitdll``, ``run --feed profitdll`` and the gateway."""
    config = profitdll_config(section, book)
    if config.switch_interval_s is not None:
        sys.setswitchinterval(config.switch_interval_s)  # callback-to-engine latency (benchmarks/bench_profitdll.py)
    if calendar is None:
        calendar = BvmfCalendar()
    return open_profitdll(config, calendar)
