"""HTML and text rendering: the Jinja2 environment over the packaged templates."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlready.errors import InternalError

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "REPORT_FILES",
    "counted",
    "noun",
    "parameter",
    "rebase_links",
    "relative_href",
    "render",
    "run_page",
    "template_dir",
]

#: The HTML report each step writes in its run folder.
REPORT_FILES = {
    "validate-data": "validation.html",
    "train": "training.html",
    "check-drift": "drift.html",
    "checklist-report": "checklist.html",
}

#: Plurals that adding "s" or "es" gets wrong.
_IRREGULAR = {"was": "were", "is": "are", "does": "do", "has": "have", "this": "these"}


def counted(count: float, word: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: '1 row', '2 rows', '1,034 rows', '2 batches'."""
    return f"{count:,} {noun(count, word, plural)}"


def noun(count: float, word: str, plural: str | None = None) -> str:
    """The word in the number a count asks for: 'row' for 1, 'rows' otherwise."""
    if count == 1:
        return word
    if plural is not None:
        return plural
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s")


#: Significant digits a hyperparameter is shown with.
PARAMETER_DIGITS = 4


def parameter(value: Any) -> str:
    """A hyperparameter as a person reads it: 0.3, not 0.30000000000000004; 0.03051, not
    0.030511586180091473; 1e-05; integers and text as they are; lists item by item."""
    import math

    if isinstance(value, list | tuple):
        return "[" + ", ".join(parameter(v) for v in value) + "]"
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value)) + ".0"
    text = f"{value:.{PARAMETER_DIGITS}g}"
    if "e" not in text or not 1 <= abs(value) < 1e15:
        return text
    return f"{value:,.0f}"  # a large number: every digit of its whole part


def run_page(folder: Path | str, step: str | None = None) -> Path | None:
    """The file a link to a run folder opens: the step's HTML report, else its run.log (a
    folder itself opens nowhere on a web host); None when neither is there."""
    folder = Path(folder)
    names = [REPORT_FILES[step]] if step in REPORT_FILES else list(REPORT_FILES.values())
    for name in [*names, "run.log"]:
        if (folder / name).is_file():
            return folder / name
    return None


def rebase_links(html: str, written_in: Path | str, copied_to: Path | str) -> str:
    """A page's relative links (href, src) made to work from the folder it is copied to."""
    import re
    from urllib.parse import unquote

    def rebase(match: re.Match[str]) -> str:
        attribute, url = match.group(1), match.group(2)
        path, hash_, fragment = url.partition("#")
        href = relative_href(Path(written_in) / unquote(path), copied_to)
        return f'{attribute}="{href}{hash_}{fragment}"' if href else match.group(0)

    # relative: no scheme (ours percent-encode ':'), not absolute, not a fragment of the page
    return re.sub(r'\b(href|src)="(?![A-Za-z][A-Za-z0-9+.-]*:|[#/])([^"]+)"', rebase, html)


def relative_href(target: Path | str, start: Path | str) -> str | None:
    """A link to ``target`` for a page in the folder ``start``: a relative URL, each segment
    percent-encoded, so it works opened from disk, as a CI artifact and on a static web host;
    None when no relative path leads there (another drive)."""
    import os
    from urllib.parse import quote

    try:
        relative = os.path.relpath(Path(target).resolve(), Path(start).resolve())
    except ValueError:
        return None
    return quote(Path(relative).as_posix(), safe="/")


def template_dir() -> Path:
    """Where the templates are: inside the installed package, or at the top of a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "base.html.j2").is_file():
            return candidate
    raise InternalError(
        f"mlready's templates are missing (looked in {package / 'templates'}): reinstall mlready"
    )


@lru_cache(maxsize=4)
def _environment(autoescape: bool) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["counted"] = counted
    env.filters["noun"] = noun
    env.filters["param"] = parameter
    return env


def render(template: str, *, generated_at: dt.datetime | None = None, **context: Any) -> str:
    """Render a template; ``.html.j2`` templates are autoescaped, text templates are not."""
    env = _environment(template.endswith(".html.j2"))
    from mlready import __version__

    moment = generated_at or dt.datetime.now(dt.timezone.utc)
    return env.get_template(template).render(
        generated_at=moment.isoformat(timespec="seconds"), mlready_version=__version__, **context
    )
