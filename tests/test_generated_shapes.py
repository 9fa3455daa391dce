"""Issue 16: `mlready init --data` then `mlready run` on generated tables of many shapes.

Each shape is written to a folder, given to init, served from a later batch of the same shape
and checked for drift on it and on a drifted batch. The pipeline runs once per shape (cached for
the module); each test then asserts one property over every shape. Cases that fail because of
an issue-16 defect fixed on another branch are strict xfails, so they fail once the fix lands.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlready.cli.app import main
from mlready.cli.state import STATE
from tests.generated import DRIFTED_FEATURE, GeneratedTables, Shape, generate, write_tables

pytestmark = pytest.mark.slow

SHAPES = [
    Shape("binary_yes_no", two_value_text=True),
    Shape("no_id_column", id_column=False, seed=1),
    Shape("leading_zeros", leading_zeros=True, seed=2),
    Shape("booleans", booleans=True, seed=3),
    Shape("overtime_yes_no", overtime=True, seed=5),
    Shape("iso_dates_int_labels", dates="iso", labels="int", seed=6),
    Shape("month_names", dates="month", seed=7),
    Shape("missing_high_cardinality_constant", missing=0.1, high_cardinality=True, constant=True),
    Shape("target_proxy", proxy=True, seed=10),
    Shape("post_outcome", post_outcome=True, seed=11),
    Shape("text_labels", labels="text", seed=12),
    Shape("multiclass", task="multiclass", seed=14),
    Shape("regression", task="regression", seed=0),
]
BY_NAME = {s.name: s for s in SHAPES}


#: (test, shape) -> why it fails today: every defect this suite was written for is fixed, so
#: none; a shape a new defect breaks goes here with its reason, as a strict xfail.
XFAIL: dict[tuple[str, str], str] = {}


def cases(test: str, names: list[str] | None = None) -> list[Any]:
    """The shapes a test runs on, the ones a known defect breaks marked as strict xfails."""
    out = []
    for name in names or list(BY_NAME):
        reason = XFAIL.get((test, name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@dataclass
class Call:
    """One CLI call and what it gave."""

    args: list[str]
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class ShapeRun:
    """A shape's tables, project and every CLI call made on them."""

    tables: GeneratedTables
    folder: Path
    paths: dict[str, Path]
    calls: dict[str, Call] = field(default_factory=dict)

    @property
    def spec(self) -> Path:
        return self.folder / "proj" / "mlready.yaml"

    @property
    def artifacts(self) -> Path:
        return self.folder / "proj" / ".mlready"

    def records(self, step: str) -> list[dict[str, Any]]:
        log = self.artifacts / "runs.jsonl"
        if not log.exists():
            return []
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        return [r for r in rows if r["step"] == step]

    def metadata(self) -> dict[str, Any]:
        train = self.records("train")
        assert train, "no training run"
        return json.loads((self.artifacts / train[-1]["run_dir"] / "metadata.json").read_text())

    def spec_data(self) -> dict[str, Any]:
        import yaml

        return yaml.safe_load(self.spec.read_text())["data"]


def cli(*args: str) -> Call:
    """``mlready ARGS`` in this process, through main(), output captured (conftest's run_cli
    uses capsys, which a module-scoped fixture cannot: each shape's pipeline runs once)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            STATE.spec, STATE.quiet, STATE.verbose, STATE.debug = None, False, False, False
            STATE.json = False
    return Call(list(args), code, stdout.getvalue(), stderr.getvalue())


def _fast(text: str, batch: str) -> str:
    """init's starter spec, scoring the later batch, with a smaller model and fewer folds."""
    replaced = text
    for old, new in (
        ('input: {path: "../data/train.csv"}', f"input: {{path: {json.dumps(batch)}}}"),
        ("params: {max_iter: 200, learning_rate: 0.1}", "params: {max_iter: 30}"),
        ("folds: 5", "folds: 3"),
    ):
        assert old in replaced, old
        replaced = replaced.replace(old, new)
    return replaced


