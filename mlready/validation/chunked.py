"""--chunk-rows: validate a table larger than memory, chunk by chunk, with the same verdicts.

Row-level checks (types of values, ranges, allowed values, regex) run with GX on each chunk and
their counts add up. Checks over the whole table are decided from combined statistics: the row
count summed, the missing share over all rows, the newest timestamp over all chunks, and
uniqueness from 64-bit hashes of every value (8 bytes a row, whatever the width of the column).
Column checks (present, unexpected, target) are decided on the first chunk: every chunk has the
same columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from mlready.columns import ColumnTypes
from mlready.errors import DataError
from mlready.spec import ProjectSpec
from mlready.validation.checks import Check, CheckResult, build_checks
from mlready.validation.engine import SAMPLE_SIZE, naive_utc, run_checks

#: decided once, on the first chunk
_FIRST_CHUNK = {"required", "target", "target_absent", "unexpected_columns"}
#: decided from statistics combined over all chunks
_COMBINED = {"row_count", "not_null", "unique", "freshness"}


@dataclass
class _Tally:
    """What the chunks said about one check so far."""

    check: Check
    passed: bool = True
    count: int = 0
    elements: int = 0
    sample: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    observed: str | None = None
    error: str | None = None

    def add(self, result: CheckResult, offset: int, rows: int) -> None:
        self.check = result.check  # a type check may have become a per-value check
        self.passed = self.passed and result.passed
        self.count += result.unexpected_count or 0
        self.elements += rows
        for value in result.sample:
            if value not in self.sample and len(self.sample) < SAMPLE_SIZE:
                self.sample.append(value)
        self.rows.extend(i + offset for i in result.bad_rows)
        self.observed = result.observed if result.observed is not None else self.observed
        self.error = self.error or result.error

    def result(self) -> CheckResult:
        fraction = self.count / self.elements if self.elements else None
        return CheckResult(
            self.check,
            self.passed and self.error is None,
            unexpected_count=self.count if self.check.row_level else None,
            unexpected_fraction=fraction if self.check.row_level else None,
            sample=tuple(self.sample),
            observed=self.observed,
            error=self.error,
            bad_rows=tuple(self.rows),
        )


def _chunks(
    path: str | None,
    sql: tuple[str, str] | None,
    chunk_rows: int,
    columns: list[str] | None = None,
    types: ColumnTypes | None = None,
) -> Iterator[Any]:
    yield from (types or ColumnTypes()).chunks(
        path, sql=sql, chunk_rows=chunk_rows, columns=columns
    )


def validate_in_chunks(
    spec: ProjectSpec,
    path: str | None,
    sql: tuple[str, str] | None,
    environment: str,
    chunk_rows: int,
    quarantine_dir: Path | None,
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[int, list[str], list[CheckResult], dict[str, Any] | None]:
    """Validate chunk by chunk; return (rows, columns, results, quarantine summary)."""
    import gc

    from mlready.validation.engine import _context

    # GX and its context are set up before the first chunk is read, and every object alive
    # then is set aside from the collector: each chunk's collection (see run_checks) then
    # looks at that chunk's objects only, not at every object GX's import made
    _context()
    gc.freeze()
    try:
        try:
            return _validate_in_chunks(
                spec, path, sql, environment, chunk_rows, quarantine_dir, on_chunk, fast=True
            )
        except _Retype:
            return _validate_in_chunks(
                spec, path, sql, environment, chunk_rows, quarantine_dir, on_chunk, fast=False
            )
    finally:
        gc.unfreeze()


class _Retype(Exception):
    """A text column that pandas read as something else: read again, typed as text."""


def _typed_chunks(
    path: str | None, sql: tuple[str, str] | None, chunk_rows: int, types: ColumnTypes, fast: bool
) -> Iterator[Any]:
    """The table's chunks typed by the contract. ``fast``: a CSV's text columns are left to
    pandas' own reading, which makes text of a column holding any word at all in half the time
    of reading it as text by order; a chunk where pandas made something else of one (digits
    only, say) raises _Retype, and the caller starts again typed by order."""
    import pandas as pd

    is_csv = sql is None and not str(path or "").lower().endswith((".parquet", ".pq"))
    if not fast or not is_csv or not types.text:
        yield from _chunks(path, sql, chunk_rows, types=types)
        return
    for chunk in _chunks(path, sql, chunk_rows, types=ColumnTypes(frozenset(), types.numeric)):
        for column in types.text:
            if column in chunk.columns:
                dtype = chunk[column].dtype
                if not isinstance(dtype, pd.StringDtype):
                    raise _Retype(column)
        yield chunk


def _validate_in_chunks(
    spec: ProjectSpec,
    path: str | None,
    sql: tuple[str, str] | None,
    environment: str,
    chunk_rows: int,
    quarantine_dir: Path | None,
    on_chunk: Callable[[int], None] | None,
    *,
    fast: bool,
) -> tuple[int, list[str], list[CheckResult], dict[str, Any] | None]:
    import pandas as pd

    columns: list[str] | None = None
    checks: list[Check] = []
    tallies: dict[str, _Tally] = {}
    first_results: dict[str, CheckResult] = {}
    nulls: dict[str, int] = {}
    null_rows: dict[str, list[int]] = {}
    hashes: dict[str, list[Any]] = {}
    present: dict[str, list[Any]] = {}
    first_values: dict[str, Any] = {}  # the first chunk's values of each unique column
    floats: set[str] = set()  # unique columns read as floats in some chunk
    newest: dict[str, Any] = {}
    rows = 0
    want_rows = quarantine_dir is not None
    types = ColumnTypes.of(spec)
    for chunk in _typed_chunks(path, sql, chunk_rows, types, fast):
        chunk = chunk.reset_index(drop=True)
        first: list[Check] = []
        if columns is None:
            columns = [str(c) for c in chunk.columns]
            checks = build_checks(spec, columns, environment)
            # the column checks run once, with the first chunk's row checks (one GX run)
            first = [c for c in checks if c.kind in _FIRST_CHUNK]
        elif [str(c) for c in chunk.columns] != columns:
            raise DataError(
                f"{path}: a chunk has other columns than the first one: the files of "
                "a glob must share one header"
            )
        per_chunk = [c for c in checks if c.kind not in _FIRST_CHUNK | _COMBINED]
        for result in run_checks(first + per_chunk, chunk, want_rows=want_rows):
            if result.check.kind in _FIRST_CHUNK:
                first_results[result.check.id] = result
                continue
            tallies.setdefault(result.check.id, _Tally(result.check)).add(result, rows, len(chunk))
        for check in checks:
            column = check.column or ""
            if check.kind == "not_null":
                missing = chunk[column].isna()
                nulls[column] = nulls.get(column, 0) + int(missing.sum())
                if want_rows:
                    null_rows.setdefault(column, []).extend(
                        int(i) + rows for i in chunk.index[missing.to_numpy()]
                    )
            elif check.kind == "unique":
                # a hash of every row (missing ones masked out): duplicates' rows by position
                values = chunk[column]
                if pd.api.types.is_float_dtype(values):
                    floats.add(column)  # the whole table reads the column as floats
                if not rows:  # hashed when a second chunk comes (a table of one: no hashes)
                    first_values[column] = values
                    continue
                if column not in hashes:
                    kept = first_values[column]
                    hashes[column] = [_value_hashes(kept)]
                    present[column] = [kept.notna().to_numpy()]
                hashes[column].append(_value_hashes(values))
                present[column].append(values.notna().to_numpy())
            elif check.kind == "freshness":
                stamp = naive_utc(chunk[column]).max()
                if pd.notna(stamp) and (column not in newest or stamp > newest[column]):
                    newest[column] = stamp
        rows += len(chunk)
        if on_chunk is not None:
            on_chunk(rows)
    if columns is None:
        raise DataError(f"{path or 'the query'} holds no table: not even a header row")

    results: list[CheckResult] = []
    duplicate_rows: dict[str, set[int]] = {}
    for check in checks:
        if check.kind in _FIRST_CHUNK:
            results.append(first_results[check.id])
        elif check.kind == "row_count":
            low, high = check.params["min"], check.params["max"]
            ok = rows >= low and (high is None or rows <= high)
            results.append(CheckResult(check, ok, observed=str(rows)))
        elif check.kind == "not_null":
            count = nulls.get(check.column or "", 0)
            fraction = count / rows if rows else 0.0
            ok = fraction <= check.params["max_null_fraction"]
            results.append(
                CheckResult(
                    check,
                    ok,
                    count,
                    fraction,
                    sample=("(missing)",) if count else (),
                    bad_rows=tuple(null_rows.get(check.column or "", ())),
                )
            )
        elif check.kind == "freshness":
            stamp = newest.get(check.column or "")
            ok = stamp is not None and stamp >= pd.Timestamp(check.params["oldest"])
            results.append(
                CheckResult(check, bool(ok), observed=None if stamp is None else str(stamp))
            )
        elif check.kind == "unique":
            column = check.column or ""
            dupes, sample, where = _find_duplicates(
                hashes.pop(column, []),
                present.pop(column, []),
                first_values.pop(column, None),
                partial(_chunks, path, sql, chunk_rows, [column] if sql is None else None, types),
                column,
                column in floats,
            )
            duplicate_rows[check.id] = where
            results.append(
                CheckResult(
                    check,
                    dupes == 0,
                    dupes,
                    dupes / rows if rows else 0.0,
                    sample=sample,
                    bad_rows=tuple(sorted(where)),
                )
            )
        else:
            tally = tallies.get(check.id)
            results.append(tally.result() if tally else CheckResult(check, True))
    quarantine = None
    if quarantine_dir is not None:
        quarantine = _write_quarantine(
            path, sql, chunk_rows, results, quarantine_dir, spec.project.artifacts_dir
        )
    return rows, columns, results, quarantine


def _value_hashes(values: Any) -> Any:
    """A 64-bit hash of each value; a whole number hashes alike as an integer or a float (a
    chunk with a gap reads a column of integers as floats, the next one as integers)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_float_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        from pandas.core.util.hashing import hash_array

        array = values.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(array) & (array == np.round(array)) & (np.abs(array) < 2.0**63)
        out = hash_array(array)
        if whole.any():
            out[whole] = hash_array(array[whole].astype(np.int64))
        return out
    if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
        from pandas.core.util.hashing import hash_array

        return hash_array(values.to_numpy(dtype="int64", na_value=0))
    return pd.util.hash_pandas_object(values, index=False).to_numpy(dtype=np.uint64)


