"""Reading a batch in chunks: CSV and Parquet through pyarrow, SQL through SQLAlchemy.

Every column is read as text or in its stored type and converted by :mod:`mlready.serving.prepare`,
so a value that does not fit its column becomes a rejected row, not a failed run. CSV is first
read with the numeric features typed as float64 (the fast path); a file where such a column holds
text is read again as text from the row where the fast path stopped. pyarrow's streaming reader
parses 1 MB blocks (it keeps about 32 read ahead, so the block size is the memory in flight:
8 MB blocks held some 300 MB); the blocks are cut and joined into chunks of exactly
``chunk_rows`` rows, so a row's chunk (and so how the model groups it) depends on its position
in its file, not on the file's bytes or format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlready.errors import DataError

#: The texts pandas reads as missing: a CSV means the same here as in validate-data.
NULL_VALUES = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]
#: Bytes per pyarrow CSV block: the streaming reader keeps about 32 blocks read ahead, so this
#: sets the memory in flight (8 MB blocks held some 300 MB).
BLOCK_BYTES = 1 << 20


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def columns_of(path: str | None, sql: tuple[str, str] | None) -> list[str]:
    """The column names of the batch, read from headers or schemas (one row for SQL)."""
    from mlready.io import resolve_files, table_columns

    if sql is not None:
        from mlready.io import read_sql

        url, query = sql
        first = next(iter(read_sql(url, query, chunk_rows=1)), None)
        return [] if first is None else [str(c) for c in first.columns]
    files = resolve_files(path or "")
    columns = table_columns(files[0])
    for file in files[1:]:
        other = table_columns(file)
        if other != columns:
            raise DataError(
                f"{file} has other columns than {files[0]}: "
                f"{sorted(set(other) ^ set(columns))}; a glob must name files of one table"
            )
    return [str(c) for c in columns]


def iter_batch(
    path: str | None,
    sql: tuple[str, str] | None,
    columns: list[str],
    chunk_rows: int,
    *,
    numeric: frozenset[str] = frozenset(),
) -> Iterator[Any]:
    """The named columns of the batch as pandas DataFrames of ``chunk_rows`` rows (the last
    fewer; SQL: as the query's cursor gives them, at most ``chunk_rows``)."""
    from mlready.io import resolve_files

    if sql is not None:
        from mlready.io import read_sql

        for chunk in read_sql(*sql, chunk_rows=chunk_rows):
            missing = [c for c in columns if c not in chunk.columns]
            if missing:
                raise DataError(f"the query's result lacks columns {missing}")
            yield chunk[columns]
        return
    for file in resolve_files(path or ""):
        if _is_parquet(file):
            yield from _parquet(file, columns, chunk_rows)
        else:
            yield from _rechunk(_csv(file, columns, numeric), chunk_rows)


def prefetch(chunks: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Read ahead in a thread (pyarrow parses without the GIL) while the caller works."""
    import queue
    import threading

    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        box.put(("chunk", chunk), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the caller, raised there
            box.put(("error", exc))

    thread = threading.Thread(target=work, name="mlready-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()


def _parquet(file: Path, columns: list[str], chunk_rows: int) -> Iterator[Any]:
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(file)
        # row groups end batches early: joined into chunks of exactly chunk_rows rows, and
        # converted inside this try (a column pandas cannot hold is an error about this file)
        yield from _rechunk(reader.iter_batches(batch_size=chunk_rows, columns=columns), chunk_rows)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"cannot read {file} as Parquet: {str(exc).splitlines()[0]}") from None


def _rechunk(batches: Iterator[Any], chunk_rows: int) -> Iterator[Any]:
    """Arrow record batches (pyarrow's CSV blocks) as DataFrames of exactly ``chunk_rows`` rows
    (the last one fewer): blocks are cut and joined, so a row's chunk is its position divided
    by ``chunk_rows``, whatever the file's bytes, block size or format. Joined blocks are copied
    once, by ``to_pandas``; a column per block (no 2-D copy of the numbers)."""
    parts: list[Any] = []
    have = 0
    for batch in batches:
        if parts and batch.schema != parts[0].schema:
            # the careful reader took over (text in a number column): its columns are text
            yield _frame(parts)
            parts, have = [], 0
        start = 0
        while start < batch.num_rows:
            take = min(chunk_rows - have, batch.num_rows - start)
            parts.append(batch.slice(start, take))
            have += take
            start += take
            if have == chunk_rows:
                yield _frame(parts)
                parts, have = [], 0
    if parts:
        yield _frame(parts)


def _frame(parts: list[Any]) -> Any:
    """Record batches of one schema as one DataFrame, a column per block."""
    if len(parts) == 1:
        return parts[0].to_pandas(split_blocks=True)
    import pyarrow as pa

    return pa.Table.from_batches(parts).to_pandas(split_blocks=True)


def _csv(file: Path, columns: list[str], numeric: frozenset[str]) -> Iterator[Any]:
    """pyarrow's parallel reader; from the first block it cannot parse, text and the slow path.
    Record batches, for :func:`_rechunk`."""
    import pyarrow as pa

    if file.stat().st_size == 0:
        raise DataError(f"{file} is empty (0 bytes): a CSV needs at least a header row")
    emitted = 0
    try:
        for batch in _arrow_csv(file, columns, numeric):
            emitted += batch.num_rows
            yield batch
        return
    except (pa.ArrowInvalid, UnicodeDecodeError):
        pass  # text in a numeric column, a quoted line break, a bad byte: the careful reader
    yield from _skip(_arrow_csv_text(file, columns), emitted)


def _options(file: Path, columns: list[str], types: dict[str, Any]) -> dict[str, Any]:
    import pyarrow.csv as pcsv

    return {
        "read_options": pcsv.ReadOptions(block_size=BLOCK_BYTES),
        "convert_options": pcsv.ConvertOptions(
            column_types=types,
            include_columns=columns,
            null_values=NULL_VALUES,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


def _arrow_csv(file: Path, columns: list[str], numeric: frozenset[str]) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    types = {c: (pa.float64() if c in numeric else pa.string()) for c in columns}
    reader = pcsv.open_csv(file, **_options(file, columns, types))
    yield from reader


def _arrow_csv_text(file: Path, columns: list[str]) -> Iterator[Any]:
    """Every column as text, quoted line breaks allowed; errors become DataErrors."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    options = _options(file, columns, {c: pa.string() for c in columns})
    options["parse_options"] = pcsv.ParseOptions(newlines_in_values=True)
    try:
        yield from pcsv.open_csv(file, **options)
    except pa.ArrowInvalid as exc:
        message = str(exc).splitlines()[0]
        if "UTF8" in message or "utf8" in message.lower():
            raise DataError(
                f"{file} is not UTF-8 text: re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
            ) from None
        if "include_columns" in message or "not found" in message.lower():
            raise DataError(f"{file} lacks a column the model needs: {message}") from None
        raise DataError(f"cannot read {file} as CSV: {message}") from None


def _skip(batches: Iterator[Any], rows: int) -> Iterator[Any]:
    """Leave out the first ``rows`` rows (those the fast path already gave)."""
    for batch in batches:
        if rows >= batch.num_rows:
            rows -= batch.num_rows
            continue
        yield batch.slice(rows) if rows else batch
        rows = 0


def read_csv_bytes(data: bytes, numeric: frozenset[str] = frozenset()) -> Any:
    """A CSV held in memory (an HTTP request's body) as one DataFrame, typed as ``iter_batch``
    types a file: the ``numeric`` columns as float64 when every value parses, else every column
    as text (the contract converts it). DataError when it is not CSV."""
    import csv
    import io

    import pyarrow as pa

    text = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        first = text.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("the CSV is not UTF-8 text") from None
    names = next(csv.reader([first]), [])
    if not names or len(set(names)) != len(names):
        raise DataError("the CSV needs a header row of distinct column names")
    import pyarrow.csv as pcsv

    typed = {c: (pa.float64() if c in numeric else pa.string()) for c in names}
    for types in (typed, dict.fromkeys(names, pa.string())):
        options = _options(Path(), names, types)
        options["parse_options"] = pcsv.ParseOptions(newlines_in_values=True)
        try:
            return pcsv.read_csv(io.BytesIO(text), **options).to_pandas()
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            error = exc
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise DataError(f"the CSV cannot be read: {message}")
