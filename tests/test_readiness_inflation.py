"""The readiness score cannot be inflated: each recipe that once raised it without the work
(attesting everything, rerunning by hand, copying, editing or forging run log lines, borrowing
another project's evidence, failing items that kept their points) leaves the score where it was,
and the report says why."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlready.checklist import readiness
from mlready.checklist.report import render_html, render_markdown
from mlready.checklist.rubric import ITEMS
from mlready.runs import RUN_LOG, record_hash, verify_run_log
from mlready.spec import load_spec
from tests.test_checklist import SUMMARIES, write_run

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample spec without attestations, its artifacts folder empty."""
    from tests.conftest import SAMPLE

    folder = tmp_path / "project"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".mlready", "predictions"))
    text = (folder / "mlready.yaml").read_text()
    text = text[: text.index("checklist:")] + "checklist:\n  pass_bar: 1.0\n"
    (folder / "mlready.yaml").write_text(text)
    (folder / ".mlready").mkdir()
    return folder


def _pipeline(folder: Path, rounds: int, *, ci: str | None) -> None:
    for n in range(1, rounds + 1):
        for step in SUMMARIES:
            write_run(folder / ".mlready", step, n, ci=ci)


def _score(folder: Path) -> tuple[float, float]:
    result = readiness(load_spec(folder), now=NOW)
    return result.final_score, result.in_place_score


def _attest(folder: Path, items: list[str], *, date: str = "2026-11-01", evidence: str) -> None:
    spec = folder / "mlready.yaml"
    lines = ["  attestations:"]
    for item in items:
        lines.append(f"    - {{item: {item}, by: Dana, date: {date}, evidence: '{evidence}'}}")
    spec.write_text(spec.read_text() + "\n".join(lines) + "\n")


# ------------------------------------------------------------------------------ attestations


def test_attesting_every_item_of_a_project_with_no_runs_does_not_raise_the_headline(
    project: Path,
) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "review.md").write_text("reviewed\n")
    before = _score(project)
    _attest(project, list(ITEMS), evidence="docs/review.md")
    result = readiness(load_spec(project), now=NOW)
    assert before == (0.0, 0.0)
    assert result.final_score == 0.0, "attestations of checkable items do not pass anything"
    assert result.in_place_score == 3.5, "they count as in place, at 0.5 each"
    assert {i.status for i in result.items} == {"attested"}
    assert all(i.points <= 0.5 for i in result.items)
    html = render_html(result)
    assert "not verified" in html
    assert "Passes now" in html
    assert "In place" in html
    assert "research project" in html.lower()


@pytest.mark.parametrize(
    ("date", "evidence", "words"),
    [
        ("2026-12-25", "docs/review.md", "in the future"),
        ("2025-01-01", "docs/review.md", "expired"),
        ("2026-11-01", "docs/nothing-here.md", "not a file"),
    ],
)
def test_an_attestation_that_does_not_hold_is_ignored_with_a_warning(
    project: Path, date: str, evidence: str, words: str
) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "review.md").write_text("reviewed\n")
    _attest(project, ["data-5"], date=date, evidence=evidence)
    result = readiness(load_spec(project), now=NOW)
    item = next(i for i in result.items if i.id == "data-5")
    assert (item.points, item.status, item.attestation) == (0.0, "not done", None)
    assert any(words in w and "data-5" in w for w in result.warnings), result.warnings


def test_an_attestation_with_a_url_holds_and_its_file_evidence_is_hashed(project: Path) -> None:
    _attest(project, ["data-6"], evidence="https://wiki.example.com/privacy")
    item = next(i for i in readiness(load_spec(project), now=NOW).items if i.id == "data-6")
    assert (item.points, item.passing_points, item.status) == (0.5, 0.5, "attested")


def test_an_attestation_never_speaks_over_evidence_that_the_item_fails(project: Path) -> None:
    (project / "review.md").write_text("it is fine\n")
    _pipeline(project, 1, ci="github")
    write_run(project / ".mlready", "serve-batch", 2, ci="github", nan_predictions=5)
    _attest(project, ["monitor-5"], evidence="review.md")
    result = readiness(load_spec(project), now=NOW)
    item = next(i for i in result.items if i.id == "monitor-5")
    assert item.status == "failing"
    assert item.attestation is None
    assert item.passing_points == 0
    assert any("monitor-5" in w and "fails" in w for w in result.warnings)


def test_the_ceiling_of_attestation_only_items_is_stated(project: Path) -> None:
    result = readiness(load_spec(project), now=NOW)
    assert result.ceiling == 6.0
    assert set(result.ceiling_items) == {"data-5", "data-6", "model-7"}
    assert "highest score possible is 6.0" in render_html(result)


