"""``mlready runs list`` and ``mlready runs compare``: the run history, and two runs side by side
(terminal table, --json, --html).

Most tests write train runs of their own (a record and the metadata.json train writes, without
training); the last ones read the two real train runs of the session's notebook example."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlready.runs import start_run
from tests.conftest import CliResult, Notebook

Run = Callable[..., CliResult]


def _metadata(
    numeric: list[str], roc_auc: float, *, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The parts of a train run's metadata.json that a comparison reads."""
    model_params = params or {"model__C": 1.0}
    return {
        "model": {"type": "sklearn.linear_model.LogisticRegression", "params": model_params},
        "features": {"numeric": numeric, "categorical": ["plan"]},
        "validation": {
            "cv": {"roc_auc": {"mean": roc_auc, "std": 0.01}},
            "holdout_metrics": {"roc_auc": roc_auc - 0.01},
        },
        "data": {"source": "data/train.csv", "fingerprint": "ab" * 32, "rows": 600},
        "environment": {"python": "3.11.9", "packages": {"scikit-learn": "1.5.2"}},
        "spec": {
            "sections": {"data": "d" * 64, "model": "m" * 64},
            "content": {
                "data": {"features": {"numeric": numeric}},
                "model": {"params": {"C": model_params["model__C"]}},
            },
        },
    }


def _train_run(project: Path, metadata: dict[str, Any], warnings: int = 0) -> str:
    """A recorded train run whose folder holds ``metadata`` as metadata.json."""
    with start_run(project / ".mlready", "train") as run:
        (run.dir / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        run.summary.update(
            passed=True,
            primary_metric="roc_auc",
            primary_value=metadata["validation"]["cv"]["roc_auc"]["mean"],
            model_sha256="0" * 64,
            warnings=warnings,
        )
    return run.run_id


@pytest.fixture
def two_runs(project: Path) -> tuple[Path, str, str]:
    """Two train runs: the second drops a feature, gains on roc_auc and lowers C."""
    first = _train_run(project, _metadata(["tenure", "charges"], 0.80))
    second = _train_run(project, _metadata(["tenure"], 0.85, params={"model__C": 0.5}), warnings=1)
    return project, first, second


def _json(result: CliResult) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _items(payload: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in payload["sections"][section]}


def test_a_run_compared_with_itself_shows_no_change(two_runs, run_cli: Run) -> None:
    project, first, _ = two_runs
    spec = str(project)
    shown = run_cli("--spec", spec, "runs", "compare", first, first)
    assert shown.exit_code == 0, shown.stderr
    assert "no change: the two runs do not differ" in shown.stdout
    assert "removed" not in shown.stdout
    payload = _json(run_cli("--spec", spec, "runs", "compare", first, first, "--json"))
    assert payload["same"] is True
    assert payload["differences"] == 0
    items = [item for section in payload["sections"].values() for item in section]
    assert len(items) > 10
    assert not any(item["changed"] for item in items)


def test_a_changed_feature_list_and_metric_show_up(two_runs, run_cli: Run) -> None:
    project, first, second = two_runs
    payload = _json(run_cli("--spec", str(project), "runs", "compare", first, second, "--json"))
    assert payload["same"] is False
    assert (payload["a"]["run_id"], payload["b"]["run_id"]) == (first, second)
    features = _items(payload, "features")
    assert features["charges"] == {
        "key": "charges",
        "a": "numeric",
        "b": None,
        "change": None,
        "changed": True,
    }
    assert features["tenure"]["changed"] is False
    metrics = _items(payload, "metrics")
    assert metrics["cv roc_auc"]["change"] == pytest.approx(0.05)
    assert metrics["holdout roc_auc"]["changed"] is True
    assert _items(payload, "params")["model__C"]["change"] == pytest.approx(-0.5)
    spec = _items(payload, "spec")
    assert spec["data.features.numeric"]["a"] == ["tenure", "charges"]
    assert spec["data.features.numeric"]["b"] == ["tenure"]
    assert spec["model.params.C"]["changed"] is True
    assert spec["section data"]["changed"] is False  # the hashes stand for what is shown
    assert _items(payload, "results")["warnings"]["change"] == 1
    assert _items(payload, "run")["duration (s)"]["change"] is not None

    text = run_cli("--spec", str(project), "runs", "compare", "train~1", "train").stdout
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("features ")}
    assert set(rows) == {"charges"}  # only what changed, without --all
    assert rows["charges"].rstrip().endswith("removed")
    [metric] = [line for line in text.splitlines() if "cv roc_auc" in line]
    assert re.search(r"0\.8\s+0\.85\s+\+0\.05 \(\+6\.\d%\)$", metric), metric
    assert re.search(r"^\d+ difference\(s\); --all lists", text, re.MULTILINE)
    every = run_cli("--spec", str(project), "runs", "compare", "train~1", "train", "--all")
    assert re.search(r"^features\s+tenure\s+numeric\s+numeric\s*$", every.stdout, re.MULTILINE)


