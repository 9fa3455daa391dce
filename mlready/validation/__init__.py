"""validate-data: the spec's data contract, checked by Great Expectations."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlready.errors import DataError, UsageError
from mlready.spec import LoadedSpec, ProjectSpec
from mlready.validation.checks import Check, CheckResult, build_checks
from mlready.validation.result import ValidationResult

__all__ = ["Check", "CheckResult", "ValidationResult", "default_environment", "validate_data"]


def fingerprint(path: str | None, sql: tuple[str, str] | None) -> str:
    """sha256 over the bytes of every file (or the URL and query of a SQL source)."""
    from mlready.io import resolve_files

    digest = hashlib.sha256()
    if sql is not None:
        digest.update("\n".join(sql).encode())
        return digest.hexdigest()
    for file in resolve_files(path or ""):
        digest.update(file.name.encode())
        with open(file, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def default_environment(loaded: LoadedSpec, data: str | None) -> str:
    """training for the spec's training data, serving for any other batch."""
    training = loaded.spec.data.source.path
    if data is None:
        return "training"
    if training and Path(data).resolve() == Path(training).resolve():
        return "training"
    return "serving"


def _source(loaded: LoadedSpec, data: str | None) -> tuple[str | None, tuple[str, str] | None]:
    if data is not None:
        return data, None
    source = loaded.spec.data.source
    if source.sql is not None:
        return None, (source.sql.url, source.sql.query)
    return source.path, None


def validate_data(
    loaded: LoadedSpec,
    *,
    data: str | None = None,
    sql: tuple[str, str] | None = None,
    environment: str | None = None,
    quarantine_dir: Path | None = None,
    chunk_rows: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    frame: Any = None,
    force: bool = False,
) -> ValidationResult:
    """Validate the spec's training data, or the table at ``data``, against the contract.

    ``frame`` is that table already read (train reads it once for validation and fitting).
    """
    if environment not in (None, "training", "serving"):
        raise UsageError(f"--environment must be training or serving, got {environment!r}")
    if chunk_rows is not None and chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be a positive number of rows, got {chunk_rows}")
    from concurrent.futures import ThreadPoolExecutor

    env = environment or ("serving" if sql else default_environment(loaded, data))
    path, sql = (None, sql) if sql is not None else _source(loaded, data)
    label = path if path is not None else f"SQL: {sql[1] if sql else ''}"
    _guard_quarantine(loaded, path, quarantine_dir, force)
    start = time.perf_counter()
    # hashing releases the GIL: the fingerprint is computed while the data is read and checked
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(fingerprint, path, sql)
        result = _validate(
            loaded.spec, path, sql, label, env, quarantine_dir, chunk_rows, on_progress, frame
        )
        rows, columns, results, quarantine = result
        data_fingerprint = digest.result()
    return ValidationResult(
        source=str(label),
        environment=env,
        rows=rows,
        columns=columns,
        results=results,
        fingerprint=data_fingerprint,
        duration_s=time.perf_counter() - start,
        chunk_rows=chunk_rows,
        quarantine=quarantine,
    )


def _guard_quarantine(
    loaded: LoadedSpec, path: str | None, folder: Path | None, force: bool
) -> list[Path]:
    """The quarantine files, once it is sure they overwrite nothing they must not."""
    if folder is None:
        return []
    import glob

    from mlready.io import guard_outputs, remove_stale_temps
    from mlready.validation.quarantine import output_paths

    targets = list(output_paths(Path(folder), path or "query"))
    remove_stale_temps(Path(folder))  # (completes a commit a killed run had decided)
    inputs = [] if path is None else glob.glob(path) if glob.has_magic(path) else [path]
    guard_outputs(
        targets,
        artifacts_dir=loaded.spec.project.artifacts_dir,
        protected=[*inputs, *loaded.protected_paths()],
        force=force,
        option="--quarantine",
    )
    return targets


def _validate(
    spec: ProjectSpec,
    path: str | None,
    sql: tuple[str, str] | None,
    label: str,
    env: str,
    quarantine_dir: Path | None,
    chunk_rows: int | None,
    on_progress: Callable[[int], None] | None,
    frame: Any = None,
) -> tuple[int, list[str], list[CheckResult], dict[str, Any] | None]:
    if chunk_rows is not None:
        from mlready.validation.chunked import validate_in_chunks

        return validate_in_chunks(
            spec, path, sql, env, chunk_rows, quarantine_dir, on_chunk=on_progress
        )
    from mlready.columns import ColumnTypes
    from mlready.validation.engine import run_checks

    if frame is None:
        frame = ColumnTypes.of(spec).read(path, sql=sql)
    columns = [str(c) for c in frame.columns]
    _check_column_names(frame, label)
    checks = build_checks(spec, columns, env)
    results = run_checks(checks, frame, want_rows=quarantine_dir is not None)
    quarantine = None
    if quarantine_dir is not None:
        from mlready.validation.quarantine import write_quarantine

        quarantine = write_quarantine(
            frame, results, quarantine_dir, path, sql, spec.project.artifacts_dir
        )
    return len(frame), columns, results, quarantine


def _check_column_names(frame: Any, label: str) -> None:
    names = [str(c) for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(f"{label} has duplicate column names {duplicated}: rename them")
