"""What every command shares: global options, the consoles, and the --spec option."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.table import Table

SpecOption = Annotated[
    Path | None,
    typer.Option(
        "--spec",
        "-s",
        help="The project spec: a file, or a folder with mlready.yaml. \\[default: ./mlready.yaml]",
        show_default=False,
    ),
]

AllowPickleOption = Annotated[
    bool,
    typer.Option(
        "--allow-pickle",
        help="Load models stored as joblib (pickle runs code from the file when it loads); "
        "the same as model.allow_pickle: true, for this command.",
    ),
]


@dataclass
class CliState:
    """The global options, set by the app's callback."""

    spec: Path | None = None
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    json: bool = False  # --json: stdout carries one JSON document; people's output goes to stderr

    def spec_path(self, override: Path | None = None) -> Path | None:
        """The spec named on the command, else the global --spec, else None (./mlready.yaml)."""
        return override if override is not None else self.spec

    def load_spec(self, override: Path | None = None, *, allow_pickle: bool = False) -> Any:
        """The command's spec (see :meth:`spec_path`), with --allow-pickle applied."""
        from mlready.spec import load_spec

        loaded = load_spec(self.spec_path(override))
        return loaded.allowing_pickle() if allow_pickle else loaded

    @property
    def interactive(self) -> bool:
        """Progress bars and colour only for a person at a terminal, never in CI or --quiet."""
        return not self.quiet and sys.stderr.isatty() and not os.environ.get("CI")


STATE = CliState()


def _json_mode(value: bool) -> bool:
    if value:
        STATE.json = True
    return value


JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document with the result on stdout; messages go to stderr.",
        callback=_json_mode,
    ),
]


def out() -> Console:
    """Console for results (stdout; stderr when --json keeps stdout for the JSON document)."""
    # emoji=False: a ':x:' in the data is two colons and an x, not an emoji
    return Console(stderr=STATE.json, highlight=False, soft_wrap=True, emoji=False)


def err() -> Console:
    """Console for messages and errors (stderr)."""
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def print_table(table: Table, console: Console | None = None) -> None:
    """Print a table without ever cutting a value (an id, a number, a hash) to "…".

    On a terminal the table fits its width, folding a long cell onto the next line. Piped, or
    in a CI log (where Rich would assume 80 columns and cut every column), it prints plain
    lines instead: no box, each row on one line, as wide as its content.
    """
    from rich.measure import Measurement

    console = console or out()
    for column in table.columns:
        column.overflow = "fold"
        column.no_wrap = False
    if console.is_terminal:
        console.print(table)
        return
    table.box = None
    table.show_edge = False
    table.pad_edge = False
    table.title_justify = "left"
    width = Measurement.get(console, console.options.update_width(1_000_000), table).maximum
    plain = Console(file=io.StringIO(), width=max(width, 1), emoji=False, color_system=None)
    plain.print(table)
    lines = plain.file.getvalue().splitlines()  # type: ignore[attr-defined]
    console.out("\n".join(line.rstrip() for line in lines), highlight=False)


def print_changes(
    title: str | None, labels: tuple[str, str], rows: Iterable[tuple[str, str, Any, Any, Any]]
) -> None:
    """A comparison as a table: section, item, its two values (numbers rounded, hashes
    shortened) and the change (b minus a, and in percent, or added, removed, changed)."""
    from rich.table import Table

    from mlready.history import change_text, shown

    table = Table(title=None if title is None else literal(title))
    for column in ("section", "item", *labels, "change"):
        table.add_column(
            literal(column), justify="left" if column in ("section", "item") else "right"
        )
    for section, key, a, b, change in rows:
        table.add_row(
            section,
            literal(key),
            literal(shown(a)),
            literal(shown(b)),
            literal(change_text(a, b, change)) if a != b else "",
        )
    print_table(table)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def literal(value: Any) -> str:
    """A value from the data (or a user's text) printed as written: Rich markup escaped and
    control characters (an escape sequence, a bell) shown as \\xNN instead of acted on."""
    from rich.markup import escape

    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return escape(text)


def say(message: Any) -> None:
    """A human message on stdout, unless --quiet."""
    if not STATE.quiet:
        out().print(message)


def quiet_verdict(passed: bool, verdict: str, failures: Iterable[str] = ()) -> bool:
    """--quiet hides what passed, never what failed: nothing when the command passed, and its
    one-line verdict with each failure on stderr when a check failed. True under --quiet (the
    caller prints nothing more); False otherwise (it prints its whole summary)."""
    if not STATE.quiet:
        return False
    if not passed:
        console = err()
        console.print(verdict)
        for failure in failures:
            console.print(f"  - {literal(failure)}")
    return True


def configure_logging(verbose: bool) -> None:
    """--verbose shows mlready's log (the same lines each run folder's run.log keeps) on stderr."""
    logger = logging.getLogger("mlready")
    logger.setLevel(logging.DEBUG)
    for handler in list(logger.handlers):
        if getattr(handler, "_mlready_cli", False):
            logger.removeHandler(handler)
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._mlready_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
