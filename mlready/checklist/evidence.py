"""Everything the readiness report reads, gathered once: the run log, each training run's
metadata, the registry and the repository. Nothing here writes or creates."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlready.runs import LogVerification, RunRecord, git_output, identity_of, verify_run_log

__all__ = ["Evidence", "RegistryFacts", "RepoFacts", "gather", "registry_facts"]

#: Training runs whose metadata is read (the newest ones); older runs still count in the log.
MAX_TRAIN_METADATA = 50

#: Files that mean "a CI system runs this repository", as git pathspecs.
CI_PATHSPECS = (
    ".github/workflows",
    ".gitlab-ci.yml",
    "Jenkinsfile",
    ".circleci",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    ".buildkite",
    ".ci",
)
TEST_PATHSPECS = (":(glob)**/test_*.py", ":(glob)**/*_test.py", ":(glob)**/tests/**/*.py")


@dataclass(frozen=True)
class RepoFacts:
    """What git says about the project's repository."""

    root: str | None  # None: the spec is not in a git repository (or git is missing)
    spec_tracked: bool = False
    spec_clean: bool = False
    commit: str | None = None
    ci_files: tuple[str, ...] = ()  # CI configuration files that run mlready
    test_ci_files: tuple[str, ...] = ()  # CI configuration files that run tests
    test_files: int = 0  # test files in the project's folder
    note: str = ""


@dataclass(frozen=True)
class RegistryFacts:
    """The registered model's versions, aliases and the decisions that moved them."""

    model_name: str
    error: str | None = None  # the registry could not be read
    exists: bool = False
    versions: tuple[Any, ...] = ()
    production: Any = None  # the Version the production alias points to
    aliases: tuple[tuple[str, int], ...] = ()  # (alias, version), by alias
    history: tuple[dict[str, Any], ...] = ()
    previous: int | None = None  # the version a rollback would restore
    previous_artifact_ok: bool = False
    production_artifact_ok: bool = False


@dataclass
class Evidence:
    """The project's evidence, read once and shared by every item."""

    loaded: Any
    artifacts: Path
    runs: dict[str, list[RunRecord]]  # finished runs (passed or failed) per step, oldest first
    broken: dict[str, list[RunRecord]]  # runs that ended in an error, per step
    train: list[tuple[RunRecord, dict[str, Any]]]  # train runs with their metadata.json
    registry: RegistryFacts
    repo: RepoFacts
    #: The run log as checked: records left out (edited, out of place, foreign, unchained).
    log: LogVerification | None = None
    _json: dict[Path, Any] = field(default_factory=dict)

    @property
    def spec(self) -> Any:
        return self.loaded.spec

    @property
    def model_run(self) -> tuple[RunRecord, dict[str, Any]] | None:
        """The training run the report judges the model by: production's own, else the newest
        that passed, else the newest."""
        if not self.train:
            return None
        production = self.registry.production
        if production is not None:
            for record, metadata in reversed(self.train):
                if record.run_id == production.run_id:
                    return record, metadata
        passed = [t for t in self.train if t[0].status == "passed"]
        return (passed or self.train)[-1]

    def step(self, name: str) -> list[RunRecord]:
        """Finished runs of one step, oldest first."""
        return self.runs.get(name, [])

    def path_of(self, record: RunRecord, name: str = "") -> Path:
        """A file in a run's folder."""
        folder = self.artifacts / record.run_dir
        return folder / name if name else folder

    def shown(self, path: Path | str) -> str:
        """A path as a reader finds it: relative to the spec's folder when it is inside it."""
        target = Path(path)
        try:
            return str(target.resolve().relative_to(self.loaded.base_dir.resolve()))
        except ValueError:
            return str(target)

    def run_json(self, record: RunRecord, name: str) -> Any:
        """A JSON file a run wrote, or None when it is missing or unreadable."""
        path = self.path_of(record, name)
        if path not in self._json:
            try:
                self._json[path] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._json[path] = None
        return self._json[path]


