"""The artifact layout: a folder per project, a run id per step execution, and the run log.

Layout under the project's ``artifacts_dir`` (default ``.mlready/`` beside the spec)::

    runs.jsonl                      the run log: one JSON record per finished step execution
    runs/<step>/<run_id>/           everything one execution wrote, with its own run.log

The run log is what later steps and the readiness report read; each record says which step ran,
when, for how long, how it ended, and where it came from (its provenance: the project, the spec's
hash, the git commit and whether the tree was modified, the user, the host and the CI system with
its run id and URL).

The log is tamper-evident: each record carries the sha256 of its own content (``hash``), the hash
of the record before it (``prev``, a hash chain) and the sha256 of every file its run folder held
when it ended (``artifacts``). :func:`verify_run_log` re-checks all three; an edited, duplicated,
reordered, hand-written or foreign record is named and left out of what the readiness report
scores. The chain detects changes; it is not a signature: someone who recomputes every hash after
an edit is not detected by the chain, only by the CI run the record names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import json
import logging
import os
import platform
import secrets
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlready.errors import MlreadyError

__all__ = [
    "LogProblem",
    "LogVerification",
    "Run",
    "RunRecord",
    "append_record",
    "ci_name",
    "ci_run",
    "is_automated",
    "new_run_id",
    "project_identity",
    "provenance",
    "read_run_log",
    "run_dir",
    "start_run",
    "verify_run_log",
]

RUN_LOG = "runs.jsonl"
#: The log's head: how many chained records it holds and the newest one's hash, rewritten
#: (atomically, under the log's lock) with every record, so that records cut from the end show.
RUN_LOG_HEAD = "runs.head.json"
#: Held while a record is appended (a file of its own: see mlready.locking).
RUN_LOG_LOCK = ".runs.lock"
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


def ci_name(environ: Mapping[str, str] | None = None) -> str | None:
    """The CI system this process runs in, or None on a person's machine."""
    env = os.environ if environ is None else environ
    for variable, name in _CI_VARIABLES.items():
        value = env.get(variable, "")
        if value and value.lower() not in ("0", "false", "no"):
            return name
    return None


#: Per CI system: the variables that hold its run id, the run's URL, and what triggered it.
_CI_DETAILS: dict[str, tuple[str, str, str]] = {
    "github": ("GITHUB_RUN_ID", "", "GITHUB_EVENT_NAME"),
    "gitlab": ("CI_PIPELINE_ID", "CI_JOB_URL", "CI_PIPELINE_SOURCE"),
    "jenkins": ("BUILD_NUMBER", "BUILD_URL", ""),
    "buildkite": ("BUILDKITE_BUILD_NUMBER", "BUILDKITE_BUILD_URL", "BUILDKITE_SOURCE"),
    "circleci": ("CIRCLE_BUILD_NUM", "CIRCLE_BUILD_URL", ""),
    "azure": ("BUILD_BUILDID", "", "BUILD_REASON"),
    "ci": ("", "", ""),
}


