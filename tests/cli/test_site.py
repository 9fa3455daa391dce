"""``mlready site``: the command, its refresh by checklist-report, and the site of the sample
project after the pipeline (the session's demo project) opened in a real headless Chromium:
no broken link, no console error, nothing fetched, and the numbers of the JSON results it was
drawn from."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from mlready.runs import identity_of, verify_run_log
from mlready.spec import load_spec
from tests.cli.test_checklist_report import CHROMIUM, _browser
from tests.conftest import copy_project

Run = Callable[..., Any]
PAGES = ("index", "runs", "readiness", "registry", "data", "drift", "alerts", "changes")
#: "1 rows", "1 checks": a count of one with a plural noun.
ONE_PLURAL = re.compile(
    r"(?<![\d.,])1 (rows|checks|features|runs|records|files|days|versions|alerts|items|"
    r"batches|tests|moves|rollbacks|warnings|columns|slices|problems|comparisons)\b"
)


def _site(project: Path) -> None:
    from mlready.cli.app import main
    from mlready.cli.state import STATE

    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--quiet", "--spec", str(project), "site"])
    finally:
        STATE.spec, STATE.quiet, STATE.json = None, False, False
    assert exit_info.value.code == 0


@pytest.fixture(scope="module")
def built(demo_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's demo project, with its site built by `mlready site`."""
    project = copy_project(demo_project, tmp_path_factory.mktemp("site") / "sample_project")
    _site(project)
    return project


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _browser()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def _trusted(project: Path) -> list[Any]:
    loaded = load_spec(project)
    return verify_run_log(loaded.spec.project.artifacts_dir, identity_of(loaded)).records


def _folder(project: Path, record: Any) -> Path:
    return project / ".mlready" / record.run_dir


