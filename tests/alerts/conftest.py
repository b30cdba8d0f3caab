"""Fixtures: a real SMTP server and a Telegram Bot API fake on loopback, started and stopped per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.servers import SmtpServer, TelegramFake


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def telegram() -> Iterator[TelegramFake]:
    fake = TelegramFake()
    fake.start()
    yield fake
    fake.stop()