def ci_run(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The CI run this process belongs to: its system, run id, URL and trigger (None outside
    CI). A generic ``CI=true`` names no run."""
    env = os.environ if environ is None else environ
    system = ci_name(env)
    if system is None:
        return None
    id_var, url_var, event_var = _CI_DETAILS[system]
    run_id = env.get(id_var) if id_var else None
    url = env.get(url_var) if url_var else None
    if system == "github" and run_id and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{run_id}"
        if env.get("GITHUB_RUN_ATTEMPT"):
            run_id = f"{run_id}.{env['GITHUB_RUN_ATTEMPT']}"
    return {
        "system": system,
        "run_id": run_id or None,
        "url": url or None,
        "event": (env.get(event_var) if event_var else None) or None,
    }


def _scheduled(ci: dict[str, Any] | None, env: Any) -> bool:
    """Whether the run was started by a schedule: a CI schedule event, or $MLREADY_SCHEDULE
    (set it in the crontab line or the scheduler's job that runs mlready)."""
    if env.get("MLREADY_SCHEDULE"):
        return True
    event = ((ci or {}).get("event") or "").lower()
    return event in ("schedule", "scheduled", "cron")


def project_identity(
    name: str, spec_path: Path | str, artifacts_dir: Path | str, project_id: str | None = None
) -> str:
    """A project's identity in its run log: its name, its ``project.id`` (the random one
    ``mlready init`` writes) and where its spec stands seen from its artifacts folder. It
    survives moving or cloning the project (folder and artifacts together); another project's
    spec pointed at the same artifacts folder, or its log copied here, has another identity."""
    where = os.path.relpath(Path(spec_path).resolve(), Path(artifacts_dir).resolve())
    key = f"{name}\0{Path(where).as_posix()}" + (f"\0{project_id}" if project_id else "")
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def identity_of(loaded: Any) -> str:
    """The identity of a loaded spec's project (see :func:`project_identity`)."""
    project = loaded.spec.project
    return project_identity(
        project.name, loaded.path, project.artifacts_dir, getattr(project, "id", None)
    )


def git_output(folder: Path, *args: str) -> str | None:
    """What ``git -C FOLDER ARGS`` prints, or None when git is missing or the call fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _git_state(spec_path: Path) -> dict[str, Any]:
    """The commit, whether tracked files were modified, and whether the spec is committed
    unmodified; all None outside a git repository."""
    folder = spec_path.parent
    head = (git_output(folder, "rev-parse", "HEAD") or "").strip()
    if not head:
        return {"git_commit": None, "git_tree": None, "git_dirty": None, "spec_committed": None}
    tree = (git_output(folder, "rev-parse", "HEAD^{tree}") or "").strip() or None
    status = git_output(folder, "status", "--porcelain", "--untracked-files=no")
    tracked = git_output(folder, "ls-files", "--error-unmatch", "--", spec_path.name) is not None
    spec_status = git_output(folder, "status", "--porcelain", "--", spec_path.name)
    return {
        "git_commit": head,
        "git_tree": tree,  # an empty commit changes the commit, not the tree
        "git_dirty": None if status is None else bool(status.strip()),
        "spec_committed": tracked and spec_status is not None and not spec_status.strip(),
    }


def provenance(loaded: Any, artifacts_dir: Path | str) -> dict[str, Any]:
    """Where a run comes from: the project, the spec's hash, git, the user, the host, CI."""
    from mlready.io import sha256_file

    spec_path = Path(loaded.path).resolve()
    ci = ci_run()
    try:
        spec_hash: str | None = sha256_file(spec_path)
    except OSError:
        spec_hash = None
    return {
        "project": loaded.spec.project.name,
        "project_id": identity_of(loaded),
        "spec_sha256": spec_hash,
        **_git_state(spec_path),
        "user": current_user(),
        "host": platform.node(),
        "ci": ci,
        "scheduled": _scheduled(ci, os.environ),
    }


def is_automated(record: RunRecord) -> bool:
    """Whether a run was started by a machine: in CI or on a schedule, by its provenance."""
    found = record.provenance or {}
    return bool(found.get("ci") or found.get("scheduled"))


def current_user() -> str:
    """Who runs the step: $MLREADY_USER, else the login name."""
    override = os.environ.get("MLREADY_USER")
    if override:
        return override
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # ImportError: no pwd module (Windows, Python<3.13)
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
    #: Where the run came from (see :func:`provenance`); {} for records older than the chain.
    provenance: dict[str, Any] = field(default_factory=dict)
    #: sha256 of every file in the run's folder when it ended, by path inside the folder.
    artifacts: dict[str, str] = field(default_factory=dict)
    #: The hash of the record before this one in the log ("" for the first).
    prev: str | None = None
    #: sha256 of this record's content (every field but this one).
    hash: str | None = None

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


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True
    ).encode("utf-8")


def record_hash(payload: dict[str, Any]) -> str:
    """sha256 of a record's content: every field but ``hash``, as canonical JSON."""
    return hashlib.sha256(_canonical({k: v for k, v in payload.items() if k != "hash"})).hexdigest()


def _last_line(handle: Any) -> str | None:
    """The last non-empty line of an open file (read from its end)."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    block, data = 65536, b""
    position = size
    while position > 0:
        step = min(block, position)
        position -= step
        handle.seek(position)
        data = handle.read(step) + data
        stripped = data.rstrip(b"\n")
        if b"\n" in stripped or position == 0:
            return stripped.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace") or None
    return None


def _link_of(line: str | None) -> str:
    """What the next record's ``prev`` must hold: the line's recorded hash, or for a line that
    has none (hand-written, older than the chain) the sha256 of its text."""
    if line is None:
        return ""
    try:
        payload = json.loads(line)
        if isinstance(payload, dict) and isinstance(payload.get("hash"), str):
            return str(payload["hash"])
    except ValueError:
        pass
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def _last_link(handle: Any, last: str | None) -> str:
    """Without a head: the hash of the log's last chained record, over any torn or hand-written
    lines after it; for a log with none, the link of its last line."""
    if last is None or _chained(last):
        return _link_of(last)
    handle.seek(0)
    lines = handle.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(lines):
        if _chained(line):
            return _link_of(line)
    return _link_of(last)


def _chained(line: str) -> bool:
    try:
        payload = json.loads(line)
    except ValueError:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("hash"), str)


def _ends_with_newline(handle: Any) -> bool:
    handle.seek(-1, os.SEEK_END)
    ends = handle.read(1) == b"\n"
    handle.seek(0, os.SEEK_END)
    return ends


def _read_head(artifacts: Path) -> dict[str, Any] | None:
    try:
        head = json.loads((artifacts / RUN_LOG_HEAD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    valid = isinstance(head, dict) and isinstance(head.get("last"), str)
    return head if valid and isinstance(head.get("count"), int) else None


def _head_caught_up(lines: list[str], head: dict[str, Any]) -> dict[str, Any] | None:
    """The head a log should have when its last writer was killed after writing its record and
    before the head (the head names a record the log holds, followed by more): None when the
    head's record is not where the head says (records were cut, or the head is foreign)."""
    count, at, last = 0, None, None
    for line in lines:
        try:
            payload = json.loads(line)
        except ValueError:
            continue
        if isinstance(payload, dict) and isinstance(payload.get("hash"), str):
            count, last = count + 1, payload["hash"]
            if last == head["last"]:
                at = count
    if at is None or at != head["count"] or count <= at:
        return None
    return {"count": count, "last": last}


def _chained_count(log: Path) -> int:
    """How many lines of a log carry a hash (for a log written before the head existed)."""
    count = 0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            payload = json.loads(line)
        except ValueError:
            continue
        count += isinstance(payload, dict) and isinstance(payload.get("hash"), str)
    return count


def hash_folder(folder: Path) -> dict[str, str]:
    """sha256 of every file below a folder, by its path inside it (links are not followed)."""
    from mlready.io import sha256_file

    found = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(folder).as_posix()] = sha256_file(path)
    return found


