"""The whole pipeline as one product: which steps run, in which order, and which can be skipped.

A step is skipped when its inputs are the same as when it last succeeded: the spec sections it
reads (hashed as written), the data it reads (sha256, remembered against each file's size and
times), what the step before it produced (the model's sha256, the served batch), and the mlready
version; in CI or on a schedule, also the git commit and the day, so that a check counted as
repeated has run again. ``pipeline.json`` in the artifacts folder keeps, per step, the inputs'
key and the run that succeeded with them; it is written only after a step succeeds, so a failed
step runs again (but a drift finding stands for the same batch and model: check-drift is not
rerun, nor its alerts sent, until they change).

    plan = Plan(loaded)             # keys computed lazily, from what ran before
    plan.key("train")               # the inputs' key now
    plan.unchanged("train")         # same key as the last success, and that run still in the log
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SECTIONS", "STEPS", "Plan", "StepOutcome", "select_steps"]

STEPS = (
    "test",
    "validate-data",
    "train",
    "register",
    "serve-batch",
    "check-drift",
    "checklist-report",
)

#: The spec sections each step reads: a change to one of them reruns the step.
SECTIONS: dict[str, tuple[str, ...]] = {
    "test": ("checklist",),
    "validate-data": ("data", "expectations"),
    "train": ("data", "expectations", "model", "validation", "training", "business"),
    "register": ("registry",),
    "serve-batch": ("data", "expectations", "serving"),
    "check-drift": ("monitoring",),
    "checklist-report": ("checklist",),
}
#: What else each step depends on: the output of these earlier steps.
UPSTREAM: dict[str, tuple[str, ...]] = {
    "test": (),
    "validate-data": (),
    "train": (),
    "register": ("train",),
    "serve-batch": ("register",),
    "check-drift": ("serve-batch",),
    "checklist-report": STEPS[:-1],  # the report reads what every step before it recorded
}
STATE_FILE = "pipeline.json"


def select_steps(start: str | None, until: str | None) -> list[str]:
    """The steps from ``start`` to ``until`` (both included), in pipeline order."""
    from mlready.errors import UsageError

    for name in (start, until):
        if name is not None and name not in STEPS:
            raise UsageError(f"unknown step '{name}': use one of {', '.join(STEPS)}")
    first = STEPS.index(start) if start else 0
    last = STEPS.index(until) if until else len(STEPS) - 1
    if first > last:
        raise UsageError(f"--from {start} comes after --until {until}: swap them")
    return list(STEPS[first : last + 1])


@dataclass
class StepOutcome:
    """What happened to one step in a pipeline run."""

    step: str
    status: str  # ran | skipped | failed | not run | not configured
    exit_code: int = 0
    run_id: str | None = None
    seconds: float = 0.0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


@dataclass
class Plan:
    """The pipeline's memory: each step's inputs' key and the run that succeeded with them."""

    loaded: Any
    state: dict[str, Any] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            payload = json.loads(self.path.read_text(encoding="utf-8"))
            self.state = payload if isinstance(payload, dict) else {}
        except (OSError, ValueError):
            self.state = {}

    @property
    def artifacts(self) -> Path:
        return Path(self.loaded.spec.project.artifacts_dir)

    @property
    def path(self) -> Path:
        return self.artifacts / STATE_FILE

    # ----------------------------------------------------------------------------- inputs

    def configured(self, step: str) -> str:
        """Why a step cannot run from the spec alone ('' when it can)."""
        if step == "test" and self.loaded.spec.checklist.test_command is None:
            return "checklist.test_command is not set in the spec"
        serving = self.loaded.spec.serving
        if step in ("serve-batch", "check-drift") and (serving is None or serving.input is None):
            return "serving.input is not set in the spec"
        return ""

    def _data_digest(self, source: Any) -> str | None:
        """sha256 of the files a source names; None for SQL (a query's result cannot be
        fingerprinted without running it, so such a step always runs)."""
        from mlready.io import resolve_files
        from mlready.serving.cache import file_digests

        if source is None or source.path is None:
            return None
        files = resolve_files(source.path)
        digests = file_digests(files, self.artifacts / "cache" / "digests.json")
        return hashlib.sha256("".join(digests).encode()).hexdigest()

    @property
    def automated(self) -> bool:
        """Whether this pipeline runs in CI or on a schedule (see mlready.runs.provenance)."""
        import os

        from mlready.runs import ci_run

        return ci_run() is not None or bool(os.environ.get("MLREADY_SCHEDULE"))

    def key(self, step: str) -> str | None:
        """The key of a step's inputs now, or None when they cannot be known (always run)."""
        from mlready import __version__

        parts: dict[str, Any] = {
            "mlready": __version__,
            "sections": self.loaded.section_hash(*SECTIONS[step]),
        }
        spec = self.loaded.spec
        if step == "test":
            # the tests read the code: the same commit with no local change is the same input
            parts["repository"] = _head(self.loaded.path, clean=True)
            if parts["repository"] is None:
                return None
        if step in ("validate-data", "train"):
            parts["data"] = self._data_digest(spec.data.source)
            if parts["data"] is None:
                return None
        if step == "serve-batch":
            parts["data"] = self._data_digest(spec.serving.input if spec.serving else None)
            if parts["data"] is None:
                return None
        for upstream in UPSTREAM[step]:
            parts[upstream] = (self.state.get(upstream) or {}).get("output")
        if step in ("serve-batch", "check-drift"):
            parts["production"] = self.production_sha()
        if step == "check-drift":
            # the model's age is judged too: a check is due again each day
            parts["day"] = dt.datetime.now(dt.timezone.utc).date().isoformat()
        if self.automated:
            # in CI or on a schedule, each new commit and each new day runs every check again:
            # a check that was skipped is no evidence that it is repeated
            parts["automated"] = {
                "commit": _head(self.loaded.path),
                "day": dt.datetime.now(dt.timezone.utc).date().isoformat(),
            }
        if step == "checklist-report":
            # the report reads the whole spec, the whole run log, the registry and git
            parts["spec"] = self.loaded.spec_hash
            parts["log"] = _last_record(self.artifacts)
            parts["repository"] = _head(self.loaded.path)
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def production_sha(self) -> str | None:
        """The sha256 of the model the production alias points to, if any (read once per
        registration)."""
        from mlready.checklist.evidence import registry_facts

        if "production" not in self._memo:
            production = registry_facts(self.loaded).production
            self._memo["production"] = None if production is None else str(production.sha256)
        return self._memo["production"]

    # ------------------------------------------------------------------------------ state

    def unchanged(self, step: str, key: str | None) -> str:
        """The run id of the last success with the same inputs, else ''."""
        from mlready.runs import read_run_log

        remembered = self.state.get(step) or {}
        if key is None or remembered.get("key") != key:
            return ""
        run_id = remembered.get("run_id")
        records = {r.run_id: r for r in read_run_log(self.artifacts, step) if r.status != "error"}
        if run_id not in records or not self._still_there(step, records[run_id]):
            return ""
        return str(run_id)

    def _still_there(self, step: str, record: Any) -> bool:
        """What the step produced is still in place (a deleted output or registry reruns it)."""
        if step == "register":
            return self.production_sha() == (self.state.get("register") or {}).get("output")
        if step == "serve-batch":
            serving = self.loaded.spec.serving
            if serving is not None and serving.output and not Path(serving.output).exists():
                return False
            return (self.artifacts / record.run_dir / "batch_profile.json").is_file()
        if step == "checklist-report":
            return (self.artifacts / record.run_dir / "checklist.html").is_file()
        return True

    def remember(self, step: str, key: str | None, record: Any, *, finding: bool = False) -> None:
        """Keep a step's success (or its finding, which stands until the inputs change): its
        inputs' key, its run and what it produced."""
        from mlready.io import atomic_write_json

        self._memo.clear()  # a registration may have moved production
        self.state[step] = {
            "key": key,
            "run_id": record.run_id,
            "output": _output(step, record, self),
            "at": record.started_at,
        }
        if finding:
            self.state[step]["finding"] = True
        self.artifacts.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path, self.state)

    def forget(self, step: str) -> None:
        """A step failed: whatever succeeded before, the next run tries it again."""
        from mlready.io import atomic_write_json

        if self.state.pop(step, None) is not None:
            atomic_write_json(self.path, self.state)


