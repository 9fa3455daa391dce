"""``mlready checklist-report`` on a copy of the sample project after the whole pipeline ran, the
way `make demo` runs it; the HTML is opened in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mlready.runs import read_run_log
from tests.conftest import copy_project, mlready_subprocess

CHROMIUM = Path(os.environ.get("MLREADY_TEST_CHROMIUM", "/usr/bin/chromium"))


def _mlready(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlready_subprocess(project, *args)


pytestmark = pytest.mark.slow  # the demo project: the whole pipeline


@pytest.fixture(scope="module")
def demo(demo_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project after the pipeline (as in `make demo`) and one checklist-report:
    this module's copy of the session's, as these tests run more reports in it."""
    return copy_project(demo_project, tmp_path_factory.mktemp("checklist") / "sample_project")


def _report(project: Path) -> Path:
    [record] = read_run_log(project / ".mlready", "checklist-report")[-1:]
    return project / ".mlready" / record.run_dir


def test_every_item_shows_its_evidence_or_what_is_missing(demo: Path) -> None:
    payload = json.loads((_report(demo) / "checklist.json").read_text())
    assert len(payload["items"]) == 30
    for item in payload["items"]:
        assert item["detail"], item["id"]
        if item["status"] == "not done":
            assert item["next_action"], item["id"]
        else:
            assert item["evidence"] or item["attestation"], item["id"]
        for entry in item["evidence"]:
            if entry.get("exists") is not None:
                assert entry["exists"], (item["id"], entry)  # every file it points at is there
    by_id = {i["id"]: i for i in payload["items"]}
    # what the pipeline ran shows up as evidence
    assert by_id["monitor-5"]["runs"] == 2  # July again came from the cache: it checked nothing
    assert by_id["infra-6"]["status"] == "passing"
    assert by_id["model-2"]["status"] == "passing"
    assert "realized roc_auc" in by_id["model-2"]["detail"].lower()
    assert by_id["data-5"]["attestation"]["by"] == "Dana Privacy (DPO)"
    assert by_id["data-5"]["points"] == 0.5
    assert by_id["infra-7"]["status"] == "not done"  # one production version: nothing to go back to
    assert payload["model"] == "telco-churn:1"
    assert payload["business"]["value"] > 0
    assert payload["business"]["realized"]["value"] > 0


def test_the_score_recomputed_by_hand_from_the_json_matches_the_report(demo: Path) -> None:
    folder = _report(demo)
    payload = json.loads((folder / "checklist.json").read_text())
    sections: dict[str, list[float]] = {}
    in_place: dict[str, list[float]] = {}
    for item in payload["items"]:
        sections.setdefault(item["section"], []).append(item["passing_points"])
        in_place.setdefault(item["section"], []).append(item["points"])
        if item["status"] == "failing":
            assert item["passing_points"] == 0
    scaled = {key: sum(points) * 7 / len(points) for key, points in sections.items()}
    final = min(scaled.values())
    assert final == pytest.approx(payload["final_score"])
    placed = min(sum(points) * 7 / len(points) for points in in_place.values())
    assert placed == pytest.approx(payload["in_place_score"])
    html = (folder / "checklist.html").read_text()
    shown = re.search(r'class="big [a-z]+">([0-9.]+)<', html)
    assert shown is not None
    assert float(shown.group(1)) == pytest.approx(final, abs=0.005)
    markdown = (folder / "checklist.md").read_text()
    assert f"**Passes now: {final:.2f} / 7, {payload['band']}**" in markdown
    [record] = read_run_log(demo / ".mlready", "checklist-report")[-1:]
    assert record.summary["score"] == pytest.approx(final)
    assert record.summary["passed"] is (final >= payload["pass_bar"])


def test_fail_under_exits_1_and_says_so(demo: Path) -> None:
    done = _mlready(demo, "checklist-report", "--fail-under", "7")
    assert done.returncode == 1
    assert "is UNDER the bar of 7" in done.stderr  # --quiet: a failed verdict, on stderr
    assert done.stdout == ""
    [record] = read_run_log(demo / ".mlready", "checklist-report")[-1:]
    assert (record.status, record.exit_code) == ("failed", 1)


