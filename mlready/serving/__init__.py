"""serve-batch: score a batch with a registered model, in chunks, within an SLA, with a cache.

The order of work: resolve the model and the batch; check the batch's columns against the
model's features and the spec's serving contract (before the model is loaded); answer the whole
batch from the cache when its bytes were scored before; load the verified artifact and predict
its recorded input example (the canary); then read, check, answer from the row cache or predict,
and write chunk by chunk. Output and rejects are written to temporary files that replace the
final paths only when the run succeeds, so a failed or killed run never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlready.errors import CheckFailed, DataError, UsageError
from mlready.spec import LoadedSpec
from mlready.spec.models import ServingSection

__all__ = ["ServeResult", "serve_batch"]

REASON_COLUMN = "_mlready_reasons"
#: The GIL switch interval while chunks are scored (Python's default: 0.005 s).
SWITCH_INTERVAL = 0.0002
#: Progress callback: (rows done, rows in the batch or None when unknown).
Progress = Callable[[int, "int | None"], None]


@dataclass
class ServeResult:
    """What one serve-batch run did."""

    passed: bool
    failures: list[str]
    warnings: list[str]
    model: dict[str, Any]
    source: str
    engine: str
    rows_in: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    cache: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    unseen: list[dict[str, Any]] = field(default_factory=list)
    nan_predictions: int = 0
    canary: dict[str, Any] = field(default_factory=dict)
    sla: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    peak_memory_mb: float = 0.0
    wall_s: float = 0.0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    #: how the rows were scored: "compiled" (mlready's own pipeline replayed as array steps,
    #: verified to the bit at load), "pipeline" (the fitted Pipeline), "mixed", or "none" (no
    #: row reached the model: every answer came from the cache)
    fast_path: str = "none"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Batch:
    """Where the rows come from and where the answers go."""

    path: str | None
    sql: tuple[str, str] | None
    output: Path
    rejects: Path
    profile: Path
    label: str


def _serving(loaded: LoadedSpec) -> ServingSection:
    return loaded.spec.serving or ServingSection()


def _batch(
    loaded: LoadedSpec,
    input_path: str | None,
    sql: tuple[str, str] | None,
    output: str | Path | None,
    run_dir: Path,
    engine: str,
) -> _Batch:
    serving = _serving(loaded)
    path = input_path
    if sql is None and path is None and serving.input is not None:
        if serving.input.sql is not None:
            sql = (serving.input.sql.url, serving.input.sql.query)
        else:
            path = serving.input.path
    if sql is None and path is None:
        raise UsageError(
            "no batch to score: pass --input FILE (CSV or Parquet, or a glob), or set "
            "serving.input in the spec"
        )
    target = Path(output) if output is not None else None
    if target is None and serving.output:
        target = Path(serving.output)
    if engine == "dask":
        target = target or (run_dir / "predictions")
        name = target.name[: -len(".parquet")] if target.name.endswith(".parquet") else target.name
        if target.suffix.lower() == ".csv":
            raise UsageError(
                f"--engine dask writes partitioned Parquet: name a folder, not {target}"
            )
        return _Batch(
            path,
            sql,
            target,
            target.with_name(f"{name}.rejected"),
            target.with_name(f"{name}.profile.json"),
            path or f"SQL: {sql[1] if sql else ''}",
        )
    target = target or (run_dir / "predictions.parquet")
    suffix = target.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise UsageError(f"--output {target}: name a .parquet or .csv file")
    stem = target.name[: -len(suffix)]
    return _Batch(
        path,
        sql,
        target,
        target.with_name(f"{stem}.rejected{suffix}"),
        target.with_name(f"{stem}.profile.json"),
        path or f"SQL: {sql[1] if sql else ''}",
    )


def _published(batch: _Batch, run_dir: Path) -> list[Path]:
    """The files this batch writes outside its run folder (at a user- or spec-named path)."""
    inside = run_dir.resolve()
    return [
        p
        for p in (batch.output, batch.rejects, batch.profile)
        if not p.resolve().is_relative_to(inside)
    ]


def _guard(loaded: LoadedSpec, batch: _Batch, run_dir: Path, force: bool, engine: str) -> None:
    """Refuse to write over the batch itself, the spec, its data, or a file mlready did not
    write (unless ``force``)."""
    import glob

    from mlready.io import guard_outputs

    inputs: list[Path | str] = []
    if batch.path is not None:
        inputs += glob.glob(batch.path) if glob.has_magic(batch.path) else [batch.path]
    guard_outputs(
        _published(batch, run_dir),
        artifacts_dir=loaded.spec.project.artifacts_dir,
        protected=[*inputs, *loaded.protected_paths()],
        force=force,
        folders=engine == "dask",
    )


def peak_memory_mb() -> float:
    """This process's peak resident memory so far, in MB (0.0 where the system does not say)."""
    try:
        import resource  # POSIX only
    except ImportError:
        return _windows_peak_memory_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else KiB


def _windows_peak_memory_mb() -> float:
    """The peak working set from GetProcessMemoryInfo (psapi), through ctypes: no dependency."""
    import ctypes
    from ctypes import wintypes

    size_t = ctypes.c_size_t

    class Counters(ctypes.Structure):  # PROCESS_MEMORY_COUNTERS
        _fields_ = [
            ("cb", wintypes.DWORD),
            ("PageFaultCount", wintypes.DWORD),
            ("PeakWorkingSetSize", size_t),
            ("WorkingSetSize", size_t),
            ("QuotaPeakPagedPoolUsage", size_t),
            ("QuotaPagedPoolUsage", size_t),
            ("QuotaPeakNonPagedPoolUsage", size_t),
            ("QuotaNonPagedPoolUsage", size_t),
            ("PagefileUsage", size_t),
            ("PeakPagefileUsage", size_t),
        ]

    counters = Counters()
    counters.cb = ctypes.sizeof(Counters)
    try:
        windll: Any = ctypes.windll  # type: ignore[attr-defined]
        current = windll.kernel32.GetCurrentProcess
        current.restype = wintypes.HANDLE
        info = windll.psapi.GetProcessMemoryInfo
        info.argtypes = [wintypes.HANDLE, ctypes.POINTER(Counters), wintypes.DWORD]
        info.restype = wintypes.BOOL
        if not info(current(), ctypes.byref(counters), counters.cb):
            return 0.0
    except (AttributeError, OSError):  # neither POSIX nor Windows
        return 0.0
    return float(counters.PeakWorkingSetSize) / 2**20


# ----------------------------------------------------------------------------------- model


