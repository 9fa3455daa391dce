"""mlready init: a starter spec that passes the check, from example data or the user's own."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlready.spec import load_spec


def test_init_writes_a_spec_that_passes_the_check(tmp_path: Path, run_cli) -> None:
    target = tmp_path / "new"
    result = run_cli("init", str(target))
    assert result.exit_code == 0, result.stderr
    assert (target / "mlready.yaml").is_file()
    assert (target / "data" / "example.csv").is_file()
    assert ".mlready/" in (target / ".gitignore").read_text()
    check = run_cli("--spec", str(target), "spec", "check")
    assert check.exit_code == 0, check.stderr
    text = (target / "mlready.yaml").read_text()
    assert text.count("#") > 10  # a commented starter, not a bare dump
    spec = load_spec(target).spec
    assert spec.data.target == "churned"
    assert spec.data.id_columns == ["customer_id"]
    assert spec.data.timestamp_column == "signup_month"
    assert set(spec.data.features.numeric or []) == {
        "tenure_months",
        "monthly_fee",
        "support_calls",
    }
    assert spec.data.features.categorical == ["plan"]


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, run_cli) -> None:
    assert run_cli("init", str(tmp_path)).exit_code == 0
    (tmp_path / "mlready.yaml").write_text("# mine\n")
    again = run_cli("init", str(tmp_path))
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert (tmp_path / "mlready.yaml").read_text() == "# mine\n"
    assert run_cli("init", str(tmp_path), "--force").exit_code == 0


def test_init_from_the_users_csv(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "houses.csv"
    rows = ["house_id,area,rooms,city,price"] + [
        f"H{i},{50 + i},{1 + i % 5},{['Lyon', 'Nice', 'Paris'][i % 3]},"
        f"{100000 + 1500 * i + 20000 * (i % 5)}"
        for i in range(40)
    ]
    data.write_text("\n".join(rows) + "\n")
    result = run_cli("init", str(tmp_path / "proj"), "--data", str(data), "--target", "price")
    assert result.exit_code == 0, result.stderr
    spec = load_spec(tmp_path / "proj", check_files=True).spec
    assert spec.data.task == "regression"
    assert spec.data.id_columns == ["house_id"]
    assert spec.data.features.numeric == ["area", "rooms"]
    assert spec.data.features.categorical == ["city"]
    assert spec.model.estimator == "sklearn.ensemble.HistGradientBoostingRegressor"
    assert not (tmp_path / "proj" / "data").exists()  # no example data when you bring your own


def test_init_from_parquet(tmp_path: Path, run_cli) -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0], "kind": ["a", "b", "a"], "label": [0, 1, 0]})
    pq.write_table(table, tmp_path / "d.parquet")
    result = run_cli(
        "init", str(tmp_path / "p"), "--data", str(tmp_path / "d.parquet"), "--target", "label"
    )
    assert result.exit_code == 0, result.stderr
    spec = load_spec(tmp_path / "p", check_files=True).spec
    assert spec.data.task == "classification"
    assert spec.data.positive_class == "1"


def test_init_with_unknown_target_lists_the_columns(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "c")
    assert result.exit_code == 2
    assert "'c' is not a column" in result.stderr
    assert "a, b" in result.stderr
    assert not (tmp_path / "p" / "mlready.yaml").exists()


def test_init_with_data_but_no_target(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data))
    assert result.exit_code == 2
    assert "--target" in result.stderr


def test_init_with_unreadable_data(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "d.csv"
    data.write_bytes("a,b\ncaf\u00e9,1\n".encode("latin-1"))
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "b")
    assert result.exit_code == 4
    assert "UTF-8" in result.stderr
    missing = run_cli(
        "init", str(tmp_path / "q"), "--data", str(tmp_path / "no.csv"), "--target", "b"
    )
    assert missing.exit_code == 4


def _repo(tmp_path: Path) -> Path:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def test_init_ci_github_writes_a_workflow_that_runs_the_pipeline(tmp_path: Path, run_cli) -> None:
    import subprocess

    import yaml

    root = _repo(tmp_path)
    result = run_cli("init", str(root / "churn"), "--ci", "github")
    assert result.exit_code == 0, result.stderr
    workflow = yaml.safe_load((root / ".github" / "workflows" / "mlready.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push", "pull_request"}
    # a pull request's branch runs once, as the pull request: pushes run on the default branch
    branch = subprocess.run(
        ["git", "-C", str(root), "symbolic-ref", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert triggers["push"] == {"branches": [branch]}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["group"] == "mlready-${{ github.ref }}"
    steps = workflow["jobs"]["pipeline"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@")
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == ".github/mlready-constraints.txt"
    assert (root / ".github" / "mlready-constraints.txt").is_file()
    env = workflow["jobs"]["pipeline"]["env"]
    assert "secrets.MLREADY_REGISTRY_URL" in env["MLREADY_REGISTRY_URL"]
    assert "github.event_name == 'push'" in env["MLREADY_REGISTRY_URL"], "never in a PR"
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "mlready --spec churn/mlready.yaml spec check" in runs
    assert "mlready --spec churn/mlready.yaml run --report-dir mlready-reports" in runs
    assert 'cat mlready-reports/checklist.md >> "$GITHUB_STEP_SUMMARY"' in runs
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    # the reports, the run log and the project site with the run files it links to; no model
    assert upload["with"]["path"].split() == [
        "mlready-reports/",
        "churn/.mlready/runs.jsonl",
        "churn/.mlready/site/",
        *(f"churn/.mlready/runs/*/*/{name}" for name in ("*.html", "*.json", "*.xml", "run.log")),
    ]
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    assert restore["with"]["path"] == "churn/.mlready"


def test_init_ci_gitlab_and_refusals(tmp_path: Path, run_cli) -> None:
    import yaml

    root = _repo(tmp_path)
    assert run_cli("init", str(root), "--ci", "gitlab").exit_code == 0
    config = yaml.safe_load((root / ".gitlab-ci.yml").read_text())
    job = config["mlready"]
    assert "mlready --spec mlready.yaml run --report-dir mlready-reports" in job["script"]
    assert job["artifacts"]["when"] == "always"
    # this run's reports and the run log, never the run folders with their models
    assert job["artifacts"]["paths"] == [
        "mlready-reports/",
        ".mlready/runs.jsonl",
        ".mlready/site/",
        *(f".mlready/runs/*/*/{name}" for name in ("*.html", "*.json", "*.xml", "run.log")),
    ]
    assert job["artifacts"]["reports"]["junit"] == "mlready-reports/*/junit.xml"
    runs_cache, pip_cache = job["cache"]
    assert runs_cache["paths"] == [".mlready/"]
    assert runs_cache["when"] == "always"
    assert job["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    assert pip_cache["paths"] == [".cache/pip"]
    assert pip_cache["key"]["files"] == [".gitlab/mlready-constraints.txt"]
    assert (root / ".gitlab" / "mlready-constraints.txt").is_file()
    assert job["resource_group"] == "mlready-$CI_COMMIT_REF_SLUG"
    again = run_cli("init", str(root), "--ci", "gitlab")
    assert again.exit_code == 2
    assert "--force" in again.stderr
    unknown = run_cli("init", str(root), "--ci", "jenkins")
    assert unknown.exit_code == 2
    assert "use one of github, gitlab" in unknown.stderr


@pytest.mark.slow
def test_the_github_workflow_steps_run_here(tmp_path: Path, run_cli) -> None:
    """The workflow's own shell steps, run in order on the starter project, as CI would."""
    import os
    import subprocess
    import sys

    import yaml

    root = _repo(tmp_path)
    assert run_cli("init", str(root / "proj"), "--ci", "github").exit_code == 0
    workflow = yaml.safe_load((root / ".github" / "workflows" / "mlready.yml").read_text())
    summary = tmp_path / "summary.md"
    env = {
        **{k: v for k, v in os.environ.items() if k != "MLREADY_REGISTRY_URL"},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "MLREADY_REGISTRY_URL": "",  # no secret: the file registry, with a warning
    }
    shells = {"python": [sys.executable, "-c"]}
    for step in workflow["jobs"]["pipeline"]["steps"]:
        command = step.get("run", "")
        if not command or "pip install" in command:
            continue
        done = subprocess.run(
            [*shells.get(step.get("shell", ""), ["bash", "-ec"]), command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    text = summary.read_text()
    assert "## Production readiness" in text
    assert "> [!WARNING]\n> The registry is the SQLite file in .mlready/" in text
    assert "- **validate-data**: " in text  # the JUnit results of the data validation
    assert (root / "mlready-reports" / "checklist.html").exists()
    assert (root / "mlready-reports" / "validate-data" / "junit.xml").exists()
    from mlready.runs import read_run_log

    assert {r.ci for r in read_run_log(root / "proj" / ".mlready")} == {"github"}


def test_ci_paths_with_spaces_and_hashes_stay_whole(tmp_path: Path, run_cli) -> None:
    import shlex

    import yaml

    root = _repo(tmp_path)
    assert run_cli("init", str(root / "ml project #2"), "--ci", "github").exit_code == 0
    workflow = yaml.safe_load((root / ".github" / "workflows" / "mlready.yml").read_text())
    steps = workflow["jobs"]["pipeline"]["steps"]
    check = next(s["run"] for s in steps if "spec check" in s.get("run", ""))
    assert shlex.split(check)[:3] == ["mlready", "--spec", "ml project #2/mlready.yaml"]
    saved = [s for s in steps if s.get("uses", "").startswith("actions/cache/save@")]
    assert saved[0]["if"] == "always()", "the evidence is kept even when the job fails"
    assert saved[0]["with"]["path"] == "ml project #2/.mlready"


def test_ci_for_an_existing_project_named_by_the_global_spec(tmp_path: Path, run_cli) -> None:
    root = _repo(tmp_path)
    assert run_cli("init", str(root / "sub")).exit_code == 0
    result = run_cli("--spec", str(root / "sub"), "init", str(root), "--ci", "gitlab")
    assert result.exit_code == 0, result.stderr
    assert not (root / "mlready.yaml").exists(), "no second starter project"
    assert "mlready --spec sub/mlready.yaml run" in (root / ".gitlab-ci.yml").read_text()


def test_init_takes_codes_with_leading_zeros_as_categories(tmp_path: Path, run_cli) -> None:
    from tests.training_data import coded_frame

    data = tmp_path / "d.csv"
    coded_frame(100).to_csv(data, index=False)
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "churn")
    assert result.exit_code == 0, result.stderr
    spec = load_spec(tmp_path / "p", check_files=True).spec
    assert spec.data.id_columns == []
    assert spec.data.features.categorical == ["zip", "plan"]
    assert spec.data.features.numeric == ["tenure", "amount"]


def _write(path: Path, frame) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_only_dates_with_a_year_make_the_timestamp_and_it_is_said(tmp_path: Path, run_cli) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = 300
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(rows)],
            # not dates: a Yes/No flag and a month name without a year, both named like times
            "paperless_date": rng.choice(["Yes", "No"], rows),
            "contract_month": rng.choice(["January", "February", "March"], rows),
            "opened": pd.date_range("2023-01-01", periods=rows, freq="D").strftime("%m/%d/%Y"),
            "charges": rng.uniform(10, 100, rows).round(2),
            "class": rng.choice(["good", "bad"], rows, p=[0.7, 0.3]),
        }
    )
    data = _write(tmp_path / "credit.csv", frame)
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "class")
    assert result.exit_code == 0, result.stderr
    assert "timestamp column: opened" in result.stdout
    spec = load_spec(tmp_path / "p", check_files=True).spec
    assert spec.data.timestamp_column == "opened"
    assert set(spec.data.features.categorical or []) == {"paperless_date", "contract_month"}
    assert spec.validation.cv.strategy == "time_series"  # never shuffled folds over time
    # the event of interest is the rarer class, and the spec says why it was chosen
    assert spec.data.positive_class == "bad"
    text = (tmp_path / "p" / "mlready.yaml").read_text()
    assert "minority class" in text
    assert "positive class: 'bad', the minority class" in " ".join(result.stdout.split())


