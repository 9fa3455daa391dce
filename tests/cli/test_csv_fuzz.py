"""Fuzz test (hypothesis): whatever small CSV file serve-batch scores, check-drift compares,
check-drift takes as outcomes or train reads as its data (odd bytes, separators, quotes, missing
or doubled columns, huge numbers, unicode), the command ends with a documented exit code and at
most one error line, never a traceback or exit 5 (issue 17, acceptance; validate-data has its
own fuzz test)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_validate_data_fuzz import CELLS
from tests.serving_data import SERVING, make_batch, trained_project

#: the model's columns (its id and features), and others: its target, its time, strangers
COLUMNS = ["customer_id", "tenure", "monthly_charges", "plan", "region"]
OTHERS = st.sampled_from(["churn", "month", "", "x", "tenure", "plan"])  # (a column twice)
#: values each column holds when the batch is right (most cells are drawn from these)
VALID = {
    "customer_id": st.integers(0, 99_999).map(lambda i: f"C{i:05d}"),
    "tenure": st.integers(0, 100).map(str),
    "monthly_charges": st.floats(0, 500).map(lambda x: f"{x:.2f}"),
    "plan": st.sampled_from(["basic", "pro", "max"]),
    "region": st.sampled_from(["north", "south"]),
    "churn": st.sampled_from(["Yes", "No"]),
    "month": st.sampled_from(["2025-01-01", "2025-06-01"]),
}
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A small CSV file, most often with the columns the model needs (in any order, with others)
    and odd cells; sometimes odd names, separators, endings, encodings or bytes."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=200))  # anything at all, an empty file too
    if draw(st.integers(0, 3)):
        header = draw(st.permutations(COLUMNS)) + draw(st.lists(OTHERS, max_size=2))
    else:
        header = draw(st.lists(st.one_of(st.sampled_from(COLUMNS), OTHERS), min_size=1, max_size=7))
    separator = draw(st.sampled_from([","] * 8 + [";", "\t"]))
    ending = draw(st.sampled_from(["\n"] * 4 + ["\r\n", "\r"]))
    odd = draw(st.sampled_from([0, 0, 2, 8]))  # one cell in this many is odd (0: none)

    def cell(column: str) -> st.SearchStrategy[str]:
        right = VALID.get(column, CELLS)
        return right if not odd else st.one_of(*[right] * (odd - 1), CELLS)

    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = [draw(cell(column)) for column in header]
        if draw(st.integers(0, 15)) == 0:  # a row one cell short or long
            row = row[:-1] if draw(st.booleans()) else [*row, draw(CELLS)]
        rows.append(row)
    text = ending.join(separator.join(line) for line in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1"]))
    data = text.encode(encoding, "replace")
    if draw(st.integers(0, 9)) == 0:
        data += draw(st.binary(max_size=16))  # a torn or binary tail
    return data


pytestmark = pytest.mark.slow  # it trains, then fuzzes three commands


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy project (its contract sets invalid rows aside), its model in production, and
    one real batch scored."""
    from mlready.cli.app import main

    folder = trained_project(tmp_path_factory.mktemp("fuzz"))
    make_batch(300).to_csv(folder / "batch.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["--quiet", "--spec", str(folder), "serve-batch", "-i", str(folder / "batch.csv")])
    assert exit_info.value.code == 0
    return folder


def _ended_well(result: Any, codes: tuple[int, ...]) -> None:
    assert result.exit_code in codes, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    if result.exit_code not in (0, 1):
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr


@FUZZ
@given(content=csv_files(), cache=st.booleans(), quarantine=st.booleans())
def test_serve_batch_of_any_small_csv_ends_with_a_documented_exit_code(
    content: bytes, cache: bool, quarantine: bool, served: Path, run_cli: Callable[..., Any]
) -> None:
    (served / "fuzz.csv").write_bytes(content)
    result = run_cli(
        "--spec", str(served), "serve-batch", "-i", str(served / "fuzz.csv"),
        "-o", str(served / "out" / "fuzz.parquet"),
        "--cache" if cache else "--no-cache", "--quarantine" if quarantine else "--stop",
    )  # fmt: skip
    _ended_well(result, (0, 1, 4))


@FUZZ
@given(content=csv_files(), as_outcomes=st.booleans())
def test_check_drift_of_any_small_csv_ends_with_a_documented_exit_code(
    content: bytes, as_outcomes: bool, served: Path, run_cli: Callable[..., Any]
) -> None:
    (served / "fuzz.csv").write_bytes(content)
    option = "--outcomes" if as_outcomes else "--current"
    result = run_cli("--spec", str(served), "check-drift", option, str(served / "fuzz.csv"))
    _ended_well(result, (0, 1, 4))


@pytest.fixture(scope="module")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy project before training: train reads its data/train.csv."""
    from tests.training_data import write_project

    return write_project(tmp_path_factory.mktemp("fuzz-train"), extra=SERVING)


@settings(FUZZ, max_examples=12)
@given(content=csv_files())
def test_train_on_any_small_csv_ends_with_a_documented_exit_code(
    content: bytes, untrained: Path, run_cli: Callable[..., Any]
) -> None:
    (untrained / "data" / "train.csv").write_bytes(content)
    result = run_cli("--spec", str(untrained), "train", "--no-importance")
    _ended_well(result, (0, 1, 4))
