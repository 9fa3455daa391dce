"""Loading mlready.yaml: valid specs, at least ten broken ones, and fuzzing for tracebacks."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlready.errors import SpecError
from mlready.spec import json_schema, load_spec
from mlready.spec.models import format_duration

from .conftest import MINIMAL_SPEC, SAMPLE


def write(folder: Path, text: str | bytes) -> Path:
    path = folder / "mlready.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def assert_loads_or_explains(path: Path, fragment: str = "") -> None:
    """Loading either succeeds or raises SpecError with a message; anything else is a crash."""
    message = None
    try:
        load_spec(path)
    except SpecError as exc:
        message = str(exc)
    if message is not None:
        assert message
        assert fragment in message


def test_minimal_spec_loads_with_defaults(project: Path) -> None:
    loaded = load_spec(project / "mlready.yaml", check_files=True)
    spec = loaded.spec
    assert spec.project.name == "demo"
    assert spec.data.id_columns == ["customer_id"]  # a single name becomes a list
    assert spec.validation.cv.strategy == "stratified_kfold"
    assert spec.model_name == "demo"
    # relative paths resolve against the spec's folder, not the working directory
    assert Path(spec.data.source.path) == project / "data" / "train.csv"
    assert Path(spec.project.artifacts_dir) == project / ".mlready"


def test_folder_is_accepted_as_spec_path(project: Path) -> None:
    assert load_spec(project).path == (project / "mlready.yaml").resolve()


def test_yes_and_no_stay_text(project: Path) -> None:
    text = MINIMAL_SPEC + "expectations:\n  columns:\n    churn: {allowed_values: [Yes, No]}\n"
    spec = load_spec(write(project, text)).spec
    assert spec.expectations.columns["churn"].allowed_values == ["Yes", "No"]


def test_durations_parse(project: Path) -> None:
    text = MINIMAL_SPEC + "serving:\n  sla: {output_period: 1h, max_run_time: 40m}\n"
    sla = load_spec(write(project, text)).spec.serving.sla
    assert sla.output_period == dt.timedelta(hours=1)
    assert sla.budget == dt.timedelta(minutes=40)
    assert format_duration(dt.timedelta(days=1, hours=12)) == "1d12h"


def test_sla_budget_defaults_to_two_thirds(project: Path) -> None:
    text = MINIMAL_SPEC + "serving:\n  sla: {output_period: 1h}\n"
    assert load_spec(write(project, text)).spec.serving.sla.budget == dt.timedelta(minutes=40)


def test_section_hash_changes_only_with_its_section(project: Path) -> None:
    first = load_spec(project)
    second = load_spec(write(project, MINIMAL_SPEC.replace("C: 1.0", "C: 2.0")))
    assert first.section_hash("data") == second.section_hash("data")
    assert first.section_hash("model") != second.section_hash("model")
    assert first.spec_hash != second.spec_hash


def test_sample_spec_passes_the_full_check() -> None:
    loaded = load_spec(SAMPLE / "mlready.yaml", check_files=True)
    spec = loaded.spec
    # the sample exercises every section
    assert spec.business is not None
    assert spec.serving is not None
    assert spec.serving.sla is not None
    assert spec.monitoring.alerts
    assert spec.monitoring.channels
    assert spec.checklist.attestations
    assert spec.expectations.columns
    assert spec.validation.thresholds
    assert spec.validation.slices


# (name, spec text, expected substrings, expected line)
BROKEN = [
    (
        "unknown key",
        MINIMAL_SPEC.replace("  target: churn", "  targt: churn"),
        ["data.targt", "unknown key 'targt'", "did you mean 'target'", "Allowed here"],
        7,
    ),
    (
        "wrong type",
        MINIMAL_SPEC + "validation:\n  cv:\n    folds: five\n",
        ["validation.cv.folds", "valid integer", "'five'"],
        14,
    ),
    (
        "missing data file",
        MINIMAL_SPEC.replace("data/train.csv", "data/nope.csv"),
        ["data.source.path", "no file matches 'data/nope.csv'", "relative to the spec"],
        6,
    ),
    (
        "bad enum value",
        MINIMAL_SPEC.replace("  target: churn", "  target: churn\n  task: classify"),
        ["data.task", "'auto', 'classification' or 'regression'", "got 'classify'"],
        8,
    ),
    (
        "negative threshold",
        MINIMAL_SPEC + "validation:\n  thresholds:\n    roc_auc: -0.5\n",
        ["validation.thresholds.roc_auc", "greater than or equal to 0", "-0.5"],
        14,
    ),
    ("missing section", MINIMAL_SPEC.split("model:")[0], ["required key 'model' is missing"], 1),
    (
        "time series without timestamp",
        MINIMAL_SPEC + "validation:\n  cv: {strategy: time_series}\n",
        ["time_series needs data.timestamp_column"],
        1,
    ),
    (
        "shuffled time series",
        MINIMAL_SPEC.replace("  id_columns", "  timestamp_column: month\n  id_columns")
        + "validation:\n  cv: {strategy: time_series, shuffle: true}\n",
        ["validation.cv", "shuffle: true is refused"],
        14,
    ),
    (
        "excel source",
        MINIMAL_SPEC.replace("data/train.csv", "data/train.xlsx"),
        ["Excel files are not supported", "CSV or Parquet"],
        6,
    ),
    (
        "unknown estimator",
        MINIMAL_SPEC.replace("LogisticRegression", "LogisticRegresion"),
        ["model.estimator", "has no 'LogisticRegresion'", "did you mean"],
        10,
    ),
    (
        "estimator parameter",
        MINIMAL_SPEC.replace("C: 1.0", "Cee: 1.0"),
        ["takes no parameter 'Cee'", "it takes:"],
        10,
    ),
    (
        "alert on unknown channel",
        MINIMAL_SPEC
        + "monitoring:\n  alerts:\n    - {name: drift, when: dataset_drift, severity: error,"
        " owner: me, runbook: retrain, channels: [slack]}\n",
        ["unknown channel(s) ['slack']", "none defined"],
        12,
    ),
    (
        "feature not in the data",
        MINIMAL_SPEC.replace(
            "  id_columns: customer_id", "  id_columns: customer_id\n  features: {numeric: [tenur]}"
        ),
        ["data.features.numeric[0]", "column 'tenur' is not in train.csv", "did you mean 'tenure'"],
        9,
    ),
    (
        "too few shuffles",
        MINIMAL_SPEC + "training:\n  importance: {max_rows: 2000, repeats: 1}\n",
        ["training.importance.repeats", "greater than or equal to 2", "got 1"],
        13,
    ),
    (
        "no time to search",
        MINIMAL_SPEC.replace(
            "  params: {C: 1.0}",
            "  params: {C: 1.0}\n  search: {budget_s: 0, space: {C: {values: [1, 2]}}}",
        ),
        ["model.search.budget_s", "greater than 0"],
        12,
    ),
    (
        "duplicate key",
        MINIMAL_SPEC.replace("  target: churn", "  target: churn\n  target: plan"),
        ["key 'target' appears twice", "first on line 7"],
        8,
    ),
]


@pytest.mark.parametrize(("name", "text", "expected", "line"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_spec_exits_3_with_path_line_and_fix(
    project: Path, run_cli, name: str, text: str, expected: list[str], line: int
) -> None:
    write(project, text)
    result = run_cli("--spec", str(project / "mlready.yaml"), "spec", "check")
    assert result.exit_code == 3, result.stderr
    message = " ".join(result.stderr.split())
    for fragment in expected:
        assert fragment in message, (fragment, result.stderr)
    assert f"mlready.yaml:{line}" in message, result.stderr
    assert "Traceback" not in result.stderr


RAW_BROKEN = [
    ("empty file", b"", "is empty"),
    ("only comments", b"# nothing here\n", "is empty"),
    ("not yaml", b"project: [unclosed\n  name: x\n", "not valid YAML"),
    ("a list", b"- a\n- b\n", "must be a mapping of sections"),
    ("binary file", b"\x00\x01\x02PK\x03\x04", "binary file"),
    ("not utf-8", "name: caf\u00e9\n".encode("latin-1"), "not UTF-8"),
    ("python tag", b"x: !!python/object/apply:os.system ['echo hi']\n", "not plain YAML"),
    (
        "alias bomb",
        b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        b"f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
        "alias bomb",
    ),
    ("huge file", b"# " + b"x" * 1_100_000 + b"\n", "a project spec is a small YAML file"),
    ("two documents", b"spec_version: 1\n---\nspec_version: 1\n", "not valid YAML"),
]


@pytest.mark.parametrize(("name", "raw", "expected"), RAW_BROKEN, ids=[b[0] for b in RAW_BROKEN])
def test_unreadable_spec_exits_3(
    tmp_path: Path, run_cli, name: str, raw: bytes, expected: str
) -> None:
    path = write(tmp_path, raw)
    result = run_cli("--spec", str(path), "spec", "check")
    assert result.exit_code == 3
    assert expected in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_missing_spec_says_how_to_create_one(tmp_path: Path, run_cli) -> None:
    result = run_cli("--spec", str(tmp_path / "nope.yaml"), "spec", "check")
    assert result.exit_code == 3
    assert "no project spec at" in result.stderr
    assert "mlready init" in result.stderr


def test_many_problems_are_listed_then_capped(project: Path) -> None:
    keys = "\n".join(f"  extra{i}: 1" for i in range(14))
    path = write(project, MINIMAL_SPEC.replace("  owner: data-team", f"  owner: data-team\n{keys}"))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "has 14 problems" in message
    assert "... and 4 more" in message
    assert message.count("unknown key") == 10


SPEC_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_no_text_makes_the_loader_crash(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), text)
        assert_loads_or_explains(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    section=st.sampled_from(["project", "data", "model", "validation", "serving", "monitoring"]),
    value=SPEC_VALUES,
)
def test_no_section_value_makes_the_loader_crash(section: str, value: object) -> None:
    base = yaml.safe_load(MINIMAL_SPEC)
    base[section] = value
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), yaml.safe_dump(base))
        assert_loads_or_explains(path, "mlready.yaml")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.lists(
        st.sampled_from(
            [
                "data",
                "model",
                "validation",
                "cv",
                "source",
                "params",
                "features",
                "serving",
                "sla",
                "thresholds",
            ]
        ),
        min_size=1,
        max_size=3,
    ),
    value=SPEC_VALUES,
)
def test_no_nested_value_makes_the_loader_crash(path: list[str], value: object) -> None:
    base = yaml.safe_load(MINIMAL_SPEC)
    node = base
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    with tempfile.TemporaryDirectory() as folder:
        spec_path = write(Path(folder), yaml.safe_dump(base))
        assert_loads_or_explains(spec_path, "mlready.yaml")


def test_schema_validates_the_sample_spec_and_rejects_a_broken_one() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    sample = yaml.load(
        (SAMPLE / "mlready.yaml").read_text(encoding="utf-8"),
        Loader=__import__("mlready.spec.loading", fromlist=["_SpecLoader"])._SpecLoader,
    )
    sample = json.loads(json.dumps(sample, default=str))  # dates as the strings an editor sees
    jsonschema.validate(sample, schema)
    sample["data"]["task"] = "classify"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(sample, schema)


def test_schema_command_prints_json(run_cli) -> None:
    result = run_cli("spec", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "mlready project spec"
    assert "project" in schema["properties"]