def _output(step: str, record: Any, plan: Plan) -> Any:
    """What later steps depend on: the model's sha256, the production model, the batch."""
    summary = record.summary or {}
    if step == "train":
        return summary.get("model_sha256")
    if step == "register":
        return plan.production_sha()
    if step == "validate-data":
        return summary.get("fingerprint")
    return record.run_id  # serve-batch (its batch profile), check-drift, checklist-report


def _last_record(artifacts: Path) -> str | None:
    """The newest run of any step but the report itself (runs made outside `mlready run` too)."""
    from mlready.runs import read_run_log

    records = [r for r in read_run_log(artifacts) if r.step != "checklist-report"]
    return records[-1].run_id if records else None


def _head(spec_path: Path, *, clean: bool = False) -> str | None:
    """The repository's HEAD; with ``clean``, None when the work tree has changes or new files
    (code that is not committed is not the same input twice)."""
    from mlready.runs import git_output

    folder = spec_path.resolve().parent
    if clean:
        status = git_output(folder, "status", "--porcelain")
        if status is None or status.strip():
            return None
    return (git_output(folder, "rev-parse", "HEAD") or "").strip() or None


#: A failing exit of these steps is a finding, not a breakdown: the pipeline goes on to the
#: readiness report, and ends with exit 1.
FINDINGS = ("check-drift", "checklist-report")
#: Findings kept against their inputs: an unchanged batch and model are not checked (and
#: alerted on) again; the run still ends with exit 1.
REMEMBERED_FINDINGS = ("check-drift",)

