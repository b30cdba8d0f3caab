from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.altdata.server import AltDataServer


@pytest.fixture
def server() -> Iterator[AltDataServer]:
    srv = AltDataServer().start()
    yield srv
    srv.stop()
