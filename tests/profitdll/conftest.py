"""Builds the ProfitDLL C double once per session; each test gets its own copy (one lifecycle per
process and per library, exactly like the real DLL)."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.profitdll.helpers import Double, build_double

_counter = itertools.count()


@pytest.fixture(scope="session")
def double_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_double(tmp_path_factory.mktemp("profitdll") / "libprofitdll_double.so")


@pytest.fixture
def dll_path(double_lib: Path, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the double (its own global state and worker thread)."""
    path = tmp_path / f"ProfitDLL_{next(_counter)}.so"
    shutil.copy(double_lib, path)
    yield str(path)


@pytest.fixture
def double(dll_path: str) -> Double:
    d = Double(dll_path)
    d.define_all()
    return d


@pytest.fixture
def profit(double: Double, dll_path: str, request: pytest.FixtureRequest):
    """(feed, execution, sink) sharing one session, finalized at teardown. Parametrize it indirectly with
    "auto" (the C hand-off, the default) or "ctypes" to pick the live-trade path."""
    from tests.profitdll.helpers import Sink, config, weekdays
    from tradingsystem.adapters.profitdll import open_profitdll

    feed, execution = open_profitdll(config(dll_path, handoff=getattr(request, "param", "auto")), weekdays)
    sink = Sink()
    yield feed, execution, sink
    if feed.session._started:
        feed.session.dll.finalize()
