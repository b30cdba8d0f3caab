"""The command line imports a command's modules only when that command runs, and every command still has its help."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from typer.main import get_command
from typer.testing import CliRunner

from tradingsystem.runtime import cli

HEAVY = ("pandas", "pyarrow", "torch", "onnxruntime", "sklearn", "duckdb", "scipy", "polars", "sqlalchemy")
runner = CliRunner()


def imported_after(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_cli_imports_no_heavy_library() -> None:
    assert imported_after("import tradingsystem.runtime.cli") == []


def test_a_control_command_imports_no_heavy_library(tmp_path) -> None:
    code = ("from tradingsystem.runtime.cli import app\nfrom tradingsystem.runtime.cli_errors import run_cli\n"
            f"assert run_cli(app, ['risk', 'status', '--data-dir', {str(tmp_path)!r}]) == 2")
    assert imported_after(code) == []


def test_root_help_lists_every_command_as_the_loaded_commands_do(monkeypatch) -> None:
    monkeypatch.setattr(cli._Root, "_loaded", {})
    listed = runner.invoke(cli.app, ["--help"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and cli._Root._loaded == {}  # nothing imported for the listing
    for name in cli._Root.lazy:
        assert name in listed.output
    for name in cli._Root.lazy:
        cli._Root._loaded[name] = cli._Root.load(name)
    loaded = runner.invoke(cli.app, ["--help"], env={"COLUMNS": "200"})
    assert loaded.output == listed.output  # the one-line help in the table is the command's own


def _paths(command: Any, ctx_path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subs = getattr(command, "list_commands", None)
    if subs is None:
        return [ctx_path]
    out = [ctx_path]
    for name in subs(None):
        out.extend(_paths(command.get_command(None, name), (*ctx_path, name)))
    return out


def test_every_command_and_group_answers_help() -> None:
    paths = _paths(get_command(cli.app))
    assert ("risk", "kill") in paths and ("run",) in paths and ("share", "keygen") in paths
    for path in paths:
        result = runner.invoke(cli.app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_a_mistyped_command_suggests_the_lazy_name() -> None:
    result = runner.invoke(cli.app, ["rsik"])
    assert result.exit_code == 2 and "risk" in result.output