def test_without_a_timestamp_folds_are_shuffled_and_stratified(tmp_path: Path, run_cli) -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"x": range(100), "when_month": ["May"] * 100, "y": ["yes"] * 80 + ["no"] * 20}
    )
    data = _write(tmp_path / "d.csv", frame)
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "y")
    assert result.exit_code == 0, result.stderr
    spec = load_spec(tmp_path / "p", check_files=True).spec
    assert spec.data.timestamp_column is None
    assert spec.validation.cv.strategy == "stratified_kfold"
    assert spec.data.positive_class == "no"  # the minority class, even against a yes-like name
    assert "no timestamp column" in result.stdout


def test_init_keeps_a_target_proxy_out_of_the_features_and_says_why(
    tmp_path: Path, run_cli
) -> None:
    from tests.test_training import loans_like

    data = _write(tmp_path / "loans.csv", loans_like(rows=1500))
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "int_rate")
    assert result.exit_code == 0, result.stderr
    spec = load_spec(tmp_path / "p", check_files=True).spec
    assert spec.data.forbidden_columns == ["sub_grade"]
    features = set(spec.data.features.numeric or []) | set(spec.data.features.categorical or [])
    assert "sub_grade" not in features
    assert {"grade", "annual_inc", "loan_amnt", "purpose"} <= features
    text = (tmp_path / "p" / "mlready.yaml").read_text()
    assert "# sub_grade alone predicts the target (cross-validated R^2" in text
    assert "sub_grade kept out of the features" in " ".join(result.stdout.split())