def _joined(parts: list[Any], dtype: Any) -> Any:
    """One array of the parts, each freed as it is copied in."""
    import numpy as np

    out = np.empty(sum(len(p) for p in parts), dtype=dtype)
    offset = 0
    while parts:
        part = parts.pop(0)
        out[offset : offset + len(part)] = part
        offset += len(part)
    return out


def _find_duplicates(
    hash_parts: list[Any],
    present_parts: list[Any],
    first_values: Any,
    chunks: Callable[[], Iterator[Any]],
    column: str,
    floats: bool = False,
) -> tuple[int, tuple[str, ...], set[int]]:
    """(rows with a value that occurs more than once, a sample of those values in row order,
    their row numbers), from a 64-bit hash of every row (9 bytes a row with the missing mask).
    The sample comes from the first chunk's values, kept for this; a second pass over the
    column reads the rest only when the first chunk does not hold enough of them."""
    import numpy as np

    if not hash_parts and first_values is not None:  # one chunk: the whole table at hand
        values = first_values.reset_index(drop=True)
        hit = (values.duplicated(keep=False) & values.notna()).to_numpy()
        if floats:
            values = values.astype("float64")
        sample: list[str] = []
        for value in values[hit]:
            if str(value) not in sample:
                sample.append(str(value))
                if len(sample) == SAMPLE_SIZE:
                    break
        where = np.flatnonzero(hit)
        return len(where), tuple(sample), {int(i) for i in where}
    if not hash_parts:
        return 0, (), set()
    hashes = _joined(hash_parts, np.uint64)
    mask = _joined(present_parts, bool)
    ordered = np.sort(hashes[mask])
    found = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if not found.size:
        return 0, (), set()
    hit = mask & np.isin(hashes, found)
    del hashes, mask
    where = np.flatnonzero(hit)
    wanted = min(SAMPLE_SIZE, len(found))
    sample = []

    def take(values: Any, offset: int) -> None:
        inside = where[(where >= offset) & (where < offset + len(values))] - offset
        for value in values.iloc[inside]:
            if floats and not isinstance(value, str | bool):
                value = float(value)  # as the whole table shows it: 7.0, not 7
            if str(value) not in sample and len(sample) < wanted:
                sample.append(str(value))

    offset = 0
    if first_values is not None:
        take(first_values.reset_index(drop=True), 0)
        offset = len(first_values)
    if len(sample) < wanted and offset < int(where[-1]) + 1:
        seen = 0
        for chunk in chunks():
            values = chunk[column].reset_index(drop=True)
            if seen + len(values) > offset:
                start = max(offset - seen, 0)
                take(values.iloc[start:].reset_index(drop=True), seen + start)
            seen += len(values)
            if len(sample) >= wanted or seen > where[-1]:
                break
    return len(where), tuple(sample), {int(i) for i in where}


def _write_quarantine(
    path: str | None,
    sql: tuple[str, str] | None,
    chunk_rows: int,
    results: list[CheckResult],
    folder: Path,
    artifacts_dir: Path | str,
) -> dict[str, Any]:
    """Second pass: stream every row, as stored, to the clean or the rejected file."""
    from mlready.validation.quarantine import rejected_reasons, split_source, summary

    reasons = rejected_reasons(results)
    clean, rejected, clean_path, rejected_path = split_source(
        path, sql, reasons, folder, chunk_rows, artifacts_dir=artifacts_dir
    )
    return summary(clean, rejected, clean_path, rejected_path, reasons)
