"""Training/serving skew: training rows through serving's reader give the model the same values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlready.io import read_table
from mlready.serving import reader
from mlready.serving.skew import SkewResult, check_skew
from mlready.spec.models import ProjectSpec


def _spec(path: Path, **data: Any) -> ProjectSpec:
    return ProjectSpec.model_validate(
        {
            "spec_version": 1,
            "project": {"name": "skew", "owner": "tests"},
            "data": {"source": {"path": str(path)}, "target": "y", **data},
            "model": {"estimator": "sklearn.linear_model.LogisticRegression"},
        }
    )


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = 60
    frame = pd.DataFrame(
        {
            "amount": rng.normal(100, 20, rows).round(3),
            "count": np.where(rng.random(rows) < 0.1, np.nan, rng.integers(0, 9, rows)),
            "plan": rng.choice(["basic", "pro", None], rows),
            "code": rng.choice(["007A", "010B", "12C"], rows),
            "y": rng.choice(["Yes", "No"], rows),
        }
    )
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def _strip_leading_zeros(real: Any) -> Any:
    """A serving reader that loses leading zeros of text: the skew the check must catch."""

    def iter_batch(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for chunk in real(*args, **kwargs):
            chunk = chunk.copy()
            for column in chunk.columns:
                if chunk[column].dtype != "float64":
                    chunk[column] = chunk[column].str.lstrip("0")
            yield chunk

    return iter_batch


def test_the_same_rows_give_the_same_values(table: Path) -> None:
    result = check_skew(_spec(table), read_table(table), ["amount", "count"], ["plan", "code"])
    assert result.passed
    assert result.to_dict() == {
        "rows": 60,
        "mismatched_rows": 0,
        "columns": [],
        "passed": True,
        "rejected_rows": 0,
        "examples": [],
        "error": None,
    }
    assert "none" in result.message()


def test_a_reader_that_drops_leading_zeros_is_caught(
    table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "iter_batch", _strip_leading_zeros(reader.iter_batch))
    frame = read_table(table)
    result = check_skew(_spec(table), frame, ["amount", "count"], ["plan", "code"])
    assert not result.passed
    assert result.columns == ["code"]
    expected = int(frame["code"].str.startswith("0").sum())
    assert result.mismatched_rows == expected > 0
    example = result.examples[0]
    assert example["column"] == "code"
    assert example["training"] == "0" + example["serving"]
    assert frame["code"].iloc[example["row"]] == example["training"]
    assert "in code" in result.message()
    assert "training '0" in result.message()
    assert json.loads(json.dumps(result.to_dict()))["passed"] is False


def test_a_sample_spread_over_the_table(table: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "iter_batch", _strip_leading_zeros(reader.iter_batch))
    frame = read_table(table)
    result = check_skew(_spec(table), frame, ["amount"], ["code"], rows=10)
    assert result.rows == 10
    rows = [e["row"] for e in result.examples]
    assert all(0 <= r < 60 for r in rows)
    # a sample of 10 of 60 rows, spread evenly: positions 0, 7, 13, ..., 59
    positions = np.unique(np.linspace(0, 59, 10).round().astype(int))
    assert set(rows) <= set(positions.tolist())


def test_rows_serving_would_reject_are_counted_not_compared(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("amount,y\n1.5,Yes\nlots,No\n2.5,No\n")
    spec = _spec(path)
    frame = pd.DataFrame({"amount": [1.5, np.nan, 2.5], "y": ["Yes", "No", "No"]})
    result = check_skew(spec, frame, ["amount"], [])
    assert (result.rows, result.rejected_rows, result.passed) == (2, 1, True)


def test_serving_unable_to_read_the_data_is_a_finding(
    table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlready.errors import DataError

    def broken(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise DataError("cannot read it")
        yield  # pragma: no cover

    monkeypatch.setattr(reader, "iter_batch", broken)
    result = check_skew(_spec(table), read_table(table), ["amount"], ["plan"])
    assert not result.passed
    assert result.error == "cannot read it"
    assert "serving cannot read the training data" in result.message()


def test_nothing_to_compare() -> None:
    result = check_skew(_spec(Path("none.csv")), pd.DataFrame({"y": []}), [], [])
    assert result == SkewResult(0, 0, [])
    assert result.passed


def test_train_records_skew_warns_and_monitor_3_fails(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlready.checklist.evidence import gather
    from mlready.checklist.items import CHECKS
    from mlready.runs import read_run_log
    from mlready.spec import load_spec
    from tests.training_data import toy_frame, write_project

    frame = toy_frame(300)
    frame["branch"] = np.where(np.arange(300) % 2, "0042X", "0517Y")
    folder = write_project(tmp_path / "p", frame=frame)
    spec = folder / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  id_columns:", "  features: {categorical: [plan, region, branch]}\n  id_columns:"
        )
    )

    assert run_cli("--spec", str(folder), "--quiet", "train").exit_code == 0
    artifacts = folder / ".mlready"
    clean = read_run_log(artifacts, "train")[-1].summary["skew"]
    assert (clean["rows"], clean["passed"], clean["columns"]) == (300, True, [])
    assert CHECKS["monitor-3"](gather(load_spec(folder))).status == "passing"

    monkeypatch.setattr(reader, "iter_batch", _strip_leading_zeros(reader.iter_batch))
    result = run_cli("--spec", str(folder), "train", "--no-importance")
    assert result.exit_code == 0, "skew is a finding, not a failed training"
    assert "training/serving skew" in result.stdout
    skewed = read_run_log(artifacts, "train")[-1].summary["skew"]
    assert skewed["passed"] is False
    assert skewed["mismatched_rows"] == 300
    assert "branch" in skewed["columns"]
    check = CHECKS["monitor-3"](gather(load_spec(folder)))
    assert check.status == "failing"
    assert "300 gave other feature values" in check.detail
    assert check.action


def test_a_float_category_is_written_as_the_whole_column_decides(tmp_path: Path) -> None:
    # 1.5 in the column makes every value text with its decimals ("2.0"), in training and
    # serving alike; a sample of whole numbers alone must not read "2"
    path = tmp_path / "t.csv"
    values = ["2.0"] * 5 + ["1.5"] + ["3.0"] * 5
    path.write_text("size,y\n" + "".join(f"{v},No\n" for v in values))
    result = check_skew(_spec(path), read_table(path), [], ["size"], rows=2)
    assert result.rows == 2  # rows 0 and 10: 2.0 and 3.0
    assert result.passed, result.examples


def test_a_glob_and_a_query_are_read_both_ways(table: Path, tmp_path: Path) -> None:
    import sqlite3

    frame = pd.read_csv(table)
    frame.iloc[:25].to_csv(tmp_path / "part-1.csv", index=False)
    frame.iloc[25:].to_csv(tmp_path / "part-2.csv", index=False)
    glob = _spec(tmp_path / "part-*.csv")
    result = check_skew(glob, read_table(glob.data.source.path), ["amount"], ["code"], rows=7)
    assert (result.rows, result.passed) == (7, True)

    db = tmp_path / "w.db"
    with sqlite3.connect(db) as connection:
        frame.to_sql("t", connection, index=False)
    query = ("sqlite:///" + str(db), "SELECT * FROM t")
    spec = ProjectSpec.model_validate(
        {
            **glob.model_dump(exclude_none=True, mode="json"),
            "data": {"source": {"sql": {"url": query[0], "query": query[1]}}, "target": "y"},
        }
    )
    result = check_skew(spec, read_table(sql=query), ["amount", "count"], ["plan", "code"])
    assert (result.rows, result.passed) == (60, True), result.examples