def test_runs_are_named_by_id_prefix_or_command(two_runs, run_cli: Run) -> None:
    project, first, second = two_runs
    spec = str(project)
    by_command = _json(run_cli("--spec", spec, "runs", "compare", "train~1", "train", "--json"))
    assert (by_command["a"]["run_id"], by_command["b"]["run_id"]) == (first, second)
    prefix = second[: len(second) - 2]
    by_prefix = _json(run_cli("--spec", spec, "runs", "compare", first, prefix, "--json"))
    assert by_prefix["b"]["run_id"] == second


@pytest.mark.parametrize(
    ("first", "second", "code", "message"),
    [
        ("train~2", "train", 4, r"no run train~2: the run log .* holds only 2 train run\(s\)"),
        ("nope", "train", 4, r"no run 'nope' in the run log .*`mlready runs list` lists them"),
        ("2", "train", 2, r"'2' names 3 runs \(.*\): give more of the run id"),
        ("train", "validate-data", 2, r"train is a train run and validate-data a validate-data"),
        ("check-drift", "train", 4, r"no run check-drift: the run log .* holds no check-drift"),
    ],
)
def test_a_run_that_cannot_be_compared_is_one_line_and_an_exit_code(
    two_runs, run_cli: Run, first: str, second: str, code: int, message: str
) -> None:
    project = two_runs[0]
    with start_run(project / ".mlready", "validate-data") as run:
        run.summary.update(rows=10)
    result = run_cli("--spec", str(project), "runs", "compare", first, second)
    assert result.exit_code == code, result.stdout + result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_html_is_a_self_contained_escaped_page_that_overwrites_only_its_own(
    project: Path, run_cli: Run
) -> None:
    first = _train_run(project, _metadata(["tenure"], 0.8))
    second = _train_run(project, _metadata(["tenure", "<script>alert(1)</script>"], 0.9))
    page = project / "compare.html"
    spec = str(project)
    result = run_cli("--spec", spec, "runs", "compare", first, second, "--html", str(page))
    assert result.exit_code == 0, result.stderr
    assert f"comparison: {page}" in result.stdout
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not re.search(r"(src|href)=\"https?:", text)
    assert re.search(r"\d+ differences</span> between run a and run b", text)
    assert first in text
    assert second in text
    again = run_cli("--spec", spec, "runs", "compare", second, second, "--html", str(page))
    assert again.exit_code == 0, again.stderr  # mlready wrote it: it may replace it
    assert "No change" in page.read_text(encoding="utf-8")
    mine = project / "notes.html"
    mine.write_text("my notes", encoding="utf-8")
    refused = run_cli("--spec", spec, "runs", "compare", first, second, "--html", str(mine))
    assert refused.exit_code == 2
    assert "--html" in refused.stderr
    assert "was not written by mlready" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "my notes"
    forced = run_cli(
        "--spec", spec, "runs", "compare", first, second, "--html", str(mine), "--force"
    )
    assert forced.exit_code == 0, forced.stderr
    assert mine.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_run_whose_folder_is_gone_is_compared_from_the_run_log(two_runs, run_cli: Run) -> None:
    project, first, second = two_runs
    shutil.rmtree(project / ".mlready" / "runs" / "train" / first)
    payload = _json(run_cli("--spec", str(project), "runs", "compare", first, second, "--json"))
    assert any(
        first in note and "metadata.json cannot be read" in note for note in payload["notes"]
    )
    assert _items(payload, "metrics")["primary_value"]["a"] == 0.80
    assert "features" in payload["sections"]  # b still has its metadata


