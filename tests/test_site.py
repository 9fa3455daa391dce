"""The project site from a run log written here (no training): what it shows, what it flags,
that it escapes what the data says, and the link and wording helpers the reports share."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mlready.io import atomic_write_json
from mlready.runs import start_run
from mlready.site import build_site
from mlready.spec import load_spec


def _run(loaded: Any, step: str, summary: dict[str, Any], files: dict[str, Any]) -> str:
    """A finished run of ``step`` in the project's run log, with the files it wrote."""
    with start_run(loaded.spec.project.artifacts_dir, step, loaded) as run:
        for name, content in files.items():
            if isinstance(content, str):
                (run.dir / name).write_text(content, encoding="utf-8")
            else:
                atomic_write_json(run.dir / name, content)
        run.summary.update(summary)
    return run.run_id


def _validation(loaded: Any, failed: int = 0, source: str = "data/train.csv") -> str:
    summary = {
        "environment": "training",
        "rows": 2,
        "checks": 7,
        "failed": failed,
        "warnings": 0,
        "passed": not failed,
        "source": source,
    }
    return _run(
        loaded,
        "validate-data",
        summary,
        {"validation.json": summary, "validation.html": "<html><body>ok</body></html>"},
    )


def _page(result: Any, name: str) -> str:
    return (result.folder / name).read_text(encoding="utf-8")


def test_an_empty_project_gets_every_page_saying_what_to_run(project: Path) -> None:
    result = build_site(load_spec(project))
    names = sorted(p.name for p in result.pages)
    pages = ("index", "runs", "readiness", "registry", "data", "drift", "alerts", "changes")
    assert names == sorted(f"{page}.html" for page in pages)
    assert result.index == project / ".mlready" / "site" / "index.html"
    assert (result.runs, result.flagged, result.readiness) == (0, 0, None)
    assert "Nothing has run yet" in _page(result, "index.html")
    assert "mlready register --promote production" in _page(result, "registry.html")
    assert "No command has run twice yet" in _page(result, "changes.html")
    # reading never creates: no registry database appears
    assert not (project / ".mlready" / "registry.db").exists()


def test_trusted_runs_are_shown_with_links_and_an_edited_record_is_flagged(
    project: Path,
) -> None:
    loaded = load_spec(project)
    kept = _validation(loaded)
    edited = _validation(loaded, failed=3)
    log = project / ".mlready" / "runs.jsonl"
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace('"failed":3', '"failed":0')  # a failure hidden by hand
    log.write_text("\n".join(lines) + "\n")

    result = build_site(loaded)
    assert (result.runs, result.flagged, result.altered) == (1, 1, True)
    runs = _page(result, "runs.html")
    assert f'id="run-{kept}"' in runs
    assert f'id="run-{edited}"' not in runs  # not listed as a run: flagged below
    flagged = runs[runs.index('id="flagged"') :]
    assert edited in flagged
    assert "was edited after it was written" in flagged
    data = _page(result, "data.html")
    assert f'data-run="{kept}"' in data
    assert f'data-run="{edited}"' not in data  # no number of it anywhere
    for name in ("index.html", "data.html", "drift.html"):
        assert 'id="log-warning"' in _page(result, name)
    # the report and log of a trusted run are relative links that resolve from the site
    hrefs = re.findall(r'href="([^"#]+)"', runs)
    targets = [h for h in hrefs if kept in h]
    assert sorted(Path(h).name for h in targets) == ["run.log", "validation.html"]
    for href in targets:
        assert not href.startswith(("/", "file:"))
        assert (result.folder / href).resolve().is_file()
    assert any("was edited" in w for w in result.warnings)


def test_what_the_data_says_is_escaped_everywhere(project: Path) -> None:
    loaded = load_spec(project)
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    run_id = _validation(loaded, source=attack)
    alert = {
        "kind": "alert",
        "id": f"{run_id}-a",
        "rule": attack,
        "severity": "warning",
        "summary": attack,
        "owner": attack,
        "runbook": attack,
        "step": "validate-data",
        "run_id": run_id,
        "created_at": "2026-01-02T03:04:05+00:00",
    }
    (project / ".mlready" / "alerts.jsonl").write_text(json.dumps(alert) + "\n")
    result = build_site(loaded)
    for page in result.pages:
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html, page.name
        assert "<img" not in html, page.name
    assert "&lt;script&gt;" in _page(result, "alerts.html")
    assert "&lt;script&gt;" in _page(result, "data.html")


