"""Rewrite the generated blocks of the docs (make docs): the key reference in docs/spec.md from
the spec models, the rubric in docs/readiness.md from mlready.checklist.rubric, the command
reference in docs/reference.md from the CLI."""

from __future__ import annotations

from pathlib import Path

from mlready.checklist.rubric import (
    EARNS_BEGIN,
    EARNS_END,
    RUBRIC_BEGIN,
    RUBRIC_END,
    earns_markdown,
    rubric_markdown,
)
from mlready.cli import reference
from mlready.spec.docs import BEGIN, END, reference_markdown

PAGE = Path(__file__).with_name("spec.md")
RUBRIC_PAGE = Path(__file__).with_name("readiness.md")
COMMANDS_PAGE = Path(__file__).with_name("reference.md")


def updated(text: str) -> str:
    """The page with its generated block replaced by the current reference."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + reference_markdown() + tail


def updated_rubric(text: str) -> str:
    """docs/readiness.md with its generated rubric and points table replaced by the current."""
    head, _, rest = text.partition(RUBRIC_BEGIN)
    _, _, tail = rest.partition(RUBRIC_END)
    text = head + rubric_markdown() + tail
    head, found, rest = text.partition(EARNS_BEGIN)
    _, _, tail = rest.partition(EARNS_END)
    return head + earns_markdown() + tail if found else text


def updated_commands(text: str) -> str:
    """docs/reference.md with its generated block replaced by the current CLI's."""
    head, _, rest = text.partition(reference.BEGIN)
    _, _, tail = rest.partition(reference.END)
    return head + reference.reference_markdown() + tail


if __name__ == "__main__":
    PAGE.write_text(updated(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    RUBRIC_PAGE.write_text(
        updated_rubric(RUBRIC_PAGE.read_text(encoding="utf-8")), encoding="utf-8"
    )
    COMMANDS_PAGE.write_text(
        updated_commands(COMMANDS_PAGE.read_text(encoding="utf-8")), encoding="utf-8"
    )
    print(f"updated {PAGE}, {RUBRIC_PAGE} and {COMMANDS_PAGE}")
