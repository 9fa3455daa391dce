"""mlready.pipeline.run_pipeline with stand-in commands: the order, the stop rules, interrupts,
and what a run leaves for the next one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlready.errors import DataError
from mlready.pipeline import STEPS, Plan, run_pipeline
from mlready.runs import start_run
from mlready.spec import load_spec
from tests.conftest import SAMPLE


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    shutil.copytree(
        SAMPLE, tmp_path / "p", ignore=shutil.ignore_patterns(".mlready", "predictions")
    )
    return Plan(load_spec(tmp_path / "p"))


def _recording(plan: Plan, step: str, code: int = 0):
    """A stand-in command that records a run of ``step`` in the run log, like the real one."""

    def command() -> int:
        with start_run(plan.artifacts, step) as run:
            if code:
                run.fail(code)
        return code

    return command


def test_steps_run_in_order_and_are_remembered(plan: Plan) -> None:
    order: list[str] = []

    def command(step: str):
        def call() -> int:
            order.append(step)
            return _recording(plan, step)()

        return call

    steps = ["validate-data", "train"]
    result = run_pipeline(plan, steps, {s: command(s) for s in steps})
    assert (result.exit_code, order) == (0, steps)
    assert [o.status for o in result.outcomes] == ["ran", "ran"]
    assert set(json.loads(plan.path.read_text())) == set(steps)
    again = run_pipeline(Plan(plan.loaded), steps, {s: command(s) for s in steps})
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert order == steps, "skipped steps do not run"


def test_an_interrupt_stops_the_run_and_is_accounted_for(plan: Plan) -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    commands = {"validate-data": _recording(plan, "validate-data"), "train": interrupted}
    result = run_pipeline(plan, list(STEPS[1:5]), commands)
    assert result.exit_code == 130
    assert [o.status for o in result.outcomes] == ["ran", "failed", "not run", "not run"]
    assert result.outcomes[1].reason == "interrupted"


def test_an_error_is_kept_with_its_message_and_code(plan: Plan) -> None:
    def broken() -> int:
        raise DataError("no data at x.csv: check the path")

    result = run_pipeline(plan, ["validate-data"], {"validate-data": broken})
    assert result.exit_code == 4
    assert result.outcomes[0].reason == "no data at x.csv: check the path"
    assert "validate-data" not in json.loads(plan.path.read_text() if plan.path.exists() else "{}")


def test_a_command_that_records_no_run_did_not_succeed(plan: Plan) -> None:
    result = run_pipeline(plan, ["validate-data"], {"validate-data": lambda: 0})
    assert result.exit_code == 1
    assert result.outcomes[0].status == "failed"


def test_a_drift_finding_on_an_unchanged_batch_is_not_checked_or_alerted_again(
    plan: Plan,
) -> None:
    calls: list[str] = []

    def drifted() -> int:
        calls.append("check-drift")
        return _recording(plan, "check-drift", code=1)()

    steps = ["check-drift"]
    plan.key = lambda step: "same batch, same model"  # type: ignore[method-assign]
    first = run_pipeline(plan, steps, {"check-drift": drifted})
    assert (first.exit_code, first.outcomes[0].status) == (1, "failed")
    again = Plan(plan.loaded)
    again.key = plan.key  # type: ignore[method-assign]
    second = run_pipeline(again, steps, {"check-drift": drifted})
    assert calls == ["check-drift"], "the same batch is not checked (nor alerted on) twice"
    assert second.exit_code == 1, "the finding still stands"
    assert second.outcomes[0].status == "skipped"
    assert "finding stands" in second.outcomes[0].reason
    changed = Plan(plan.loaded)
    changed.key = lambda step: "a new batch"  # type: ignore[method-assign]
    third = run_pipeline(changed, steps, {"check-drift": drifted})
    assert calls == ["check-drift", "check-drift"]
    assert third.exit_code == 1


def test_the_projects_tests_run_first_when_a_test_command_is_set(plan: Plan) -> None:
    import subprocess

    assert STEPS[0] == "test"
    assert "checklist.test_command" in plan.configured("test")
    spec = plan.loaded.path
    spec.write_text(
        spec.read_text().replace(
            "checklist:\n", "checklist:\n  test_command: pytest --junitxml={junit}\n", 1
        )
    )
    plan = Plan(load_spec(spec))
    assert plan.configured("test") == ""
    assert plan.key("test") is None, "outside git, the code cannot be known: always run"

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(spec.parent), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init")
    key = plan.key("test")
    assert key is not None
    assert Plan(load_spec(spec)).key("test") == key
    (spec.parent / "features.py").write_text("x = 1\n")  # code not committed yet
    assert plan.key("test") is None
