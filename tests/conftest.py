"""Shared fixtures: a weekday session calendar (no I/O) and common instruments."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import settings

from tradingsystem.domain import b3
from tradingsystem.domain.instruments import Instrument

# Property tests draw from a fixed seed per test: the same examples on every run (no unseeded randomness).
settings.register_profile("project", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "project"))


def weekdays(d: date) -> bool:
    return d.weekday() < 5


@pytest.fixture
def is_session():
    return weekdays


@pytest.fixture
def win() -> Instrument:
    return b3.future("WINZ26", weekdays)


@pytest.fixture
def wdo() -> Instrument:
    return b3.future("WDOZ26", weekdays)


@pytest.fixture
def petr4() -> Instrument:
    return b3.stock("PETR4")


@pytest.fixture(scope="session")
def real_data() -> Path:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    root = Path(os.environ.get("TRADINGSYSTEM_REAL_DATA", default))
    if not root.exists():
        pytest.skip(f"real B3 data folder not found at {root} (set TRADINGSYSTEM_REAL_DATA)")
    return root
