"""The one place where a command's failure becomes what the user reads: one line on stderr, a non-zero exit.

``run_cli(app, argv)`` runs the Typer app without Click's standalone handling and turns every error into
``error: <what is wrong and how to fix it>``: usage errors (exit 2), configuration and input errors (exit 2),
unreachable services and missing files (exit 1), and anything unexpected (exit 1, with the exception's
message; ``TRADINGSYSTEM_DEBUG=1`` shows the traceback). ``option_date`` parses a ``--date``-like option and
names the option and the format when the value is wrong.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from datetime import date
from typing import Any, NoReturn

import typer

__all__ = ["fail", "option_date", "run_cli", "user_message"]


def option_date(value: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` -> date; a wrong value raises a usage error that names ``option``."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        parts = value.strip().split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            raise typer.BadParameter(f"{value} is not a calendar day (YYYY-MM-DD)", param_hint=option) from None
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-02",
                                 param_hint=option) from None


# Typer carries its own copy of Click: take the exception classes from Typer's own exceptions.
_CLICK_EXCEPTION: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_USAGE_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return "; ".join(lines) if lines else ""


def user_message(exc: BaseException) -> tuple[str, int]:
    """What to tell the user about ``exc`` and the exit code."""
    from tradingsystem.domain.errors import TradingSystemError

    name = type(exc).__name__
    module = type(exc).__module__
    if isinstance(exc, UnicodeDecodeError):
        return (f"a file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
                "save it as UTF-8", 2)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}", 1
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}", 1
    if isinstance(exc, IsADirectoryError | NotADirectoryError):
        return f"{exc.strerror}: {exc.filename}", 1
    if isinstance(exc, ConnectionError) or (name in ("ConnectionError", "TimeoutError") and module.startswith("redis")):
        return f"cannot connect: {_one_line(str(exc))}", 1
    if module.startswith("sqlalchemy"):
        detail = _one_line(str(getattr(exc, "orig", None) or exc)).split("(Background on this error")[0].strip()
        return f"state store: {detail}", 1
    if isinstance(exc, OSError):
        return _one_line(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")), 1
    if isinstance(exc, ImportError):
        return f"a component is missing: {exc} (install the project's dependencies)", 1
    if isinstance(exc, TradingSystemError | ValueError | KeyError | LookupError):
        text = str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
        return _one_line(text) or name, 2
    return f"unexpected {name}: {_one_line(str(exc))} (TRADINGSYSTEM_DEBUG=1 shows the traceback)", 1


def _usage(exc: Any) -> str:
    ctx = getattr(exc, "ctx", None)
    cmd = ctx.command_path if ctx is not None else "tradingsystem"
    return f"{_one_line(exc.format_message())} (see `{cmd} --help`)"


def run_cli(app: typer.Typer, argv: Sequence[str] | None = None, prog: str = "tradingsystem") -> int:
    """Run ``app``; return the exit code after printing at most one error line."""
    command = typer.main.get_command(app)
    try:
        result: Any = command.main(args=list(argv) if argv is not None else None, prog_name=prog,
                                   standalone_mode=False)
    except _USAGE_ERROR as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None) is not None:
            typer.echo(exc.ctx.get_help())  # type: ignore[attr-defined]  # a group alone: its help
        else:
            _print(_usage(exc))
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        _print("aborted")
        return 130
    except KeyboardInterrupt:
        return 130
    except _CLICK_EXCEPTION as exc:
        _print(_one_line(exc.format_message()))  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", 1) or 1)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        if os.environ.get("TRADINGSYSTEM_DEBUG"):
            traceback.print_exc()
        message, code = user_message(exc)
        _print(message)
        return code
    return int(result) if isinstance(result, int) else 0


def fail(message: object, code: int = 2) -> NoReturn:
    """Stop the command with ``error: <message>`` on one line and exit ``code`` (every command's way out)."""
    _print(_one_line(str(message)))
    raise typer.Exit(code)


def _print(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
