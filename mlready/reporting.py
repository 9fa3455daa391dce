"""HTML and text rendering: the Jinja2 environment over the packaged templates."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlready.errors import InternalError

if TYPE_CHECKING:
    import jinja2

__all__ = ["render", "template_dir"]


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

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, *, generated_at: dt.datetime | None = None, **context: Any) -> str:
    """Render a template; ``.html.j2`` templates are autoescaped, text templates are not."""
    env = _environment(template.endswith(".html.j2"))
    from mlready import __version__

    moment = generated_at or dt.datetime.now(dt.timezone.utc)
    return env.get_template(template).render(
        generated_at=moment.isoformat(timespec="seconds"), mlready_version=__version__, **context
    )