def _open(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """A page of the site in a new tab: the tab, its console errors, what it fetched."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    return page, errors, requests


_LINKS = """() => {
  const out = [];
  for (const a of document.querySelectorAll('a[href]')) out.push(a.href);
  for (const e of document.querySelectorAll('[src]')) out.push(e.src);
  const missing = [];
  for (const u of document.querySelectorAll('use')) {
    const ref = u.getAttribute('xlink:href') || u.getAttribute('href') || '';
    if (ref.startsWith('#') && !document.getElementById(ref.slice(1))) missing.push(ref);
  }
  return {links: out, missing: missing};
}"""


def _broken(page: Any, here: Path) -> tuple[list[str], list[Path]]:
    """The links of an open page that lead nowhere, and the HTML files it links to."""
    found = page.evaluate(_LINKS)
    broken = [f"{here.name}: svg {ref}" for ref in found["missing"]]
    pages = []
    for url in found["links"]:
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https"):
            broken.append(f"{here.name}: fetches {url} from the network")
            continue
        assert parsed.scheme == "file", url
        target = Path(unquote(parsed.path))
        if not target.is_file():
            broken.append(f"{here.name}: {url} is not a file")
            continue
        if parsed.fragment:
            text = target.read_text(encoding="utf-8", errors="replace")
            if f'id="{parsed.fragment}"' not in text:
                broken.append(f"{here.name}: {url} has no #{parsed.fragment}")
        if target.suffix == ".html":
            pages.append(target)
    return broken, pages


def test_every_page_and_every_report_it_links_opens_with_no_broken_link(
    built: Path, browser: Any
) -> None:
    site = built / ".mlready" / "site"
    todo = [site / f"{name}.html" for name in PAGES]
    seen: set[Path] = set()
    broken: list[str] = []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        page, errors, requests = _open(browser, path)
        try:
            assert not errors, (path, errors)
            outside = [u for u in requests if not u.startswith((built.as_uri(), "data:"))]
            assert not outside, (path, outside)  # offline: nothing outside the project
            found, linked = _broken(page, path)
            broken += found
            text = page.inner_text("body")
            assert not ONE_PLURAL.findall(text), (path.name, ONE_PLURAL.findall(text))
            assert "{'" not in text, path.name  # no Python dict printed
            assert "['" not in text, path.name  # nor a list
        finally:
            page.close()
        todo += [p for p in linked if p not in seen]
    assert not broken, broken
    reports = {p.name for p in seen if p.parent != site}
    # the site led to the reports, and the readiness report to its evidence
    assert {"checklist.html", "training.html", "drift.html", "validation.html"} <= reports


def test_the_site_shows_the_numbers_of_the_json_it_was_drawn_from(
    built: Path, browser: Any
) -> None:
    from mlready.alerts import read_alerts
    from mlready.history import compare_runs
    from mlready.registry import open_registry

    site = built / ".mlready" / "site"
    records = _trusted(built)
    [report] = [r for r in records if r.step == "checklist-report"][-1:]
    readiness = json.loads((_folder(built, report) / "checklist.json").read_text())

    page, _errors, _requests = _open(browser, site / "index.html")
    score = page.locator("#readiness-score").inner_text()
    assert score.startswith(f"{readiness['final_score']:.2f}")
    loaded = load_spec(built)
    registry = open_registry(loaded)
    name = loaded.spec.model_name
    production = registry.aliases_of(name)["production"]
    assert f"{name}:{production}" in page.locator("#card-production").inner_text()
    page.close()

    page, _errors, _requests = _open(browser, site / "readiness.html")
    for item in readiness["items"]:
        row = page.locator(f"#item-{item['id']}").inner_text()
        assert item["status"] in row
        assert f"{item['passing_points']:g} / {item['points']:g}" in row
    page.close()

    page, _errors, _requests = _open(browser, site / "runs.html")
    steps = {r.step for r in records}
    for step in steps:
        shown = page.locator(f'table.runs[data-command="{step}"] tbody tr').count()
        assert shown == sum(1 for r in records if r.step == step), step
    page.close()

    page, _errors, _requests = _open(browser, site / "data.html")
    validations = [r for r in records if r.step == "validate-data"]
    assert page.locator("#validations tbody tr").count() == len(validations)
    for record in validations:
        payload = json.loads((_folder(built, record) / "validation.json").read_text())
        row = page.locator(f'#validations tr[data-run="{record.run_id}"]')
        assert row.locator("td.checks").inner_text() == str(payload["checks"])
        assert row.locator("td.failed").inner_text() == str(payload["failed"])
    page.close()

    page, _errors, _requests = _open(browser, site / "drift.html")
    checks = [r for r in records if r.step == "check-drift"]
    cells = 0
    for record in checks:
        payload = json.loads((_folder(built, record) / "drift.json").read_text())
        for feature in [*payload["features"], *payload["predictions"]]:
            cell = page.locator(
                f'tr[data-feature="{feature["column"]}"] td[data-run="{record.run_id}"]'
            )
            assert cell.inner_text() == f"{feature['psi']:.3f}", feature["column"]
            assert ("drifted" in (cell.get_attribute("class") or "")) == feature["drifted"]
            cells += 1
    assert cells == page.locator("td.cell[data-run]").count()
    # each check's column is headed by its date and batch on two short lines (the heading is
    # turned on its side: one long line made it a tall blank band); the title names it whole
    for record in checks:
        head = page.locator(f'th.check[data-run="{record.run_id}"]')
        lines = head.inner_text().splitlines()
        assert len(lines) == 2, lines
        assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d", lines[0]), lines
        batch = (head.get_attribute("title") or "").split("/")[-1]
        assert len(lines[1]) <= 18, lines
        assert lines[1] == batch or batch.startswith(lines[1].removesuffix("…")), (lines, batch)
    # drifted first: those the newest check found, then the others that ever drifted
    newest = set(json.loads((_folder(built, checks[-1]) / "drift.json").read_text())["drifted"])
    order = page.eval_on_selector_all(
        "#drift-features tbody tr", "rows => rows.map(r => r.dataset.feature)"
    )
    times = [int(c.split()[0]) for c in page.locator("#drift-features td.num").all_inner_texts()]
    ranks = [(name not in newest, count == 0) for name, count in zip(order, times, strict=True)]
    assert ranks == sorted(ranks)
    assert any(times), "the demo's August batch drifted"
    page.close()

    page, _errors, _requests = _open(browser, site / "registry.html")
    assert page.locator("#versions tbody tr").count() == len(registry.list_versions(name))
    assert page.locator("#history tbody tr").count() == len(registry.history_of(name))
    page.close()

    page, _errors, _requests = _open(browser, site / "changes.html")
    for step in steps:
        runs = [r for r in records if r.step == step and r.status in ("passed", "failed")]
        block = page.locator(f'div.comparison[data-command="{step}"]')
        if len(runs) < 2:
            assert block.count() == 0, step
            continue
        expected = compare_runs(built / ".mlready", runs[-2].run_id, runs[-1].run_id)
        assert block.get_attribute("data-differences") == str(expected.differences), step
        assert runs[-1].run_id in page.locator(f"h2#{step}").inner_text()
    page.close()

    page, _errors, _requests = _open(browser, site / "alerts.html")
    assert page.locator("#alerts tbody tr").count() == len(read_alerts(built / ".mlready"))
    page.close()


def test_an_edited_record_is_flagged_and_none_of_its_numbers_shown(
    built: Path, browser: Any, tmp_path: Path
) -> None:
    project = copy_project(built, tmp_path / "sample_project")
    log = project / ".mlready" / "runs.jsonl"
    lines = log.read_text().splitlines()
    [index] = [n for n, line in enumerate(lines) if '"step":"checklist-report"' in line][-1:]
    record = json.loads(lines[index])
    lines[index] = lines[index].replace(
        f'"score":{record["summary"]["score"]}', '"score":6.75'
    )  # a better score, by hand
    assert '"score":6.75' in lines[index]
    log.write_text("\n".join(lines) + "\n")
    _site(project)
    site = project / ".mlready" / "site"
    for name in PAGES:
        page, errors, _requests = _open(browser, site / f"{name}.html")
        try:
            assert not errors
            warning = page.locator("#log-warning")
            assert warning.is_visible(), name
            assert warning.bounding_box()["y"] < 300, name  # the first thing a reader sees
            assert "6.75" not in page.inner_text("body"), name
        finally:
            page.close()
    page, _errors, _requests = _open(browser, site / "runs.html")
    flagged = page.locator("#flagged").inner_text()
    assert record["run_id"] in flagged
    assert "edited after it was written" in flagged
    page.close()


def test_site_prints_where_it_is_answers_in_json_and_opens_the_browser(
    run_cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = run_cli("--spec", str(project), "site")
    assert result.exit_code == 0, result.stderr
    index = project / ".mlready" / "site" / "index.html"
    assert str(index) in result.stdout
    assert "8 pages; 0 runs" in result.stdout
    assert opened == []
    result = run_cli("--spec", str(project), "site", "--json", "--open")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["index"] == str(index)
    assert (payload["runs"], payload["flagged"], payload["altered"]) == (0, 0, False)
    assert opened == [index.resolve().as_uri()]


def test_a_missing_spec_exits_3(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("--spec", str(tmp_path / "nowhere"), "site")
    assert result.exit_code == 3
    assert "mlready.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_checklist_report_refreshes_the_site_and_a_site_failure_is_a_warning(
    run_cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = project / ".mlready" / "site" / "index.html"
    first = run_cli("--spec", str(project), "checklist-report", "--fail-under", "0")
    assert first.exit_code == 0, first.stderr
    assert 'id="readiness-score"' in index.read_text()  # the site shows the report just written
    assert "not refreshed" not in first.stderr

    def broken(loaded: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("mlready.site.build_site", broken)
    second = run_cli("--spec", str(project), "--quiet", "checklist-report", "--fail-under", "0")
    assert second.exit_code == 0  # the report was written: the command stands
    assert "the project site was not refreshed" in second.stderr
    assert "No space left on device" in second.stderr
    assert "mlready site" in second.stderr
