"""--quiet hides what passed, never what failed: every command prints nothing when it passes, and
its one-line verdict with each failure on stderr when a check fails (stdout stays empty)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.serving_data import make_batch, trained_project

MONITORING = """\
monitoring:
  channels:
    broken: {type: command, command: "exit 3", retries: 0}
  alerts:
    - name: inputs-drifted
      when: dataset_drift
      severity: warning
      owner: data-team
      runbook: look at the drift report
      channels: [broken]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy project, trained and registered as production, with a good and a bad batch."""
    folder = trained_project(tmp_path_factory.mktemp("quiet") / "project")
    make_batch(200).to_csv(folder / "batch.csv", index=False)
    bad = make_batch(50)
    bad.loc[:9, "tenure"] = -5
    bad.to_csv(folder / "bad.csv", index=False)
    moved = make_batch(300, seed=11)
    moved["tenure"] = moved["tenure"] + 60
    moved["monthly_charges"] = moved["monthly_charges"] * 3
    moved["plan"] = "max"
    moved.to_csv(folder / "moved.csv", index=False)
    return folder


def _variant(project: Path, where: Path, old: str = "", new: str = "", extra: str = "") -> Path:
    """A copy of the project (its data, runs and registry) with its spec changed."""
    import shutil

    copy = where / "variant"
    shutil.copytree(project, copy)
    spec = copy / "mlready.yaml"
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new) + textwrap.dedent(extra), encoding="utf-8")
    return copy


def _quiet(run_cli, spec: Path, *args: str) -> CliResult:
    return run_cli("--quiet", "--spec", str(spec), *args)


def _failed_quietly(result: CliResult, verdict: str, *failures: str, code: int = 1) -> None:
    assert result.exit_code == code, result.stderr
    assert result.stdout == "", "stdout stays empty under --quiet"
    lines = result.stderr.splitlines()
    assert any(verdict in line for line in lines), result.stderr
    for failure in failures:
        assert any(failure in line for line in lines), (failure, result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("validate-data",),
        ("validate-data", "--data", "batch.csv"),
        ("serve-batch", "--input", "batch.csv"),
        ("check-drift", "--current", "batch.csv"),
        ("checklist-report", "--fail-under", "0"),
        ("registry", "verify"),
        ("runs", "verify"),
        ("spec", "check"),
    ],
)
def test_a_passing_command_prints_nothing(run_cli, project: Path, monkeypatch, args) -> None:
    monkeypatch.chdir(project)
    result = _quiet(run_cli, project, *args)
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


@pytest.mark.parametrize(
    "args",
    [("registry", "list"), ("registry", "show"), ("registry", "history"), ("spec", "schema")],
)
def test_a_question_is_still_answered(run_cli, project: Path, args) -> None:
    """--quiet silences reports of what was done, not the answer a command was asked for."""
    result = _quiet(run_cli, project, *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()


def test_validate_data(run_cli, project: Path) -> None:
    result = _quiet(run_cli, project, "validate-data", "--data", str(project / "bad.csv"))
    _failed_quietly(result, "FAILED: ", "tenure.range: between 0 and 100 (10 unexpected, e.g. -5)")


def test_train(run_cli, project: Path, tmp_path: Path) -> None:
    spec = _variant(project, tmp_path, "thresholds: {roc_auc: 0.7}", "thresholds: {roc_auc: 0.99}")
    result = _quiet(run_cli, spec, "train", "--no-importance")
    _failed_quietly(result, "FAILED in ", "roc_auc")


def test_train_on_data_that_breaks_its_contract(run_cli, project: Path, tmp_path: Path) -> None:
    spec = _variant(
        project,
        tmp_path,
        "tenure: {type: number, min: 0, max: 100",
        "tenure: {type: number, min: 0, max: 5",
    )
    result = _quiet(run_cli, spec, "train", "--no-importance", "--revalidate")
    _failed_quietly(result, "the training data failed", "tenure")


def test_serve_batch(run_cli, project: Path, tmp_path: Path) -> None:
    spec = _variant(
        project,
        tmp_path,
        "on_invalid: quarantine",
        "on_invalid: quarantine\n  max_reject_share: 0.1",
    )
    result = _quiet(run_cli, spec, "serve-batch", "--input", str(project / "bad.csv"))
    _failed_quietly(result, "FAILED: 40 of 50 rows scored, 10 set aside", "10")
    stopped = _quiet(run_cli, spec, "serve-batch", "--input", str(project / "bad.csv"), "--stop")
    _failed_quietly(stopped, "breaks the serving contract from row 0: tenure.range")


def test_check_drift_and_its_test_alert(run_cli, project: Path, tmp_path: Path) -> None:
    result = _quiet(run_cli, project, "check-drift", "--current", str(project / "moved.csv"))
    _failed_quietly(result, "DATASET DRIFT: ", "drift")
    spec = _variant(project, tmp_path, extra=MONITORING)
    result = _quiet(run_cli, spec, "check-drift", "--test-alert")
    _failed_quietly(
        result, "FAILED: 1 of 1 test alert deliveries failed", "inputs-drifted -> broken"
    )


def test_checklist_report(run_cli, project: Path) -> None:
    result = _quiet(run_cli, project, "checklist-report", "--fail-under", "7")
    _failed_quietly(result, "is UNDER the bar of 7")


def test_project_tests(run_cli, project: Path, tmp_path: Path) -> None:
    junit = (
        '<testsuite tests="2" failures="1"><testcase name="ok"/>'
        '<testcase name="bad"><failure/></testcase></testsuite>'
    )
    command = f"printf '%s' '{junit}' > {{junit}}; exit 1"
    spec = _variant(project, tmp_path, extra=f"checklist:\n  test_command: {json.dumps(command)}\n")
    result = _quiet(run_cli, spec, "test")
    _failed_quietly(result, "FAILED: 2 tests, 1 failed", "bad")


def test_a_promotion_the_gate_refuses(run_cli, project: Path, tmp_path: Path) -> None:
    spec = _variant(project, tmp_path, "thresholds: {roc_auc: 0.7}", "thresholds: {roc_auc: 0.99}")
    trained = _quiet(run_cli, spec, "train", "--no-importance")
    assert trained.exit_code == 1
    result = _quiet(
        run_cli,
        spec,
        "register",
        "--allow-failing",
        "--reason",
        "a test",
        "--promote",
        "production",
    )
    _failed_quietly(result, "refused: production stays where it was")
    version = json.loads(
        run_cli("--spec", str(spec), "registry", "list", "--format", "json").stdout
    )
    newest = str(version["versions"][-1]["version"])
    result = _quiet(run_cli, spec, "registry", "promote", newest)
    _failed_quietly(result, "refused: production stays where it was")


def test_run(run_cli, project: Path, tmp_path: Path) -> None:
    spec = _variant(
        project,
        tmp_path,
        "tenure: {type: number, min: 0, max: 100",
        "tenure: {type: number, min: 0, max: 5",
    )
    result = _quiet(run_cli, spec, "run", "--until", "train")
    _failed_quietly(
        result,
        "FAILED (exit 1): 0 steps ran",
        "stopped at validate-data: the training data broke the contract",
    )
    assert "FAILED: " in result.stderr  # validate-data's own verdict, on stderr too


def test_runs_verify(run_cli, project: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    log = copy / ".mlready" / "runs.jsonl"
    lines = log.read_text().splitlines()
    lines[0] = lines[0].replace('"passed"', '"failed"', 1)
    log.write_text("\n".join(lines) + "\n")
    result = _quiet(run_cli, copy, "runs", "verify", "--no-files")
    _failed_quietly(result, "problem(s)", "error: ", code=4)
