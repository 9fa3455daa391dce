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
    import numpy as np
    import pandas as pd

    columns: list[str] | None = None
    checks: list[Check] = []
    tallies: dict[str, _Tally] = {}
    first_results: dict[str, CheckResult] = {}
    nulls: dict[str, int] = {}
    null_rows: dict[str, list[int]] = {}
    hashes: dict[str, list[Any]] = {}
    newest: dict[str, Any] = {}
    rows = 0
    want_rows = quarantine_dir is not None
    types = ColumnTypes.of(spec)
    for chunk in _chunks(path, sql, chunk_rows, types=types):
        chunk = chunk.reset_index(drop=True)
        if columns is None:
            columns = [str(c) for c in chunk.columns]
            checks = build_checks(spec, columns, environment)
            first = [c for c in checks if c.kind in _FIRST_CHUNK]
            first_results = {r.check.id: r for r in run_checks(first, chunk.head(0))}
        elif [str(c) for c in chunk.columns] != columns:
            raise DataError(
                f"{path}: a chunk has other columns than the first one: the files of "
                "a glob must share one header"
            )
        per_chunk = [c for c in checks if c.kind not in _FIRST_CHUNK | _COMBINED]
        for result in run_checks(per_chunk, chunk, want_rows=want_rows):
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
                values = chunk[column].dropna()
                hashes.setdefault(column, []).append(
                    pd.util.hash_pandas_object(values, index=False).to_numpy(dtype=np.uint64)
                )
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
            found = _duplicates(hashes.get(column, []))
            dupes, sample, where = 0, tuple[str, ...](), set[int]()
            if found.size:
                dupes, sample, where = _find_duplicates(path, sql, chunk_rows, column, found, types)
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


def _duplicates(parts: list[Any]) -> Any:
    """The hashes that occur more than once, found in place (no copies of the hash array)."""
    import numpy as np

    if not parts:
        return np.empty(0, dtype=np.uint64)
    hashes = np.empty(sum(len(p) for p in parts), dtype=np.uint64)
    offset = 0
    while parts:  # move each part into the one array, freeing it as we go
        part = parts.pop(0)
        hashes[offset : offset + len(part)] = part
        offset += len(part)
    hashes.sort()
    repeated = hashes[1:][hashes[1:] == hashes[:-1]]
    return np.unique(repeated)


def _find_duplicates(
    path: str | None,
    sql: tuple[str, str] | None,
    chunk_rows: int,
    column: str,
    found: Any,
    types: ColumnTypes,
) -> tuple[int, tuple[str, ...], set[int]]:
    """Second pass over one column: the rows and a sample of the values that repeat."""
    import numpy as np
    import pandas as pd

    offset, count = 0, 0
    sample: list[str] = []
    rows: set[int] = set()
    for chunk in _chunks(path, sql, chunk_rows, [column] if sql is None else None, types):
        series = chunk[column].reset_index(drop=True)
        present = series.dropna()
        keys = pd.util.hash_pandas_object(present, index=False).to_numpy(dtype=np.uint64)
        hit = np.isin(keys, found)
        count += int(hit.sum())
        for index, value in zip(present.index[hit], present[hit], strict=True):
            rows.add(int(index) + offset)
            if str(value) not in sample and len(sample) < SAMPLE_SIZE:
                sample.append(str(value))
        offset += len(chunk)
    return count, tuple(sample), rows


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
