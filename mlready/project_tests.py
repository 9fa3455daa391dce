"""The project's own tests: ``checklist.test_command`` run from the spec's folder, its JUnit XML
read and kept beside the run, so that the readiness report can show the feature code is tested
(data-7) from what actually ran, not from test files or a CI file that merely exist."""

from __future__ import annotations

import logging
import shlex
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JUNIT", "TestResult", "read_junit", "run_tests"]

JUNIT = "junit.xml"


@dataclass(frozen=True)
class TestResult:
    """What one run of the project's tests found."""

    __test__ = False  # not a pytest test class

    command: str
    exit_code: int
    tests: int
    failures: int
    errors: int
    skipped: int
    junit_sha256: str
    seconds: float
    failed: list[str] = field(default_factory=list)  # the failing tests' names (20 at most)

    @property
    def passed(self) -> bool:
        """At least one test ran, none failed or errored, and the command exited 0."""
        return (
            self.tests - self.skipped >= 1
            and not self.failures
            and not self.errors
            and self.exit_code == 0
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the run log keeps it)."""
        return {**asdict(self), "passed": self.passed}


def read_junit(path: Path) -> dict[str, Any]:
    """Counts of a JUnit XML report, from its test cases (not the suites' own totals)."""
    import xml.etree.ElementTree as ET

    from mlready.errors import DataError

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        raise DataError(f"{path} is not a readable JUnit XML report: {error}") from None
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed: list[str] = []
    for case in root.iter("testcase"):
        counts["tests"] += 1
        name = f"{case.get('classname') or ''}::{case.get('name') or ''}".strip(":")
        if case.find("failure") is not None:
            counts["failures"] += 1
            failed.append(name)
        elif case.find("error") is not None:
            counts["errors"] += 1
            failed.append(name)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
    return {**counts, "failed": failed[:20]}


def run_tests(loaded: Any, run_dir: Path, logger: logging.Logger | None = None) -> TestResult:
    """Run the spec's test command with ``{junit}`` set to a file in ``run_dir``; read it."""
    from mlready.errors import DataError, SpecError
    from mlready.io import sha256_file

    log = logger or logging.getLogger("mlready.test")
    command = loaded.spec.checklist.test_command
    if command is None:
        raise SpecError(
            "checklist.test_command is not set: give the command that runs the project's tests "
            "and writes JUnit XML to {junit}, e.g. pytest tests --junitxml={junit}"
        )
    junit = Path(run_dir) / JUNIT
    shell = command.replace("{junit}", shlex.quote(str(junit.resolve())))
    log.info("running %s in %s", shell, loaded.base_dir)
    start = time.perf_counter()
    done = subprocess.run(
        shell, shell=True, cwd=loaded.base_dir, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    (Path(run_dir) / "output.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    log.info("the tests exited %s after %.1f s", done.returncode, seconds)
    if not junit.is_file():
        raise DataError(
            f"`{command}` (exit {done.returncode}) wrote no JUnit XML to {junit}: put {{junit}} "
            "where the command takes its report path, e.g. pytest --junitxml={junit}; its "
            f"output is in {Path(run_dir) / 'output.txt'}"
        )
    counts = read_junit(junit)
    return TestResult(
        command=command,
        exit_code=done.returncode,
        tests=counts["tests"],
        failures=counts["failures"],
        errors=counts["errors"],
        skipped=counts["skipped"],
        junit_sha256=sha256_file(junit),
        seconds=round(seconds, 3),
        failed=counts["failed"],
    )
