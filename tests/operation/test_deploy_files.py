"""docker-compose.yml and the Dockerfile parse and point at commands and configs that exist (Docker itself
is not run here)."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from tradingsystem.runtime.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_use_real_commands_and_configs() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"redis", "postgres", "engine", "gateway-sim"} <= set(services)
    assert "--appendfsync" in services["redis"]["command"]  # a Redis restart loses no acknowledged message
    runner = CliRunner()
    for name in ("engine", "gateway-sim"):
        cmd = services[name]["command"]
        assert runner.invoke(app, [cmd[0], "--help"]).exit_code == 0
        cfg = cmd[cmd.index("--config") + 1]
        assert (ROOT / cfg.removeprefix("/app/")).exists()
    assert "TRADINGSYSTEM__REDIS__URL" in services["engine"]["environment"]


def test_dockerfile_installs_the_package() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in text and "ENTRYPOINT [\"tradingsystem\"]" in text and "redis" in text
