"""A Typer group whose subcommands are imported when first used, so a command loads only its own modules.

``tradingsystem risk status`` imports the few modules of ``cli_control``, not pandas, pyarrow, torch and
scikit-learn, which the research commands pull in. A subclass lists its commands in ``lazy``: name ->
(module, attribute, one-line help). The attribute is a ``typer.Typer`` (a command group; the help is its
description) or a command function. The root ``--help`` lists the commands from that help text without
importing anything; ``tests/runtime/test_cli_lazy.py`` checks it matches the loaded commands.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["LazyGroup"]


class LazyGroup(TyperGroup):
    """Eager commands as Typer registers them, plus the ``lazy`` table imported on first use."""

    lazy: ClassVar[dict[str, tuple[str, str, str]]] = {}
    _loaded: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._loaded = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.lazy, *(n for n in super().list_commands(ctx) if n not in self.lazy)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        if cmd_name in self._loaded:
            return self._loaded[cmd_name]
        if self._listing:  # the root --help: a stand-in with the listed help, nothing imported
            return TyperCommand(name=cmd_name, help=self.lazy[cmd_name][2])
        self._loaded[cmd_name] = command = self.load(cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # Typer suggests close names from ``self.commands``; make the lazy names known for that.
        eager = self.commands
        self.commands = {**dict.fromkeys(self.lazy, TyperCommand(name="-")), **eager}
        try:
            return super().resolve_command(ctx, args)
        finally:
            self.commands = eager

    @classmethod
    def load(cls, name: str) -> Any:
        """Import the command ``name`` and build its Click command as ``app.add_typer``/``app.command`` would."""
        module, attribute, help_text = cls.lazy[name]
        target = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer()
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=name, help=help_text)
        else:
            holder.command(name)(target)
        return typer.main.get_group(holder).commands[name]