_WHY = {
    "test": "the project's tests failed or none ran (see its junit.xml)",
    "validate-data": "the training data broke the contract (see its report)",
    "train": "the model missed its checks (see the training report)",
    "register": "the new version did not pass the promotion gate; production is unchanged",
    "serve-batch": "the batch could not be scored in full (see its run.log)",
    "check-drift": "drift or an error-severity alert (see the drift report)",
    "checklist-report": "readiness is under the pass bar",
}


@dataclass
class PipelineResult:
    """What a pipeline run did, step by step, and how it ends."""

    outcomes: list[StepOutcome]
    exit_code: int
    report: Path | None  # the readiness report of this run (ran or skipped), if any

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "passed": self.exit_code == 0,
            "exit_code": self.exit_code,
            "steps": [o.to_dict() for o in self.outcomes],
            "report": None if self.report is None else str(self.report),
        }


def run_pipeline(
    plan: Plan,
    steps: list[str],
    commands: dict[str, Any],
    *,
    force: bool = False,
    report_dir: Path | None = None,
    announce: Any = None,
) -> PipelineResult:
    """Run ``steps`` in order: each is skipped when its inputs are unchanged (unless ``force``),
    else ``commands[step]()`` runs it and returns its exit code. The first hard failure stops
    the run; a finding (drift, readiness under the bar) does not.

    ``announce(step, note)`` is told before each step runs or is skipped (for a progress line).
    """
    import time

    from mlready.errors import MlreadyError
    from mlready.runs import read_run_log

    if report_dir is not None:
        _guard_report_dir(plan, steps, report_dir, force)
    outcomes: list[StepOutcome] = []
    final, stopped = 0, False
    for step in steps:
        if stopped:
            outcomes.append(StepOutcome(step, "not run", reason="an earlier step failed"))
            continue
        missing = plan.configured(step)
        if missing:
            outcomes.append(StepOutcome(step, "not configured", reason=missing))
            continue
        started = time.perf_counter()
        try:
            key = plan.key(step)
        except MlreadyError as error:
            outcomes.append(StepOutcome(step, "failed", error.exit_code, reason=str(error)))
            final, stopped = error.exit_code, True
            continue
        previous = "" if force else plan.unchanged(step, key)
        if previous and (plan.state.get(step) or {}).get("finding"):
            # the same batch judged by the same model: the finding stands, its alerts went out
            why = "unchanged; its drift finding stands (not alerted again)"
            outcomes.append(StepOutcome(step, "skipped", 1, previous, reason=why))
            final = 1
            if announce:
                announce(step, f"skipped: {why}, see run {previous}")
            continue
        if previous:
            outcomes.append(StepOutcome(step, "skipped", run_id=previous, reason="unchanged"))
            if announce:
                announce(step, f"skipped: inputs unchanged since run {previous}")
            if step == "checklist-report" and report_dir is not None:
                _copy_report(plan, previous, report_dir)
            continue
        if announce:
            announce(step, "")
        before = {r.run_id for r in read_run_log(plan.artifacts, step)}
        reason = ""
        try:
            code = commands[step]()
        except MlreadyError as error:
            code, reason = error.exit_code, str(error)
        except KeyboardInterrupt:
            code, reason = 130, "interrupted"
        seconds = time.perf_counter() - started
        new = [r for r in read_run_log(plan.artifacts, step) if r.run_id not in before]
        run_id = new[-1].run_id if new else None
        if code == 0 and new:
            plan.remember(step, key, new[-1])
            outcomes.append(StepOutcome(step, "ran", 0, run_id, seconds))
            continue
        if code == 1 and step in REMEMBERED_FINDINGS and new:
            plan.remember(step, key, new[-1], finding=True)
        else:
            plan.forget(step)  # whatever succeeded before, the next run tries it again
        outcomes.append(
            StepOutcome(step, "failed", code or 1, run_id, seconds, reason or _WHY[step])
        )
        if code == 1 and step in FINDINGS:
            final = 1
        else:
            final, stopped = code or 1, True
    if report_dir is not None:
        _publish(plan, outcomes, report_dir)
    report = None
    last = next((o for o in outcomes if o.step == "checklist-report" and o.run_id), None)
    if last is not None:
        path = plan.artifacts / "runs" / "checklist-report" / str(last.run_id) / "checklist.html"
        report = path if path.is_file() else None
    return PipelineResult(outcomes, final, report)