# ----------------------------------------------------------------------------- repetition


def test_running_the_steps_again_by_hand_does_not_raise_the_score(project: Path) -> None:
    _pipeline(project, 1, ci=None)
    once = _score(project)
    _pipeline(project, 2, ci=None)  # two more rounds, on other days and commits, all by hand
    result = readiness(load_spec(project), now=NOW)
    assert (result.final_score, result.in_place_score) == once
    by_hand = [i for i in result.items if i.automated and i.points]
    assert by_hand
    assert all(i.points == 0.5 for i in by_hand)
    assert all(i.needs_ci for i in by_hand if i.sources)
    assert "Points that need CI" in render_html(result)


def test_ci_runs_on_the_same_commit_the_same_day_are_not_a_repetition(project: Path) -> None:
    artifacts = project / ".mlready"
    for _ in range(3):  # the same round, three times a minute apart: one commit, one day
        for step in SUMMARIES:
            write_run(artifacts, step, 1, ci="github")
    result = readiness(load_spec(project), now=NOW)
    assert max(i.points for i in result.items if i.automated) == 0.5
    _pipeline(project, 2, ci="github")  # CI on a second commit, the next day
    assert readiness(load_spec(project), now=NOW).in_place_score > result.in_place_score


def test_three_reports_on_the_same_evidence_give_the_same_score(project: Path, run_cli) -> None:
    _pipeline(project, 2, ci="github")
    scores = []
    for _ in range(3):
        result = run_cli("--json", "--spec", str(project), "checklist-report", "--fail-under", "0")
        payload = json.loads(result.stdout)
        scores.append((payload["final_score"], payload["in_place_score"]))
    assert len(set(scores)) == 1, scores


# ---------------------------------------------------------------------------- the run log


def _lines(folder: Path) -> list[str]:
    return (folder / ".mlready" / RUN_LOG).read_text().splitlines()


def _write_lines(folder: Path, lines: list[str]) -> None:
    (folder / ".mlready" / RUN_LOG).write_text("\n".join(lines) + "\n")


def test_copied_lines_do_not_raise_the_score_and_the_report_says_the_log_was_altered(
    project: Path,
) -> None:
    _pipeline(project, 1, ci="github")
    before = _score(project)
    lines = _lines(project)
    _write_lines(project, lines + lines)  # every record twice
    result = readiness(load_spec(project), now=NOW)
    assert (result.final_score, result.in_place_score) == before
    assert result.log["altered"]
    assert any("altered" in w for w in result.warnings)
    assert "The run log was altered" in render_html(result)
    assert "was altered" in render_markdown(result)


def test_an_edited_record_is_left_out(project: Path) -> None:
    _pipeline(project, 1, ci="github")
    lines = _lines(project)
    record = json.loads(lines[0])
    record["summary"]["failed"] = 0
    record["summary"]["passed"] = True
    record["status"] = "passed"
    record["started_at"] = "2026-11-09T00:00:00+00:00"  # pretend it ran on another day
    lines[0] = json.dumps(record)
    _write_lines(project, lines)
    checked = verify_run_log(project / ".mlready")
    assert [p.line for p in checked.problems] == [1]
    assert "edited" in checked.problems[0].reason
    assert len(checked.records) == len(lines) - 1


def test_reordered_lines_are_named(project: Path) -> None:
    _pipeline(project, 1, ci="github")
    lines = _lines(project)
    lines[1], lines[2] = lines[2], lines[1]
    _write_lines(project, lines)
    checked = verify_run_log(project / ".mlready")
    assert checked.altered
    assert all("out of place" in p.reason for p in checked.problems)


def test_hand_written_lines_claiming_ci_are_not_scored(project: Path) -> None:
    _pipeline(project, 1, ci=None)
    before = _score(project)
    forged = []
    for n in (2, 3):  # two check-drift runs "from GitHub CI", written by hand
        line = json.loads(_lines(project)[-2])
        line.update(run_id=f"forged-{n}", started_at=f"2026-11-0{n}T00:00:00+00:00", ci="github")
        line["provenance"]["ci"] = {"system": "github", "run_id": str(n), "url": None}
        line.pop("hash")
        forged.append(json.dumps(line))
    _write_lines(project, _lines(project) + forged)
    assert _score(project) == before
    checked = verify_run_log(project / ".mlready")
    assert checked.unchained == 2