def test_the_example_data_holds_no_proxy_so_init_need_not_measure_it(tmp_path: Path) -> None:
    from mlready.scaffold import infer_roles, write_example_data

    write_example_data(tmp_path / "example.csv", batch=tmp_path / "batch.csv")  # as init does
    measured = infer_roles(tmp_path / "example.csv", "churned")
    assert measured.forbidden == {}
    assert infer_roles(tmp_path / "example.csv", "churned", find_proxies=False) == measured


def test_init_with_the_example_imports_neither_sklearn_nor_gx(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mlready.cli.app import main\n"
        f"try:\n    main(['init', {str(tmp_path / 'p')!r}])\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "heavy = ['sklearn', 'great_expectations', 'scipy', 'matplotlib', 'sqlalchemy']\n"
        "print(f'EXIT={code} LOADED=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "EXIT=0 LOADED=", out.stdout + out.stderr


def test_the_example_data_has_a_held_out_batch_to_score(tmp_path: Path, run_cli) -> None:
    import pandas as pd

    assert run_cli("init", str(tmp_path)).exit_code == 0
    spec = load_spec(tmp_path, check_files=True).spec
    train = pd.read_csv(tmp_path / "data" / "example.csv")
    batch = pd.read_csv(tmp_path / "data" / "batch.csv")
    assert Path(spec.serving.input.path).resolve() == (tmp_path / "data" / "batch.csv").resolve()
    assert not set(train["customer_id"]) & set(batch["customer_id"])  # rows never trained on
    assert "churned" not in batch.columns  # the outcome is not known yet when scoring
    assert [r.when for r in spec.monitoring.alerts] == ["dataset_drift", "performance_drop"]


def test_the_first_run_of_a_fresh_project_has_no_false_finding(tmp_path: Path, run_cli) -> None:
    import json

    from tests.conftest import wrong_commands

    created = run_cli("init", str(tmp_path))
    assert created.exit_code == 0
    assert not wrong_commands(created.stdout)
    result = run_cli("--spec", str(tmp_path), "run", "--json")
    payload = json.loads(result.stdout)
    steps = {s["step"]: s for s in payload["steps"]}
    assert steps.pop("test")["status"] == "not configured", "the starter has no test command"
    assert all(s["status"] == "ran" for s in steps.values()), steps
    runs = tmp_path / ".mlready" / "runs"
    drift = json.loads(
        (runs / "check-drift" / steps["check-drift"]["run_id"] / "drift.json").read_text()
    )
    assert not drift["prediction_drift"], drift["predictions"]
    assert not drift["drifted"]
    train = json.loads((runs / "train" / steps["train"]["run_id"] / "metadata.json").read_text())
    assert train["validation"]["strategy"] == "time_series"
    assert not train["leakage"]["time_order"]["total"]  # no learning from the future
    linear = next(b for b in train["validation"]["baselines"] if b["kind"] == "linear")
    words = {"baseline better": "is better than the model", "as good": "is as good as the model"}
    said = " ".join(train["warnings"])
    for verdict, text in words.items():
        assert (text in said) == (linear["verdict"] == verdict), said
    checklist = json.loads(
        (
            runs / "checklist-report" / steps["checklist-report"]["run_id"] / "checklist.json"
        ).read_text()
    )
    actions = json.dumps(checklist)
    assert not wrong_commands(actions)


def test_init_never_overwrites_data_it_did_not_write(tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "p"
    (folder / "data").mkdir(parents=True)
    mine = folder / "data" / "example.csv"
    mine.write_text("id,value\n1,2\n")
    result = run_cli("init", str(folder))
    assert result.exit_code == 2
    assert "data/example.csv exists already" in result.stderr
    assert mine.read_text() == "id,value\n1,2\n"
    assert not (folder / "mlready.yaml").exists()


def test_init_with_data_imports_neither_sklearn_nor_gx(tmp_path: Path) -> None:
    """init --data measures target proxies as train would, without scikit-learn."""
    import subprocess
    import sys

    from mlready.scaffold import write_example_data

    write_example_data(tmp_path / "example.csv", batch=tmp_path / "batch.csv")
    code = (
        "import sys\n"
        "from mlready.cli.app import main\n"
        f"try:\n    main(['init', {str(tmp_path / 'p')!r}, '--data', "
        f"{str(tmp_path / 'example.csv')!r}, '--target', 'churned'])\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "heavy = ['sklearn', 'great_expectations', 'scipy', 'matplotlib', 'sqlalchemy']\n"
        "print(f'EXIT={code} LOADED=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "EXIT=0 LOADED=", out.stdout + out.stderr


@pytest.mark.parametrize("token", ["2437053942845310", "0000000000000001", "1e10000000000000"])
def test_a_project_id_of_digits_stays_a_string(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    # token_hex(8) gives only decimal digits about once in 2,000 projects: YAML must still read
    # the id as text (an unquoted one read as an integer, and init failed its own check)
    import mlready.scaffold

    monkeypatch.setattr(mlready.scaffold.secrets, "token_hex", lambda n: token)
    folder = tmp_path / "12345"  # a folder name of digits, too
    result = run_cli("init", str(folder))
    assert result.exit_code == 0, result.stderr
    spec = load_spec(folder).spec
    assert spec.project.id == token
    assert spec.project.name == "12345"