def gather(loaded: Any) -> Evidence:
    """Read the project's evidence (never creates a registry or any file)."""
    artifacts = Path(loaded.spec.project.artifacts_dir)
    runs: dict[str, list[RunRecord]] = {}
    broken: dict[str, list[RunRecord]] = {}
    identity = identity_of(loaded)
    checked = verify_run_log(artifacts, identity)
    for record in checked.records:
        target = runs if record.status in ("passed", "failed") else broken
        target.setdefault(record.step, []).append(record)
    evidence = Evidence(
        loaded=loaded,
        artifacts=artifacts,
        runs=runs,
        broken=broken,
        train=[],
        registry=registry_facts(loaded),
        repo=_repo(loaded.path),
        log=checked,
    )
    for record in runs.get("train", [])[-MAX_TRAIN_METADATA:]:
        metadata = evidence.run_json(record, "metadata.json")
        if isinstance(metadata, dict):
            evidence.train.append((record, metadata))
    return evidence


def _repo(spec_path: Path) -> RepoFacts:
    import shutil

    if shutil.which("git") is None:
        return RepoFacts(root=None, note="git is not installed, so the repository was not read")
    folder = spec_path.resolve().parent
    top = git_output(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return RepoFacts(root=None, note=f"{folder} is not in a git repository")
    root = Path(top.strip())
    spec = str(spec_path.resolve())
    tracked = git_output(root, "ls-files", "--error-unmatch", "--", spec) is not None
    status = git_output(root, "status", "--porcelain", "--", spec)
    commit = (git_output(root, "rev-parse", "HEAD") or "").strip() or None
    ci = (git_output(root, "ls-files", "--", *CI_PATHSPECS) or "").split()
    # a monorepo's other tests say nothing about this project: count the project folder's
    tests = (git_output(folder, "ls-files", "--", *TEST_PATHSPECS) or "").split()
    runs_mlready, runs_tests = [], []
    for name in sorted(ci):
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace").lower()
        except OSError:
            continue
        if "mlready" in text:
            runs_mlready.append(name)
        if "test" in text:
            runs_tests.append(name)
    return RepoFacts(
        root=str(root),
        spec_tracked=tracked,
        spec_clean=tracked and status is not None and not status.strip(),
        commit=commit,
        ci_files=tuple(runs_mlready),
        test_ci_files=tuple(runs_tests),
        test_files=len(tests),
    )


def _mlready_tables(url: str) -> bool | None:
    """Whether a SQLite registry file holds mlready's tables, read without writing to it
    (None: not SQLite, ask the database)."""
    import sqlite3

    if not url.startswith("sqlite:///"):
        return None
    path = Path(url[len("sqlite:///") :])
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            names = {r[0] for r in connection.execute("select name from sqlite_master")}
        finally:
            connection.close()
    except (OSError, sqlite3.Error):
        return False
    return "mlready_versions" in names


def registry_facts(loaded: Any) -> RegistryFacts:
    """The spec's registered model, read without creating or changing anything."""
    from mlready.errors import MlreadyError
    from mlready.io import sha256_file
    from mlready.registry import ModelRef, Registry, registry_location
    from mlready.registry.db import redact

    name = loaded.spec.model_name
    url, store = registry_location(loaded)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return RegistryFacts(model_name=name)  # nothing registered yet; do not create it
    if _mlready_tables(url) is False:
        return RegistryFacts(
            model_name=name,
            error=f"{redact(url)} is not an mlready registry (no mlready tables)",
        )
    try:
        registry = Registry(url, store, create=False)  # the report reads; it never creates
        if name not in registry.model_names():
            return RegistryFacts(model_name=name)
        versions = registry.list_versions(name)
        history = registry.history_of(name)
        production = None
        aliases = registry.aliases_of(name)
        if "production" in aliases:
            production = registry.resolve(ModelRef(name=name, alias="production"))
        previous = registry.previous_version(name, "production")
    except MlreadyError as error:
        return RegistryFacts(model_name=name, error=f"{redact(url)}: {error}")
    except Exception as error:  # a database that cannot be reached is evidence, not a crash
        return RegistryFacts(
            model_name=name, error=f"{redact(url)}: {type(error).__name__}: {error}"[:300]
        )

    def intact(version: Any) -> bool:
        path = Path(version.artifact_uri)
        return path.is_file() and sha256_file(path) == version.sha256

    by_number = {v.version: v for v in versions}
    return RegistryFacts(
        model_name=name,
        exists=True,
        versions=tuple(versions),
        production=production,
        aliases=tuple(sorted(aliases.items())),
        history=tuple(history),
        previous=previous,
        previous_artifact_ok=previous in by_number and intact(by_number[previous]),
        production_artifact_ok=production is not None and intact(production),
    )