def test_relative_links_counted_nouns_and_copied_pages() -> None:
    from mlready.reporting import counted, rebase_links, relative_href

    assert counted(1, "row") == "1 row"
    assert counted(1034, "row") == "1,034 rows"
    assert counted(0, "check") == "0 checks"
    assert counted(2, "batch") == "2 batches"
    assert counted(3, "category") == "3 categories"
    assert counted(2, "day") == "2 days"
    assert relative_href("/a/runs/x/r.html", "/a/site") == "../runs/x/r.html"
    # a name with a colon is no URL scheme; spaces and '#' are encoded
    assert relative_href("/a/b:c d#e.json", "/a") == "b%3Ac%20d%23e.json"
    html = '<a href="../../t/x.json">x</a><a href="#top">t</a><a href="https://e.org/">e</a>'
    moved = rebase_links(html, "/p/.mlready/runs/checklist-report/1", "/p/reports")
    assert 'href="../.mlready/runs/t/x.json"' in moved
    assert 'href="#top"' in moved
    assert 'href="https://e.org/"' in moved


def test_a_narrow_quantile_bin_is_a_bar_of_its_share_not_a_spike() -> None:
    from mlready.charts import bin_shares

    # the middle bin is 0.001 wide and holds a third of the rows: a density would be 1000x
    reference = {"kind": "numeric", "cuts": [0.0, 0.001, 10.0], "counts": [0, 100, 100, 100]}
    current = {"kind": "numeric", "cuts": [0.0, 0.001, 10.0], "counts": [0, 50, 100, 150]}
    svg = bin_shares(reference, current, "x<y", drifted=True)
    bars = re.findall(
        r'<rect class="bar" x="[^"]+" y="[^"]+" width="([^"]+)" height="([^"]+)" fill="#', svg
    )
    widths = {float(w) for w, _ in bars}
    heights = [float(h) for _, h in bars]
    assert len(bars) == 6  # 3 bins with rows (the empty first one left out), 2 bars each
    assert len(widths) == 1  # every bin as wide as the next
    ref, cur = heights[0::2], heights[1::2]
    assert ref[0] == pytest.approx(ref[1]) == pytest.approx(ref[2])  # a third each
    assert cur[2] == pytest.approx(3 * cur[0])  # 150 rows against 50
    assert "x&lt;y" in svg
    assert "(drifted)" in svg


def test_a_number_with_few_values_and_categories_get_a_bar_each() -> None:
    from mlready.charts import bin_shares

    flag = {"kind": "numeric", "cuts": [0.0, 1.0], "counts": [0, 60, 40]}
    svg = bin_shares(
        {**flag, "value_counts": {"0.0": 60, "1.0": 40}},
        {**flag, "value_counts": {"0.0": 50, "1.0": 50}},
        "female",
    )
    assert ">0</text>" in svg
    assert ">1</text>" in svg
    categories = {f"c{n}": 20 - n for n in range(15)}
    svg = bin_shares(
        {"kind": "categorical", "categories": categories}, {"categories": {"c0": 5}}, "plan"
    )
    labels = re.findall(r'rotate\([^)]*\)">([^<]+)</text>', svg)
    assert labels[:3] == ["c0", "c1", "c2"]
    assert labels[-1] == "other"  # 12 shown, the rest summed
    assert len(labels) == 13


def test_a_readiness_report_it_cannot_read_is_named_not_a_crash(project: Path) -> None:
    loaded = load_spec(project)
    run_id = _run(
        loaded,
        "checklist-report",
        {"score": 3.0, "band": "first pass"},
        {"checklist.json": {"final_score": 3.0}, "checklist.html": "<html></html>"},
    )
    result = build_site(loaded)
    assert result.readiness is None
    assert any(run_id in w and "`mlready checklist-report` again" in w for w in result.warnings)
    assert "No readiness report yet" in _page(result, "readiness.html")
    # the run and its score in the log are still shown
    assert f'id="run-{run_id}"' in _page(result, "runs.html")
    assert "readiness 3.00 / 7" in _page(result, "runs.html")


def test_a_page_mlready_did_not_write_is_not_overwritten(project: Path) -> None:
    """artifacts_dir: . beside a site of the user's own: its index.html stays unless --force."""
    import pytest

    from mlready.errors import UsageError

    loaded = load_spec(project)
    folder = Path(loaded.spec.project.artifacts_dir) / "site"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("my own site", encoding="utf-8")
    with pytest.raises(UsageError, match="not written by mlready") as refused:
        build_site(loaded)
    assert "--force" in str(refused.value)
    assert (folder / "index.html").read_text(encoding="utf-8") == "my own site"
    assert not (folder / "runs.html").exists()  # nothing written beside it either
    build_site(loaded, force=True)
    assert "my own site" not in (folder / "index.html").read_text(encoding="utf-8")
    build_site(loaded)  # its own pages now: a refresh needs no --force