def test_json_and_markdown_on_stdout_and_copies_for_ci(demo: Path, tmp_path: Path) -> None:
    done = _mlready(demo, "checklist-report", "--format", "json", "--output", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert {"final_score", "band", "sections", "items", "gaps", "report"} <= set(payload)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "checklist.html",
        "checklist.json",
        "checklist.md",
    ]
    markdown = _mlready(demo, "checklist-report", "--format", "markdown")
    assert markdown.stdout.startswith("## Production readiness: telco-churn")
    assert "| section | passes now | in place | items passing |" in markdown.stdout


def test_output_never_overwrites_files_it_did_not_write(demo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ci"
    folder.mkdir()
    (folder / "checklist.md").write_text("the team's own notes\n")
    refused = _mlready(demo, "checklist-report", "--output", str(folder))
    assert refused.returncode == 2
    assert f"--output {folder / 'checklist.md'} exists and was not written by mlready" in (
        refused.stderr
    )
    assert (folder / "checklist.md").read_text() == "the team's own notes\n"
    assert _mlready(demo, "checklist-report", "--output", str(folder), "--force").returncode == 0
    again = _mlready(demo, "checklist-report", "--output", str(folder))  # its own output now
    assert again.returncode == 0, again.stderr


def test_a_missing_spec_exits_3(tmp_path: Path) -> None:
    done = _mlready(tmp_path / "nowhere", "checklist-report")
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "mlready.yaml" in done.stderr


def _browser():  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: install Debian's chromium (.ci/chromium.sh)")
    return sync_playwright


def test_a_reader_sees_the_summary_sections_and_charts_in_a_real_browser(demo: Path) -> None:
    sync_playwright = _browser()
    report = _report(demo) / "checklist.html"
    payload = json.loads((_report(demo) / "checklist.json").read_text())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(report.as_uri())
            summary = page.locator("#summary")
            assert summary.is_visible()
            # what a manager reads in a minute, above the fold
            assert summary.bounding_box()["y"] < 200
            text = summary.inner_text()
            assert f"{payload['final_score']:.2f}" in text
            assert payload["band"].lower() in text.lower()
            assert "Business value" in text
            assert page.locator("#summary ol.gaps li").count() == 3
            for gap in payload["gaps"]:
                assert gap["title"] in text
            for title in ("Data", "Model", "Infrastructure", "Monitoring", "Business"):
                assert page.locator(f"h2:has-text('{title}:')").first.is_visible()
            charts = page.locator("svg")
            assert charts.count() >= 5  # sections, metrics, value, run times, drift
            for n in range(charts.count()):
                box = charts.nth(n).bounding_box()
                assert box is not None
                assert box["width"] > 100
                assert box["height"] > 50
            assert page.locator("table tbody tr").count() >= 30
            assert requests == [report.as_uri()], "the report fetches nothing"
            assert not errors
            page.emulate_media(media="print")
            assert page.locator("#summary").is_visible()
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF")
        finally:
            browser.close()


def test_a_reader_sees_both_scores_provenance_attestations_and_an_altered_log(
    demo: Path, tmp_path: Path
) -> None:
    sync_playwright = _browser()
    project = tmp_path / "sample_project"
    shutil.copytree(demo, project)
    log = project / ".mlready" / "runs.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join([*lines, lines[2]]) + "\n")  # a record copied by hand
    done = _mlready(project, "checklist-report", "--fail-under", "0")
    assert done.returncode == 0, done.stderr
    folder = _report(project)
    payload = json.loads((folder / "checklist.json").read_text())
    assert payload["log"]["altered"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto((folder / "checklist.html").as_uri())
            warning = page.locator("#log-warning")
            assert warning.is_visible()
            assert warning.bounding_box()["y"] < 250, "the first thing a reader sees"
            assert "The run log was altered" in warning.inner_text()
            assert "copy of an earlier record" in warning.inner_text()
            now = page.locator("#passing-now").inner_text()
            placed = page.locator("#in-place").inner_text()
            assert f"{payload['final_score']:.2f}" in now
            assert f"{payload['in_place_score']:.2f}" in placed
            assert page.locator("#passing-now").bounding_box()["y"] < 400
            # per point, where it came from: the runs, by hand (this copy ran outside CI)
            data_1 = page.locator("table.item tr", has_text="data-1").first
            assert "validate-data" in data_1.inner_text()
            assert "by hand" in data_1.inner_text()
            attested = page.locator("table.item tr", has_text="data-5").first
            assert "attested" in attested.inner_text()
            assert "not verified" in attested.inner_text()
            assert "Points that need CI" in page.content()
            assert "highest score possible is 6.0" in page.locator("#summary").inner_text()
        finally:
            browser.close()