def test_runs_of_another_command_are_compared_by_their_summaries(
    project: Path, run_cli: Run
) -> None:
    ids = []
    for rows, failed in ((1000, 0), (1200, 3)):
        with start_run(project / ".mlready", "validate-data") as run:
            run.summary.update(source="data/train.csv", rows=rows, failed=failed, passed=not failed)
        ids.append(run.run_id)
    payload = _json(run_cli("--spec", str(project), "runs", "compare", *ids, "--json"))
    assert payload["command"] == "validate-data"
    assert _items(payload, "metrics")["rows"]["change"] == 200
    assert _items(payload, "metrics")["failed"]["change"] == 3
    assert _items(payload, "results")["passed"] == {
        "key": "passed",
        "a": True,
        "b": False,
        "change": None,
        "changed": True,
    }
    assert _items(payload, "data")["source"]["changed"] is False


def test_runs_list_shows_each_run_with_its_headline(two_runs, run_cli: Run) -> None:
    project, first, second = two_runs
    spec = str(project)
    with start_run(project / ".mlready", "validate-data") as run:
        run.summary.update(rows=1500, checks=9, failed=0, passed=True)
    text = run_cli("--spec", spec, "runs", "list").stdout
    lines = [line for line in text.splitlines() if re.match(r"\d{8}T", line)]
    assert [line.split()[0] for line in lines] == [first, second, run.run_id]
    assert lines[0].rstrip().endswith("roc_auc 0.8000")
    assert lines[2].rstrip().endswith("1,500 rows, 9 checks, 0 failed")
    newest = _json(
        run_cli("--spec", spec, "runs", "list", "--command", "train", "--last", "1", "--json")
    )
    assert [r["run_id"] for r in newest["runs"]] == [second]
    assert newest["runs"][0]["step"] == "train"
    assert newest["runs"][0]["run_dir"].endswith(f"runs/train/{second}")
    assert newest["runs"][0]["report"] is None  # these runs wrote no training.html


def test_runs_list_refuses_an_unknown_command_and_says_when_there_is_none(
    project: Path, run_cli: Run
) -> None:
    empty = run_cli("--spec", str(project), "runs", "list")
    assert empty.exit_code == 0
    assert "no runs in" in empty.stdout
    assert "`mlready run`" in empty.stdout
    unknown = run_cli("--spec", str(project), "runs", "list", "--command", "trian")
    assert unknown.exit_code == 2
    assert "unknown command 'trian': use one of" in unknown.stderr
    assert run_cli("--spec", str(project), "runs", "list", "--last", "0").exit_code == 2


# -------------------------------------------- the two real train runs of the notebook example


def test_two_real_train_runs_show_the_dropped_feature_the_spec_key_and_the_metrics(
    notebook: Notebook, run_cli: Run
) -> None:
    spec = str(notebook.folder / "churn-demo")
    payload = _json(run_cli("--spec", spec, "runs", "compare", "train~1", "train", "--json"))
    features = _items(payload, "features")
    assert features["support_calls"]["a"] == "numeric"
    assert features["support_calls"]["b"] is None
    numeric = _items(payload, "spec")["data.features.numeric"]
    assert "support_calls" in numeric["a"]
    assert "support_calls" not in numeric["b"]
    assert _items(payload, "spec")["spec sha256"]["changed"] is True
    assert _items(payload, "data")["fingerprint"]["changed"] is False  # the same data
    assert any(item["changed"] for item in payload["sections"]["metrics"])
    assert not any(item["changed"] for item in payload["sections"]["packages"])


def test_a_real_train_run_compared_with_itself_shows_no_change(
    notebook: Notebook, run_cli: Run
) -> None:
    spec = str(notebook.folder / "churn-demo")
    result = run_cli("--spec", spec, "runs", "compare", "train", "train")
    assert result.exit_code == 0, result.stderr
    assert "no change" in result.stdout
    assert _json(run_cli("--spec", spec, "runs", "compare", "train", "train", "--json"))["same"]