def append_record(artifacts_dir: Path | str, record: RunRecord | dict[str, Any]) -> RunRecord:
    """Append a record to the run log, chained to the one before it and hashed; returns it as
    written. Several processes may append at once: the file lock orders them."""
    artifacts = Path(artifacts_dir)
    artifacts.mkdir(parents=True, exist_ok=True)
    payload = record.to_dict() if isinstance(record, RunRecord) else dict(record)
    payload = json.loads(json.dumps(payload, default=str))  # as it reads back
    from mlready.io import atomic_write_json
    from mlready.locking import exclusive

    with exclusive(artifacts / RUN_LOG_LOCK), open(artifacts / RUN_LOG, "a+b") as handle:
        last = _last_line(handle)
        # a log deleted or emptied on purpose starts a new chain (no evidence is left to
        # inflate); otherwise the head names the newest record even when lines were cut
        head = _read_head(artifacts) if last is not None else None
        if head is not None and head["last"] != _link_of(last):
            handle.seek(0)
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
            head = _head_caught_up(lines, head) or head
        # the head names the newest record even when lines were cut from the end: chaining
        # to it keeps the cut visible
        payload["prev"] = head["last"] if head else _last_link(handle, last)
        payload.pop("hash", None)
        payload["hash"] = record_hash(payload)
        handle.seek(0, os.SEEK_END)
        if handle.tell() and not _ends_with_newline(handle):
            handle.write(b"\n")  # a torn last line: the record starts on a line of its own
        handle.write(_canonical(payload) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
        count = (head["count"] if head else _chained_count(artifacts / RUN_LOG) - 1) + 1
        atomic_write_json(artifacts / RUN_LOG_HEAD, {"count": count, "last": payload["hash"]})
    known = set(RunRecord.__dataclass_fields__)
    return RunRecord(**{k: v for k, v in payload.items() if k in known})


@dataclass(frozen=True)
class LogProblem:
    """A line of the run log that is not trusted, and why."""

    line: int
    run_id: str | None
    step: str | None
    reason: str
    #: A problem of the log as a whole (its end), not of one record.
    whole_log: bool = False

    def __str__(self) -> str:
        if self.whole_log:
            return f"runs.jsonl: {self.reason}"
        what = f"{self.step} run {self.run_id}" if self.run_id else "a line"
        return f"runs.jsonl line {self.line} ({what}): {self.reason}"


@dataclass(frozen=True)
class LogVerification:
    """The run log, checked: the records that hold, and the lines that do not."""

    path: Path
    records: list[RunRecord]
    problems: list[LogProblem]
    #: Lines written before mlready chained its log (or by hand): not trusted, not an alteration.
    unchained: int = 0

    @property
    def altered(self) -> bool:
        """Whether any chained line was edited, moved, copied or its files changed."""
        return any(p.reason != UNCHAINED for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "records": len(self.records),
            "trusted": len(self.records),
            "altered": self.altered,
            "unchained": self.unchained,
            "problems": [{**asdict(p), "text": str(p)} for p in self.problems],
        }


UNCHAINED = "has no hash: written by hand or by an mlready older than the hash chain"


def verify_run_log(
    artifacts_dir: Path | str, project_id: str | None = None, *, check_artifacts: bool = True
) -> LogVerification:
    """Check the run log's chain, each record's own hash, its run folder's files and (given a
    project identity) that it belongs to this project. Only the records that hold are kept."""
    from mlready.io import sha256_file

    artifacts = Path(artifacts_dir)
    log = artifacts / RUN_LOG
    if not log.is_file():
        return LogVerification(log, [], [])
    known = set(RunRecord.__dataclass_fields__)
    records: list[RunRecord] = []
    problems: list[LogProblem] = []
    seen: set[str] = set()
    run_ids: set[str] = set()
    chained, last_hash = 0, None
    unchained = 0
    previous: str | None = None
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        # a chained record follows the last chained one: a torn or hand-written line between
        # them is reported on its own, it does not break the chain (the head skips it too)
        link = last_hash if last_hash is not None else _link_of(previous)
        previous = line
        try:
            payload = json.loads(line)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            problems.append(LogProblem(number, None, None, "cannot be read as a JSON record"))
            continue
        run_id = payload.get("run_id") if isinstance(payload.get("run_id"), str) else None
        step = payload.get("step") if isinstance(payload.get("step"), str) else None

        def problem(
            reason: str, number: int = number, run_id: str | None = run_id, step: Any = step
        ) -> None:
            problems.append(LogProblem(number, run_id, step, reason))

        if not isinstance(payload.get("hash"), str):
            unchained += 1
            problem(UNCHAINED)
            continue
        chained, last_hash = chained + 1, payload["hash"]
        if record_hash(payload) != payload["hash"]:
            problem("was edited after it was written (its content does not match its hash)")
            continue
        if payload["hash"] in seen:
            problem("is a copy of an earlier record")
            continue
        seen.add(payload["hash"])
        if payload.get("prev") != link:
            problem(
                "is out of place: the record before it is not the one it was written after "
                "(lines were inserted, removed, copied or reordered)"
            )
            continue
        try:
            record = RunRecord(**{k: v for k, v in payload.items() if k in known})
        except TypeError as error:
            problem(f"is missing fields ({error})")
            continue
        if record.run_dir != f"runs/{record.step}/{record.run_id}":
            problem(f"points at {record.run_dir!r}, not its own run folder")
            continue
        if record.run_id in run_ids:
            problem("repeats the run id of an earlier record")
            continue
        run_ids.add(record.run_id)
        if project_id is not None and (record.provenance or {}).get("project_id") != project_id:
            other = (record.provenance or {}).get("project") or "another project"
            problem(f"belongs to {other}, not this project (another spec wrote it)")
            continue
        if check_artifacts and isinstance(record.artifacts, dict):
            folder = artifacts / str(record.run_dir)
            changed = []
            for name, digest in sorted(record.artifacts.items()):
                path = folder / name
                try:
                    if sha256_file(path) != digest:
                        changed.append(f"{name} changed")
                except OSError:
                    changed.append(f"{name} is missing")
            if changed:
                shown = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
                problem(f"its files no longer match what it recorded: {shown}")
                continue
        records.append(record)
    head = _read_head(artifacts)
    end = len(lines) + 1
    if not chained:
        pass  # an empty log (or one with no chained record) has no end to check
    elif head is None:
        problems.append(
            LogProblem(
                end, None, None, f"the log's head ({RUN_LOG_HEAD}) is missing or unreadable", True
            )
        )
    elif _head_caught_up(lines, head) is not None:
        pass  # its last writer was killed before it wrote the head: nothing is missing
    elif head is not None and (head["last"] != last_hash or head["count"] != chained):
        cut = head["count"] > chained
        problems.append(
            LogProblem(
                end,
                None,
                None,
                f"the log does not end where its head says: the head names {head['count']} "
                f"chained records ending with {head['last'][:12]}, the log holds {chained}"
                + (" (records were cut from its end)" if cut else ""),
                True,
            )
        )
    return LogVerification(log, records, problems, unchained)


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


#: How many of each step's latest run folders a new run looks through for the temporary files
#: of a killed run (the run killed is, nearly always, the last of its step).
CLEANED_RUNS = 20


def _clean_killed_runs(runs_folder: Path, current: str) -> None:
    """Remove the temporary files that killed runs left in their run folders."""
    from mlready.io import remove_stale_temps

    for step in STEPS:
        try:
            names = sorted(e.name for e in os.scandir(runs_folder / step) if e.name != current)
        except OSError:
            continue
        for name in names[-CLEANED_RUNS:]:
            remove_stale_temps(runs_folder / step / name)


@contextlib.contextmanager
def start_run(artifacts_dir: Path | str, step: str, loaded: Any = None) -> Iterator[Run]:
    """Open a run folder with its own log file; on exit, append the run's record to the run log,
    with its provenance (``loaded``: the project's LoadedSpec) and the hashes of its files.

    An exception inside the block is recorded as status ``error`` with its exit code, then raised.
    """
    from mlready import __version__

    artifacts = Path(artifacts_dir)
    started = dt.datetime.now(dt.timezone.utc)
    run_id = new_run_id(started)
    folder = run_dir(artifacts, step, run_id)
    folder.mkdir(parents=True, exist_ok=False)
    _clean_killed_runs(folder.parent.parent, run_id)
    logger = logging.getLogger(f"mlready.run.{step}.{run_id}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = True  # the CLI's --verbose handler on "mlready" shows it too
    handler = logging.FileHandler(folder / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    run = Run(step, run_id, artifacts, folder, logger, started)
    if loaded is not None:
        origin = provenance(loaded, artifacts)
    else:
        ci = ci_run()
        origin = {
            "user": current_user(),
            "host": platform.node(),
            "ci": ci,
            "scheduled": _scheduled(ci, os.environ),
        }
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
            provenance=origin,
            artifacts=hash_folder(folder),
        )
        append_record(artifacts, record)
