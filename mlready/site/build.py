"""Build the project site: gather the evidence, draw the pages, write them into
``<artifacts_dir>/site/`` (each file atomically)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SITE_DIR", "SiteResult", "build_site", "site_dir"]

#: The site's folder under the project's artifacts folder.
SITE_DIR = "site"


@dataclass(frozen=True)
class SiteResult:
    """What ``mlready site`` wrote, and what it found."""

    folder: Path
    index: Path
    pages: list[Path]
    #: Run log records shown (they hold), and lines flagged (they do not).
    runs: int
    flagged: int
    altered: bool
    readiness: float | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "folder": str(self.folder),
            "index": str(self.index),
            "pages": [str(p) for p in self.pages],
            "runs": self.runs,
            "flagged": self.flagged,
            "altered": self.altered,
            "readiness": self.readiness,
            "warnings": list(self.warnings),
        }

    def _repr_html_(self) -> str:
        """In Jupyter: where the site is, with a link to each page."""
        from mlready.reporting import render

        return render(
            "notebook/site.html.j2",
            site=self,
            index_uri=self.index.resolve().as_uri(),
            pages=[(p.name, p.resolve().as_uri()) for p in self.pages],
        )


def site_dir(artifacts_dir: Path | str) -> Path:
    """Where a project's site is written."""
    return Path(artifacts_dir) / SITE_DIR


def build_site(loaded: Any, *, now: dt.datetime | None = None, force: bool = False) -> SiteResult:
    """Write the project's static site from what its commands recorded; returns where.

    The pages go in as one commit and are recorded as mlready's: a page of the same name that
    mlready did not write (``artifacts_dir: .`` beside a site of the user's own) is refused
    unless ``force``."""
    from mlready.io import guard_outputs, write_files
    from mlready.site.gather import gather
    from mlready.site.pages import render_pages

    data = gather(loaded, now)
    folder = site_dir(data.artifacts)
    pages = render_pages(data, folder)  # every page drawn before any is written
    written = [folder / name for name in pages]
    guard_outputs(
        written,
        artifacts_dir=data.artifacts,
        force=force,
        option="the site",
        hint=f"move it, or run `mlready site --force` to write the site over it in {folder}",
    )
    folder.mkdir(parents=True, exist_ok=True)
    write_files(
        folder,
        {name: html.encode("utf-8") for name, html in pages.items()},
        artifacts_dir=data.artifacts,
    )
    warnings = list(data.warnings)
    problems = [
        *(f"line {f.line} ({f.step} run {f.run_id}): {f.reason}" for f in data.flagged),
        *data.log_problems,
    ]
    if problems:
        from mlready.reporting import counted

        warnings.append(
            f"the run log {data.log_path} has {counted(len(problems), 'problem')} (first: "
            f"{problems[0]}); flagged on the site and left out of its numbers "
            "(`mlready runs verify` lists them)"
        )
    score = (data.readiness or {}).get("final_score")
    return SiteResult(
        folder=folder,
        index=folder / "index.html",
        pages=written,
        runs=len(data.runs),
        flagged=len(data.flagged),
        altered=data.altered,
        readiness=score if isinstance(score, int | float) else None,
        warnings=warnings,
    )
