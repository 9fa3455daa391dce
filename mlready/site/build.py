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


def site_dir(artifacts_dir: Path | str) -> Path:
    """Where a project's site is written."""
    return Path(artifacts_dir) / SITE_DIR


def build_site(loaded: Any, *, now: dt.datetime | None = None) -> SiteResult:
    """Write the project's static site from what its commands recorded; returns where."""
    from mlready.io import atomic_write_text
    from mlready.site.gather import gather
    from mlready.site.pages import render_pages

    data = gather(loaded, now)
    folder = site_dir(data.artifacts)
    folder.mkdir(parents=True, exist_ok=True)
    pages = render_pages(data, folder)  # every page drawn before any is written
    written = []
    for name, html in pages.items():
        atomic_write_text(folder / name, html)
        written.append(folder / name)
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