@dataclass
class ModelInfo:
    """The registered version and what scoring needs from its metadata."""

    name: str
    version: int
    sha256: str
    run_id: str | None
    task: str
    classes: list[Any]
    threshold: float | None
    numeric: list[str]
    categorical: list[str]
    id_columns: list[str]
    profile: dict[str, Any] | None
    metadata: dict[str, Any]
    registry: Any = None
    handle: Any = None  # the registry Version
    #: each feature's pandas dtype in training (serving types the features the same way)
    dtypes: dict[str, str] = field(default_factory=dict)

    @property
    def binary(self) -> bool:
        return self.task == "classification" and len(self.classes) == 2

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "run_id": self.run_id,
            "task": self.task,
            "decision_threshold": self.threshold,
        }


def resolve_model(loaded: LoadedSpec, ref: str | None) -> ModelInfo:
    """The registered version ``ref`` names (default: the production alias)."""
    from mlready.registry import open_registry, parse_ref

    registry = open_registry(loaded, connect=False)  # one version read: no SQLAlchemy on SQLite
    version = registry.resolve(parse_ref(ref or "", loaded.spec.model_name))
    registry.refuse_unloadable(version)  # pickle without --allow-pickle: before any data is read
    meta = version.metadata
    features = meta.get("features") or {}
    return ModelInfo(
        name=version.model_name,
        version=version.version,
        sha256=version.sha256,
        run_id=version.run_id,
        task=str(meta.get("task") or "classification"),
        classes=list(meta.get("classes") or []),
        threshold=meta.get("decision_threshold"),
        numeric=list(features.get("numeric") or []),
        categorical=list(features.get("categorical") or []),
        id_columns=list(meta.get("id_columns") or []),
        profile=registry.profile(version),
        metadata=meta,
        registry=registry,
        handle=version,
        dtypes={str(k): str(v) for k, v in (features.get("dtypes") or {}).items()},
    )


def known_categories(info: ModelInfo) -> dict[str, set[str]]:
    """Each categorical feature's training categories, where the profile kept all of them."""
    columns = (info.profile or {}).get("columns") or {}
    out = {}
    for name in info.categorical:
        profile = columns.get(name) or {}
        if profile.get("kind") == "categorical" and not profile.get("other"):
            out[name] = set(profile.get("categories") or {})
    return out


#: A model scores at least this many rows at once (see Scorer.raw).
MIN_ROWS = 8
#: ... and at most this many: a chunk is scored in slices of this many rows (a multiple of 64,
#: so BLAS takes every row of a full slice with the same kernel), which bounds the model's own
#: working memory (a dense one-hot matrix, the stacked features) whatever the chunk's size.
SCORE_ROWS = 32_768


