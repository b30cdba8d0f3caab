"""Composition of the ProfitDLL adapter: settings from a config object or the environment.

``build_profitdll(settings)`` returns ``(feed, execution)`` sharing one DLL session. Nothing is loaded
or logged in until ``connect``. Secrets stay ``SecretStr``; error messages name the missing variable,
never its value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from tradingsystem.adapters.calendar import BvmfCalendar
from tradingsystem.adapters.profitdll import ProfitDLLConfig, ProfitDLLExecution, ProfitDLLFeed, open_profitdll

__all__ = ["ENV_PREFIX", "build_profitdll", "profitdll_config"]

ENV_PREFIX = "TRADINGSYSTEM_PROFITDLL_"
_ENV_FIELDS = {
    "PATH": "dll_path", "KEY": "activation_key", "USER": "user", "PASSWORD": "password",
    "ROUTING_PASSWORD": "routing_password", "MARKET_ONLY": "market_only", "BROKER_ID": "broker_id",
    "ACCOUNT_ID": "account_id", "BOOK_SOURCE": "book_source",
}
_REQUIRED = ("dll_path", "activation_key", "user", "password")


def profitdll_config(settings: Any = None, environ: Mapping[str, str] | None = None) -> ProfitDLLConfig:
    """A ``ProfitDLLConfig`` from ``settings`` (a config, a mapping or an object with attributes),
    filling what it lacks from ``TRADINGSYSTEM_PROFITDLL_{PATH,KEY,USER,PASSWORD,...}``."""
    if isinstance(settings, ProfitDLLConfig):
        return settings
    values: dict[str, Any] = {}
    if isinstance(settings, Mapping):
        values.update({k: v for k, v in settings.items() if v is not None})
    elif settings is not None:
        for name in ProfitDLLConfig.model_fields:
            v = getattr(settings, name, None)
            if v is not None:
                values[name] = v
    env = os.environ if environ is None else environ
    for suffix, name in _ENV_FIELDS.items():
        v = env.get(ENV_PREFIX + suffix)
        if name not in values and v:
            values[name] = v.strip().lower() in ("1", "true", "yes") if name == "market_only" else v
    missing = [n for n in _REQUIRED if not values.get(n)]
    if missing:
        names = ", ".join(ENV_PREFIX + k for k, f in _ENV_FIELDS.items() if f in missing)
        raise ValueError(f"ProfitDLL settings missing: {', '.join(missing)} (set them in config or {names})")
    return ProfitDLLConfig(**values)


def build_profitdll(
    settings: Any = None,
    calendar: Callable[[date], bool] | Any = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ProfitDLLFeed, ProfitDLLExecution]:
    """(feed, execution) for ``capture --feed profitdll`` and ``run --feed profitdll``."""
    config = profitdll_config(settings, environ)
    if calendar is None:
        calendar = BvmfCalendar()
    return open_profitdll(config, calendar)
