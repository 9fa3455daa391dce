"""Provenance decides the points: the same steps run by CI on two commits earn what a person
running them twice on a laptop cannot, and the laptop's report says which points need CI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mlready.checklist import readiness
from mlready.checklist.report import render_html
from mlready.runs import read_run_log
from mlready.spec import load_spec
from tests.conftest import SAMPLE


def _copy(target: Path) -> Path:
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(".mlready", "predictions"))
    return target


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


@pytest.mark.slow
def test_ci_on_two_commits_earns_the_points_that_runs_by_hand_cannot(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop = _copy(tmp_path / "laptop" / "sample_project")
    for _ in range(2):  # by hand, twice
        result = run_cli(
            "--quiet", "--spec", str(laptop), "run", "--until", "validate-data", "--force"
        )
        assert result.exit_code == 0, result.stderr

    repo = tmp_path / "repo"
    clone = _copy(repo / "sample_project")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/churn")
    for run_id in ("101", "102"):
        monkeypatch.setenv("GITHUB_RUN_ID", run_id)
        result = run_cli("--quiet", "--spec", str(clone), "run", "--until", "validate-data")
        assert result.exit_code == 0, result.stderr
        (repo / "NOTES.md").write_text(f"change {run_id}\n")
        _git(repo, "add", ".")
        _git(repo, "commit", "-qm", f"after {run_id}")
    # CI reran every step on the second commit: nothing was skipped into "repeated"
    records = read_run_log(clone / ".mlready", "validate-data")
    assert len({r.provenance["git_commit"] for r in records}) == 2
    assert records[-1].provenance["ci"] == {
        "system": "github",
        "run_id": "102",
        "url": "https://github.com/acme/churn/actions/runs/102",
        "event": None,
    }
    assert records[-1].provenance["spec_committed"] is True

    monkeypatch.delenv("GITHUB_ACTIONS")
    by_ci = {i.id: i for i in readiness(load_spec(clone)).items}
    hand_result = readiness(load_spec(laptop))
    by_hand = {i.id: i for i in hand_result.items}
    assert by_ci["data-1"].points == 1.0
    assert by_hand["data-1"].points == 0.5
    assert sum(i.points for i in by_ci.values()) > sum(i.points for i in by_hand.values())
    assert by_ci["data-1"].sources[-1]["ci_url"].endswith("/actions/runs/102")
    assert by_hand["data-1"].needs_ci
    assert not by_ci["data-1"].needs_ci
    html = render_html(hand_result)
    assert "Points that need CI" in html
    assert "by hand" in html


def test_a_run_records_its_provenance(tmp_path: Path, run_cli, monkeypatch) -> None:
    project = _copy(tmp_path / "p")
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_PIPELINE_ID", "77")
    monkeypatch.setenv("CI_JOB_URL", "https://gitlab.example.com/acme/churn/-/jobs/9")
    monkeypatch.setenv("CI_PIPELINE_SOURCE", "schedule")
    monkeypatch.setenv("MLREADY_USER", "ana")
    assert run_cli("--quiet", "--spec", str(project), "validate-data").exit_code == 0
    [record] = read_run_log(project / ".mlready")
    found = record.provenance
    assert found["ci"] == {
        "system": "gitlab",
        "run_id": "77",
        "url": "https://gitlab.example.com/acme/churn/-/jobs/9",
        "event": "schedule",
    }
    assert found["scheduled"] is True
    assert found["user"] == "ana"
    assert found["project"] == "telco-churn"
    assert found["git_commit"] is None  # not a git repository
    assert len(found["spec_sha256"]) == 64
    line = json.loads((project / ".mlready" / "runs.jsonl").read_text().splitlines()[0])
    assert set(line["artifacts"]) >= {"run.log", "validation.json"}
