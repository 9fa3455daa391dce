"""What the project site shows, read once from the artifacts: the run log as verified, each
run's key results, the readiness reports, the registry, the data checks, drift and alerts.

Only records that hold in the hash-chained run log feed a number, a chart or a table; the
others are listed with the reason they are not trusted. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlready.pipeline import STEPS

__all__ = ["Flagged", "RunRow", "SiteData", "gather", "readable_time"]

#: Each command's runs listed on the site, newest first (older ones stay in the run log).
MAX_RUNS_PER_COMMAND = 100
#: Drift checks drawn per feature (the newest); the share drifted goes back further.
MAX_DRIFT_COLUMNS = 12
MAX_HISTORY = 60
#: The order commands are listed in (others after, by name): the pipeline's steps, then the
#: online server and the test alerts.
COMMANDS = (*STEPS, "serve", "alert-test")


@dataclass(frozen=True)
class RunRow:
    """One trusted run as the site lists it."""

    step: str
    run_id: str
    started_at: str
    duration_s: float | None
    status: str
    by: str
    ci: str | None
    results: list[str]
    #: The files a reader opens: the HTML report, the run's log (None: not there).
    report: Path | None
    log: Path | None

    @property
    def when(self) -> str:
        """When it started, as a reader scans it."""
        return readable_time(self.started_at)


@dataclass(frozen=True)
class Flagged:
    """A line of the run log that does not hold, and why."""

    line: int
    step: str | None
    run_id: str | None
    reason: str
    started_at: str | None = None

    @property
    def when(self) -> str:
        """When it claims to have started."""
        return readable_time(self.started_at) if self.started_at else ""


@dataclass
class SiteData:
    """Everything the site's pages are drawn from."""

    project: str
    owner: str
    generated_at: dt.datetime
    artifacts: Path
    base_dir: Path
    log_path: Path
    runs: list[RunRow]
    flagged: list[Flagged]
    #: Problems of the log as a whole (its end cut), not of one record.
    log_problems: list[str]
    altered: bool
    readiness: dict[str, Any] | None
    readiness_run: RunRow | None
    scores: list[dict[str, Any]]
    registry: Any
    validations: list[dict[str, Any]]
    serving: list[dict[str, Any]]
    drift: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    #: Per command with two trusted runs or more: its newest run against the one before.
    changes: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def by_command(self) -> dict[str, list[RunRow]]:
        """Trusted runs per command, newest first, commands in pipeline order."""
        out: dict[str, list[RunRow]] = {}
        for row in self.runs:
            out.setdefault(row.step, []).append(row)
        order = {name: n for n, name in enumerate(COMMANDS)}
        return {
            step: list(reversed(rows))
            for step, rows in sorted(out.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
        }

    def run(self, run_id: str | None) -> RunRow | None:
        """A trusted run by its id."""
        return next((r for r in self.runs if r.run_id == run_id), None) if run_id else None


def readable_time(started_at: Any) -> str:
    """A run's start as a reader scans it: 2026-12-01 01:26 UTC."""
    try:
        moment = dt.datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return str(started_at)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _row(record: Any, artifacts: Path) -> RunRow:
    """A trusted run as the site lists it: its headline and report as `mlready runs list`
    gives them, and its log."""
    from mlready.history import entry_of

    found = record.provenance or {}
    ci = (found.get("ci") or {}).get("system") if isinstance(found.get("ci"), dict) else record.ci
    entry = entry_of(record, artifacts)
    log = artifacts / record.run_dir / "run.log"
    return RunRow(
        step=record.step,
        run_id=record.run_id,
        started_at=record.started_at,
        duration_s=record.duration_s if isinstance(record.duration_s, int | float) else None,
        status=record.status,
        by=str(found.get("user") or record.user),
        ci=ci,
        results=[entry.headline] if entry.headline else [],
        report=entry.report if entry.report is not None and entry.report.is_file() else None,
        log=log if log.is_file() else None,
    )


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


#: What the site reads of a readiness report, and of each of its items.
_REPORT_KEYS = {
    "final_score",
    "band",
    "band_meaning",
    "in_place_score",
    "in_place_band",
    "pass_bar",
    "passed",
    "judged",
    "weakest",
    "sections",
    "items",
    "gaps",
}
_ITEM_KEYS = {"id", "section", "title", "detail", "evidence", "status", "points", "next_action"}


def _readable_report(payload: Any) -> bool:
    """Whether a checklist.json holds what the readiness pages show."""
    if not isinstance(payload, dict) or not set(payload) >= _REPORT_KEYS:
        return False
    items = payload["items"]
    return isinstance(items, list) and all(
        isinstance(i, dict) and _ITEM_KEYS | {"passing_points", "attestation"} <= set(i)
        for i in items
    )


def _flagged(checked: Any) -> tuple[list[Flagged], list[str]]:
    """The log's lines that do not hold, with when they claim to have run."""
    from mlready.runs import read_run_log

    claimed = {r.run_id: r.started_at for r in read_run_log(checked.path.parent)}
    records, whole = [], []
    for problem in checked.problems:
        if problem.whole_log:
            whole.append(str(problem))
            continue
        records.append(
            Flagged(
                problem.line,
                problem.step,
                problem.run_id,
                problem.reason,
                claimed.get(problem.run_id or ""),
            )
        )
    return records, whole


def _drift(artifacts: Path, records: list[Any], shown: Any) -> list[dict[str, Any]]:
    """Each trusted drift check: the share drifted (all of them, up to MAX_HISTORY) and, for
    the newest MAX_DRIFT_COLUMNS, every feature's result from its drift.json."""
    out = []
    recent = records[-MAX_HISTORY:]
    for n, record in enumerate(recent):
        s = record.summary or {}
        entry: dict[str, Any] = {
            "run_id": record.run_id,
            "when": readable_time(record.started_at),
            "started_at": record.started_at,
            "share": s.get("share_drifted"),
            "drifted": list(s.get("drifted") or []),
            "dataset_drift": bool(s.get("dataset_drift")),
            "compared": s.get("features") if isinstance(s.get("features"), int) else None,
            "source": shown((s.get("current") or {}).get("source")),
            "features": None,
            "bar": None,
        }
        if n >= len(recent) - MAX_DRIFT_COLUMNS:
            payload = _json(artifacts / record.run_dir / "drift.json")
            if isinstance(payload, dict):
                entry["bar"] = payload.get("dataset_drift_share")
                entry["features"] = {
                    f["column"]: _feature(f)
                    for f in [*(payload.get("features") or []), *(payload.get("predictions") or [])]
                    if isinstance(f, dict) and isinstance(f.get("column"), str)
                }
        out.append(entry)
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _alert(alert: dict[str, Any]) -> dict[str, Any]:
    """An alert from alerts.jsonl with every field the site shows (the log is not chained:
    a line of another shape still shows what it has)."""
    found = alert.get("deliveries")
    deliveries: dict[str, Any] = found if isinstance(found, dict) else {}
    return {
        "created_at": _text(alert.get("created_at")),
        "rule": _text(alert.get("rule")),
        "severity": _text(alert.get("severity")),
        "event": _text(alert.get("event")),
        "summary": _text(alert.get("summary")),
        "owner": _text(alert.get("owner")),
        "runbook": _text(alert.get("runbook")),
        "step": _text(alert.get("step")),
        "run_id": alert.get("run_id") if isinstance(alert.get("run_id"), str) else None,
        "test": bool(alert.get("test")),
        "deliveries": {
            str(name): isinstance(d, dict) and d.get("delivered") is True
            for name, d in deliveries.items()
        },
        "delivered": bool(alert.get("delivered")),
    }


def _feature(found: dict[str, Any]) -> dict[str, Any]:
    """A feature's result in a drift check, with the fields the site shows."""

    def number(key: str) -> float | None:
        value = found.get(key)
        return float(value) if isinstance(value, int | float) else None

    return {
        "test": _text(found.get("test")),
        "statistic": number("statistic"),
        "p_value": number("p_value"),
        "threshold": number("threshold"),
        "psi": number("psi"),
        "drifted": found.get("drifted") is True,
    }


def _changes(
    artifacts: Path, finished: dict[str, list[Any]], project: str, warnings: list[str]
) -> dict[str, Any]:
    """Each command's newest trusted run compared with the trusted run before it, as `mlready
    runs compare` compares them."""
    from mlready.errors import MlreadyError
    from mlready.history import compare_runs

    out = {}
    for step in COMMANDS:
        runs = finished.get(step, [])
        if len(runs) < 2:
            continue
        try:
            out[step] = compare_runs(artifacts, runs[-2].run_id, runs[-1].run_id, project=project)
        except MlreadyError as error:
            warnings.append(f"{step} runs {runs[-2].run_id} and {runs[-1].run_id}: {error}")
    return out


def gather(loaded: Any, now: dt.datetime | None = None) -> SiteData:
    """Read everything the site shows (reads only: never creates a registry or a file)."""
    from mlready.alerts import read_alerts
    from mlready.checklist.evidence import registry_facts
    from mlready.runs import identity_of, verify_run_log

    spec = loaded.spec
    artifacts = Path(spec.project.artifacts_dir)
    base = Path(loaded.base_dir).resolve()

    def shown(path: Any) -> str | None:
        """A data file as a reader finds it: relative to the spec's folder when inside it."""
        if not isinstance(path, str) or not path:
            return None
        try:
            return (
                Path(path).resolve().relative_to(base).as_posix()
                if Path(path).is_absolute()
                else path
            )
        except ValueError:
            return path

    checked = verify_run_log(artifacts, identity_of(loaded))
    flagged, whole = _flagged(checked)
    rows = [_row(r, artifacts) for r in checked.records]
    steps: dict[str, list[Any]] = {}
    for record in checked.records:
        steps.setdefault(record.step, []).append(record)
    finished = {k: [r for r in v if r.status in ("passed", "failed")] for k, v in steps.items()}

    readiness, readiness_run = None, None
    warnings: list[str] = []
    for record in reversed(finished.get("checklist-report", [])):
        payload = _json(artifacts / record.run_dir / "checklist.json")
        if _readable_report(payload):
            readiness = payload
            readiness_run = next(r for r in rows if r.run_id == record.run_id)
            break
        warnings.append(
            f"checklist-report {record.run_id}'s checklist.json is not one this mlready reads "
            "(an older version wrote it?): run `mlready checklist-report` again"
        )
    scores = [
        {
            "run_id": r.run_id,
            "when": readable_time(r.started_at),
            "started_at": r.started_at,
            "score": r.summary.get("score"),
            "in_place": r.summary.get("in_place_score"),
            "band": r.summary.get("band"),
            "pass_bar": r.summary.get("pass_bar"),
            "passed": r.summary.get("passed"),
        }
        for r in finished.get("checklist-report", [])[-MAX_HISTORY:]
        if isinstance(r.summary.get("score"), int | float)
    ]
    validations = [
        {
            "run_id": r.run_id,
            "when": readable_time(r.started_at),
            "started_at": r.started_at,
            "status": r.status,
            "environment": r.summary.get("environment"),
            "source": shown(r.summary.get("source")),
            "rows": r.summary.get("rows"),
            "checks": r.summary.get("checks"),
            "failed": r.summary.get("failed"),
            "warnings": r.summary.get("warnings"),
        }
        for r in finished.get("validate-data", [])[-MAX_HISTORY:]
    ]
    serving = [
        {
            "run_id": r.run_id,
            "when": readable_time(r.started_at),
            "status": r.status,
            "source": shown(r.summary.get("source")),
            "rows_in": r.summary.get("rows_in"),
            "rows_rejected": r.summary.get("rows_rejected"),
            "cached": bool((r.summary.get("cache") or {}).get("batch_hit")),
        }
        for r in finished.get("serve-batch", [])[-MAX_HISTORY:]
    ]
    alerts = [_alert(a) for a in reversed(read_alerts(artifacts))]
    return SiteData(
        project=spec.project.name,
        owner=spec.project.owner or "",
        generated_at=now or dt.datetime.now(dt.timezone.utc),
        artifacts=artifacts,
        base_dir=Path(loaded.base_dir),
        log_path=checked.path,
        runs=rows,
        flagged=flagged,
        log_problems=whole,
        altered=checked.altered,
        readiness=readiness,
        readiness_run=readiness_run,
        scores=scores,
        registry=registry_facts(loaded),
        validations=validations,
        serving=serving,
        drift=_drift(artifacts, finished.get("check-drift", []), shown),
        alerts=alerts,
        changes=_changes(artifacts, finished, spec.project.name, warnings),
        warnings=warnings,
    )