class Scorer:
    """A loaded model and how its raw outputs become the output columns."""

    def __init__(self, model: Any, info: ModelInfo) -> None:
        self.model = model
        self.info = info
        self.proba = hasattr(model, "predict_proba")
        if info.task == "regression":
            self.payload = ["prediction"]
        elif info.binary:
            self.payload = ["probability" if self.proba else "score"]
        else:
            self.payload = ["prediction", "probability"] if self.proba else ["prediction"]

    def raw(self, X: Any) -> dict[str, Any]:
        """The model's answers for X, as the columns the cache keeps.

        Fewer than MIN_ROWS rows are scored repeated up to MIN_ROWS: BLAS computes a product of
        one to three rows with other kernels than a longer one, whose sums may differ in the
        last bit; so a row's answer does not depend on how many rows came with it (a request of
        one row, a chunk's one cache miss, a batch's last short chunk). More than SCORE_ROWS
        rows are scored SCORE_ROWS at a time, in order."""
        rows = len(X)
        if rows > SCORE_ROWS:
            import numpy as np

            parts = [
                self.raw(
                    X.iloc[start : start + SCORE_ROWS]
                    if hasattr(X, "iloc")
                    else X[start : start + SCORE_ROWS]
                )
                for start in range(0, rows, SCORE_ROWS)
            ]
            return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        if 0 < rows < MIN_ROWS:
            import numpy as np

            repeat = np.arange(MIN_ROWS) % rows
            padded = X.iloc[repeat] if hasattr(X, "iloc") else X[repeat]
            return {name: values[:rows] for name, values in self._raw(padded).items()}
        return self._raw(X)

    def _raw(self, X: Any) -> dict[str, Any]:
        import numpy as np

        if self.info.task == "regression":
            return {"prediction": np.asarray(self.model.predict(X), dtype=float)}
        if self.info.binary:
            if self.proba:
                return {"probability": self.model.predict_proba(X)[:, 1].astype(float)}
            if hasattr(self.model, "decision_function"):
                return {"score": np.asarray(self.model.decision_function(X), dtype=float)}
            return {"score": np.asarray(self.model.predict(X), dtype=float)}
        if self.proba:
            matrix = self.model.predict_proba(X)
            best = np.argmax(matrix, axis=1)
            labels = np.asarray(self.model.classes_, dtype=object)[best]
            return {
                "prediction": np.asarray([str(v) for v in labels], dtype=object),
                "probability": matrix[np.arange(len(best)), best].astype(float),
            }
        return {"prediction": np.asarray([str(v) for v in self.model.predict(X)], dtype=object)}

    def empty(self) -> dict[str, Any]:
        """The answers for no rows, typed as real answers are (labels are text)."""
        import numpy as np

        text = self.info.task == "classification" and not self.info.binary
        return {
            name: np.empty(0, dtype=object if (text and name == "prediction") else float)
            for name in self.payload
        }

    @property
    def cut(self) -> float:
        """The decision threshold of a binary classifier (0.5, or 0 for a decision score)."""
        default = 0.5 if self.proba else 0.0
        return default if self.info.threshold is None else float(self.info.threshold)

    def finish(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Output columns from raw answers: binary labels from the decision threshold."""
        import numpy as np

        if not self.info.binary:
            return raw
        name = self.payload[0]
        labels = np.where(
            raw[name] >= self.cut, str(self.info.classes[1]), str(self.info.classes[0])
        ).astype(object)
        return {"prediction": labels, name: raw[name]}

    def bad(self, raw: dict[str, Any]) -> Any:
        """Rows whose answer is NaN or infinite."""
        import numpy as np

        out = None
        for values in raw.values():
            if values.dtype.kind == "f":
                mask = ~np.isfinite(values)
                out = mask if out is None else (out | mask)
        return out


def canary(scorer: Scorer) -> dict[str, Any]:
    """Predict the model's recorded input example; CheckFailed when that fails.

    On one thread: for a few rows a team of OpenMP threads per tree costs more than it saves, and
    on a busy machine each of its barriers waits for a descheduled thread (seconds, not 0.1 s).
    """
    import pandas as pd
    from threadpoolctl import threadpool_limits

    example = scorer.info.metadata.get("input_example") or []
    if not example:
        return {"passed": True, "rows": 0, "note": "the model records no input example"}
    frame = pd.DataFrame(example)
    missing = [c for c in scorer.info.features if c not in frame.columns]
    if missing:
        raise CheckFailed(f"canary: the model's input example lacks features {missing}")
    X = frame[scorer.info.features].copy()
    for column in scorer.info.numeric:
        X[column] = pd.to_numeric(X[column], errors="coerce").astype("float64")
    try:
        with threadpool_limits(limits=1):
            raw = scorer.raw(X)
    except Exception as exc:
        raise CheckFailed(
            f"canary: {scorer.info.name}:{scorer.info.version} cannot score its own input "
            f"example ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "the installed packages probably differ from training: see the model's environment "
            "with `mlready registry show`"
        ) from None
    bad = scorer.bad(raw)
    if any(len(v) != len(X) for v in raw.values()) or (bad is not None and bad.any()):
        raise CheckFailed(
            f"canary: {scorer.info.name}:{scorer.info.version} gave NaN, infinite or missing "
            "answers for its own input example: do not serve this version"
        )
    first = {k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in raw.items()}
    return {"passed": True, "rows": len(X), "first": first}


# ---------------------------------------------------------------------------------- schema


def check_schema(
    loaded: LoadedSpec, info: ModelInfo, columns: list[str], label: str
) -> tuple[list[Any], list[str]]:
    """The contract's checks for these columns; CheckFailed when a needed column is missing.

    Returns (checks, warnings).
    """
    from mlready.validation.checks import build_checks

    present = set(columns)
    missing = [c for c in info.features if c not in present]
    if missing:
        if len(missing) > 5 and len(missing) > len(info.features) // 2:
            raise CheckFailed(
                f"{label} lacks {len(missing)} of the {len(info.features)} features "
                f"{info.name}:{info.version} needs ({', '.join(missing[:5])}, ...): is it the "
                "right file? Its columns: "
                + ", ".join(columns[:10])
                + (" ..." if len(columns) > 10 else "")
            )
        close = _close(missing[0], columns)
        raise CheckFailed(
            f"{label} lacks feature{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} that {info.name}:{info.version} needs{close}: add "
            f"{'them' if len(missing) > 1 else 'it'} to the batch (the model cannot score "
            "without), or score with a model trained without"
        )
    ids = [c for c in info.id_columns if c not in present]
    if ids:
        raise CheckFailed(
            f"{label} lacks the id column{'s' if len(ids) > 1 else ''} {', '.join(ids)}: "
            "predictions without ids cannot be joined back; add them to the batch"
        )
    checks = build_checks(loaded.spec, columns, "serving")
    warnings = []
    for check in checks:
        failed = None
        if check.kind == "required" and check.column not in present:
            failed = f"column '{check.column}' is missing"
        elif check.kind == "target_absent" and check.column in present:
            failed = f"the batch carries the target column '{check.column}'"
        elif check.kind == "unexpected_columns":
            allowed = set(check.params["allowed"])
            extra = [c for c in columns if c not in allowed]
            if extra:
                failed = f"columns outside the contract: {', '.join(extra[:10])}"
        if failed is None:
            continue
        if check.severity == "error":
            raise CheckFailed(f"{label}: {failed} ({check.id}: {check.description})")
        warnings.append(f"{check.id}: {failed}")
    return checks, warnings


def _close(name: str, columns: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(name, columns, n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def find_duplicates(
    path: str | None, sql: tuple[str, str] | None, checks: list[Any], chunk_rows: int
) -> dict[str, Any]:
    """The hashed values that occur twice in columns with an error-severity unique check."""
    from mlready.serving.reader import iter_batch

    columns = unique_columns(checks)
    if not columns:
        return {}
    return duplicate_hashes(iter_batch(path, sql, columns, max(chunk_rows, 500_000)), columns)


def unique_columns(checks: list[Any]) -> list[str]:
    """The columns whose values must be unique (an error-severity unique check)."""
    return [c.column for c in checks if c.kind == "unique" and c.severity == "error"]


def duplicate_hashes(chunks: Iterable[Any], columns: list[str]) -> dict[str, Any]:
    """Per column, the hashed values that occur twice over all ``chunks`` (DataFrames)."""
    import numpy as np

    from mlready.serving.prepare import value_hashes

    parts: dict[str, list[Any]] = {c: [] for c in columns}
    for chunk in chunks:
        for column in columns:
            present = chunk[column].dropna()
            parts[column].append(value_hashes(present))
    out = {}
    for column, hashes in parts.items():
        every = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
        every.sort()
        out[column] = np.unique(every[1:][every[1:] == every[:-1]])
    return out


# ----------------------------------------------------------------------------------- cache


def _namespace(info: ModelInfo, scorer_payload: list[str]) -> str:
    text = json.dumps([info.sha256, info.threshold, info.classes, scorer_payload], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def batch_key(
    loaded: LoadedSpec, info: ModelInfo, batch: _Batch, on_invalid: str, cache_root: Path
) -> str | None:
    """The batch cache's key: input bytes, model, contract, output format; None for SQL."""
    from mlready import __version__
    from mlready.io import resolve_files
    from mlready.serving.cache import file_digests

    if batch.path is None:
        return None
    files = resolve_files(batch.path)
    digests = file_digests(files, cache_root / "fingerprints.json")
    parts = [
        *(f"{f.name}:{d}" for f, d in zip(files, digests, strict=True)),
        info.sha256,
        str(info.threshold),
        loaded.section_hash("expectations"),
        on_invalid,
        batch.output.suffix.lower(),
        __version__,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


# ------------------------------------------------------------------------------------ main


def serve_batch(loaded: LoadedSpec, *, run_dir: Path, run_id: str, **options: Any) -> ServeResult:
    """Score a batch with a registered model, then fire the spec's alert rules for a missed
    SLA (``sla_breach``) and for rows set aside (``data_invalid``)."""
    result = _serve(loaded, run_dir=run_dir, run_id=run_id, **options)
    alert(loaded, result, run_id, options.get("logger"))
    return result


def alert(
    loaded: LoadedSpec, result: ServeResult, run_id: str, logger: logging.Logger | None
) -> None:
    """Fire the alert rules this run's outcome calls for."""
    model = f"{result.model['name']}:{result.model['version']}"
    if result.sla and result.sla.get("met") is False:
        from mlready.alerts import fire

        result.alerts += fire(
            loaded,
            "sla_breach",
            f"serve-batch of {result.source} with {model} took {result.wall_s:,.1f} s, over "
            f"its budget of {result.sla['budget_s']:,.0f} s",
            {"sla": result.sla, "rows_in": result.rows_in},
            step="serve-batch",
            run_id=run_id,
            logger=logger,
        )
    if result.rows_rejected:
        from mlready.alerts import fire

        counts = {f["id"]: f["count"] for f in result.findings if f["severity"] == "error"}
        result.alerts += fire(
            loaded,
            "data_invalid",
            f"{result.rows_rejected:,} of {result.rows_in:,} rows of {result.source} broke the "
            f"serving contract and were set aside ({', '.join(counts)})",
            {"rejected": result.rows_rejected, "checks": counts, "files": result.files},
            step="serve-batch",
            run_id=run_id,
            logger=logger,
        )


def _serve(
    loaded: LoadedSpec,
    *,
    run_dir: Path,
    run_id: str,
    model: str | None = None,
    input_path: str | None = None,
    sql: tuple[str, str] | None = None,
    output: str | Path | None = None,
    quarantine: bool | None = None,
    chunk_rows: int | None = None,
    use_cache: bool = True,
    engine: str = "local",
    scheduler: str | None = None,
    on_progress: Progress | None = None,
    logger: logging.Logger | None = None,
    force: bool = False,
) -> ServeResult:
    """Score a batch with a registered model (see the module's docstring for the order)."""
    clock = time.perf_counter()
    log = logger or logging.getLogger("mlready.serving")
    serving = _serving(loaded)
    if engine not in ("local", "dask"):
        raise UsageError(f"--engine must be local or dask, got {engine!r}")
    if engine == "dask" and not scheduler:
        raise UsageError("--engine dask needs --scheduler ADDRESS (or 'local' for this machine)")
    if scheduler and engine != "dask":
        raise UsageError("--scheduler is for --engine dask")
    rows_per_chunk = chunk_rows or serving.chunk_rows
    if rows_per_chunk < 1:
        raise UsageError(f"--chunk-rows must be a positive number of rows, got {rows_per_chunk}")
    on_invalid = serving.on_invalid
    if quarantine is not None:
        on_invalid = "quarantine" if quarantine else "stop"
    batch = _batch(loaded, input_path, sql, output, run_dir, engine)
    from mlready.io import remove_stale_temps

    # a run killed while it put its files in place is completed first (its outputs are then
    # known as mlready's), and killed runs' temporary files are removed
    remove_stale_temps(batch.output.parent)
    _guard(loaded, batch, run_dir, force, engine)
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - since, 4)
        return now

    t = time.perf_counter()
    info = resolve_model(loaded, model)
    log.info("model %s:%s (sha256 %s)", info.name, info.version, info.sha256[:12])
    from mlready.registry import environment_warnings
    from mlready.serving.reader import columns_of

    warnings = list(environment_warnings(info.handle))
    columns = columns_of(batch.path, batch.sql)
    checks, schema_warnings = check_schema(loaded, info, columns, batch.label)
    warnings += schema_warnings
    t = lap("schema", t)
    result = ServeResult(
        passed=True,
        failures=[],
        warnings=warnings,
        model=info.describe(),
        source=batch.label,
        engine=engine,
    )
    cache_on = serving.cache.enabled and use_cache and engine == "local"
    result.cache = {"enabled": cache_on, "hits": 0, "misses": 0, "batch_hit": False}
    ttl = serving.cache.ttl.total_seconds()
    cache_root = Path(loaded.spec.project.artifacts_dir) / "cache"
    if cache_on:
        from mlready.serving.cache import remove_killed_writes

        remove_killed_writes(cache_root)
    key = batch_key(loaded, info, batch, on_invalid, cache_root) if cache_on else None
    t = lap("fingerprint", t)
    if key is not None:
        from mlready.serving.cache import BatchCache

        entry = BatchCache(cache_root / "batches", ttl).get(key)
        if entry is not None:
            _from_batch_cache(loaded, entry, batch, result, run_dir)
            return _finish(result, serving, clock, timings, log, batch, run_dir)
    if engine == "dask":
        from mlready.serving.distributed import serve_with_dask

        serve_with_dask(
            loaded,
            info,
            batch,
            checks,
            on_invalid,
            rows_per_chunk,
            scheduler or "local",
            result,
            run_dir,
            run_id,
            timings,
            log,
        )
        return _finish(result, serving, clock, timings, log, batch, run_dir)
    with arrow_memory_pool():  # Arrow's buffers from jemalloc while the batch is scored
        _serve_chunks(
            loaded,
            info,
            batch,
            checks,
            on_invalid,
            rows_per_chunk,
            result,
            run_dir,
            run_id,
            timings,
            log,
            on_progress,
            cache_root if cache_on else None,
            ttl,
        )
    result = _finish(result, serving, clock, timings, log, batch, run_dir)
    if key is not None and result.passed:
        from mlready.serving.cache import BatchCache

        files = {"output": batch.output, "profile.json": batch.profile}
        if result.rows_rejected:
            files["rejects"] = batch.rejects
        BatchCache(cache_root / "batches", ttl).put(key, files, _cacheable(result, run_id))
    return result


def _cacheable(result: ServeResult, run_id: str) -> dict[str, Any]:
    keep = ("rows_in", "rows_scored", "rows_rejected", "findings", "unseen", "canary")
    out = {k: getattr(result, k) for k in keep}
    out["run_id"] = run_id
    return out


def _from_batch_cache(
    loaded: LoadedSpec, entry: dict[str, Any], batch: _Batch, result: ServeResult, run_dir: Path
) -> None:
    """Publish a cached run's files at this run's paths (as one commit)."""
    import shutil

    from mlready.io import atomic_write_bytes, staged

    folder = Path(entry["dir"])
    stored = entry["result"]
    targets = {"rejects": batch.rejects, "output": batch.output, "profile.json": batch.profile}
    atomic_write_bytes(run_dir / "batch_profile.json", (folder / "profile.json").read_bytes())
    moves: list[tuple[Path | None, Path]] = []
    try:
        for name, target in targets.items():
            if name not in entry["files"]:
                moves.append((None, target))  # an earlier run's rejects do not stay beside it
                continue
            with staged(target) as tmp:
                # a copy, not a link: editing this output must not change another run's
                shutil.copyfile(folder / name, tmp)
            moves.append((tmp, target))
    except BaseException:
        for made, _ in moves:
            if made is not None:
                made.unlink(missing_ok=True)
        raise
    _commit(loaded, batch, run_dir, moves)
    for key in ("rows_in", "rows_scored", "rows_rejected", "findings", "unseen", "canary"):
        setattr(result, key, stored[key])
    result.cache.update(
        batch_hit=True, hits=stored["rows_scored"], misses=0, from_run=stored["run_id"]
    )
    result.files = {"output": str(batch.output), "profile": str(batch.profile)}
    if "rejects" in entry["files"]:
        result.files["rejects"] = str(batch.rejects)


def _commit(
    loaded: LoadedSpec, batch: _Batch, run_dir: Path, moves: list[tuple[Path | None, Path]]
) -> None:
    """Put a batch's files in place together (see mlready.io.commit_files): its output, rejects
    and profile are all this run's, or all the run's before (an output never stands beside
    another run's profile or rejects); the ones at user-named paths are recorded as mlready's."""
    from mlready.io import commit_files

    commit_files(
        moves,
        record=_published(batch, run_dir),
        artifacts_dir=loaded.spec.project.artifacts_dir,
    )


def _finish(
    result: ServeResult,
    serving: ServingSection,
    clock: float,
    timings: dict[str, float],
    log: logging.Logger,
    batch: _Batch,
    run_dir: Path,
) -> ServeResult:
    """Wall time, memory and the SLA verdict."""
    result.wall_s = round(time.perf_counter() - clock, 4)
    result.timings = timings
    result.peak_memory_mb = round(peak_memory_mb(), 1)
    rate = result.rows_in / result.wall_s if result.wall_s > 0 else None
    if serving.sla is not None:
        budget = serving.sla.budget.total_seconds()
        met = result.wall_s <= budget
        result.sla = {
            "output_period_s": serving.sla.output_period.total_seconds(),
            "budget_s": budget,
            "wall_s": result.wall_s,
            "rows_per_s": None if rate is None else round(rate, 1),
            "peak_memory_mb": result.peak_memory_mb,
            "met": met,
        }
        if not met:
            result.failures.append(
                f"SLA missed: the run took {result.wall_s:,.1f} s, the budget is "
                f"{budget:,.0f} s (serving.sla); raise serving.chunk_rows, or scale out with "
                "--engine dask"
            )
    else:
        result.sla = {
            "budget_s": None,
            "wall_s": result.wall_s,
            "rows_per_s": None if rate is None else round(rate, 1),
            "peak_memory_mb": result.peak_memory_mb,
            "met": None,
        }
    _check_rejects(result, serving)
    result.passed = not result.failures
    log.info(
        "scored %s of %s rows in %.2f s (%s rows rejected, cache hits %s)",
        result.rows_scored,
        result.rows_in,
        result.wall_s,
        result.rows_rejected,
        result.cache.get("hits"),
    )
    return result


def _check_rejects(result: ServeResult, serving: ServingSection) -> None:
    """A run that scores nothing, or sets aside more than serving.max_reject_share of its rows,
    did not do its job: it fails (a run stopped at invalid rows has said so already)."""
    if result.failures:
        return
    if result.rows_scored == 0:
        result.failures.append(
            f"no row scored: {result.rows_in:,} rows in, {result.rows_rejected:,} rejected; "
            "check the batch against the contract (mlready validate-data --data FILE)"
        )
        return
    share = result.rows_rejected / result.rows_in if result.rows_in else 0.0
    if share > serving.max_reject_share:
        result.failures.append(
            f"{result.rows_rejected:,} of {result.rows_in:,} rows rejected ({share:.0%}), over "
            f"serving.max_reject_share ({serving.max_reject_share:.0%}): fix the batch, or "
            "raise the share in the spec"
        )


# ------------------------------------------------------------------------------ local engine


class _Writer:
    """Chunks of a table appended to a temporary file, put in place by the run's commit."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp: Path | None = None
        self.writer: Any = None
        self.schema: Any = None
        self.rows = 0

    def write(self, frame: Any) -> None:
        with self._errors():
            self._write(frame)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """A full disk or a read-only folder: exit 4 naming the target (pyarrow's OSErrors name
        neither the file nor, often, the errno)."""
        from mlready.io import os_error_message

        try:
            yield
        except OSError as exc:
            message = os_error_message(exc, self.target)
            raise DataError(message or f"cannot write {self.target}: {exc}") from exc

    def _write(self, frame: Any) -> None:
        import pyarrow as pa

        table = (
            frame
            if isinstance(frame, pa.Table)
            else pa.Table.from_pandas(frame, preserve_index=False)
        )
        if self.writer is None:
            from mlready.io import temp_beside

            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = temp_beside(self.target)
            schema = self.schema = _nullable(table.schema)
            if self.target.suffix.lower() == ".csv":
                import pyarrow.csv as pcsv

                self.writer = pcsv.CSVWriter(str(self.tmp), schema)
            else:
                import pyarrow.parquet as pq

                # dictionary pages only for repetitive columns: ids are unique per row
                repetitive = [
                    n
                    for n in schema.names
                    if n in ("prediction", "model_name", "model_run_id", "run_id", REASON_COLUMN)
                ]
                self.writer = pq.ParquetWriter(
                    str(self.tmp), schema, compression="snappy", use_dictionary=repetitive
                )
        self.writer.write_table(table.cast(self.schema))
        self.rows += table.num_rows

    def close(self) -> Path | None:
        """Close the temporary file and flush it to disk; return it (None when nothing was
        written) for the commit to put in place."""
        if self.writer is None or self.tmp is None:
            return None
        with self._errors():
            self.writer.close()
            self.writer = None
            umask = os.umask(0o022)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
            with open(self.tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        return self.tmp

    def discard(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):  # it is being thrown away
                self.writer.close()
            self.writer = None
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def _nullable(schema: Any) -> Any:
    """Null-typed columns (a first chunk whose ids are all missing) become text."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema]
    return pa.schema(fields)


@contextlib.contextmanager
def arrow_memory_pool() -> Iterator[None]:
    """Arrow's buffers (CSV blocks, pandas conversions, Parquet pages) from jemalloc while a
    batch is scored, where pyarrow has it and ARROW_DEFAULT_MEMORY_POOL does not name a pool:
    measured on 1M rows, 0.5 CPU-seconds and about 80 MB less than mimalloc, pyarrow's default
    (buffers remember their pool, so switching back is safe)."""
    import pyarrow as pa

    # a pyarrow built without jemalloc (Windows wheels), or a pool the user named: kept as is
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or (
        "jemalloc" not in pa.supported_memory_backends()
    ):
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.jemalloc_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _one_openmp_thread() -> None:
    """OpenMP's thread count is per calling thread: a scoring thread must set its own (several
    threads each running a full OpenMP team oversubscribe the cores many times over)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="openmp")


def _threads() -> int:
    """Prediction threads: one per core, each limited to one BLAS/OpenMP thread (the main
    thread's reading, checking and writing mostly waits on I/O or releases the GIL)."""
    return max(1, os.cpu_count() or 1)


def _serve_chunks(
    loaded: LoadedSpec,
    info: ModelInfo,
    batch: _Batch,
    checks: list[Any],
    on_invalid: str,
    chunk_rows: int,
    result: ServeResult,
    run_dir: Path,
    run_id: str,
    timings: dict[str, float],
    log: logging.Logger,
    on_progress: Progress | None,
    cache_root: Path | None,
    ttl: float,
) -> None:
    """Score the batch on this machine, chunk by chunk (the caller picks Arrow's memory pool)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from mlready.io import atomic_write_text, json_text, staged
    from mlready.serving.cache import RowCache, row_keys
    from mlready.serving.prepare import Contract
    from mlready.serving.reader import iter_batch, prefetch

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - since, 4)
        return now

    t = time.perf_counter()
    # the columns passed their checks: the model (sha256 check, importing scikit-learn and
    # skops, building the pipeline: a second or more) loads in a thread while the first rows
    # are read and checked
    loading = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlready-load")
    model_future = loading.submit(_load_and_compile, info)
    loading.shutdown(wait=False)
    duplicates = find_duplicates(batch.path, batch.sql, checks, chunk_rows)
    contract = Contract(
        checks, info.numeric, info.categorical, known_categories(info), duplicates, info.dtypes
    )
    t = lap("duplicates", t)
    read_columns = list(dict.fromkeys(info.id_columns + contract.columns()))
    reader = prefetch(
        iter_batch(
            batch.path,
            batch.sql,
            read_columns,
            chunk_rows,
            numeric=frozenset(c for c in contract.numeric_columns()),
        )
    )
    first = next(reader, None)
    t = lap("read", t)
    if first is None:
        raise DataError(f"{batch.label} holds no rows: nothing to score (check the export)")
    if on_invalid == "stop":
        # the first chunk before the model is used: an invalid batch stops here
        probe = Contract(checks, info.numeric, info.categorical, {}, duplicates, info.dtypes)
        _stop_if_invalid(probe, probe.prepare(first), batch, 0)

    model, compiled = model_future.result()  # sha256-verified
    scorer = Scorer(model, info)
    t = lap("load", t)
    result.canary = canary(scorer)
    t = lap("canary", t)
    log.info("canary passed on %s rows", result.canary.get("rows"))

    features_profile, predictions_profile = profile_builders(
        info, scorer, loaded.spec.monitoring.drift.small_sample_rows
    )

    cache: RowCache | None = None
    if cache_root is not None:
        cache = RowCache(
            cache_root / "rows" / _namespace(info, scorer.payload), ttl, scorer.payload
        )
        cache.load()
        t = lap("cache_load", t)

    out = _Writer(batch.output)
    rejects = _Writer(batch.rejects)
    threads = _threads()
    pool = ThreadPoolExecutor(
        max_workers=threads,
        thread_name_prefix="mlready-score",
        initializer=_one_openmp_thread if threads > 1 else None,
    )
    pending: deque[tuple[Any, Future[Any]]] = deque()
    done = 0
    nan_rows = 0

    paths: set[str] = set()

    def predict(X: Any) -> dict[str, Any]:
        if not len(X):
            return scorer.empty()
        if compiled is not None:
            answers = compiled.raw_frame(X, SCORE_ROWS)
            if answers is not None:
                paths.add("compiled")
                return answers
        paths.add("pipeline")
        return scorer.raw(X)

    def finish_chunk(job: dict[str, Any], future: Future[Any]) -> None:
        nonlocal done, nan_rows
        start = time.perf_counter()
        fresh = future.result()
        timings["predict_wait"] = round(
            timings.get("predict_wait", 0.0) + time.perf_counter() - start, 4
        )
        hit = job["hit"]
        raw = {}
        for name in scorer.payload:
            column = np.empty(len(hit), dtype=fresh[name].dtype)  # empty answers are typed too
            if name in job["cached"] and hit.any():
                cached = job["cached"][name]
                kind = object if object in (column.dtype, cached.dtype) else float
                column = column.astype(kind)
                column[hit] = job["cached"][name]
            column[~hit] = fresh[name]
            raw[name] = column
        bad = scorer.bad(raw)
        if bad is not None and bad.any():
            nan_rows += int(bad.sum())
        if cache is not None and (~hit).any():
            cache.add(job["k1"][~hit], job["k2"][~hit], fresh)
        out.write(output_table(job["ids"], raw, scorer, run_id))
        profile_predictions(predictions_profile, raw, scorer)
        done += job["rows"]
        if on_progress is not None:
            on_progress(done, None)
        timings["write"] = round(timings.get("write", 0.0) + time.perf_counter() - start, 4)

    def handle(chunk: Any, offset: int) -> None:
        start = time.perf_counter()
        prepared = contract.prepare(chunk)
        if on_invalid == "stop":
            _stop_if_invalid(contract, prepared, batch, offset)
        if prepared.reasons:
            import pandas as pd

            bad_rows = chunk.reset_index(drop=True).loc[~prepared.accepted].copy()
            bad_rows[REASON_COLUMN] = [
                "; ".join(prepared.reasons[int(i)]) for i in np.flatnonzero(~prepared.accepted)
            ]
            bad_rows.insert(0, "_mlready_row", np.flatnonzero(~prepared.accepted) + offset)
            rejects.write(as_text(pd.DataFrame(bad_rows)).astype({"_mlready_row": "int64"}))
        X = prepared.X
        profile_chunk(features_profile, prepared, info)
        result.rows_rejected += int((~prepared.accepted).sum())
        ids = row_keys_of(chunk, prepared.accepted, info.id_columns, offset)
        job: dict[str, Any] = {"ids": ids, "rows": len(chunk), "cached": {}}
        hit = np.zeros(len(X), dtype=bool)
        if cache is not None:
            k1, k2 = row_keys(X, info.categorical)
            hit, job["cached"] = cache.lookup(k1, k2)
            job["k1"], job["k2"] = k1, k2
        job["hit"] = hit
        result.cache["hits"] += int(hit.sum())
        result.cache["misses"] += int((~hit).sum())
        misses = X.loc[~hit] if hit.any() else X
        timings["prepare"] = round(timings.get("prepare", 0.0) + time.perf_counter() - start, 4)
        pending.append((job, pool.submit(predict, misses)))
        while len(pending) > threads:
            finish_chunk(*pending.popleft())

    success = False
    switch = sys.getswitchinterval()
    try:
        with threadpool_limits(limits=1 if threads > 1 else None):
            # a scoring thread takes the GIL back after each step of the model (a tree of a
            # boosted ensemble: hundreds per chunk) while the main thread checks in Python;
            # with the default 5 ms switch interval it waits up to that long each time
            sys.setswitchinterval(SWITCH_INTERVAL)
            offset = 0
            chunk = first
            while chunk is not None:
                result.rows_in += len(chunk)
                handle(chunk, offset)
                offset += len(chunk)
                start = time.perf_counter()
                chunk = next(reader, None)
                timings["read"] = round(timings.get("read", 0.0) + time.perf_counter() - start, 4)
            while pending:
                finish_chunk(*pending.popleft())
        result.rows_scored = out.rows
        result.fast_path = "mixed" if len(paths) > 1 else next(iter(paths), "none")
        result.nan_predictions = nan_rows
        result.findings = [f.to_dict() for f in contract.findings.values()]
        result.unseen = [f.to_dict() for f in contract.unseen.values()]
        table = contract.table_findings()
        result.findings += [f.to_dict() for f in table]
        hard = [f for f in table if f.severity == "error"]
        if hard:
            raise CheckFailed(
                f"{batch.label} fails the serving contract: "
                + "; ".join(f"{f.id} ({f.description}): {', '.join(f.sample)}" for f in hard)
                + "; nothing was written"
            )
        if nan_rows:
            raise CheckFailed(
                f"{nan_rows:,} predictions are NaN or infinite: the model or its inputs are "
                "broken (see the run log); nothing was written"
            )
        for finding in result.findings:
            if finding["severity"] != "error":
                result.warnings.append(
                    f"{finding['id']} ({finding['description']}): {finding['count']:,} rows"
                )
        for finding in result.unseen:
            result.warnings.append(
                f"{finding['id'].split('.')[0]}: {finding['count']:,} values never seen in "
                f"training (e.g. {', '.join(finding['sample'][:3])}); the model treats them as "
                "unknown"
            )
        result.rows_scored = out.rows
        profile = batch_profile(
            features_profile, predictions_profile, info, scorer, batch.label, result, run_id
        )
        start = time.perf_counter()
        if out.rows == 0:
            out.write(_empty_output(info, scorer, run_id))
            out.rows = 0
        # one text for both copies (it keeps sample values)
        profile_text = json_text(profile, compact=True)
        atomic_write_text(run_dir / "batch_profile.json", profile_text)
        rejects_tmp = rejects.close()
        out_tmp = out.close()
        with staged(batch.profile) as profile_tmp:
            profile_tmp.write_text(profile_text, encoding="utf-8")
        # everything is written in full before anything moves (a full disk fails the run with
        # no file new; a rename needs no space), then it all moves as one commit
        out.tmp = rejects.tmp = None  # the commit's now
        _commit(
            loaded,
            batch,
            run_dir,
            [(rejects_tmp, batch.rejects), (out_tmp, batch.output), (profile_tmp, batch.profile)],
        )
        if cache is not None:
            cache.commit()
        timings["commit"] = round(time.perf_counter() - start, 4)
        result.files = {"output": str(batch.output), "profile": str(batch.profile)}
        if rejects_tmp is not None:
            result.files["rejects"] = str(batch.rejects)
        success = True
    finally:
        sys.setswitchinterval(switch)
        pool.shutdown(wait=True, cancel_futures=True)
        if not success:
            out.discard()
            rejects.discard()
            if cache is not None:
                cache.discard()


def _load_and_compile(info: ModelInfo) -> tuple[Any, Any]:
    """The registered model (sha256-verified) and, for mlready's own pipeline shapes, its
    preprocessing as array steps (None unless they give the Pipeline's answers to the bit on a
    verification table; see :mod:`mlready.serving.compiled`)."""
    from mlready.serving.compiled import compile_pipeline

    model = info.registry.load(info.handle)
    return model, compile_pipeline(model, info, singles=False)


def _kind(column: str, info: ModelInfo) -> dict[str, Any]:
    """A column the reference profile does not have: profile it without bins."""
    if column in info.numeric:
        return {"kind": "numeric", "cuts": [], "fine_cuts": []}
    return {"kind": "categorical"}


def as_text(frame: Any) -> Any:
    """Every column as text (whole numbers without '.0'; missing stays missing): ids and
    rejected rows are written as text, so their type never depends on which chunk came first
    (a later chunk of a Parquet glob or a SQL query may type a column differently)."""
    import pandas as pd

    from mlready.training.pipeline import to_text

    numbers = [
        c
        for c in frame.columns
        if not (pd.api.types.is_string_dtype(frame[c]) and frame[c].dtype != object)
    ]
    if not numbers:
        return frame
    out = frame.copy()
    out[numbers] = to_text(frame[numbers]).astype("str")
    return out


#: The output column that numbers the rows when the model has no id columns.
ROW_COLUMN = "row"


def row_keys_of(chunk: Any, accepted: Any, id_columns: list[str], offset: int) -> Any:
    """What joins the accepted rows' answers back to the batch: the id columns, or, for a model
    without ids, each row's position in the batch (``row``, from 0, as in the rejects file)."""
    import numpy as np
    import pandas as pd

    if id_columns:
        return chunk.reset_index(drop=True).loc[accepted, id_columns].reset_index(drop=True)
    return pd.DataFrame({ROW_COLUMN: np.flatnonzero(accepted).astype("int64") + offset})


def output_table(ids: Any, raw: dict[str, Any], scorer: Scorer, run_id: str) -> Any:
    """The output rows as an Arrow table: ids, prediction (and probability or score), model
    and run. Built column by column in Arrow: no Python object per row."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    info = scorer.info
    keys = ids.reset_index(drop=True)
    # ids are text (their type must not depend on the chunk); row numbers stay integers
    table = pa.Table.from_pandas(
        as_text(keys) if info.id_columns else keys.astype("int64"), preserve_index=False
    )
    rows = len(ids)
    if info.binary:
        name = scorer.payload[0]
        cut = scorer.cut
        positive = np.asarray(raw[name] >= cut, dtype=np.int8)
        labels = pa.array([str(info.classes[0]), str(info.classes[1])], type=pa.string())
        table = table.append_column("prediction", pc.take(labels, pa.array(positive)))
        table = table.append_column(name, pa.array(raw[name], type=pa.float64()))
    else:
        for name in scorer.payload:
            values = raw[name]
            kind = pa.float64() if values.dtype.kind == "f" else pa.string()
            table = table.append_column(name, pa.array(values, type=kind))
    constants = (
        ("model_name", pa.scalar(info.name, pa.string())),
        ("model_version", pa.scalar(info.version, pa.int64())),
        ("model_run_id", pa.scalar(info.run_id or "", pa.string())),
        ("run_id", pa.scalar(run_id, pa.string())),
    )
    for name, value in constants:
        table = table.append_column(name, pa.repeat(value, rows))
    return table


def profile_chunk(builder: Any, prepared: Any, info: ModelInfo) -> None:
    """Count one prepared chunk's features into a batch profile."""
    for column in info.numeric:
        values = prepared.numbers.get(column)
        builder.add_column(column, prepared.X[column] if values is None else values)
    for column, (counts, missing) in prepared.categories.items():
        builder.add_counts(column, counts, len(prepared.X), missing)
    builder.rows += len(prepared.X)


def profile_predictions(builder: Any, raw: dict[str, Any], scorer: Scorer) -> None:
    """Count one chunk's answers into the batch profile's prediction part."""
    import numpy as np

    info = scorer.info
    rows = len(next(iter(raw.values()))) if raw else 0
    if info.task == "regression":
        builder.add_column("value", raw["prediction"])
    elif info.binary:
        scores = raw[scorer.payload[0]]
        builder.add_column("score", scores)
        positive = int(np.count_nonzero(scores >= scorer.cut))
        counts = {str(info.classes[1]): positive, str(info.classes[0]): rows - positive}
        builder.add_counts("classes", {k: v for k, v in counts.items() if v}, rows, 0)
    else:
        builder.add_column("classes", raw["prediction"])
    builder.rows += rows


def batch_profile(
    features: Any,
    predictions: Any,
    info: ModelInfo,
    scorer: Scorer,
    source: str,
    result: ServeResult,
    run_id: str,
) -> dict[str, Any]:
    """The batch's profile in the reference's format, with where it came from (``source``)."""
    profile = features.result()
    profile["prediction"] = predictions.result()["columns"]
    if info.binary:
        profile["prediction"]["threshold"] = info.threshold
    profile["prediction_rows"] = result.rows_scored
    profile["feature_kinds"] = {
        **dict.fromkeys(info.numeric, "numeric"),
        **dict.fromkeys(info.categorical, "categorical"),
    }
    profile["batch"] = {
        "source": source,
        "run_id": run_id,
        "rows_in": result.rows_in,
        "rows_scored": result.rows_scored,
        "rows_rejected": result.rows_rejected,
        # rows set aside for a value outside a feature's range are not in the feature counts
        # above: check-drift counts them as drift of their own
        "out_of_range": {
            f["id"][: -len(".range")]: int(f["count"])
            for f in result.findings
            if f["id"].endswith(".range") and f["severity"] == "error" and f["count"]
        },
        "model": info.describe(),
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return profile


def profile_builders(info: ModelInfo, scorer: Scorer, keep_values: int) -> tuple[Any, Any]:
    """Empty profiles of a batch's features and of its answers, in the reference's bins."""
    from mlready.profiles import ProfileBuilder

    reference = info.profile or {"columns": {}}
    known = reference.get("columns") or {}
    features = ProfileBuilder(
        {"columns": {c: known.get(c) or _kind(c, info) for c in info.features}},
        keep_values=keep_values,
    )
    predictions = ProfileBuilder(
        {"columns": prediction_reference(reference, scorer)}, keep_values=keep_values
    )
    return features, predictions


def prediction_reference(reference: dict[str, Any], scorer: Scorer) -> dict[str, Any]:
    """The reference's prediction profiles, named as the batch profile names them."""
    prediction = reference.get("prediction") or {}
    out: dict[str, Any] = {}
    if scorer.info.task == "regression":
        out["value"] = prediction.get("value") or {"kind": "numeric", "cuts": [], "fine_cuts": []}
    elif scorer.info.binary:
        out["score"] = prediction.get("score") or {"kind": "numeric", "cuts": [], "fine_cuts": []}
        out["classes"] = prediction.get("classes") or {"kind": "categorical"}
    else:
        out["classes"] = prediction.get("classes") or {"kind": "categorical"}
    return out


def _empty_output(info: ModelInfo, scorer: Scorer, run_id: str) -> Any:
    import pandas as pd

    columns = {c: pd.Series([], dtype="str") for c in info.id_columns}
    if not info.id_columns:
        columns[ROW_COLUMN] = pd.Series([], dtype="int64")
    columns["prediction"] = pd.Series([], dtype="str" if info.task != "regression" else "float64")
    for name in scorer.payload:
        if name != "prediction":
            columns[name] = pd.Series([], dtype="float64")
    columns["model_name"] = pd.Series([], dtype="str")
    columns["model_version"] = pd.Series([], dtype="int64")
    columns["model_run_id"] = pd.Series([], dtype="str")
    columns["run_id"] = pd.Series([], dtype="str")
    return pd.DataFrame(columns)


def _stop_if_invalid(contract: Any, prepared: Any, batch: _Batch, offset: int) -> None:
    """serving.on_invalid: stop — the first rows that break the contract end the run."""
    if not prepared.reasons:
        return
    failed: dict[str, int] = {}
    for ids in prepared.reasons.values():
        for check_id in ids:
            failed[check_id] = failed.get(check_id, 0) + 1
    first = min(prepared.reasons) + offset
    shown = "; ".join(
        f"{check_id} ({contract.findings[check_id].description}): {count:,} rows, e.g. "
        f"{', '.join(contract.findings[check_id].sample[:3])}"
        for check_id, count in sorted(failed.items())
    )
    raise CheckFailed(
        f"{batch.label} breaks the serving contract from row {first:,}: {shown}. Nothing was "
        "written; fix the batch, or score the valid rows and set the others aside with "
        "--quarantine (serving.on_invalid: quarantine)"
    )
