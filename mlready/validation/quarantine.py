"""--quarantine: rows failing row-level checks go to one file with the reasons, the rest apart.

Both files hold the rows as the source stores them (a CSV's text value for value, a Parquet
file's own types), never the parsed values: a rejected ``10400`` stays ``10400``, not
``10400.0`` (pandas types an integer column with gaps as float), and ``01234`` keeps its zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlready.validation.checks import CheckResult

REASON_COLUMN = "_mlready_reasons"


def rejected_reasons(results: list[CheckResult], offset: int = 0) -> dict[int, list[str]]:
    """Row position -> the ids of the failed error-severity row-level checks that name it."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for result in results:
        if result.failed_error and result.check.row_level:
            for row in result.bad_rows:
                reasons[row + offset].append(result.check.id)
    return reasons


def output_paths(folder: Path, source: str) -> tuple[Path, Path]:
    """Where the clean and the rejected rows of ``source`` go (same format as the source)."""
    name = Path(source).name
    stem = name.split(".")[0].replace("*", "all") or "data"
    suffix = ".parquet" if name.lower().endswith((".parquet", ".pq")) else ".csv"
    return folder / f"{stem}.clean{suffix}", folder / f"{stem}.rejected{suffix}"


def as_written(frame: Any) -> Any:
    """A query's rows as text (whole numbers without '.0', missing left empty)."""
    from mlready.training.pipeline import to_text

    return to_text(frame).fillna("")


def source_chunks(
    path: str | None, sql: tuple[str, str] | None, chunk_rows: int | None = None
) -> Iterator[Any]:
    """The source's rows as stored: CSV as text frames, Parquet as Arrow tables, a query's
    result as text; in chunks of ``chunk_rows`` rows, or whole when it is None."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlready.errors import DataError
    from mlready.io import _csv_errors, read_sql, resolve_files

    if sql is not None:
        result = read_sql(*sql, chunk_rows=chunk_rows)
        for chunk in [result] if chunk_rows is None else result:
            yield as_written(chunk)
        return
    for file in resolve_files(path or ""):
        if file.name.lower().endswith((".parquet", ".pq")):
            try:
                if chunk_rows is None:
                    yield pq.read_table(file)
                    continue
                for batch in pq.ParquetFile(file).iter_batches(batch_size=chunk_rows):
                    yield pa.Table.from_batches([batch])
            except Exception as exc:
                raise DataError(f"cannot read {file} as Parquet: {exc}") from None
            continue
        options: dict[str, Any] = {
            "encoding": "utf-8-sig",
            "dtype": str,
            "keep_default_na": False,
            "na_filter": False,
        }
        with _csv_errors(file):
            if chunk_rows is None:
                yield pd.read_csv(file, **options)
            else:
                with pd.read_csv(file, chunksize=chunk_rows, **options) as reader:
                    yield from reader


def _take(part: Any, mask: Any) -> Any:
    import pyarrow as pa

    if isinstance(part, pa.Table):
        return part.filter(pa.array(mask))
    return part[mask]


def _with_reasons(part: Any, reasons: list[str]) -> Any:
    import pyarrow as pa

    if isinstance(part, pa.Table):
        return part.append_column(REASON_COLUMN, pa.array(reasons, type=pa.string()))
    out = part.copy()
    out[REASON_COLUMN] = reasons
    return out


class _Appender:
    """Parts of one table appended to a file: Parquet keeps the first part's schema."""

    def __init__(self, tmp: Path, parquet: bool) -> None:
        self.tmp, self.parquet = tmp, parquet
        self.writer: Any = None
        self.started = False

    def add(self, part: Any) -> None:
        import pyarrow as pa

        if self.parquet:
            import pyarrow.parquet as pq

            table = (
                part
                if isinstance(part, pa.Table)
                else pa.Table.from_pandas(part, preserve_index=False)
            )
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.tmp, table.schema)
            self.writer.write_table(table.cast(self.writer.schema))
            return
        frame = part.to_pandas() if isinstance(part, pa.Table) else part
        mode, header = ("a", False) if self.started else ("w", True)
        frame.to_csv(self.tmp, mode=mode, header=header, index=False)
        self.started = True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def split_source(
    path: str | None,
    sql: tuple[str, str] | None,
    reasons: dict[int, list[str]],
    folder: Path,
    chunk_rows: int | None = None,
    frame: Any = None,
    artifacts_dir: Path | str | None = None,
) -> tuple[int, int, Path, Path]:
    """Write the source's rows to the clean and the rejected file, as stored, and put both in
    place together (recorded in ``artifacts_dir`` as files mlready wrote); return (clean rows,
    rejected rows, clean path, rejected path). A query is not run again when its result is at
    hand (``frame``)."""
    import numpy as np

    from mlready.io import commit_files, staged

    clean_path, rejected_path = output_paths(Path(folder), path or "query")
    parquet = clean_path.suffix == ".parquet"
    clean_rows = rejected_rows = 0
    with staged(rejected_path) as rejected_tmp, staged(clean_path) as clean_tmp:
        clean, rejected = _Appender(clean_tmp, parquet), _Appender(rejected_tmp, parquet)
        offset = 0
        parts = (
            [as_written(frame)]
            if sql is not None and frame is not None
            else source_chunks(path, sql, chunk_rows)
        )
        for part in parts:
            rows = len(part)
            positions = np.arange(offset, offset + rows)
            mask = np.isin(positions, np.fromiter(reasons, dtype=np.int64, count=len(reasons)))
            bad = _with_reasons(
                _take(part, mask), ["; ".join(reasons[int(i)]) for i in positions[mask]]
            )
            rejected.add(bad)
            clean.add(_take(part, ~mask))
            clean_rows += int((~mask).sum())
            rejected_rows += int(mask.sum())
            offset += rows
        clean.close()
        rejected.close()
    # one commit: a clean file never stands beside another run's rejected rows
    targets = [rejected_path, clean_path]
    commit_files(
        [(rejected_tmp, rejected_path), (clean_tmp, clean_path)],
        record=targets if artifacts_dir is not None else [],
        artifacts_dir=artifacts_dir,
    )
    return clean_rows, rejected_rows, clean_path, rejected_path


def write_quarantine(
    frame: Any,
    results: list[CheckResult],
    folder: Path,
    source: str | None,
    sql: tuple[str, str] | None = None,
    artifacts_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Split the source's rows into clean and rejected ones and write both; return a summary.

    ``frame`` is the table as validated (its rows are the source's, in order)."""
    from mlready.errors import DataError

    reasons = rejected_reasons(results)
    clean, rejected, clean_path, rejected_path = split_source(
        source, sql, reasons, folder, frame=frame, artifacts_dir=artifacts_dir
    )
    if clean + rejected != len(frame):
        raise DataError(
            f"{source} changed while it was validated ({len(frame):,} rows, then "
            f"{clean + rejected:,}): validate it again once it is written"
        )
    return summary(clean, rejected, clean_path, rejected_path, reasons)


def summary(
    clean: int, rejected: int, clean_path: Path, rejected_path: Path, reasons: dict[int, list[str]]
) -> dict[str, Any]:
    """The quarantine part of validation.json."""
    by_check: dict[str, int] = defaultdict(int)
    for ids in reasons.values():
        for check_id in ids:
            by_check[check_id] += 1
    return {
        "clean_rows": clean,
        "rejected_rows": rejected,
        "clean_path": str(clean_path),
        "rejected_path": str(rejected_path),
        "rejected_by_check": dict(sorted(by_check.items())),
    }
