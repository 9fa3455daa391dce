"""``mlready run``: the steps in order, skipping unchanged ones, stopping at the first hard
failure, on a small toy project (a real pipeline: train, registry, scoring, drift, report)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
import typer

from mlready.pipeline import STEPS
from mlready.runs import read_run_log
from tests.conftest import cli_commands
from tests.serving_data import make_batch
from tests.training_data import toy_frame, write_project

EXTRA = """\
expectations:
  columns:
    customer_id: {type: string, unique: true, max_null_fraction: 0}
    tenure: {type: number, min: 0, max: 100}
    plan: {allowed_values: [basic, pro, max]}
serving:
  input: {path: data/batch.csv}
  output: predictions/scores.parquet
  sla: {output_period: 1d}
monitoring:
  max_model_age_days: 90
checklist:
  pass_bar: 0
"""
#: The toy project sets no checklist.test_command: its "test" step is "not configured".
RUN_STEPS = STEPS[1:]


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy project after one full `mlready run`."""
    from mlready.cli.app import main

    folder = write_project(tmp_path_factory.mktemp("run") / "p", frame=toy_frame(800), extra=EXTRA)
    make_batch(300).to_csv(folder / "data" / "batch.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["--quiet", "--spec", str(folder), "run"])
    assert exit_info.value.code == 0
    return folder


@pytest.fixture
def project(first: Path, tmp_path: Path) -> Path:
    target = tmp_path / "p"
    shutil.copytree(first, target)
    # the registry and the state keep absolute paths: point them at the copy
    for name in ("pipeline.json",):
        path = target / ".mlready" / name
        path.write_text(path.read_text().replace(str(first), str(target)))
    return target


def _run(run_cli, project: Path, *args: str) -> tuple[int, dict]:
    result = run_cli("--spec", str(project), "run", "--json", *args)
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == result.exit_code
    return result.exit_code, {s["step"]: s for s in payload["steps"]} | {"_": payload}


def _statuses(steps: dict) -> dict[str, str]:
    """Each step's status; the toy project's unconfigured "test" step is checked once, below."""
    return {
        k: v["status"]
        for k, v in steps.items()
        if k != "_" and (k, v["status"]) != ("test", "not configured")
    }


def test_the_first_run_runs_every_step_and_writes_the_readiness_report(first: Path) -> None:
    for step in RUN_STEPS:
        records = read_run_log(first / ".mlready", step)
        assert [r.status for r in records] == ["passed"], step
    state = json.loads((first / ".mlready" / "pipeline.json").read_text())
    assert set(state) == set(RUN_STEPS)
    # the run ends by refreshing the project site, which lists every run it made
    runs = (first / ".mlready" / "site" / "runs.html").read_text()
    for step in RUN_STEPS:
        [record] = read_run_log(first / ".mlready", step)
        assert f'id="run-{record.run_id}"' in runs, step


def test_running_again_skips_every_unchanged_step(project: Path, run_cli) -> None:
    code, steps = _run(run_cli, project)
    assert code == 0
    assert steps["test"]["status"] == "not configured"
    assert "checklist.test_command" in steps["test"]["reason"]
    assert set(_statuses(steps).values()) == {"skipped"}
    assert steps["_"]["report"].endswith("checklist.html")
    for step in RUN_STEPS:  # a skipped step leaves no record: it is no evidence of a repeat
        assert len(read_run_log(project / ".mlready", step)) == 1


@pytest.mark.parametrize(
    ("change", "reruns"),
    [
        (
            ("monitoring:\n  max_model_age_days: 90", "monitoring:\n  max_model_age_days: 60"),
            ["check-drift", "checklist-report"],
        ),
        (("checklist:\n  pass_bar: 0", "checklist:\n  pass_bar: 0.0"), ["checklist-report"]),
        (
            ("output_period: 1d", "output_period: 2d"),
            ["serve-batch", "check-drift", "checklist-report"],
        ),
        (
            ("params: {max_iter: 500}", "params: {max_iter: 500, C: 0.5}"),
            ["train", "register", "serve-batch", "check-drift", "checklist-report"],
        ),
        # the model comes out the same, so it is not registered again
        (
            ("max: 100}", "max: 101}"),
            ["validate-data", "train", "serve-batch", "check-drift", "checklist-report"],
        ),
    ],
    ids=["monitoring", "checklist", "serving", "model", "expectations"],
)
def test_changing_one_value_reruns_exactly_the_steps_that_depend_on_it(
    project: Path, run_cli, change: tuple[str, str], reruns: list[str]
) -> None:
    spec = project / "mlready.yaml"
    text = spec.read_text()
    assert change[0] in text
    spec.write_text(text.replace(change[0], change[1]))
    code, steps = _run(run_cli, project)
    assert code == 0, steps
    ran = [s for s, status in _statuses(steps).items() if status == "ran"]
    assert ran == reruns
    assert set(_statuses(steps).values()) <= {"ran", "skipped"}


def test_new_data_reruns_the_steps_that_read_it(project: Path, run_cli) -> None:
    make_batch(300, seed=99).to_csv(project / "data" / "batch.csv", index=False)
    _, steps = _run(run_cli, project)
    assert [s for s, v in _statuses(steps).items() if v == "ran"] == [
        "serve-batch",
        "check-drift",
        "checklist-report",
    ]
    frame = toy_frame(800, seed=5)
    frame.to_csv(project / "data" / "train.csv", index=False)
    _, steps = _run(run_cli, project)
    assert _statuses(steps)["validate-data"] == "ran"
    assert _statuses(steps)["train"] == "ran"


def test_a_new_mlready_version_and_force_rerun_everything(
    project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, steps = _run(run_cli, project, "--force")
    assert set(_statuses(steps).values()) == {"ran"}
    import mlready

    monkeypatch.setattr(mlready, "__version__", "99.0.0")
    _, steps = _run(run_cli, project)
    assert set(_statuses(steps).values()) == {"ran"}


def test_from_and_until_choose_the_steps(project: Path, run_cli) -> None:
    _, steps = _run(run_cli, project, "--until", "train")
    assert list(_statuses(steps)) == ["validate-data", "train"]
    _, steps = _run(run_cli, project, "--from", "serve-batch", "--force")
    assert _statuses(steps) == dict.fromkeys(
        ["serve-batch", "check-drift", "checklist-report"], "ran"
    )
    result = run_cli("--spec", str(project), "run", "--from", "check-drift", "--until", "train")
    assert result.exit_code == 2
    assert "swap them" in result.stderr
    result = run_cli("--spec", str(project), "run", "--from", "deploy")
    assert result.exit_code == 2
    assert "unknown step 'deploy'" in result.stderr


@pytest.mark.parametrize("failing", RUN_STEPS)
def test_run_stops_at_a_steps_hard_failure_and_says_what_ran(
    project: Path, run_cli, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    from mlready.cli import run as run_module

    real = run_module._steps

    def steps(spec: Path, report_dir: Path | None, plan: object, force: bool = False) -> dict:
        commands = real(spec, report_dir, plan, force)

        def broken() -> None:
            raise typer.Exit(4)

        commands[failing] = broken
        return commands

    monkeypatch.setattr(run_module, "_steps", steps)
    code, result = _run(run_cli, project, "--force")
    assert code == 4
    statuses = _statuses(result)
    index = RUN_STEPS.index(failing)
    assert [statuses[s] for s in RUN_STEPS[:index]] == ["ran"] * index
    assert statuses[failing] == "failed"
    assert [statuses[s] for s in RUN_STEPS[index + 1 :]] == ["not run"] * (
        len(RUN_STEPS) - index - 1
    )
    # the failed step is not remembered: the next run tries it again
    monkeypatch.setattr(run_module, "_steps", real)
    _, again = _run(run_cli, project)
    assert _statuses(again)[failing] == "ran"


def test_a_real_contract_failure_stops_before_training(project: Path, run_cli) -> None:
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text().replace("max: 100}", "max: 10}"))
    result = run_cli("--spec", str(project), "run")
    assert result.exit_code == 1
    assert "not run" in result.stdout
    assert "stopped at validate-data: the training data broke the contract" in result.stdout
    assert "readiness report" not in result.stdout, "an older report is not this run's"


def test_drift_is_a_finding_the_report_still_gets_written(
    project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlready.cli import run as run_module

    real = run_module._steps

    def steps(spec: Path, report_dir: Path | None, plan: object, force: bool = False) -> dict:
        commands = real(spec, report_dir, plan, force)

        def drifted() -> None:
            raise typer.Exit(1)

        commands["check-drift"] = drifted
        return commands

    monkeypatch.setattr(run_module, "_steps", steps)
    code, result = _run(
        run_cli, project, "--from", "check-drift", "--force", "--report-dir", str(project / "out")
    )
    assert code == 1
    assert _statuses(result) == {"check-drift": "failed", "checklist-report": "ran"}
    assert (project / "out" / "checklist.md").exists()


def test_without_a_serving_input_the_serving_steps_are_not_configured(
    tmp_path: Path, run_cli
) -> None:
    folder = write_project(tmp_path / "p", frame=toy_frame(800))
    code, result = _run(run_cli, folder, "--until", "check-drift", "--from", "serve-batch")
    assert code == 0
    assert _statuses(result) == {"serve-batch": "not configured", "check-drift": "not configured"}
    assert "serving.input" in result["serve-batch"]["reason"]


@pytest.mark.parametrize("name", [c for c in cli_commands() if c != "serve"])
def test_every_command_takes_json(run_cli, name: str) -> None:
    """Every command but `mlready serve`, a server that answers over HTTP in JSON until stopped."""
    result = run_cli(*name.split(), "--help")
    assert "--json" in result.stdout, name


@pytest.mark.parametrize(
    "args",
    [
        ["spec", "check"],
        ["spec", "schema"],
        ["validate-data"],
        ["train", "--no-importance"],
        ["register"],
        ["registry", "list"],
        ["registry", "show"],
        ["registry", "history"],
        ["registry", "verify"],
        ["registry", "diff", "1", "2"],
        ["serve-batch"],
        ["check-drift"],
        ["checklist-report"],
        ["run"],
    ],
    ids=lambda a: " ".join(a),
)
def test_json_prints_one_document_on_stdout(project: Path, run_cli, args: list[str]) -> None:
    result = run_cli("--spec", str(project), *args, "--json")
    payload = json.loads(result.stdout)  # nothing else on stdout
    assert isinstance(payload, (dict, list)), args
    if result.exit_code:
        assert payload["exit_code"] == result.exit_code


def test_json_errors_are_json_too(tmp_path: Path, run_cli) -> None:
    result = run_cli("--spec", str(tmp_path / "missing"), "train", "--json")
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 3
    assert "mlready.yaml" in payload["error"]
    assert "error" in result.stderr


def test_init_json(tmp_path: Path, run_cli) -> None:
    result = run_cli("init", str(tmp_path / "new"), "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["spec"].endswith("mlready.yaml")
    assert payload["written"]


def test_outputs_that_disappeared_are_made_again(project: Path, run_cli) -> None:
    shutil.rmtree(project / "predictions")
    (project / ".mlready" / "registry.db").unlink()
    _, steps = _run(run_cli, project, "--report-dir", str(project / "reports"))
    statuses = _statuses(steps)
    assert statuses["train"] == "skipped"
    assert statuses["register"] == "ran"  # the model went into the new, empty registry
    assert statuses["serve-batch"] == "ran"
    assert (project / "predictions" / "scores.parquet").exists()
    assert (project / "reports" / "checklist.md").exists()
    _, steps = _run(run_cli, project, "--report-dir", str(project / "again"))
    assert set(_statuses(steps).values()) == {"skipped"}
    assert (project / "again" / "checklist.md").exists(), "a skipped report is still delivered"
    # its evidence links were written for the run folder: the copy's lead there from its own
    hrefs = re.findall(
        r'class="evidence" href="([^"]+)"', (project / "again" / "checklist.html").read_text()
    )
    assert hrefs
    for href in hrefs:
        assert (project / "again" / unquote(href)).resolve().is_file(), href
    # each step's reports and JUnit XML, from the run this pipeline used (here: skipped ones)
    runs = {k: v["run_id"] for k, v in steps.items() if k != "_"}
    junit = project / "again" / "validate-data" / "junit.xml"
    validated = project / ".mlready" / "runs" / "validate-data" / runs["validate-data"]
    assert junit.read_bytes() == (validated / "junit.xml").read_bytes()
    assert (project / "again" / "check-drift" / "drift.html").exists()
    published = {
        p.relative_to(project / "again").as_posix() for p in (project / "again").rglob("*")
    }
    assert not [p for p in published if p.endswith((".joblib", ".parquet", ".csv"))], published


def test_the_pipeline_registers_what_it_trained_and_checks_what_it_scored(
    project: Path, run_cli
) -> None:
    state = json.loads((project / ".mlready" / "pipeline.json").read_text())
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text().replace("max_iter: 500}", "max_iter: 500, C: 0.01}"))
    assert run_cli("--spec", str(project), "--quiet", "train").exit_code == 0  # by hand
    spec.write_text(spec.read_text().replace("max_iter: 500, C: 0.01}", "max_iter: 500}"))
    other = make_batch(100, seed=3)
    other.to_csv(project / "other.csv", index=False)
    served = run_cli(
        "--spec",
        str(project),
        "--quiet",
        "serve-batch",
        "--input",
        str(project / "other.csv"),
        "--output",
        str(project / "o.parquet"),
    )
    assert served.exit_code == 0
    spec.write_text(spec.read_text().replace("max_model_age_days: 90", "max_model_age_days: 80"))
    spec.write_text(
        spec.read_text().replace("registry:", "registry:")
        + "registry:\n  promotion: {tolerance: 0.01}\n"
    )
    _, steps = _run(run_cli, project)
    assert _statuses(steps)["train"] == "skipped"
    registered = read_run_log(project / ".mlready", "register")[-1]
    assert registered.summary["run_id"] == state["train"]["run_id"]
    checked = read_run_log(project / ".mlready", "check-drift")[-1]
    assert checked.summary["current"]["serve_run"] == state["serve-batch"]["run_id"]


@pytest.mark.parametrize(
    "args",
    [
        ["registry", "list", "--json", "--format", "xml"],
        ["run", "--json", "--bogus"],
        ["spec", "schema", "--indent", "20", "--json"],
    ],
)
def test_usage_errors_answer_in_json_too(project: Path, run_cli, args: list[str]) -> None:
    result = run_cli("--spec", str(project), *args)
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": "usage error (the message is on stderr)",
        "exit_code": 2,
    }
    assert result.stderr


def test_json_as_a_global_option(project: Path, run_cli) -> None:
    result = run_cli("--json", "--spec", str(project), "registry", "list")
    assert result.exit_code == 0
    assert isinstance(json.loads(result.stdout), (dict, list))


def test_infer_in_json(project: Path, run_cli) -> None:
    result = run_cli("--spec", str(project), "validate-data", "--infer", "--json")
    assert result.exit_code == 0
    assert "columns:" in json.loads(result.stdout)["expectations"]


def test_init_and_run_on_a_table_without_ids_keep_the_codes_leading_zeros(
    tmp_path: Path, run_cli
) -> None:
    """`init --data` on a table without an id column and with zip codes like 01234, then
    `mlready run`: every step passes, and validation, training and serving all see 01234."""
    from tests.training_data import coded_frame

    data = tmp_path / "customers.csv"
    coded_frame(600).to_csv(data, index=False)
    zips = set(pd.read_csv(data, dtype=str)["zip"])
    assert any(z.startswith("0") for z in zips)
    folder = tmp_path / "project"
    made = run_cli("init", str(folder), "--data", str(data), "--target", "churn")
    assert made.exit_code == 0, made.stderr
    spec = folder / "mlready.yaml"
    text = spec.read_text()
    assert "id_columns: []" in text
    assert '"zip"' in text.split("categorical:")[1].split("\n")[0]  # a code, not a number
    # the contract's word on the codes: five digits, as text
    spec.write_text(
        text.replace(
            '    "churn": {max_null_fraction: 0}\n',
            '    "churn": {max_null_fraction: 0}\n'
            "    zip: {type: string, regex: '^\\d{5}$', max_null_fraction: 0}\n",
        )
    )
    result = run_cli("--spec", str(folder), "run", "--json")
    assert result.exit_code == 0, result.stderr
    runs = folder / ".mlready" / "runs"
    # validation: the codes passed as five-digit text
    validation = json.loads(next((runs / "validate-data").glob("*/validation.json")).read_text())
    status = {r["id"]: r["status"] for r in validation["results"]}
    assert status["zip.type"] == status["zip.regex"] == "passed"
    # training: the model learned the categories with their zeros, and records them as text
    train = next((runs / "train").glob("*"))
    metadata = json.loads((train / "metadata.json").read_text())
    assert metadata["features"]["dtypes"]["zip"] in ("str", "object", "string")
    reference = json.loads((train / "reference_profile.json").read_text())
    assert set(reference["columns"]["zip"]["categories"]) == zips
    # serving: the batch's codes are the model's, none unseen, and rows numbered for joins
    served = next((runs / "serve-batch").glob("*"))
    profile = json.loads((served / "predictions.profile.json").read_text())
    assert set(profile["columns"]["zip"]["categories"]) == zips
    predictions = pd.read_parquet(served / "predictions.parquet")
    assert predictions["row"].tolist() == list(range(600))
    steps = {s["step"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps.pop("test")["status"] == "not configured"
    assert all(s["status"] == "ran" for s in steps.values()), steps


def test_a_report_dir_holding_files_mlready_did_not_write_is_refused_before_any_step(
    project: Path, run_cli
) -> None:
    reports = project / "reports"
    reports.mkdir()
    (reports / "checklist.html").write_text("the team's own page", encoding="utf-8")
    before = (project / ".mlready" / "runs.jsonl").read_text()
    result = run_cli("--spec", str(project), "run", "--report-dir", str(reports))
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: --report-dir {reports / 'checklist.html'} exists and was not written by "
        "mlready: choose another folder, or pass --force (which also runs every step again)"
    ]
    assert (reports / "checklist.html").read_text(encoding="utf-8") == "the team's own page"
    assert (project / ".mlready" / "runs.jsonl").read_text() == before, "no step ran"
    # --force overwrites it; from then on the files are mlready's, replaced without --force
    report = ("--from", "checklist-report", "--report-dir", str(reports))
    code, _ = _run(run_cli, project, "--force", *report)
    assert code == 0
    assert "the team's own page" not in (reports / "checklist.html").read_text(encoding="utf-8")
    code, _ = _run(run_cli, project, *report)
    assert code == 0
    assert sorted(p.name for p in reports.iterdir()) == [
        "checklist.html",
        "checklist.json",
        "checklist.md",
    ]


def test_a_step_report_in_the_report_dir_that_mlready_did_not_write_is_refused(
    project: Path, run_cli
) -> None:
    """Each step's reports are copied into a folder of their own: the same guard."""
    mine = project / "reports" / "train" / "training.html"
    mine.parent.mkdir(parents=True)
    mine.write_text("the team's own page", encoding="utf-8")
    result = run_cli("--spec", str(project), "run", "--report-dir", str(project / "reports"))
    assert result.exit_code == 2
    assert f"--report-dir {mine} exists and was not written by mlready" in result.stderr
    assert mine.read_text(encoding="utf-8") == "the team's own page"


def test_a_report_is_not_copied_over_files_mlready_did_not_write(project: Path, run_cli) -> None:
    reports = project / "mine"
    reports.mkdir()
    (reports / "checklist.md").write_text("notes", encoding="utf-8")
    result = run_cli("--spec", str(project), "run", "--report-dir", str(reports))
    assert result.exit_code == 2
    assert (reports / "checklist.md").read_text(encoding="utf-8") == "notes"
