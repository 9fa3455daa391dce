"""The runs of a project, newest last, each with a one-line headline; a run found by a reference.

A run is named by its id (``20261123T190102Z-3f9a1c``), by a prefix of it that names one run,
or by its command: ``train`` is the newest train run, ``train~1`` the one before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlready.errors import NotFoundError, UsageError
from mlready.reporting import REPORT_FILES
from mlready.runs import RUN_LOG, RunRecord, read_run_log

__all__ = ["REPORT_FILES", "RunEntry", "RunTable", "entry_of", "find_run", "headline", "list_runs"]


def _steps() -> tuple[str, ...]:
    from mlready.pipeline import STEPS

    return STEPS


@dataclass(frozen=True)
class RunEntry:
    """One run of the log, as a table row and a link: what ran, when, how it ended."""

    step: str
    run_id: str
    started_at: str
    duration_s: float
    status: str
    exit_code: int
    user: str
    ci: str | None
    headline: str
    run_dir: Path
    #: The run's HTML report, when its folder still holds one.
    report: Path | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "step": self.step,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "status": self.status,
            "exit_code": self.exit_code,
            "user": self.user,
            "ci": self.ci,
            "headline": self.headline,
            "run_dir": str(self.run_dir),
            "report": None if self.report is None else str(self.report),
        }


@dataclass(frozen=True)
class RunTable:
    """The runs of a project (of one command, or all), oldest first."""

    project: str
    log: Path
    entries: list[RunEntry]
    step: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``mlready runs list --json`` prints."""
        return {
            "project": self.project,
            "log": str(self.log),
            "command": self.step,
            "runs": [entry.to_dict() for entry in self.entries],
        }

    def _repr_html_(self) -> str:
        from mlready.reporting import render

        return render("notebook/runs.html.j2", table=self)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(value: Any) -> str:
    return f"{value:,}" if _number(value) else "?"


def _plural(count: Any, word: str) -> str:
    from mlready.reporting import counted

    return counted(count, word) if _number(count) else f"? {word}s"


def _validate_data(s: dict[str, Any]) -> str:
    text = (
        f"{_plural(s.get('rows'), 'row')}, {_plural(s.get('checks'), 'check')}, "
        f"{_count(s.get('failed'))} failed"
    )
    if _number(s.get("quarantined")) and s["quarantined"]:
        text += f"; {_plural(s['quarantined'], 'row')} set aside, the rest passed"
    return text


def _train(s: dict[str, Any]) -> str:
    if s.get("stage") == "validation":
        return "the training data failed its contract; nothing was fitted"
    value = s.get("primary_value")
    shown = f"{value:.4f}" if _number(value) else "n/a"
    text = f"{s.get('primary_metric')} {shown}"
    return text + (f" on {s['judged_on']}" if s.get("judged_on") else "")


def _register(s: dict[str, Any]) -> str:
    text = f"{s.get('model')}:{s.get('version')}"
    if not s.get("created", True):
        text += " (already registered)"
    if s.get("promote"):
        text += f"; {s['promote']} {'moved' if s.get('accepted') else 'refused'}"
    return text


def _serve_batch(s: dict[str, Any]) -> str:
    text = f"{_count(s.get('rows_scored'))} of {_plural(s.get('rows_in'), 'row')} scored"
    return text + (f", {_count(s['rows_rejected'])} set aside" if s.get("rows_rejected") else "")


def _check_drift(s: dict[str, Any]) -> str:
    drifted = s["drifted"] if isinstance(s.get("drifted"), list) else []
    verdict = "dataset drift" if s.get("dataset_drift") else "no dataset drift"
    return f"{verdict}: {len(drifted)} of {_plural(s.get('features'), 'feature')} drifted"


def _checklist_report(s: dict[str, Any]) -> str:
    score = s.get("score")
    shown = f"{score:.2f}" if _number(score) else "?"
    return f"readiness {shown} / 7 ({s.get('band')})"


def _test(s: dict[str, Any]) -> str:
    return (
        f"{_plural(s.get('tests'), 'test')}, {_count(s.get('failures'))} failed, "
        f"{_plural(s.get('errors'), 'error')}"
    )


