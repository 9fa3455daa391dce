"""Changing one top-level section of a spec's text, keeping every other line as written."""

from __future__ import annotations

import re

__all__ = ["replace_section"]

_TOP_LEVEL = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:")


def _span(lines: list[str], key: str) -> tuple[int, int] | None:
    """The lines of the top-level ``key:`` section: its key line and the indented lines under
    it (comment lines at column 0 after its last indented line belong to the next section)."""
    start = next(
        (i for i, line in enumerate(lines) if (m := _TOP_LEVEL.match(line)) and m["key"] == key),
        None,
    )
    if start is None:
        return None
    end = start + 1
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line[:1] in (" ", "\t"):
            end = i + 1
        elif line.strip() and not line.startswith("#"):
            break
    return start, end


def replace_section(text: str, key: str, block: str, *, header: str | None = None) -> str:
    """``text`` with its top-level ``key:`` section replaced by ``block`` (YAML text that
    starts with ``key:``), or with ``block`` appended when there is none. The comment lines
    right above the section are replaced too when the first of them starts with ``header``
    (a header an earlier call wrote)."""
    lines = text.splitlines(keepends=True)
    span = _span(lines, key)
    if not block.endswith("\n"):
        block += "\n"
    if span is None:
        kept = text.rstrip("\n")
        return (kept + "\n\n" if kept else "") + block
    start, end = span
    above = start
    while above > 0 and lines[above - 1].startswith("#"):
        above -= 1
    if header is not None and above < start and lines[above].startswith(header):
        start = above
    return "".join(lines[:start]) + block + "".join(lines[end:])