def _run_shape(shape: Shape, folder: Path) -> ShapeRun:
    tables = generate(shape)
    paths = write_tables(tables, folder / "data")
    run = ShapeRun(tables, folder, paths)
    proj = folder / "proj"
    run.calls["init"] = cli("init", str(proj), "--data", str(paths["train"]), "--target", "target")
    if run.calls["init"].exit_code != 0:
        return run
    run.spec.write_text(_fast(run.spec.read_text(), "../data/batch.csv"))
    run.calls["run"] = cli("--spec", str(run.spec), "run", "--json")
    if run.calls["run"].exit_code not in (0, 1) or not run.records("serve-batch"):
        return run
    spec = str(run.spec)
    if run.tables.outcomes is not None:
        run.calls["outcomes"] = cli(
            "--spec", spec, "check-drift", "--outcomes", str(paths["outcomes"]), "--json"
        )
        if shape.task == "binary":
            wrong = folder / "data" / "wrong_outcomes.csv"
            flipped = run.tables.outcomes.astype(str)
            low, high = sorted(flipped["target"].unique())
            flipped["target"] = flipped["target"].map({low: high, high: low})
            flipped.to_csv(wrong, index=False)
            run.calls["wrong_outcomes"] = cli(
                "--spec", spec, "check-drift", "--outcomes", str(wrong), "--json"
            )
    if shape.leading_zeros:
        run.calls["infer"] = cli("--spec", spec, "validate-data", "--infer", "--json")
    drifted_output = str(folder / "drifted.parquet")
    run.calls["serve_drifted"] = cli(
        "--spec", spec, "serve-batch", "--input", str(paths["drifted"]), "--output", drifted_output
    )
    run.calls["drift_drifted"] = cli("--spec", spec, "check-drift", "--json")
    return run


@pytest.fixture(scope="module")
def shape_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """name -> the ShapeRun of that shape (each shape runs once for the module)."""
    done: dict[str, ShapeRun] = {}

    def get(name: str) -> ShapeRun:
        if name not in done:
            done[name] = _run_shape(BY_NAME[name], tmp_path_factory.mktemp(name))
        return done[name]

    return get


def _no_crash(call: Call) -> None:
    text = call.stdout + call.stderr
    assert call.exit_code != 5, f"{call.args}: internal error\n{text[-2000:]}"
    assert "Traceback" not in text, f"{call.args}\n{text[-2000:]}"


# ----------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", cases("runs_end_to_end"))
def test_runs_end_to_end(shape_run, name: str) -> None:
    run = shape_run(name)
    for call in run.calls.values():
        _no_crash(call)
    assert run.calls["init"].exit_code == 0, run.calls["init"].stderr
    result = run.calls["run"]
    payload = result.json()
    statuses = {s["step"]: s["status"] for s in payload["steps"]}
    assert statuses.pop("test") == "not configured", "init writes no test command"
    assert statuses == dict.fromkeys(statuses, "ran"), payload
    assert result.exit_code == 0, payload
    assert run.calls["serve_drifted"].exit_code == 0, run.calls["serve_drifted"].stderr


@pytest.mark.parametrize("name", cases("training_and_serving_see_the_same_values"))
def test_training_and_serving_see_the_same_values(shape_run, name: str) -> None:
    run = shape_run(name)
    train = run.records("train")
    assert train, run.calls.get("run")
    skew = train[-1]["summary"]["skew"]
    assert skew["rows"] == min(len(run.tables.train), 1000)
    assert skew["passed"], skew
    assert skew["mismatched_rows"] == 0


@pytest.mark.parametrize(
    "name", cases("served_ids_are_the_batch_ids", [s.name for s in SHAPES if s.id_column])
)
def test_served_ids_are_the_batch_ids(shape_run, name: str) -> None:
    run = shape_run(name)
    assert run.calls["serve_drifted"].exit_code == 0, run.calls["serve_drifted"].stderr
    output = pd.read_parquet(run.folder / "drifted.parquet")
    expected = pd.read_csv(run.paths["drifted"], dtype=str)["account_id"]
    assert output["account_id"].tolist() == expected.tolist()
    if BY_NAME[name].leading_zeros:
        assert output["account_id"].str.startswith("0").all()


@pytest.mark.parametrize("name", cases("codes_keep_their_leading_zeros", ["leading_zeros"]))
def test_codes_keep_their_leading_zeros(shape_run, name: str) -> None:
    import yaml

    run = shape_run(name)
    inferred = yaml.safe_load(run.calls["infer"].json()["expectations"])["expectations"]
    for column in ("account_id", "zip"):
        assert inferred["columns"][column]["type"] == "string", inferred["columns"][column]
    metadata = run.metadata()
    assert "zip" in metadata["features"]["categorical"], metadata["features"]
    example = [row["zip"] for row in metadata["input_example"]]
    assert all(isinstance(z, str) and len(z) == 5 for z in example), example
    profile = json.loads(
        (run.artifacts / run.records("train")[-1]["run_dir"] / "reference_profile.json").read_text()
    )
    assert "01234" in profile["columns"]["zip"]["categories"]


