"""Fuzz test (hypothesis): whatever small CSV file validate-data is given (odd bytes, separators,
quotes, empty, huge numbers, unicode), it ends with a documented exit code (0 passed, 1 invalid,
4 unreadable) and one line, never a traceback or exit 5 (issue 17, item 10)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SPEC = textwrap.dedent(
    """\
    spec_version: 1
    project: {name: demo, owner: data-team}
    data:
      source: {path: data/train.csv}
      target: churn
      id_columns: customer_id
    expectations:
      row_count: {min: 1, max: 1000}
      columns:
        customer_id: {type: string, unique: true, regex: '^C\\d+$'}
        tenure: {type: number, min: 0, max: 100, max_null_fraction: 0.5}
        plan: {allowed_values: [basic, pro]}
        seen: {type: datetime}
    model:
      estimator: sklearn.linear_model.LogisticRegression
    """
)

NAMES = st.sampled_from(["customer_id", "tenure", "plan", "churn", "seen", "", "ümlaut", '"q"'])
CELLS = st.one_of(
    st.sampled_from(["C1", "C2", "basic", "pro", "Yes", "No", "", "NA", "nan", "2026-01-01"]),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),  # any unicode, control characters and surrogates' neighbours included
    st.sampled_from(['"', '""', '"a,b"', "a\nb", '"a\nb"', ";", "\t", "\r", "\x00", "\ufeff"]),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A small CSV-like file: a header and rows of odd cells, odd separators and endings."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))  # anything at all, an empty file too
    separator = draw(st.sampled_from([",", ",", ",", ";", "\t", "|"]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = draw(st.lists(NAMES, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, max_size=7), max_size=6))
    text = ending.join(separator.join(line) for line in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data += draw(st.binary(max_size=16))  # a torn or binary tail
    return data


@pytest.fixture
def fuzz_project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "mlready.yaml").write_text(SPEC, encoding="utf-8")
    return tmp_path


@pytest.mark.slow
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=csv_files(), chunked=st.booleans())
def test_any_small_csv_ends_with_a_documented_exit_code(
    content: bytes, chunked: bool, fuzz_project: Path, run_cli: Callable[..., Any]
) -> None:
    (fuzz_project / "data" / "train.csv").write_bytes(content)
    args = ["--spec", str(fuzz_project), "validate-data", "--no-report"]
    result = run_cli(*args, *(["--chunk-rows", "2"] if chunked else []))
    assert result.exit_code in (0, 1, 4), result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    if result.exit_code == 4:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
