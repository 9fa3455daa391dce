"""How ``--help`` reads, at any width: flags without a type, help text wrapped as prose.

Every command and group of the CLI is built by :class:`App`, so each gets the same rendering:

- a flag (``--quiet``, ``--force/--no-force``, ``--help``) takes no value, so its help shows no
  ``<bool>`` type beside it (the type column would also take the width option names need);
- help text is prose: a docstring's line breaks are where the source wrapped it, not where a
  sentence ends, so lines are joined within a paragraph and the terminal wraps them (a command's
  summary in its group's list is its first paragraph, whole).
"""

from __future__ import annotations

import inspect
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["App", "Command", "Group", "prose"]


def prose(text: str | None) -> str | None:
    """Help text with each paragraph on one line (a paragraph starting with \\b is kept as is)."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split()) for p in paragraphs)


def _flags_untyped(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # the rich help shows the metavar in place of the type
    return params


class Command(TyperCommand):
    """A command whose help reads as prose and shows no type for its flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = prose(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_untyped(super().get_params(ctx))


class Group(TyperGroup):
    """A group of commands whose help reads as prose and shows no type for its flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = prose(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_untyped(super().get_params(ctx))


class App(typer.Typer):
    """A Typer app whose groups and commands are :class:`Group` and :class:`Command`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
