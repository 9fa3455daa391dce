"""Rewrite the generated blocks of the docs (make docs): the key reference in docs/spec.md from
the spec models, the rubric in docs/readiness.md from mlready.checklist.rubric."""

from __future__ import annotations

from pathlib import Path

from mlready.checklist.rubric import RUBRIC_BEGIN, RUBRIC_END, rubric_markdown
from mlready.spec.docs import BEGIN, END, reference_markdown

PAGE = Path(__file__).with_name("spec.md")
RUBRIC_PAGE = Path(__file__).with_name("readiness.md")


def updated(text: str) -> str:
    """The page with its generated block replaced by the current reference."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + reference_markdown() + tail


def updated_rubric(text: str) -> str:
    """docs/readiness.md with its generated rubric replaced by the current one."""
    head, _, rest = text.partition(RUBRIC_BEGIN)
    _, _, tail = rest.partition(RUBRIC_END)
    return head + rubric_markdown() + tail


if __name__ == "__main__":
    PAGE.write_text(updated(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    RUBRIC_PAGE.write_text(
        updated_rubric(RUBRIC_PAGE.read_text(encoding="utf-8")), encoding="utf-8"
    )
    print(f"updated {PAGE} and {RUBRIC_PAGE}")
