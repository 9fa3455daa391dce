"""check-drift's reference profile of a data file, read in chunks: the same profile as the whole
table read at once (up to SAMPLE_ROWS rows), and beyond, bins from a random sample with every
row counted and the same verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlready import profiles
from mlready.columns import ColumnTypes
from mlready.drift import reference_from_file
from mlready.drift.stats import compare
from mlready.profiles import profile_frame
from mlready.spec import LoadedSpec, load_spec
from tests.training_data import toy_frame, write_project


def whole_table(loaded: LoadedSpec, path: Path) -> dict[str, Any]:
    """The reference profile as check-drift computed it before it streamed: the whole table
    read at once, kinds from its pandas types, numbers coerced."""
    frame = ColumnTypes.of(loaded.spec).read(path)
    data = loaded.spec.data
    skip = {data.target, *data.id_columns, *data.forbidden_columns, *data.features.exclude}
    skip.add(data.timestamp_column or "")
    numeric, categorical = data.features.numeric, data.features.categorical
    if numeric is None and categorical is None:
        numeric = [
            c
            for c in frame.columns
            if c not in skip
            and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])
        ]
        categorical = [c for c in frame.columns if c not in skip and c not in numeric]
    numeric = [c for c in numeric or [] if c in frame.columns]
    categorical = [c for c in categorical or [] if c in frame.columns]
    for column in numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    drift = loaded.spec.monitoring.drift
    return profile_frame(
        frame, numeric, categorical, bins=drift.bins, keep_values=drift.small_sample_rows
    )


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    # key order of the categories may differ between equal counts: compare as JSON values
    assert json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def _frame(rows: int, seed: int) -> pd.DataFrame:
    frame = toy_frame(rows, seed=seed)
    rng = np.random.default_rng(seed)
    frame["score"] = rng.lognormal(2, 1, rows)
    frame.loc[rng.random(rows) < 0.05, "score"] = np.nan
    frame["flag"] = rng.random(rows) < 0.3  # booleans: a category, not a number
    frame["zip"] = rng.choice(["01234", "02139", "10001"], rows)  # a code: text
    frame["few"] = rng.integers(0, 3, rows).astype(float)  # 3 values: value counts kept
    frame.loc[rng.random(rows) < 0.02, "plan"] = None
    return frame


@pytest.mark.parametrize("chunk_rows", [97, 1000, 100_000])
def test_inferred_kinds_streamed_in_chunks_give_the_whole_table_s_profile(
    tmp_path: Path, chunk_rows: int
) -> None:
    write_project(tmp_path, frame=_frame(2500, 3))
    loaded = load_spec(tmp_path)
    path = tmp_path / "data" / "train.csv"
    streamed = reference_from_file(loaded, str(path), chunk_rows=chunk_rows)
    expected = whole_table(loaded, path)
    _same(streamed, expected)
    assert streamed["columns"]["flag"]["kind"] == "categorical"
    assert streamed["columns"]["zip"]["kind"] == "categorical"
    assert set(streamed["columns"]["zip"]["categories"]) == {"01234", "02139", "10001"}
    assert "value_counts" in streamed["columns"]["few"]


def test_declared_features_with_text_in_a_number_column_match_the_whole_table(
    tmp_path: Path,
) -> None:
    frame = _frame(1800, 5)
    frame["tenure"] = frame["tenure"].astype(object)
    frame.loc[1500, "tenure"] = "unknown"  # late in the file: coerced to missing, as before
    # a category of words, then of digits only with leading zeros (text, never the number 7)
    frame["grade"] = ["A", "B", "C"] * 400 + ["007", "08", "7"] * 200
    write_project(
        tmp_path,
        frame=frame,
        extra="""\
        data_features: {}
        """.replace("data_features: {}\n", ""),
    )
    spec = tmp_path / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  timestamp_column: month\n",
            "  timestamp_column: month\n  features:\n"
            "    numeric: [tenure, monthly_charges, score]\n"
            "    categorical: [plan, region, grade]\n",
        )
    )
    loaded = load_spec(tmp_path)
    path = tmp_path / "data" / "train.csv"
    streamed = reference_from_file(loaded, str(path), chunk_rows=400)
    _same(streamed, whole_table(loaded, path))
    assert list(streamed["columns"]) == [
        "tenure",
        "monthly_charges",
        "score",
        "plan",
        "region",
        "grade",
    ]
    assert streamed["columns"]["tenure"]["missing"] == 1
    assert {"007", "08", "7", "A"} <= set(streamed["columns"]["grade"]["categories"])


def test_a_column_that_turns_to_text_after_the_first_chunk_is_a_category_as_before(
    tmp_path: Path,
) -> None:
    frame = _frame(1200, 7)
    frame["score"] = frame["score"].round(1).astype(object)
    frame.loc[1100, "score"] = "n/k"  # text in the last chunk: the whole column is text
    frame["flag"] = frame["flag"].astype(object)
    frame.loc[1150, "flag"] = "maybe"  # booleans, then text
    write_project(tmp_path, frame=frame)
    loaded = load_spec(tmp_path)
    path = tmp_path / "data" / "train.csv"
    streamed = reference_from_file(loaded, str(path), chunk_rows=300)
    expected = whole_table(loaded, path)
    assert expected["columns"]["score"]["kind"] == "categorical"
    _same(streamed, expected)


def _big_project(tmp_path: Path, rows: int) -> tuple[LoadedSpec, Path]:
    write_project(tmp_path, frame=_frame(rows, 9))
    return load_spec(tmp_path), tmp_path / "data" / "train.csv"


def test_a_reference_over_the_sample_size_counts_every_row_in_sampled_bins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded, path = _big_project(tmp_path, 6000)
    exact = reference_from_file(loaded, str(path), chunk_rows=500)
    assert "sampled" not in exact
    monkeypatch.setattr(profiles, "SAMPLE_ROWS", 1500)
    sampled = reference_from_file(loaded, str(path), chunk_rows=500)
    # the sample does not depend on how the file was cut into chunks (sums: up to rounding)
    other = reference_from_file(loaded, str(path), chunk_rows=777)
    for name, column in sampled["columns"].items():
        theirs = other["columns"][name]
        for key in ("fine_sums", "mean", "std"):
            if key in column:
                assert column.pop(key) == pytest.approx(theirs.pop(key), rel=1e-12)
    _same(sampled, other)
    sampled = reference_from_file(loaded, str(path), chunk_rows=500)
    assert 750 <= sampled["sampled"]["rows"] <= 1500
    frame = pd.read_csv(path)
    for column in ("tenure", "monthly_charges", "score", "few"):
        values = frame[column].dropna().to_numpy(dtype=float)
        got = sampled["columns"][column]
        # every row counted; exact extremes, mean and spread
        assert got["rows"] == len(frame)
        assert got["count"] == len(values) == sum(got["counts"]) == sum(got["fine_counts"])
        assert got["missing"] == exact["columns"][column]["missing"]
        assert (got["min"], got["max"]) == (values.min(), values.max())
        assert got["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert got["std"] == pytest.approx(values.std(ddof=1), rel=1e-9)
        assert got["counts"] == list(
            np.bincount(
                np.searchsorted(got["cuts"], values, side="right"),
                minlength=len(got["cuts"]) + 1,
            )
        )
        assert len(got["cuts"]) == len(exact["columns"][column]["cuts"])
    assert sampled["columns"]["few"]["value_counts"] == exact["columns"]["few"]["value_counts"]
    assert sampled["columns"]["few"]["distinct"] == 3
    assert "distinct" not in sampled["columns"]["score"]  # over 1,000 values: not counted
    for column in ("plan", "region", "flag", "zip"):
        _same(sampled["columns"][column], exact["columns"][column])


def test_sampled_bins_give_the_exact_profile_s_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlready.profiles import ProfileBuilder

    loaded, path = _big_project(tmp_path, 8000)
    exact = reference_from_file(loaded, str(path))
    monkeypatch.setattr(profiles, "SAMPLE_ROWS", 2000)
    sampled = reference_from_file(loaded, str(path))
    frame = _frame(3000, 10)
    shifted = frame.assign(tenure=frame["tenure"] + 4, score=frame["score"] + 3)
    drift = loaded.spec.monitoring.drift
    for batch, moved in ((frame, set()), (shifted, {"tenure", "score"})):
        verdicts = []
        for reference in (exact, sampled):
            builder = ProfileBuilder(reference, keep_values=drift.small_sample_rows)
            builder.add(batch)
            current = builder.result()
            found = {}
            for column in ("tenure", "monthly_charges", "score"):
                result = compare(
                    column,
                    reference["columns"][column],
                    current["columns"][column],
                    small_sample_rows=drift.small_sample_rows,
                    p_value=drift.p_value,
                    distance=drift.distance,
                    psi_bar=drift.psi,
                )
                found[column] = (result.test, result.drifted, result.statistic)
            verdicts.append(found)
        for column in ("tenure", "monthly_charges", "score"):
            (test_a, drift_a, stat_a), (test_b, drift_b, stat_b) = (
                verdicts[0][column],
                verdicts[1][column],
            )
            assert (test_a, drift_a) == (test_b, drift_b)
            assert drift_a == (column in moved)
            assert stat_b == pytest.approx(stat_a, abs=0.01)