_HEADLINES: dict[str, Callable[[dict[str, Any]], str]] = {
    "test": _test,
    "validate-data": _validate_data,
    "train": _train,
    "register": _register,
    "serve-batch": _serve_batch,
    "check-drift": _check_drift,
    "checklist-report": _checklist_report,
}


def headline(record: RunRecord) -> str:
    """What a run found, in a few words ('roc_auc 0.8347 on holdout'); why it could not run,
    for a run that ended in an error."""
    summary = record.summary if isinstance(record.summary, dict) else {}
    if record.status == "error" and not summary:
        return f"could not run (exit {record.exit_code}): see its run.log"
    describe = _HEADLINES.get(record.step)
    if describe is None or not summary:
        return ""
    try:
        return describe(summary)
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""  # a record older than this summary's shape


def entry_of(record: RunRecord, artifacts_dir: Path | str) -> RunEntry:
    """A record as a row of the run table, with its folder and report located."""
    folder = Path(artifacts_dir).resolve() / str(record.run_dir)
    report = folder / REPORT_FILES[record.step] if record.step in REPORT_FILES else None
    if record.step == "train" and not (report and report.is_file()):
        report = folder / "validation.html"  # the training data failed: no model, its report
    duration = record.duration_s if _number(record.duration_s) else 0.0
    return RunEntry(
        step=record.step,
        run_id=record.run_id,
        started_at=record.started_at,
        duration_s=float(duration),
        status=str(record.status),
        exit_code=record.exit_code if isinstance(record.exit_code, int) else -1,
        user=str(record.user),
        ci=record.ci if isinstance(record.ci, str) else None,
        headline=headline(record),
        run_dir=folder,
        report=report if report is not None and report.is_file() else None,
    )


def _check_step(step: str | None) -> None:
    if step is not None and step not in _steps():
        raise UsageError(f"unknown command '{step}': use one of {', '.join(_steps())}")


def list_runs(
    artifacts_dir: Path | str,
    *,
    step: str | None = None,
    last: int | None = None,
    project: str = "",
) -> RunTable:
    """The runs in the run log (of one command), oldest first; the ``last`` newest only."""
    _check_step(step)
    if last is not None and last < 1:
        raise UsageError(f"last must be at least 1, got {last}")
    records = read_run_log(artifacts_dir, step)
    if last is not None:
        records = records[-last:]
    entries = [entry_of(record, artifacts_dir) for record in records]
    return RunTable(project, Path(artifacts_dir).resolve() / RUN_LOG, entries, step)


_STEP_REF = re.compile(r"(?P<step>[a-z-]+)(?:~(?P<back>[0-9]+))?")


def find_run(artifacts_dir: Path | str, ref: str) -> RunRecord:
    """The run a reference names: a run id, a prefix naming one run, ``STEP`` (its newest run)
    or ``STEP~N`` (the N-th before it). NotFoundError (exit 4) when there is none."""
    records = read_run_log(artifacts_dir)
    log = Path(artifacts_dir) / RUN_LOG
    text = ref.strip()
    for record in records:
        if record.run_id == text:
            return record
    by_step = _STEP_REF.fullmatch(text)
    if by_step and by_step.group("step") in _steps():
        step, back = by_step.group("step"), int(by_step.group("back") or 0)
        of_step = [r for r in records if r.step == step]
        if back >= len(of_step):
            held = f"only {len(of_step)}" if of_step else "no"
            raise NotFoundError(
                f"no run {text}: the run log {log} holds {held} {step} run(s); "
                f"`mlready runs list --command {step}` lists them"
            )
        return of_step[-1 - back]
    matches = [r for r in records if text and r.run_id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(r.run_id for r in matches[:5]) + (" ..." if len(matches) > 5 else "")
        raise UsageError(f"'{text}' names {len(matches)} runs ({shown}): give more of the run id")
    raise NotFoundError(
        f"no run '{text}' in the run log {log}: name a run by its id, or by its command "
        "(train, train~1); `mlready runs list` lists them"
    )
