"""Tables in a CI log or a pipe (no terminal): plain lines that cut nothing, never a column of
"…"; on a terminal they fold to its width. And `registry diff` reads as a person would write it."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from mlready.cli.app import main
from mlready.cli.state import STATE
from tests.serving_data import make_batch, trained_project

LONG_REASON = "incident 4711: the challenger scored the Q3 backlog twice, see the postmortem"


def _mlready(folder: Path, *args: str) -> tuple[int, str]:
    """``mlready --spec FOLDER ARGS`` with stdout a pipe (as in CI), 80 columns assumed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "80")
        try:
            main(["--spec", str(folder), *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            STATE.spec, STATE.quiet, STATE.verbose, STATE.debug, STATE.json = (
                None,
                False,
                False,
                False,
                False,
            )
    return code, buffer.getvalue()


@pytest.fixture(scope="module")
def piped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Every command that prints a table, run once on a toy project with two versions."""
    folder = trained_project(tmp_path_factory.mktemp("tables") / "project")
    spec = folder / "mlready.yaml"
    spec.write_text(spec.read_text().replace("max_iter: 500", "max_iter: 500, C: 0.05"))
    make_batch(300).to_csv(folder / "batch.csv", index=False)
    bad = make_batch(50)
    bad.loc[:9, "tenure"] = -5
    bad.loc[:4, "plan"] = "platinum-plus-enterprise"
    bad.to_csv(folder / "bad.csv", index=False)
    out = {"train": _mlready(folder, "train", "--no-importance")}
    out["register"] = _mlready(folder, "register")
    out["promote"] = _mlready(
        folder, "registry", "promote", "2", "--force", "--reason", LONG_REASON
    )
    for name, args in {
        "registry list": ["registry", "list"],
        "registry list json": ["registry", "list", "--format", "json"],
        "registry diff": ["registry", "diff", "1", "2"],
        "registry diff json": ["registry", "diff", "1", "2", "--format", "json"],
        "registry history": ["registry", "history"],
        "registry history json": ["registry", "history", "--format", "json"],
        "validate-data": ["validate-data", "--data", str(folder / "bad.csv")],
        "validate-data json": ["validate-data", "--data", str(folder / "bad.csv"), "--format=json"],
        "serve-batch": ["serve-batch", "--input", str(folder / "batch.csv")],
        "check-drift": ["check-drift"],
        "checklist-report": ["checklist-report"],
        "run": ["run", "--until", "train"],
    }.items():
        out[name] = _mlready(folder, *args)
    return out


TABLES = [
    "train",
    "registry list",
    "registry diff",
    "registry history",
    "validate-data",
    "serve-batch",
    "check-drift",
    "checklist-report",
    "run",
]


@pytest.mark.parametrize("name", TABLES)
def test_no_table_cuts_a_value_without_a_terminal(piped, name: str) -> None:
    code, text = piped[name]
    assert code in (0, 1), text
    assert "…" not in text, text
    assert not re.search("[│┃┏┡└]", text), "plain lines: no box drawn in a log"
    assert text.strip()


def test_registry_list_shows_every_id_whole(piped) -> None:
    _, text = piped["registry list"]
    listed = json.loads(piped["registry list json"][1])
    lines = text.splitlines()
    for version in listed["versions"]:
        row = next(line for line in lines if version["run_id"] in line)
        assert version["sha256"][:12] in row
        assert f"{version['primary_value']:.4f}" in row
        assert version["created_at"][:19] in row


def test_registry_history_keeps_the_reason_whole(piped) -> None:
    _, text = piped["registry history"]
    assert any(LONG_REASON in line for line in text.splitlines()), text
    for entry in json.loads(piped["registry history json"][1]):
        assert entry["at"][:19] in text


def test_validate_data_names_every_failed_check_whole(piped) -> None:
    code, text = piped["validate-data"]
    assert code == 1
    failed = [r for r in json.loads(piped["validate-data json"][1])["results"] if not r["passed"]]
    assert failed
    for check in failed:
        assert any(check["id"] in line for line in text.splitlines()), check["id"]
    assert "platinum-plus-enterprise" in text


def test_run_ids_are_whole_in_the_pipeline_table(piped) -> None:
    _, text = piped["run"]
    assert re.search(r"^train\s+(ran|skipped)\s+\d{8}T\d{6}Z-[0-9a-f]{6}", text, re.MULTILINE), text


def test_registry_diff_rounds_shortens_and_shows_the_change(piped) -> None:
    _, text = piped["registry diff"]
    changes = json.loads(piped["registry diff json"][1])
    header = next(line for line in text.splitlines() if line.startswith("section"))
    assert header.split() == ["section", "item", "v1", "v2", "change"]
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("params")}
    assert rows["model__C"].split()[2:] == ["1", "0.05", "-0.95", "(-95%)"]
    for item in changes["metrics"]:
        assert item["change"] == pytest.approx(item["b"] - item["a"])
        row = next(line for line in text.splitlines() if f" {item['key']} " in f" {line} ")
        for value in (item["a"], item["b"]):  # 6 significant digits, not 17
            assert f"{value:.6g}" in row or f"{value:.6g}".rstrip("0") in row, row
        assert row.split()[-2].startswith("+" if item["change"] > 0 else "-")
    assert not re.search(r"\d\.\d{7,}", text), "no raw floats"
    assert not re.search(r"[0-9a-f]{13,}", text), "hashes shortened to 12 hex digits"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (109509.47500000002, "109,509"),  # 6 significant digits
        (1234.56789, "1,234.57"),
        (0.850342190, "0.850342"),
        (0.000123456789, "0.000123457"),
        (3, "3"),
        (2.0, "2"),
        (-1234.5, "-1,234.5"),
        (float("nan"), "nan"),
        ("3f" * 32, "3f3f3f3f3f3f"),
        ("1.5.2", "1.5.2"),
        (None, "-"),
    ],
)
def test_diff_values_are_shown_as_a_person_writes_them(value, shown) -> None:
    from mlready.history import shown as shown_value

    assert shown_value(value) == shown


@pytest.mark.parametrize(
    ("a", "b", "change", "shown"),
    [
        (109509.475, 120000.0, 10490.525, "+10,491 (+9.6%)"),
        (0.85, 0.8, -0.05, "-0.05 (-5.9%)"),
        (0, 2, 2, "+2"),
        (None, "numeric", None, "added"),
        ("numeric", None, None, "removed"),
        ("1.4", "1.5", None, "changed"),
    ],
)
def test_diff_change_column(a, b, change, shown) -> None:
    from mlready.history import change_text

    assert change_text(a, b, change) == shown


def test_on_a_terminal_a_table_folds_to_the_width_instead_of_cutting() -> None:
    from rich.console import Console
    from rich.table import Table

    from mlready.cli.state import print_table

    run_id = "20261123T190102Z-3f9a1c"
    sha = "ab" * 32
    table = Table(title="t")
    for column in ("version", "run", "sha256", "note"):
        table.add_column(column)
    table.add_row("12345678901", run_id, sha, "a note that is long enough to need wrapping")
    console = Console(file=io.StringIO(), force_terminal=True, width=40, color_system=None)
    print_table(table, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 40
    alone = Table(title="t")  # one column: its folded lines, joined, are the value
    alone.add_column("sha256")
    alone.add_row(sha)
    console = Console(file=io.StringIO(), force_terminal=True, width=30, color_system=None)
    print_table(alone, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in text
    assert sha in re.sub(r"[^0-9a-f\n]|\n", "", text.split("sha256", 1)[1])


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("train", r"^PASSED in \d+\.\d s$"),
        ("serve-batch", r"^PASSED: 300 of 300 rows scored, 0 set aside$"),
        ("check-drift", r"^(no dataset drift|DATASET DRIFT): \d of 4 features drifted"),
        ("validate-data", r"^FAILED: \d+ checks, 2 failed, \d+ warnings$"),
        ("run", r"^PASSED: \d steps ran, \d skipped, 0 failed$"),
    ],
)
def test_each_summary_states_its_verdict_on_one_line(piped, name: str, verdict: str) -> None:
    _, text = piped[name]
    assert re.search(verdict, text, re.MULTILINE), text
