"""The artifact layout: a folder per project, a run id per step execution, and the run log.

Layout under the project's ``artifacts_dir`` (default ``.mlready/`` beside the spec)::

    runs.jsonl                      the run log: one JSON record per finished step execution
    runs/<step>/<run_id>/           everything one execution wrote, with its own run.log

The run log is what later steps and the readiness report read; each record says which step ran,
when, for how long, how it ended, who ran it and whether it ran in CI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import json
import logging
import os
import platform
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlready.errors import MlreadyError

__all__ = ["Run", "RunRecord", "ci_name", "new_run_id", "read_run_log", "run_dir", "start_run"]

RUN_LOG = "runs.jsonl"
STEPS = ("validate-data", "train", "register", "serve-batch", "check-drift", "checklist-report")

#: Environment variables that CI systems set, and the system each one names.
_CI_VARIABLES = {
    "GITHUB_ACTIONS": "github",
    "GITLAB_CI": "gitlab",
    "JENKINS_URL": "jenkins",
    "BUILDKITE": "buildkite",
    "CIRCLECI": "circleci",
    "TF_BUILD": "azure",
    "CI": "ci",
}


def ci_name(environ: dict[str, str] | None = None) -> str | None:
    """The CI system this process runs in, or None on a person's machine."""
    env = os.environ if environ is None else environ
    for variable, name in _CI_VARIABLES.items():
        value = env.get(variable, "")
        if value and value.lower() not in ("0", "false", "no"):
            return name
    return None


def current_user() -> str:
    """Who runs the step: $MLREADY_USER, else the login name."""
    override = os.environ.get("MLREADY_USER")
    if override:
        return override
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: UTC time to the second plus 6 random hex digits."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_dir(artifacts_dir: Path | str, step: str, run_id: str) -> Path:
    """The folder of one step execution."""
    return Path(artifacts_dir) / "runs" / step / run_id


@dataclass(frozen=True)
class RunRecord:
    """One line of the run log."""

    step: str
    run_id: str
    started_at: str
    duration_s: float
    status: str  # passed | failed | error
    exit_code: int
    user: str
    ci: str | None
    host: str
    mlready_version: str
    run_dir: str
    summary: dict[str, Any] = field(default_factory=dict)
    #: Where the run came from (git commit, spec committed, CI); {} in older records.
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
        return asdict(self)


def read_run_log(artifacts_dir: Path | str, step: str | None = None) -> list[RunRecord]:
    """Every record in the run log, oldest first; lines that cannot be read are passed over."""
    log = Path(artifacts_dir) / RUN_LOG
    if not log.is_file():
        return []
    records = []
    known = set(RunRecord.__dataclass_fields__)
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            payload = json.loads(line)
            record = RunRecord(**{k: v for k, v in payload.items() if k in known})
        except (ValueError, TypeError, AttributeError):
            continue  # a torn or foreign line must not hide the rest of the history
        if not all(isinstance(getattr(record, k), str) for k in ("step", "run_id", "started_at")):
            continue
        if not isinstance(record.summary, dict):
            record = RunRecord(**{**record.to_dict(), "summary": {}})
        if not isinstance(record.run_dir, str):
            record = RunRecord(
                **{**record.to_dict(), "run_dir": f"runs/{record.step}/{record.run_id}"}
            )
        if step is None or record.step == step:
            records.append(record)
    return records


def _append_record(artifacts_dir: Path, record: RunRecord) -> None:
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record.to_dict(), sort_keys=True, default=str) + "\n"
    with open(artifacts_dir / RUN_LOG, "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # several processes may finish at once
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass
class Run:
    """One step execution: its folder, its logger, and what goes into the run log."""

    step: str
    run_id: str
    artifacts_dir: Path
    dir: Path
    logger: logging.Logger
    started_at: dt.datetime
    status: str = "passed"
    exit_code: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    def fail(self, exit_code: int = 1) -> None:
        """Mark the run as failing a check (its artifacts are still kept)."""
        self.status = "failed"
        self.exit_code = exit_code


@contextlib.contextmanager
def start_run(artifacts_dir: Path | str, step: str) -> Iterator[Run]:
    """Open a run folder with its own log file; on exit, append the run's record to the run log.

    An exception inside the block is recorded as status ``error`` with its exit code, then raised.
    """
    from mlready import __version__

    artifacts = Path(artifacts_dir)
    started = dt.datetime.now(dt.timezone.utc)
    run_id = new_run_id(started)
    folder = run_dir(artifacts, step, run_id)
    folder.mkdir(parents=True, exist_ok=False)
    logger = logging.getLogger(f"mlready.run.{step}.{run_id}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = True  # the CLI's --verbose handler on "mlready" shows it too
    handler = logging.FileHandler(folder / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    run = Run(step, run_id, artifacts, folder, logger, started)
    clock = time.perf_counter()
    logger.info("run %s of %s started by %s", run_id, step, current_user())
    try:
        yield run
    except BaseException as exc:
        run.status = "error"
        run.exit_code = (
            exc.exit_code
            if isinstance(exc, MlreadyError)
            else (130 if isinstance(exc, KeyboardInterrupt) else 5)
        )
        logger.error("run failed: %s", exc)
        raise
    finally:
        duration = time.perf_counter() - clock
        logger.info("run ended: %s (exit %s) after %.3f s", run.status, run.exit_code, duration)
        logger.removeHandler(handler)
        handler.close()
        # one logger per run: forget it, or a long-lived process (a notebook) keeps them all
        logging.Logger.manager.loggerDict.pop(logger.name, None)
        record = RunRecord(
            step=step,
            run_id=run_id,
            started_at=started.isoformat(timespec="seconds"),
            duration_s=round(duration, 6),
            status=run.status,
            exit_code=run.exit_code,
            user=current_user(),
            ci=ci_name(),
            host=platform.node(),
            mlready_version=__version__,
            run_dir=str(folder.relative_to(artifacts)),
            summary=run.summary,
        )
        _append_record(artifacts, record)