#: What a step's run folder holds for a person or CI to read (models and data stay where they are).
PUBLISHED = ("*.html", "junit.xml")


def _publish(plan: Plan, outcomes: list[StepOutcome], target: Path) -> None:
    """Each step's reports and JUnit XML from this pipeline's run of it (ran, skipped or failed)
    in ``target/<step>/``, for CI to publish; the readiness report is at the top already. Each
    step's files go in together and are recorded as mlready's."""
    from mlready.io import write_files

    for outcome in outcomes:
        if not outcome.run_id or outcome.step == "checklist-report":
            continue
        folder = plan.artifacts / "runs" / outcome.step / outcome.run_id
        files = sorted({p for pattern in PUBLISHED for p in folder.glob(pattern) if p.is_file()})
        if files:
            contents = {path.name: path.read_bytes() for path in files}
            write_files(target / outcome.step, contents, artifacts_dir=plan.artifacts)


def _guard_report_dir(plan: Plan, steps: list[str], report_dir: Path, force: bool) -> None:
    """Before any step runs: the files in the report folder that this run may replace (the
    readiness report; each step's reports and JUnit XML there) are mlready's (or ``force``),
    so that a long run does not end refusing to deliver its reports."""
    from mlready.checklist.report import FILES
    from mlready.io import guard_outputs

    folder = Path(report_dir)
    targets = [folder / name for name in FILES] if "checklist-report" in steps else []
    for step in steps:
        if step != "checklist-report":
            targets += sorted({p for pattern in PUBLISHED for p in (folder / step).glob(pattern)})
    guard_outputs(
        targets,
        artifacts_dir=plan.artifacts,
        protected=plan.loaded.protected_paths(),
        force=force,
        option="--report-dir",
        hint="choose another folder, or pass --force (which also runs every step again)",
    )


def _copy_report(plan: Plan, run_id: str, target: Path) -> None:
    """A skipped checklist-report still delivers its report where CI looks for it."""
    from mlready.checklist.report import FILES
    from mlready.io import write_files
    from mlready.reporting import rebase_links

    folder = plan.artifacts / "runs" / "checklist-report" / run_id
    files = {}
    for name in FILES:
        path = folder / name
        if not path.is_file():
            continue
        if name.endswith(".html"):
            # its evidence links are relative to the run folder: make them work from the copy
            html = path.read_text(encoding="utf-8")
            files[name] = rebase_links(html, folder, Path(target)).encode("utf-8")
        else:
            files[name] = path.read_bytes()
    write_files(Path(target), files, artifacts_dir=plan.artifacts)
