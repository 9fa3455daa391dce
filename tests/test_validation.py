"""validate-data's library: every expectation kind passes and fails, chunked equals whole."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from mlready.errors import DataError
from mlready.spec import load_spec
from mlready.validation import validate_data
from mlready.validation.infer import infer_contract

from .conftest import SAMPLE

SPEC = textwrap.dedent(
    """\
    spec_version: 1
    project: {name: contract-test, owner: qa}
    data:
      source: {path: data/good.csv}
      target: label
      id_columns: [id]
      timestamp_column: seen
    expectations:
      unexpected_columns: error
      row_count: {min: 3, max: 1000}
      freshness: {max_age_days: 36500, severity: error}
      columns:
        id: {type: string, unique: true, regex: '^ID-\\d{3}$', max_null_fraction: 0}
        seen: {type: datetime}
        amount: {type: number, min: 0, max: 100, max_null_fraction: 0.25}
        count: {type: integer}
        plan: {allowed_values: [basic, pro]}
        label: {allowed_values: ["Yes", "No"], environments: [training]}
    model: {estimator: sklearn.linear_model.LogisticRegression}
    """
)

GOOD = pd.DataFrame(
    {
        "id": ["ID-001", "ID-002", "ID-003", "ID-004"],
        "seen": ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"],
        "amount": [1.5, 20.0, None, 99.0],
        "count": [1, 2, 3, 4],
        "plan": ["basic", "pro", "pro", "basic"],
        "label": ["Yes", "No", "No", "Yes"],
    }
)


@pytest.fixture
def contract(tmp_path: Path):
    (tmp_path / "data").mkdir()
    GOOD.to_csv(tmp_path / "data" / "good.csv", index=False)
    (tmp_path / "mlready.yaml").write_text(SPEC, encoding="utf-8")
    return load_spec(tmp_path)


def _write(folder: Path, frame: pd.DataFrame, name: str = "batch.csv") -> str:
    path = folder / "data" / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return str(path)


def _status(result) -> dict[str, bool]:
    return {r.check.id: r.passed for r in result.results}


def test_good_data_passes_every_kind(contract) -> None:
    result = validate_data(contract)
    assert result.passed, [r.to_dict() for r in result.results if not r.passed]
    kinds = {r.check.kind for r in result.results}
    assert kinds >= {
        "row_count",
        "target",
        "unexpected_columns",
        "freshness",
        "required",
        "not_null",
        "range",
        "allowed_values",
        "regex",
        "unique",
    }
    assert result.environment == "training"
    assert result.rows == 4


# (name, how to break the good data, the check that must fail, a bad value it must show)
BREAKS = [
    ("missing column", lambda f: f.drop(columns=["plan"]), "plan.required", None),
    (
        "text in a number column",
        lambda f: f.assign(amount=["1", "x", "3", "4"]),
        "amount.type",
        "x",
    ),
    ("float in an integer column", lambda f: f.assign(count=[1.5, 2, 3, 4]), "count.type", None),
    (
        "text in a datetime column",
        lambda f: f.assign(seen=["2026-01-01", "soon", "2026-03-01", "2026-04-01"]),
        "seen.type",
        "soon",
    ),
    (
        "too many missing",
        lambda f: f.assign(amount=[None, None, 3.0, 4.0]),
        "amount.not_null",
        "(missing)",
    ),
    ("out of range", lambda f: f.assign(amount=[1.0, -7.0, 3.0, 400.0]), "amount.range", "-7.0"),
    (
        "unknown category",
        lambda f: f.assign(plan=["basic", "gold", "pro", "pro"]),
        "plan.allowed_values",
        "gold",
    ),
    ("regex", lambda f: f.assign(id=["ID-001", "id_2", "ID-003", "ID-004"]), "id.regex", "id_2"),
    (
        "duplicate id",
        lambda f: f.assign(id=["ID-001", "ID-001", "ID-003", "ID-004"]),
        "id.unique",
        "ID-001",
    ),
    ("too few rows", lambda f: f.head(2), "table.row_count", None),
    ("stale data", lambda f: f.assign(seen=["1900-01-01"] * 4), "seen.freshness", None),
    ("unexpected column", lambda f: f.assign(extra=1), "table.unexpected_columns", "extra"),
    ("target missing in training", lambda f: f.drop(columns=["label"]), "label.target", None),
]


@pytest.mark.parametrize(("name", "breaker", "check_id", "bad"), BREAKS, ids=[b[0] for b in BREAKS])
def test_each_kind_fails_on_bad_data(contract, name, breaker, check_id, bad) -> None:
    path = _write(contract.base_dir, breaker(GOOD.copy()))
    result = validate_data(contract, data=path, environment="training")
    status = _status(result)
    assert status[check_id] is False, [r.to_dict() for r in result.results if not r.passed]
    assert not result.passed
    failing = next(r for r in result.results if r.check.id == check_id)
    if bad is not None:
        assert bad in failing.sample
    others = [k for k, ok in status.items() if not ok and k != check_id]
    assert len(others) <= 1, others  # one defect, one (or two related) failures


def test_warning_severity_reports_without_failing(contract) -> None:
    spec = SPEC.replace(
        "plan: {allowed_values: [basic, pro]}",
        "plan: {allowed_values: [basic, pro], severity: warning}",
    )
    (contract.base_dir / "mlready.yaml").write_text(spec)
    loaded = load_spec(contract.base_dir)
    path = _write(loaded.base_dir, GOOD.assign(plan=["basic", "gold", "pro", "pro"]))
    result = validate_data(loaded, data=path, environment="training")
    assert result.passed
    assert [r.check.id for r in result.warnings] == ["plan.allowed_values"]


def test_serving_data_needs_no_target_and_absent_refuses_it(contract) -> None:
    path = _write(contract.base_dir, GOOD.drop(columns=["label"]))
    result = validate_data(contract, data=path)
    assert result.environment == "serving"
    assert result.passed
    assert "label.allowed_values" not in _status(result)  # environments: [training]
    (contract.base_dir / "mlready.yaml").write_text(
        SPEC.replace("expectations:\n", "expectations:\n  target_in_serving: absent\n")
    )
    strict = load_spec(contract.base_dir)
    with_target = _write(strict.base_dir, GOOD, "with_target.csv")
    assert _status(validate_data(strict, data=with_target))["label.target"] is False


def test_integer_column_with_missing_values_passes(contract) -> None:
    path = _write(contract.base_dir, GOOD.assign(count=[1, None, 3, 4]))
    assert _status(validate_data(contract, data=path, environment="training"))["count.type"]


def test_an_all_missing_column_has_no_value_of_the_wrong_type(contract) -> None:
    path = _write(contract.base_dir, GOOD.assign(id=[None] * 4))
    status = _status(validate_data(contract, data=path, environment="training"))
    assert status["id.type"] is True
    assert status["id.not_null"] is False


def test_parquet_and_glob_inputs(contract) -> None:
    _write(contract.base_dir, GOOD.head(2), "part-1.parquet")
    _write(contract.base_dir, GOOD.tail(2), "part-2.parquet")
    result = validate_data(
        contract, data=str(contract.base_dir / "data" / "part-*.parquet"), environment="training"
    )
    assert result.rows == 4
    assert result.passed, [r.to_dict() for r in result.results if not r.passed]


def test_sql_source_through_sqlite(contract) -> None:
    db = contract.base_dir / "data" / "w.db"
    with sqlite3.connect(db) as connection:
        GOOD.to_sql("customers", connection, index=False)
    result = validate_data(
        contract, sql=(f"sqlite:///{db}", "SELECT * FROM customers"), environment="training"
    )
    assert result.rows == 4
    assert result.passed, [r.to_dict() for r in result.results if not r.passed]
    with pytest.raises(DataError, match="the query failed"):
        validate_data(contract, sql=(f"sqlite:///{db}", "SELECT * FROM nope"))


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        ("id,plan\nID-001,caf\xe9\n".encode("latin-1"), "latin.csv", "not UTF-8"),
        (b"PK\x03\x04", "book.xlsx", "Excel files are not read"),
        (b"\x80\x04", "frame.pkl", "pickle files are not read"),
        (b"not parquet", "broken.parquet", "cannot read"),
    ],
)
def test_unreadable_inputs_raise_data_errors(contract, content, name, message) -> None:
    path = contract.base_dir / "data" / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        validate_data(contract, data=str(path))


def test_byte_order_mark_is_not_part_of_the_first_column(contract) -> None:
    path = contract.base_dir / "data" / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.to_csv(index=False).encode())
    result = validate_data(contract, data=str(path), environment="training")
    assert result.columns[0] == "id"
    assert result.passed


@pytest.mark.parametrize("chunk_rows", [None, 2])
def test_semicolon_separated_file_is_explained(contract, chunk_rows) -> None:
    path = contract.base_dir / "data" / "semi.csv"
    path.write_text(GOOD.to_csv(index=False, sep=";"))
    with pytest.raises(DataError, match="semicolon-separated"):
        validate_data(contract, data=str(path), chunk_rows=chunk_rows)


def test_missing_file_is_a_data_error(contract) -> None:
    with pytest.raises(DataError, match="no data at"):
        validate_data(contract, data=str(contract.base_dir / "nope.csv"))


def test_zero_row_file_is_validated_not_crashed(contract) -> None:
    path = contract.base_dir / "data" / "header_only.csv"
    path.write_text(",".join(GOOD.columns) + "\n")
    result = validate_data(contract, data=str(path), environment="training")
    assert result.rows == 0
    assert _status(result)["table.row_count"] is False


# GX has a fixed cost per run (about half a second), so tests use a few large chunks
@pytest.mark.parametrize("chunk_rows", [250, 1000])
def test_chunked_verdicts_equal_whole_table_verdicts(chunk_rows: int) -> None:
    loaded = load_spec(SAMPLE)
    bad = str(SAMPLE / "data" / "batch_2026_08.csv")
    whole = validate_data(loaded, data=bad)
    parts = validate_data(loaded, data=bad, chunk_rows=chunk_rows)
    assert _status(parts) == _status(whole)
    counts = {r.check.id: r.unexpected_count for r in whole.results if not r.passed}
    assert {r.check.id: r.unexpected_count for r in parts.results if not r.passed} == counts


def test_quarantine_keeps_every_row_in_both_modes(tmp_path: Path) -> None:
    loaded = load_spec(SAMPLE)
    bad = str(SAMPLE / "data" / "batch_2026_08.csv")
    source = pd.read_csv(bad)
    for mode, chunk in (("whole", None), ("chunked", 250)):
        result = validate_data(loaded, data=bad, quarantine_dir=tmp_path / mode, chunk_rows=chunk)
        clean = pd.read_csv(result.quarantine["clean_path"])
        rejected = pd.read_csv(result.quarantine["rejected_path"])
        assert len(clean) + len(rejected) == len(source)
        assert len(rejected) == 9  # 8 planted defects, the duplicated id on two rows
        assert rejected["_mlready_reasons"].str.len().gt(0).all()
        assert "cust_12" in set(rejected["customer_id"])
        # with the bad rows set aside, nothing left blocks the run
        assert result.passed
        assert sorted(clean["customer_id"]) == sorted(
            set(source["customer_id"]) - set(rejected["customer_id"])
        )


def test_inferred_contract_passes_its_source_and_fails_the_bad_batch() -> None:
    import yaml

    from mlready.validation.infer import contract_yaml

    train = pd.read_csv(SAMPLE / "data" / "train.csv")
    contract_text = contract_yaml(infer_contract(train, target="churn"), "train.csv")
    inferred = yaml.safe_load(contract_text)["expectations"]
    assert inferred["columns"]["customer_id"]["unique"] is True
    assert inferred["columns"]["customer_id"]["regex"] == r"^[A-Z]{4}\-\d{6}$"
    assert inferred["columns"]["contract"]["allowed_values"] == [
        "Month-to-month",
        "One year",
        "Two year",
    ]
    assert inferred["columns"]["monthly_charges"]["min"] >= 0
    assert inferred["columns"]["churn"]["environments"] == ["training"]
    spec = yaml.safe_load((SAMPLE / "mlready.yaml").read_text())
    spec["expectations"] = inferred
    spec["data"]["source"]["path"] = str(SAMPLE / "data" / "train.csv")
    spec.pop("serving")
    folder = Path(__import__("tempfile").mkdtemp())
    (folder / "mlready.yaml").write_text(yaml.safe_dump(spec))
    loaded = load_spec(folder)
    assert validate_data(loaded).passed
    bad = validate_data(loaded, data=str(SAMPLE / "data" / "batch_2026_08.csv"))
    assert not bad.passed
    failed = {r.check.id for r in bad.failed_errors}
    assert {
        "customer_id.regex",
        "customer_id.unique",
        "tenure.range",
        "contract.allowed_values",
        "payment_method.allowed_values",
        "monthly_charges.not_null",
        "internet_service.not_null",
        "monthly_charges.range",
    } <= failed
    assert validate_data(loaded, data=str(SAMPLE / "data" / "batch_2026_07.csv")).passed


@pytest.mark.parametrize("chunk_rows", [None, 2])
def test_real_world_types_from_parquet(tmp_path: Path, chunk_rows: int | None) -> None:
    """Time zones, category dtype, booleans, and allowed values written with another type."""
    (tmp_path / "data").mkdir()
    frame = pd.DataFrame(
        {
            "code": [1, 2, 1],
            "ts": pd.to_datetime(["2026-11-01T10:00:00+01:00"] * 3, utc=True),
            "kind": pd.Categorical(["a1", "b2", "a1"]),
            "flag": [True, False, True],
            "y": [0, 1, 0],
        }
    )
    frame.to_parquet(tmp_path / "data" / "t.parquet")
    (tmp_path / "mlready.yaml").write_text(
        textwrap.dedent(
            """\
        spec_version: 1
        project: {name: edge, owner: me}
        data: {source: {path: data/t.parquet}, target: y, timestamp_column: ts}
        expectations:
          freshness: {max_age_days: 36500}
          columns:
            code: {allowed_values: ["1", "2"]}
            kind: {regex: '^[a-z]\\d$', allowed_values: [a1, b2]}
            flag: {allowed_values: ["true", "false"], type: boolean}
            ts: {type: datetime}
        model: {estimator: sklearn.linear_model.LogisticRegression}
        """
        )
    )
    result = validate_data(load_spec(tmp_path), chunk_rows=chunk_rows)
    assert result.passed, [r.to_dict() for r in result.results if not r.passed]
    frame.assign(code=[1, 3, 1]).to_parquet(tmp_path / "data" / "t.parquet")
    failed = validate_data(load_spec(tmp_path), chunk_rows=chunk_rows)
    assert [r.check.id for r in failed.failed_errors] == ["code.allowed_values"]
    assert failed.failed_errors[0].sample == ("3",)


# ------------------------------------------------- codes with leading zeros, rows as stored


def _coded(tmp_path: Path, frame: pd.DataFrame | None = None, suffix: str = "csv"):
    from tests.training_data import write_coded_project

    return load_spec(write_coded_project(tmp_path, frame=frame, suffix=suffix))


@pytest.mark.parametrize("chunk_rows", [None, 100])
def test_codes_declared_as_text_keep_their_leading_zeros(
    tmp_path: Path, chunk_rows: int | None
) -> None:
    result = validate_data(_coded(tmp_path), chunk_rows=chunk_rows)
    failed = [(r.check.id, r.observed, r.sample) for r in result.results if not r.passed]
    assert failed == []
    assert result.passed


def test_infer_reads_digit_strings_with_leading_zeros_as_text(tmp_path: Path) -> None:
    import yaml

    from mlready.validation.infer import infer_expectations
    from tests.training_data import coded_frame

    (tmp_path / "data").mkdir()
    frame = coded_frame(400).assign(postcode=lambda f: f["zip"] + "-" + f["plan"].str[0])
    frame["serial"] = [f"{i:06d}" for i in range(len(frame))]  # unique codes: a regex
    frame.to_csv(tmp_path / "data" / "train.csv", index=False)
    (tmp_path / "mlready.yaml").write_text(
        "spec_version: 1\nproject: {name: p, owner: o}\n"
        "data: {source: {path: data/train.csv}, target: churn}\n"
        "model: {estimator: sklearn.linear_model.LogisticRegression}\n"
    )
    inferred = yaml.safe_load(infer_expectations(load_spec(tmp_path)))["expectations"]["columns"]
    assert inferred["zip"]["type"] == "string"
    assert "01234" in inferred["zip"]["allowed_values"]
    assert inferred["serial"] == {
        "max_null_fraction": 0.0,
        "type": "string",
        "regex": "^\\d{6}$",
        "unique": True,
    }
    assert inferred["tenure"]["type"] == "integer"  # plain numbers stay numbers


@pytest.mark.parametrize(
    ("suffix", "chunk_rows"),
    [("csv", None), ("csv", 100), ("parquet", None), ("parquet", 100)],
)
def test_quarantine_writes_rejected_rows_as_they_were_read(
    tmp_path: Path, suffix: str, chunk_rows: int | None
) -> None:
    from tests.training_data import coded_frame

    frame = coded_frame(300)
    bad = [3, 150, 299]
    frame.loc[bad, "tenure"] = -1
    frame.loc[bad, "amount"] = [10400, pd.NA, 12300]
    loaded = _coded(tmp_path, frame, suffix)
    source = str(tmp_path / "data" / f"train.{suffix}")
    result = validate_data(loaded, quarantine_dir=tmp_path / "q", chunk_rows=chunk_rows)
    assert result.quarantine["rejected_rows"] == 3
    rejected_path = Path(result.quarantine["rejected_path"])
    clean_path = Path(result.quarantine["clean_path"])
    if suffix == "csv":
        # the rejected file holds the source's own lines, value for value
        lines = Path(source).read_text().splitlines()
        rejected = rejected_path.read_text().splitlines()
        assert rejected[0] == lines[0] + ",_mlready_reasons"
        assert [r.rsplit(",", 1)[0] for r in rejected[1:]] == [lines[i + 1] for i in bad]
        assert "10400" in rejected[1]
        assert "10400.0" not in rejected[1]
        clean = clean_path.read_text().splitlines()
        assert clean == [lines[0]] + [lines[i + 1] for i in range(300) if i not in bad]
    else:
        import pyarrow.parquet as pq

        stored = pq.read_table(source)
        table = pq.read_table(rejected_path)
        assert table.schema.field("amount").type == stored.schema.field("amount").type
        assert table.column("amount").to_pylist() == [10400, None, 12300]
        assert table.column("zip").to_pylist() == [frame.loc[i, "zip"] for i in bad]
        assert pq.read_table(clean_path).num_rows == 297


@pytest.mark.parametrize("chunk_rows", [None, 100])
def test_a_tolerated_missing_share_is_judged_on_the_table(
    tmp_path: Path, chunk_rows: int | None
) -> None:
    from tests.training_data import coded_frame

    frame = coded_frame(300)
    frame["amount"] = frame["amount"].astype("float64")
    frame.loc[::8, "amount"] = None  # 12.7% missing, over the 10% the contract tolerates
    frame.loc[5, "tenure"] = -1  # one row breaks a row-level rule
    loaded = _coded(tmp_path, frame)
    result = validate_data(loaded, quarantine_dir=tmp_path / "q", chunk_rows=chunk_rows)
    status = {r.check.id: r.passed for r in result.results}
    assert status["amount.not_null"] is False
    # the table fails: setting rows aside cannot mend a share of the whole
    assert not result.passed
    assert [r.check.id for r in result.blocking] == ["amount.not_null"]
    # and only the row that breaks a row-level rule is quarantined, not the rows with gaps
    assert result.quarantine["rejected_rows"] == 1
    assert result.quarantine["rejected_by_check"] == {"tenure.range": 1}


UNIQUE_SPEC = textwrap.dedent(
    """\
    spec_version: 1
    project: {name: unique-test, owner: qa}
    data: {source: {path: data/ids.csv}, target: label}
    expectations:
      unexpected_columns: allow
      columns:
        id: {unique: true}
        code: {unique: true}
    model: {estimator: sklearn.linear_model.LogisticRegression}
    """
)


@pytest.mark.parametrize("chunk_rows", [40, 150, 1000])
def test_chunked_duplicates_equal_the_whole_table_s(tmp_path: Path, chunk_rows: int) -> None:
    # duplicates within a chunk, across chunks, first seen after the first chunk, more distinct
    # repeated values than the sample holds, and missing values (never duplicates)
    ids = [f"ID-{i:03d}" for i in range(300)]
    for i, j in ((5, 7), (10, 290), (160, 170), (200, 250), (201, 251), (202, 299)):
        ids[j] = ids[i]
    for i in range(210, 222):  # 12 more repeated values, late in the file
        ids[i + 40] = ids[i]
    codes: list[object] = [str(1000 + i) for i in range(300)]
    codes[3] = codes[4] = None
    codes[120], codes[260] = codes[100], codes[100]
    (tmp_path / "data").mkdir()
    frame = pd.DataFrame({"id": ids, "code": codes, "label": ["Yes", "No"] * 150})
    frame.to_csv(tmp_path / "data" / "ids.csv", index=False)
    (tmp_path / "mlready.yaml").write_text(UNIQUE_SPEC, encoding="utf-8")
    loaded = load_spec(tmp_path)
    whole = {r.check.id: r for r in validate_data(loaded).results}
    parts = {
        r.check.id: r
        for r in validate_data(
            loaded, chunk_rows=chunk_rows, quarantine_dir=tmp_path / f"q{chunk_rows}"
        ).results
    }
    for check in ("id.unique", "code.unique"):
        assert not parts[check].passed
        assert parts[check].unexpected_count == whole[check].unexpected_count
        assert parts[check].sample == whole[check].sample
    assert parts["code.unique"].unexpected_count == 3
    rows = set(parts["id.unique"].bad_rows)
    assert {5, 7, 10, 290, 160, 170, 202, 299} <= rows
    assert len(parts["id.unique"].sample) == 10


TEXT_SPEC = textwrap.dedent(
    """\
    spec_version: 1
    project: {name: text-test, owner: qa}
    data: {source: {path: data/text.csv}, target: label}
    expectations:
      unexpected_columns: allow
      columns:
        ref: {type: string, regex: '^[A-Z0-9]+$', unique: true}
        plan: {allowed_values: [basic, pro, "7"]}
    model: {estimator: sklearn.linear_model.LogisticRegression}
    """
)


@pytest.mark.parametrize("chunk_rows", [50, 1000])
def test_text_columns_that_hold_only_digits_in_a_chunk_stay_text(
    tmp_path: Path, chunk_rows: int
) -> None:
    # the first 100 refs are words, the rest digits with leading zeros; plan is "7" late on
    refs = [f"A{i}" for i in range(100)] + [f"{i:05d}" for i in range(100)]
    refs[150] = "00007"  # and 00007 again at row 107: a duplicate only as text
    plans = ["basic", "pro"] * 90 + ["7"] * 20
    (tmp_path / "data").mkdir()
    frame = pd.DataFrame({"ref": refs, "plan": plans, "label": ["Yes", "No"] * 100})
    frame.to_csv(tmp_path / "data" / "text.csv", index=False)
    (tmp_path / "mlready.yaml").write_text(TEXT_SPEC, encoding="utf-8")
    loaded = load_spec(tmp_path)
    whole = {r.check.id: r for r in validate_data(loaded).results}
    parts = {r.check.id: r for r in validate_data(loaded, chunk_rows=chunk_rows).results}
    assert {k: r.passed for k, r in parts.items()} == {k: r.passed for k, r in whole.items()}
    assert parts["ref.unique"].sample == whole["ref.unique"].sample == ("00007",)
    assert parts["ref.unique"].unexpected_count == 2
    assert parts["plan.allowed_values"].passed