@pytest.mark.parametrize(
    "name", cases("timestamp_is_a_date", ["iso_dates_int_labels", "month_names", "overtime_yes_no"])
)
def test_timestamp_is_a_date(shape_run, name: str) -> None:
    data = shape_run(name).spec_data()
    expected = "signup_date" if name == "iso_dates_int_labels" else None
    assert data.get("timestamp_column") == expected, data


@pytest.mark.parametrize(
    "name",
    cases(
        "positive_class_is_the_minority", ["binary_yes_no", "text_labels", "iso_dates_int_labels"]
    ),
)
def test_positive_class_is_the_minority(shape_run, name: str) -> None:
    run = shape_run(name)
    counts = run.tables.train["target"].astype(str).value_counts()
    assert counts[run.tables.positive] < counts.drop(run.tables.positive).iloc[0]
    assert str(run.spec_data()["positive_class"]) == run.tables.positive


@pytest.mark.parametrize("name", cases("leakage_is_flagged", ["target_proxy", "post_outcome"]))
def test_leakage_is_flagged(shape_run, name: str) -> None:
    run = shape_run(name)
    column = "agency_code" if name == "target_proxy" else "reminders_sent"
    # init measures each column's own predictive power as train does, and keeps a proxy out
    # of the features with the reason in the spec; train would fail on it otherwise
    data = run.spec_data()
    features = [
        *(data["features"].get("numeric") or []),
        *(data["features"].get("categorical") or []),
    ]
    assert column not in features
    assert column in (data.get("forbidden_columns") or [])
    assert "alone predicts the target" in run.spec.read_text()
    assert f"forbidden: {column}" in " ".join(run.calls["init"].stdout.split()) or column in (
        run.calls["init"].stdout
    )
    assert run.metadata()["leakage"]["forbidden"]["present"] == [column]
    assert run.metadata()["leakage"]["forbidden"]["used"] == []


@pytest.mark.parametrize("name", cases("no_leakage_where_none_was_planted", ["binary_yes_no"]))
def test_no_leakage_where_none_was_planted(shape_run, name: str) -> None:
    assert shape_run(name).metadata()["leakage"]["target_proxies"] == []


@pytest.mark.parametrize("name", cases("no_drift_when_none_was_planted"))
def test_no_drift_when_none_was_planted(shape_run, name: str) -> None:
    run = shape_run(name)
    drift = run.records("check-drift")
    assert drift, run.calls.get("run")
    summary = drift[0]["summary"]  # the pipeline's check of the undrifted batch
    assert summary["drifted"] == [], summary
    assert summary["dataset_drift"] is False


@pytest.mark.parametrize("name", cases("planted_drift_found"))
def test_planted_drift_found(shape_run, name: str) -> None:
    run = shape_run(name)
    call = run.calls.get("drift_drifted")
    assert call is not None, run.calls.get("run")
    _no_crash(call)
    assert DRIFTED_FEATURE in call.json()["drifted"]


@pytest.mark.parametrize(
    "name",
    cases("outcomes_give_realized_performance", ["binary_yes_no", "multiclass", "regression"]),
)
def test_outcomes_give_realized_performance(shape_run, name: str) -> None:
    call = shape_run(name).calls["outcomes"]
    _no_crash(call)
    assert call.exit_code == 0, call.stdout
    performance = call.json()["performance"]
    assert performance["dropped"] is False, performance


def _wrong_outcomes(run: ShapeRun) -> Call:
    call = run.calls["wrong_outcomes"]
    _no_crash(call)
    return call


@pytest.mark.parametrize("name", cases("performance_drop_is_found", ["binary_yes_no"]))
def test_performance_drop_is_found(shape_run, name: str) -> None:
    call = _wrong_outcomes(shape_run(name))
    performance = call.json()["performance"]
    assert performance["dropped"] is True, performance


@pytest.mark.parametrize("name", cases("performance_drop_fails_the_check", ["binary_yes_no"]))
def test_performance_drop_fails_the_check(shape_run, name: str) -> None:
    call = _wrong_outcomes(shape_run(name))
    assert call.exit_code == 1, call.json()
