"""The project's own tests (checklist.test_command): run, JUnit XML read from its test cases,
recorded as a run of step "test" that the readiness report (data-7) reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlready.project_tests import read_junit
from mlready.runs import read_run_log
from tests.conftest import SAMPLE

PASSING = (
    "<testsuites><testsuite tests='99'><testcase classname='t' name='a'/>"
    "<testcase classname='t' name='b'><skipped/></testcase></testsuite></testsuites>"
)
FAILING = (
    "<testsuite><testcase classname='t' name='a'><failure message='no'/></testcase></testsuite>"
)
EMPTY = "<testsuite tests='5'></testsuite>"  # the suite's own total is not believed


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(".mlready", "predictions"))
    return target


def _command(folder: Path, xml: str) -> None:
    (folder / "report.xml").write_text(xml)
    spec = folder / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace(
            "checklist:\n", "checklist:\n  test_command: cp report.xml {junit}\n", 1
        )
    )


def test_junit_is_counted_from_its_test_cases(tmp_path: Path) -> None:
    path = tmp_path / "j.xml"
    path.write_text(PASSING)
    assert read_junit(path) == {"tests": 2, "failures": 0, "errors": 0, "skipped": 1, "failed": []}
    path.write_text(EMPTY)
    assert read_junit(path)["tests"] == 0


@pytest.mark.parametrize(
    ("xml", "code", "words"),
    [(PASSING, 0, "PASSED: 2 tests"), (FAILING, 1, "t::a"), (EMPTY, 1, "no test ran")],
)
def test_mlready_test_records_the_run(
    folder: Path, run_cli, xml: str, code: int, words: str
) -> None:
    _command(folder, xml)
    result = run_cli("--spec", str(folder), "test")
    assert result.exit_code == code, result.stderr
    assert words in result.stdout
    (record,) = read_run_log(folder / ".mlready", "test")
    assert record.status == ("passed" if code == 0 else "failed")
    junit = folder / ".mlready" / record.run_dir / "junit.xml"
    assert junit.read_text() == xml
    import hashlib

    assert record.summary["junit_sha256"] == hashlib.sha256(junit.read_bytes()).hexdigest()


def test_a_command_that_writes_no_report_is_an_error(folder: Path, run_cli) -> None:
    spec = folder / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace("checklist:\n", "checklist:\n  test_command: true {junit}\n", 1)
    )
    result = run_cli("--spec", str(folder), "test")
    assert result.exit_code == 4
    assert "wrote no JUnit XML" in result.stderr


def test_the_command_must_name_where_the_report_goes(folder: Path, run_cli) -> None:
    spec = folder / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace("checklist:\n", "checklist:\n  test_command: pytest\n", 1)
    )
    result = run_cli("--spec", str(folder), "test")
    assert result.exit_code == 3
    assert "{junit}" in result.stderr


def test_without_a_test_command_mlready_test_says_what_to_set(folder: Path, run_cli) -> None:
    result = run_cli("--spec", str(folder), "test", "--json")
    assert result.exit_code == 3
    assert "checklist.test_command is not set" in json.loads(result.stdout)["error"]
