"""Results as HTML in a notebook: a summary card, and the run's report inline beneath it.

The report is the same self-contained page the run folder holds, put in a sandboxed iframe's
``srcdoc`` (escaped), so its styles cannot touch the notebook's and it runs no script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlready.project.results import StepRun

__all__ = ["framed", "step_card"]


def _page(report: Any) -> str:
    """The report's HTML, or '' when the run wrote none (or it was removed since)."""
    if report is None:
        return ""
    try:
        return str(report.read_text(encoding="utf-8"))
    except OSError:
        return ""


def step_card(run: StepRun[Any]) -> str:
    """A recorded run as HTML: its verdict, key numbers, failures, warnings, next actions,
    where its files are, and its report."""
    from mlready.reporting import render

    return render(
        "notebook/card.html.j2",
        title=f"{run.step} run {run.run_id}",
        verdict=run.verdict,
        passed=run.passed,
        facts=run.facts,
        failures=run.failures,
        warnings=run.warnings,
        next_actions=run.next_actions,
        run_dir=str(run.run_dir),
        report=None if run.report is None else str(run.report),
        page=_page(run.report),
    )


def framed(verdict: str, page: str, *, passed: bool | None, title: str = "") -> str:
    """A page (a comparison) under a one-line verdict, for a notebook."""
    from mlready.reporting import render

    return render(
        "notebook/card.html.j2",
        title=title,
        verdict=verdict,
        passed=passed,
        facts=[],
        failures=[],
        warnings=[],
        next_actions=[],
        run_dir=None,
        report=None,
        page=page,
    )