def test_a_changed_artifact_leaves_its_record_out(project: Path) -> None:
    _pipeline(project, 1, ci="github")
    [metadata] = (project / ".mlready" / "runs" / "train").glob("*/metadata.json")
    payload = json.loads(metadata.read_text())
    payload["model"]["search"]["candidates"] = 40
    metadata.write_text(json.dumps(payload))
    checked = verify_run_log(project / ".mlready")
    assert len(checked.problems) == 1
    assert "metadata.json changed" in checked.problems[0].reason


def test_the_chain_holds_for_records_the_library_writes(project: Path) -> None:
    _pipeline(project, 2, ci="github")
    checked = verify_run_log(project / ".mlready")
    assert checked.problems == []
    lines = _lines(project)
    assert json.loads(lines[0])["prev"] == ""
    for before, after in itertools.pairwise(lines):
        assert json.loads(after)["prev"] == json.loads(before)["hash"]
        assert record_hash(json.loads(after)) == json.loads(after)["hash"]


def test_runs_verify_exits_4_on_an_altered_log(project: Path, run_cli) -> None:
    _pipeline(project, 1, ci="github")
    assert run_cli("--spec", str(project), "runs", "verify").exit_code == 0
    _write_lines(project, _lines(project) + _lines(project)[:1])
    result = run_cli("--spec", str(project), "runs", "verify")
    assert result.exit_code == 4
    assert "copy of an earlier record" in result.stdout + result.stderr
    assert "was altered" in result.stderr
    as_json = run_cli("--json", "--spec", str(project), "runs", "verify")
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is False


# ------------------------------------------------------------------------- foreign evidence


def test_another_projects_artifacts_dir_scores_nothing_with_a_warning(project: Path) -> None:
    _pipeline(project, 2, ci="github")
    other = project.parent / "other"
    shutil.copytree(project, other, ignore=shutil.ignore_patterns(".mlready"))
    spec = other / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace(
            "artifacts_dir: .mlready", f"artifacts_dir: {project / '.mlready'}", 1
        )
    )
    assert load_spec(other).spec.project.artifacts_dir == str(project / ".mlready")
    result = readiness(load_spec(other), now=NOW)
    assert result.in_place_score == 0.0
    assert any("another project" in w for w in result.warnings), result.warnings
    assert result.log["foreign"] > 0


def test_a_moved_project_keeps_its_evidence(project: Path) -> None:
    _pipeline(project, 2, ci="github")
    before = _score(project)
    moved = project.parent / "elsewhere" / "project"
    moved.parent.mkdir()
    shutil.move(str(project), str(moved))
    assert _score(moved) == before


# --------------------------------------------------------------------------- failing items


def test_failing_items_earn_nothing_in_the_headline(project: Path) -> None:
    _pipeline(project, 2, ci="github")
    clean = readiness(load_spec(project), now=NOW)
    write_run(project / ".mlready", "serve-batch", 3, ci="github", nan_predictions=4)
    failing = readiness(load_spec(project), now=NOW)
    item = next(i for i in failing.items if i.id == "monitor-5")
    assert (item.status, item.points, item.passing_points) == ("failing", 1.0, 0.0)
    assert failing.final_score <= clean.final_score
    monitor = next(s for s in failing.sections if s.key == "monitor")
    assert monitor.passing_scaled == monitor.scaled - 1


def test_the_headline_is_coloured_by_band_not_by_the_pass_bar(project: Path) -> None:
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text().replace("pass_bar: 1.0", "pass_bar: 0.0"))
    result = readiness(load_spec(project), now=NOW)
    assert result.passed  # 0.0 meets a bar of 0 ...
    html = render_html(result)
    headline = html[html.index('id="passing-now"') :][:300]
    assert 'class="big fail"' in headline  # ... and is still drawn as the research project it is


# ------------------------------------------------------------------ what a review still found


def _rewrite(project: Path, change: Any) -> None:
    """Write the log anew through the library, each record changed first (so it holds)."""
    from mlready.runs import append_record

    artifacts = project / ".mlready"
    records = [json.loads(line) for line in _lines(project)]
    (artifacts / "runs.jsonl").unlink()
    (artifacts / "runs.head.json").unlink()
    for number, record in enumerate(records):
        change(number, record)
        append_record(artifacts, {k: v for k, v in record.items() if k not in ("hash", "prev")})


