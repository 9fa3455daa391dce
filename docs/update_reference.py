"""Rewrite the generated key reference inside docs/spec.md from the spec models (make docs)."""

from __future__ import annotations

from pathlib import Path

from mlready.spec.docs import BEGIN, END, reference_markdown

PAGE = Path(__file__).with_name("spec.md")


def updated(text: str) -> str:
    """The page with its generated block replaced by the current reference."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + reference_markdown() + tail


if __name__ == "__main__":
    PAGE.write_text(updated(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {PAGE}")