def test_records_cut_from_the_end_of_the_log_are_noticed(project: Path) -> None:
    _pipeline(project, 1, ci="github")
    write_run(project / ".mlready", "serve-batch", 2, ci="github", nan_predictions=4)
    failing = readiness(load_spec(project), now=NOW)
    assert next(i for i in failing.items if i.id == "monitor-5").status == "failing"
    _write_lines(project, _lines(project)[:-1])  # the failing run, cut off
    checked = verify_run_log(project / ".mlready")
    assert checked.altered
    assert "cut from its end" in checked.problems[-1].reason
    result = readiness(load_spec(project), now=NOW)
    assert result.log["altered"]
    # and the next record chains to the one that was cut, so the cut stays visible
    write_run(project / ".mlready", "validate-data", 3, ci="github")
    assert verify_run_log(project / ".mlready").altered


def test_a_record_with_a_borrowed_run_folder_or_a_repeated_run_id_is_left_out(
    project: Path,
) -> None:
    from mlready.runs import append_record

    _pipeline(project, 1, ci="github")
    [record] = [json.loads(line) for line in _lines(project) if '"validate-data"' in line][:1]
    for change in ({"run_id": "20261109T000000Z-aaaaaa"}, {}):  # folder of another run; same id
        forged = {k: v for k, v in record.items() if k not in ("hash", "prev")}
        forged.update(change, started_at="2026-11-09T00:00:00+00:00")
        append_record(project / ".mlready", forged)
    reasons = [p.reason for p in verify_run_log(project / ".mlready").problems]
    assert any("not its own run folder" in r for r in reasons), reasons
    assert any("repeats the run id" in r for r in reasons), reasons


def test_a_copied_log_of_another_project_with_the_same_name_is_foreign(project: Path) -> None:
    assert "id: 5f2c9a1e7b3d4c60" in (project / "mlready.yaml").read_text()
    _pipeline(project, 2, ci="github")
    other = project.parent / "other"
    shutil.copytree(project, other)  # the whole folder, log included ...
    text = (other / "mlready.yaml").read_text()
    (other / "mlready.yaml").write_text(text.replace("5f2c9a1e7b3d4c60", "fedcba9876543210"))
    result = readiness(load_spec(other), now=NOW)  # ... under another project id
    assert result.in_place_score == 0.0
    assert result.log["foreign"] > 0


def test_an_empty_commit_is_no_repetition(project: Path) -> None:
    artifacts = project / ".mlready"
    for _ in (1, 2):
        for step in SUMMARIES:
            write_run(artifacts, step, 1, ci="github")  # one day ...

    def one_tree(number: int, record: dict) -> None:  # ... two commits, one tree
        record["provenance"]["git_commit"] = f"{number % 2:040d}"
        record["provenance"]["git_tree"] = "t" * 40

    _rewrite(project, one_tree)
    result = readiness(load_spec(project), now=NOW)
    assert not result.log["altered"]
    assert max(i.points for i in result.items if i.automated) == 0.5


@pytest.mark.parametrize(
    ("evidence", "words"),
    [("empty.md", "an empty file"), ("/etc/hostname", "outside the project")],
)
def test_placeholder_attestation_evidence_is_refused(
    project: Path, evidence: str, words: str
) -> None:
    (project / "empty.md").write_text("  \n")
    _attest(project, ["data-6"], evidence=evidence)
    result = readiness(load_spec(project), now=NOW)
    item = next(i for i in result.items if i.id == "data-6")
    assert item.points == 0
    assert any(words in w for w in result.warnings), result.warnings


def test_a_bare_ci_claim_is_shown_as_a_claim(project: Path) -> None:
    _pipeline(project, 1, ci="ci")

    def bare(number: int, record: dict) -> None:  # CI=true names no run
        record["provenance"]["ci"]["run_id"] = None

    _rewrite(project, bare)
    result = readiness(load_spec(project), now=NOW)
    html = render_html(result)
    data_1 = next(i for i in result.items if i.id == "data-1")
    assert data_1.sources
    assert "claimed: no run id to check" in html


def test_gaps_never_name_an_item_with_nothing_to_gain(project: Path) -> None:
    (project / "review.md").write_text("reviewed\n")
    _attest(project, ["data-5", "data-6", "model-7"], evidence="review.md")
    _pipeline(project, 2, ci="github")
    result = readiness(load_spec(project), now=NOW)
    assert result.gaps
    assert all(g["gain"] > 0 or g["status"] == "failing" for g in result.gaps), result.gaps


def test_a_log_deleted_on_purpose_starts_a_new_chain(project: Path) -> None:
    _pipeline(project, 1, ci="github")
    (project / ".mlready" / "runs.jsonl").unlink()  # the user starts the evidence afresh
    assert not verify_run_log(project / ".mlready").problems
    write_run(project / ".mlready", "validate-data", 2, ci="github")
    checked = verify_run_log(project / ".mlready")
    assert checked.problems == []
    assert len(checked.records) == 1
