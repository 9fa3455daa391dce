"""check-drift: the current data against the training reference, and the alerts it calls for.

Nothing is read twice: the reference is the profile train computed (registered with the model),
the current side is the profile serve-batch saved beside its output (or one streaming pass over a
file given with ``--current``). Both count values in the reference's bins, so every statistic
comes from counts (see :mod:`mlready.drift.stats`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlready.drift.stats import ColumnDrift, compare, correct_p_values
from mlready.errors import DataError, NotFoundError, UsageError
from mlready.spec import LoadedSpec

__all__ = ["DriftResult", "check_drift"]


@dataclass
class DriftResult:
    """What one check-drift run found."""

    passed: bool
    model: dict[str, Any]
    current: dict[str, Any]
    reference: dict[str, Any]
    features: list[dict[str, Any]]
    drifted: list[str]
    share_drifted: float
    dataset_drift: bool
    dataset_drift_share: float
    #: the multiple-testing correction of the features' p-values, and over how many tests
    correction: dict[str, Any] = field(default_factory=dict)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    prediction_drift: bool = False
    performance: dict[str, Any] | None = None
    model_age_days: float | None = None
    max_model_age_days: float | None = None
    environment: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: (reference, current) profiles, for the report's charts; not part of drift.json
    profiles: tuple[dict[str, Any], dict[str, Any]] = field(default=({}, {}), repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("profiles")
        return out


# ------------------------------------------------------------------------------- sources


def _latest_serving_run(artifacts: Path, sha256: str | None) -> tuple[str, dict[str, Any]]:
    """The newest serve-batch run that saved a profile (scored by the model ``sha256`` names)."""
    from mlready.runs import read_run_log

    runs = [
        r
        for r in read_run_log(artifacts, "serve-batch")
        if r.status in ("passed", "failed") and (r.summary or {}).get("files", {}).get("profile")
    ]
    if not runs:
        raise NotFoundError(
            "nothing to compare: no serve-batch run saved a batch profile yet; run "
            "`mlready serve-batch`, or pass --current FILE"
        )
    if sha256 is not None:
        mine = [r for r in runs if ((r.summary or {}).get("model") or {}).get("sha256") == sha256]
        if mine:
            return mine[-1].run_id, mine[-1].summary
    return runs[-1].run_id, runs[-1].summary


def _batch_profile(
    artifacts: Path, run_id: str | None, sha256: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(profile, serve-batch summary) of a serve-batch run (default: the latest one of the
    model ``sha256`` names, else the latest)."""
    from mlready.runs import read_run_log

    step = "serve-batch"
    if run_id is None:
        run_id, summary = _latest_serving_run(artifacts, sha256)
    else:
        found = [r for r in read_run_log(artifacts, "serve-batch") if r.run_id == run_id]
        online = artifacts / "runs" / "serve" / run_id / "batch_profile.json"
        if not found and online.is_file():
            # `mlready serve`'s online profile: in the run log once the server stopped, on disk
            # (rewritten periodically) while it runs
            step = "serve"
            found = [r for r in read_run_log(artifacts, "serve") if r.run_id == run_id]
            summary = (found[-1].summary or {}) if found else {}
        elif not found:
            known = [r.run_id for r in read_run_log(artifacts, "serve-batch")][-5:]
            raise NotFoundError(
                f"no serve-batch run {run_id}; the latest: {', '.join(known) or 'none'}"
            )
        else:
            summary = found[-1].summary or {}
    path = artifacts / "runs" / step / run_id / "batch_profile.json"
    if not path.is_file():
        raise DataError(
            f"serve-batch run {run_id} has no batch profile at {path}: it failed before the "
            "end, or the folder was cleaned; score the batch again"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8")), summary
    except ValueError as exc:
        raise DataError(f"{path} is not valid JSON ({exc}): score the batch again") from None


def _exists(source: str) -> bool:
    from mlready.io import resolve_files

    try:
        resolve_files(source)
    except DataError:
        return False
    return True


def same_bins(reference: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether ``current`` was counted in ``reference``'s bins (column by column)."""
    mine, theirs = reference.get("columns") or {}, current.get("columns") or {}
    return all(_same_cuts(ref, theirs.get(name)) for name, ref in mine.items())


def _same_cuts(ref: dict[str, Any], cur: dict[str, Any] | None) -> bool:
    """Whether one numeric column (or prediction) was counted in the same bins on both sides
    (anything not numeric on both sides has no cuts to differ)."""
    if cur is None or ref.get("kind") != cur.get("kind") or ref.get("kind") != "numeric":
        return True
    return list(ref.get("cuts") or []) == list(cur.get("cuts") or []) and list(
        ref.get("fine_cuts") or []
    ) == list(cur.get("fine_cuts") or [])


def profile_file(
    path: str, reference: dict[str, Any], keep_values: int, chunk_rows: int = 250_000
) -> dict[str, Any]:
    """One streaming pass over a file: its profile in the reference's bins."""
    from mlready.profiles import ProfileBuilder
    from mlready.serving.prepare import to_number
    from mlready.serving.reader import columns_of, iter_batch

    columns = reference.get("columns") or {}
    present = set(columns_of(path, None))
    wanted = [c for c in columns if c in present]
    numeric = frozenset(c for c in wanted if columns[c]["kind"] == "numeric")
    builder = ProfileBuilder({"columns": {c: columns[c] for c in wanted}}, keep_values=keep_values)
    rows = 0
    # counts add up whatever the chunks' sizes
    for chunk in iter_batch(path, None, wanted, chunk_rows, numeric=numeric):
        rows += len(chunk)
        for column in wanted:
            if column in numeric:
                values, _ = to_number(chunk[column])  # text that is not a number: missing
                builder.add_column(column, values)
            else:
                builder.add_column(column, chunk[column])
        builder.rows += len(chunk)
    profile = builder.result()
    profile["rows"] = rows
    profile["missing_columns"] = sorted(set(columns) - present)
    return profile


#: Rows per chunk when a reference profile is computed from a data file.
REFERENCE_CHUNK_ROWS = 250_000


class _Retype(Exception):
    """A later chunk shows that a column is not of the kind its first chunk suggested."""

    def __init__(self, column: str, *, text: bool = False, slow: bool = False) -> None:
        super().__init__(column)
        self.column = column
        self.text = text
        self.slow = slow  # a text column pandas read as something else: read typed as text


def _texts(chunk: Any, columns: list[str]) -> Any:
    """The categorical columns as :func:`mlready.training.pipeline.to_text` gives them (text
    columns are text already: left as they are)."""
    import pandas as pd

    from mlready.training.pipeline import to_text

    out = {}
    convert = []
    for column in columns:
        series = chunk[column]
        if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
            out[column] = series  # pandas' text dtype holds only text and missing values
        else:
            convert.append(column)
    if convert:
        converted = to_text(chunk[convert])
        out.update({c: converted[c] for c in convert})
    return pd.DataFrame(out, index=chunk.index, columns=columns)


def reference_from_file(
    loaded: LoadedSpec, path: str, chunk_rows: int = REFERENCE_CHUNK_ROWS
) -> dict[str, Any]:
    """A reference profile read from a profile's JSON file, or computed now from a data file
    (the model's own is precomputed at training time).

    A data file is read in chunks of ``chunk_rows`` rows, so memory does not grow with its
    length (see :class:`mlready.profiles.ReferenceBuilder`): one pass when it has at most
    :data:`mlready.profiles.SAMPLE_ROWS` rows, giving the profile of the whole table read at
    once; two passes beyond, with the quantile cut points of a uniform random sample."""
    if path.lower().endswith(".json"):
        try:
            profile = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the profile {path}: {exc}") from None
        if not isinstance(profile, dict) or "columns" not in profile:
            raise DataError(f"{path} is not a profile (no 'columns'): name a data file instead")
        return profile
    from mlready.columns import ColumnTypes

    types = ColumnTypes.of(loaded.spec)
    categorical: set[str] = set()
    fast = True
    while True:  # a column found to be of another kind than its first chunk said: read again
        try:
            return _stream_reference(loaded, path, types, categorical, chunk_rows, fast)
        except _Retype as retype:
            if retype.slow:
                fast = False
            elif retype.text:
                types = ColumnTypes(types.text | {retype.column}, types.numeric)
            categorical.add(retype.column)


def _stream_reference(
    loaded: LoadedSpec,
    path: str,
    types: Any,
    forced_categorical: set[str],
    chunk_rows: int,
    fast: bool = False,
) -> dict[str, Any]:
    """One (or, beyond SAMPLE_ROWS rows, two) streaming passes over a reference data file.

    ``fast``: a CSV's text columns are left to pandas' own reading (text for a column holding any
    word, in half the time of reading it as text by order); a chunk where pandas made something
    else of one raises _Retype(slow=True), and the caller reads again typed as text."""
    import pandas as pd

    from mlready.columns import ColumnTypes
    from mlready.io import resolve_files, table_columns
    from mlready.profiles import ReferenceBuilder

    spec = loaded.spec
    data = spec.data
    drift = spec.monitoring.drift
    skip = {data.target, *data.id_columns, *data.forbidden_columns, *data.features.exclude}
    if data.timestamp_column:
        skip.add(data.timestamp_column)
    header = [str(c) for c in table_columns(resolve_files(path)[0])]
    declared = data.features.numeric is not None or data.features.categorical is not None
    if declared:
        numeric = [c for c in data.features.numeric or [] if c in header]
        categorical = [c for c in data.features.categorical or [] if c in header]
        wanted = list(dict.fromkeys([*numeric, *categorical]))
    else:  # kinds from the first chunk's types (an empty table: all categorical, as pandas reads)
        wanted = [c for c in header if c not in skip]
        numeric, categorical = [], wanted
    builder: ReferenceBuilder | None = None
    bools: dict[str, bool] = {}  # inferred categorical columns: read as booleans or not

    def numbers_of(chunk: Any, columns: list[str]) -> dict[str, Any]:
        out = {}
        for column in columns:
            series = chunk[column]
            if declared or (
                pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            ):
                series = pd.to_numeric(series, errors="coerce")
            else:  # inferred numeric from the first chunk, text in this one: pandas' whole
                raise _Retype(column)  # table would have read the column as text
            out[column] = series.to_numpy(dtype="float64", na_value=float("nan"))
        return out

    loose = fast and bool(types.text) and not path.lower().endswith((".parquet", ".pq"))

    def chunks(columns: list[str]) -> Any:
        if not loose:
            yield from types.chunks(path, chunk_rows=chunk_rows, columns=columns)
            return
        reader = ColumnTypes(frozenset(), types.numeric)
        for chunk in reader.chunks(path, chunk_rows=chunk_rows, columns=columns):
            for column in types.text:
                if column in chunk.columns and not isinstance(chunk[column].dtype, pd.StringDtype):
                    raise _Retype(column, slow=True)
            yield chunk

    for chunk in chunks(wanted):
        if builder is None:
            if not declared:
                numeric = [
                    c
                    for c in wanted
                    if c not in forced_categorical
                    and pd.api.types.is_numeric_dtype(chunk[c])
                    and not pd.api.types.is_bool_dtype(chunk[c])
                ]
                categorical = [c for c in wanted if c not in numeric]
            builder = ReferenceBuilder(
                numeric, categorical, bins=drift.bins, keep_values=drift.small_sample_rows
            )
        if not declared:
            for column in categorical:
                is_bool = bool(pd.api.types.is_bool_dtype(chunk[column]))
                if bools.setdefault(column, is_bool) != is_bool:
                    # booleans in one chunk, text in another: the whole table reads as text
                    raise _Retype(column, text=True)
        builder.add(numbers_of(chunk, numeric), _texts(chunk, categorical))
    if builder is None:  # a header and no rows
        builder = ReferenceBuilder(
            numeric, categorical, bins=drift.bins, keep_values=drift.small_sample_rows
        )
    if builder.exact:
        return builder.result()
    counted = builder.second_pass()
    for chunk in chunks(numeric):
        for column, values in numbers_of(chunk, numeric).items():
            counted.add_column(column, values)
        counted.rows += len(chunk)
    return builder.result(counted)


# ---------------------------------------------------------------------------------- main


def check_drift(
    loaded: LoadedSpec,
    *,
    run_dir: Path,
    run_id: str,
    current: str | None = None,
    batch: str | None = None,
    model: str | None = None,
    reference: str | None = None,
    outcomes: str | None = None,
    now: dt.datetime | None = None,
    logger: logging.Logger | None = None,
) -> DriftResult:
    """Compare the current data with the reference and fire the spec's alert rules."""
    import time

    from mlready.registry import environment_warnings, open_registry, parse_ref

    clock = time.perf_counter()
    log = logger or logging.getLogger("mlready.drift")
    if current is not None and batch is not None:
        raise UsageError("--current and --batch name two batches: give one of them")
    spec = loaded.spec
    artifacts = Path(spec.project.artifacts_dir)
    drift = spec.monitoring.drift
    registry = open_registry(loaded)
    named: tuple[dict[str, Any], dict[str, Any]] | None = None
    scored_by: dict[str, Any] = {}
    if batch is not None and model is None and reference is None:
        # the version that scored the batch, not whatever production is now
        try:
            named = _batch_profile(artifacts, batch, None)
        except DataError:
            named = None  # no such batch: said below, after a missing model (as before)
        else:
            scored_by = (named[0].get("batch") or {}).get("model") or {}
            if scored_by.get("name") and scored_by.get("version"):
                model = f"{scored_by['name']}:{scored_by['version']}"
    try:
        version = registry.resolve(parse_ref(model or "", spec.model_name))
    except NotFoundError:
        if reference is None or current is None or model is not None:
            raise
        version = None  # two files: no model needed (no age, environment or predictions)
    if version is not None and scored_by.get("sha256") not in (None, version.sha256):
        raise DataError(
            f"serve-batch run {batch} was scored by {model} (sha256 "
            f"{str(scored_by['sha256'])[:12]}), but the registry's {model} is another model "
            f"(sha256 {version.sha256[:12]}): name the version to compare with --model"
        )
    if reference is not None:
        ref_profile = reference_from_file(loaded, reference)
        ref_label = reference
    elif version is None:  # pragma: no cover - resolve raised above
        raise UsageError("no model to take the reference from: pass --reference FILE")
    else:
        stored = registry.profile(version)
        if stored is None:
            raise DataError(
                f"{version.model_name}:{version.version} has no reference profile in the "
                "registry: retrain and register it, or pass --reference FILE"
            )
        ref_profile, ref_label = stored, f"training data of {version.model_name}:{version.version}"
    summary: dict[str, Any] = {}
    if current is not None:
        cur_profile = profile_file(current, ref_profile, drift.small_sample_rows)
        cur_label, source_run = current, None
    else:
        cur_profile, summary = named or _batch_profile(
            artifacts, batch, version.sha256 if version is not None else None
        )
        source_run = cur_profile.get("batch", {}).get("run_id")
        cur_label = cur_profile.get("batch", {}).get("source") or f"serve-batch run {source_run}"
        if not same_bins(ref_profile, cur_profile):
            # counted in another reference's bins (another model, or --reference): count the
            # batch again in these bins, from the file it was read from
            source = summary.get("source") or ""
            if not source or source.startswith("SQL:") or not _exists(source):
                raise UsageError(
                    f"serve-batch run {source_run} counted its batch in the bins of another "
                    "reference (another model version, or --reference) and its source cannot "
                    "be read again: pass the batch with --current FILE"
                )
            log.info("re-profiling %s in the reference's bins", source)
            cur_profile = {
                **profile_file(source, ref_profile, drift.small_sample_rows),
                "batch": cur_profile.get("batch", {}),
            }

    features: list[ColumnDrift] = []
    warnings: list[str] = []
    missing = sorted(set(ref_profile.get("columns") or {}) - set(cur_profile.get("columns") or {}))
    missing += [c for c in cur_profile.get("missing_columns", []) if c not in missing]
    for column, ref in (ref_profile.get("columns") or {}).items():
        cur = (cur_profile.get("columns") or {}).get(column)
        if cur is None or column in missing:
            features.append(
                ColumnDrift(
                    column=column,
                    kind=ref["kind"],
                    test="none",
                    statistic=None,
                    p_value=None,
                    threshold=0.0,
                    drifted=False,
                    psi=None,
                    reference_rows=int(ref.get("count") or 0),
                    current_rows=0,
                    reference_missing=0.0,
                    current_missing=1.0,
                    note="missing from the current data",
                )
            )
            continue
        override = drift.features.get(column)
        features.append(
            compare(
                column,
                ref,
                cur,
                small_sample_rows=drift.small_sample_rows,
                p_value=drift.p_value,
                distance=drift.distance,
                psi_bar=drift.psi,
                test=override.test if override else None,
                threshold=override.threshold if override else None,
            )
        )
    if missing:
        warnings.append(
            f"{len(missing)} feature(s) missing from the current data: {', '.join(missing)}"
        )
    corrected = correct_p_values(features, drift.correction)
    _count_out_of_range(features, cur_profile, drift.out_of_range_share)
    judged = [f for f in features if f.test != "none"]
    drifted = [f.column for f in judged if f.drifted]
    share = len(drifted) / len(judged) if judged else 0.0
    dataset = bool(judged) and share >= drift.dataset_drift_share
    if not judged:
        _nothing_compared(cur_label, cur_profile, missing, len(features))

    predictions = _prediction_drift(ref_profile, cur_profile, drift, warnings)
    result = DriftResult(
        passed=True,
        model={
            "name": version.model_name if version else spec.model_name,
            "version": version.version if version else None,
            "created_at": version.created_at if version else None,
            "sha256": version.sha256 if version else None,
        },
        current={
            "source": cur_label,
            "rows": int(cur_profile.get("rows") or 0),
            "serve_run": source_run,
        },
        reference={"source": ref_label, "rows": int(ref_profile.get("rows") or 0)},
        features=[f.to_dict() for f in features],
        drifted=drifted,
        share_drifted=share,
        dataset_drift=dataset,
        dataset_drift_share=drift.dataset_drift_share,
        correction={"method": drift.correction, "tests": corrected, "p_value": drift.p_value},
        predictions=[p.to_dict() for p in predictions],
        prediction_drift=any(p.drifted for p in predictions),
        warnings=warnings,
    )
    if outcomes is not None:
        if version is None:
            raise UsageError("--outcomes needs a registered model and its serve-batch run")
        result.performance = realized_performance(loaded, version, summary, outcomes)
        if result.performance.get("duplicate_rows_dropped"):
            result.warnings.append(
                f"{outcomes}: {result.performance['duplicate_rows_dropped']:,} repeated outcome "
                "row(s) (same id, same label) counted once"
            )
    if version is not None:
        moment = now or dt.datetime.now(dt.timezone.utc)
        created = dt.datetime.fromisoformat(version.created_at)
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.timezone.utc)
        result.model_age_days = round((moment - created).total_seconds() / 86400, 2)
        result.max_model_age_days = spec.monitoring.max_model_age_days
        result.environment = environment_warnings(version)
    result.events = _events(result)
    result.profiles = (ref_profile, cur_profile)
    _fire(loaded, result, run_id, log)
    result.seconds = round(time.perf_counter() - clock, 4)
    return result


def _nothing_compared(
    label: str, profile: dict[str, Any], missing: list[str], features: int
) -> None:
    """No feature compared is no verdict: a data error, never a clean "no drift"."""
    rows = int(profile.get("rows") or 0)
    if not rows:
        raise DataError(
            f"{label} has no rows: there is nothing to compare with the reference; check that "
            "the batch was exported whole"
        )
    named = f" (missing: {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})"
    raise DataError(
        f"{label}: none of the {features} features has a value to compare in its {rows:,} "
        f"rows{named if missing else ''}; check that it is a comma-separated file with the "
        "training data's columns"
    )


def _count_out_of_range(features: list[ColumnDrift], current: dict[str, Any], bar: float) -> None:
    """Rows serve-batch set aside for a value outside a feature's range are missing from its
    counts, so the statistics understate drift: their share of the batch is reported per
    feature, and from ``bar`` on it is drift by itself."""
    batch = current.get("batch") or {}
    rejected = batch.get("out_of_range") or {}
    rows = int(batch.get("rows_in") or 0)
    if not rows:
        return
    for column in features:
        count = int(rejected.get(column.column) or 0)
        column.out_of_range_share = count / rows
        if count and column.out_of_range_share >= bar:
            column.drifted = True
            note = (
                f"{column.out_of_range_share:.1%} of the batch's rows were outside the range "
                "and set aside (not in the statistics)"
            )
            column.note = f"{column.note}; {note}" if column.note else note
            if column.test == "none" and column.note.startswith("no values"):
                column.test = "out_of_range"


def _prediction_drift(
    ref: dict[str, Any], cur: dict[str, Any], drift: Any, warnings: list[str]
) -> list[ColumnDrift]:
    out = []
    mine = ref.get("prediction") or {}
    theirs = cur.get("prediction") or {}
    for name in ("score", "value", "classes"):
        if name in mine and name in theirs and isinstance(mine[name], dict):
            if not _same_cuts(mine[name], theirs[name]):
                # another model scored the batch: its predictions were counted in that model's
                # bins, and one model's predictions say nothing of another's drift
                warnings.append(
                    f"prediction.{name} not compared: the batch was scored by another model "
                    "version than the reference's; pass --model with the version that scored it"
                )
                continue
            out.append(
                compare(
                    f"prediction.{name}",
                    mine[name],
                    theirs[name],
                    small_sample_rows=drift.small_sample_rows,
                    p_value=drift.p_value,
                    distance=drift.distance,
                    psi_bar=drift.psi,
                )
            )
    return out


def realized_performance(
    loaded: LoadedSpec, version: Any, summary: dict[str, Any], outcomes: str
) -> dict[str, Any]:
    """Metrics (and business value) of the batch's predictions against the outcomes that came
    later, joined by the id columns, next to what training measured."""
    from mlready.columns import ColumnTypes
    from mlready.io import read_table
    from mlready.training.artifacts import judged_metric
    from mlready.training.metrics import SCORE_METRICS, compute_metrics, higher_is_better, meets

    meta = version.metadata
    from mlready.serving import ROW_COLUMN

    ids = list(meta.get("id_columns") or [])
    target = meta.get("target")
    output = (summary.get("files") or {}).get("output")
    if not output:
        raise UsageError(
            "--outcomes needs the predictions of a serve-batch run (with --batch, or the latest)"
        )
    from mlready.training.pipeline import to_text

    types = ColumnTypes.of(loaded.spec)
    types = ColumnTypes(types.text | set(ids), types.numeric - set(ids))
    labels = types.read(outcomes)
    if not ids:
        # a model without id columns: its predictions are numbered by the batch's rows
        ids = [ROW_COLUMN]
        if ROW_COLUMN not in labels.columns:
            raise DataError(
                f"{outcomes} lacks column '{ROW_COLUMN}': the model has no id columns, so its "
                f"predictions are joined to outcomes by '{ROW_COLUMN}', the row number in the "
                f"scored batch (from 0); add that column, or set data.id_columns and retrain"
            )
    for column in [*ids, target]:
        if column not in labels.columns:
            raise DataError(f"{outcomes} lacks column '{column}': it needs the ids and {target}")
    predicted = read_table(output)
    labels = labels[[*ids, target]].copy()
    # ids and labels as text, whole numbers without '.0': 7, 7.0 and "7" are one id or class
    labels[ids] = to_text(labels[ids])
    predicted[ids] = to_text(predicted[ids])
    if meta.get("task") == "classification":
        labels[target] = to_text(labels[[target]])[target]
    labels, duplicates = _one_outcome_per_id(labels, ids, target, outcomes)
    classes = [str(c) for c in meta.get("classes") or []]
    if meta.get("task") == "classification" and classes:
        unknown = sorted(set(labels[target].dropna().astype(str)) - set(classes))
        if unknown:
            raise DataError(
                f"{outcomes} has labels the model never saw in training: "
                f"{', '.join(map(repr, unknown[:5]))}{', ...' if len(unknown) > 5 else ''} "
                f"(its classes: {', '.join(map(repr, classes))}); fix or map them"
            )
    joined = predicted.merge(labels, on=ids, how="inner")
    missing_labels = int(joined[target].isna().sum())
    joined = joined[joined[target].notna()]
    if joined.empty:
        raise DataError(f"no row of {outcomes} matches a prediction by {', '.join(ids)}")
    names = list((meta.get("validation") or {}).get("metrics") or [])
    task = meta.get("task")
    if task == "classification" and len(classes) == 2:
        y = (joined[target] == classes[1]).astype(int).to_numpy()
        probability = "probability" in joined
        scores = joined["probability" if probability else "score"].to_numpy(float)
        recorded = meta.get("decision_threshold")
        threshold = (0.5 if probability else 0.0) if recorded is None else float(recorded)
        predicted_labels = (joined["prediction"].astype(str) == classes[1]).astype(int).to_numpy()
    elif task == "classification":
        y = joined[target].to_numpy(dtype=object)
        scores = None
        predicted_labels = joined["prediction"].astype(str).to_numpy(dtype=object)
        names = [n for n in names if n not in SCORE_METRICS] or ["accuracy"]
    else:
        y = joined[target].to_numpy(float)
        scores = predicted_labels = joined["prediction"].to_numpy(float)
    realized = compute_metrics(names, y, scores, predicted_labels, classes)
    primary = str((meta.get("validation") or {}).get("primary_metric") or names[0])
    training = judged_metric(meta, primary)
    value = realized.get(primary)
    thresholds = {
        t["metric"]: t["bar"] for t in (meta.get("validation") or {}).get("thresholds") or []
    }
    dropped = False
    reasons = []
    # training's thresholds hold for realized quality too, every metric that has one
    for metric, bar in thresholds.items():
        realized_value = realized.get(metric)
        if realized_value is not None and not meets(metric, realized_value, bar):
            dropped = True
            reasons.append(f"{metric} {realized_value:.4f} misses its training threshold {bar}")
    if value is not None and training is not None:
        worse = (training - value) if higher_is_better(primary) else (value - training)
        if worse > max(0.05 * abs(training), 1e-12):
            dropped = True
            reasons.append(f"{primary} {value:.4f} is over 5% worse than training's {training:.4f}")
    business = None
    spec = loaded.spec
    if spec.business is not None and task == "classification" and len(classes) == 2:
        from mlready.training.business import confusion_at, outcome_amounts

        source = summary.get("source")
        frame = joined
        columns = [
            getattr(spec.business, o).column
            for o in ("true_positive", "false_positive", "true_negative", "false_negative")
        ]
        needed = list(dict.fromkeys(c for c in columns if c and c not in frame.columns))
        if needed and source and Path(source).exists():
            extra = types.read(source)
            if ids == [ROW_COLUMN] and ROW_COLUMN not in extra.columns:
                extra[ROW_COLUMN] = range(len(extra))  # the batch's own row numbers
            extra = extra[[*ids, *needed]].drop_duplicates(ids)
            frame = frame.merge(extra, on=ids, how="left")
        if all(c in frame.columns for c in columns if c):
            amounts = outcome_amounts(spec.business, frame)
            confusion = confusion_at(y, scores, amounts, float(threshold))
            per_row = confusion.value / len(frame)
            trained = ((meta.get("business") or {}).get("cv") or {}).get("best_threshold") or {}
            rows = ((meta.get("business") or {}).get("cv") or {}).get("rows")
            business = {
                "currency": spec.business.currency,
                "value": confusion.value,
                "per_row": per_row,
                "training_per_row": trained.get("value") / rows if trained and rows else None,
                "threshold": float(threshold),
                "counts": confusion.counts,
            }
    return {
        "rows": len(joined),
        "rows_without_outcome": missing_labels,
        "duplicate_rows_dropped": duplicates,
        "metrics": realized,
        "primary_metric": primary,
        "training_value": training,
        "value": value,
        "dropped": dropped,
        "reasons": reasons,
        "business": business,
    }


def _one_outcome_per_id(labels: Any, ids: list[str], target: str, outcomes: str) -> tuple[Any, int]:
    """The outcomes with one row per id: repeated identical rows are dropped (and counted), an
    id with two different labels is refused; a missing label gives way to a known one."""
    import pandas as pd

    before = len(labels)
    labels = labels.drop_duplicates()
    known = labels[labels[target].notna()]
    conflicting = known[known.duplicated(ids, keep=False)]
    if len(conflicting):
        first = conflicting.iloc[0]
        example = ", ".join(f"{c}={first[c]}" for c in ids)
        said = conflicting[(conflicting[ids] == first[ids]).all(axis=1)][target]
        count = len(conflicting.drop_duplicates(ids))
        raise DataError(
            f"{outcomes} gives {count:,} id(s) more than one label (e.g. {example}: "
            f"{', '.join(map(repr, said))}); keep one outcome per id"
        )
    pending = labels[labels[target].isna()]
    pending = pending[~pending.set_index(ids).index.isin(known.set_index(ids).index)]
    labels = pd.concat([known, pending.drop_duplicates(ids)], ignore_index=True)
    return labels, before - len(labels)


def _events(result: DriftResult) -> list[dict[str, Any]]:
    """The alert events this run's findings raise."""
    events = []
    if result.dataset_drift:
        events.append(
            {
                "event": "dataset_drift",
                "summary": (
                    f"{len(result.drifted)} of {len(result.features)} features drifted "
                    f"({result.share_drifted:.0%}, bar {result.dataset_drift_share:.0%}): "
                    f"{', '.join(result.drifted[:8])}"
                ),
            }
        )
    if result.drifted:
        events.append(
            {
                "event": "feature_drift",
                "summary": f"drift in {', '.join(result.drifted[:8])}",
            }
        )
    if result.prediction_drift:
        moved = [p["column"] for p in result.predictions if p["drifted"]]
        events.append({"event": "prediction_drift", "summary": f"drift in {', '.join(moved)}"})
    if result.performance and result.performance["dropped"]:
        events.append(
            {
                "event": "performance_drop",
                "summary": "; ".join(result.performance["reasons"]),
            }
        )
    if (
        result.max_model_age_days is not None
        and result.model_age_days is not None
        and result.model_age_days > result.max_model_age_days
    ):
        events.append(
            {
                "event": "model_age",
                "summary": (
                    f"{result.model['name']}:{result.model['version']} is "
                    f"{result.model_age_days:.0f} days old (limit {result.max_model_age_days:g})"
                ),
            }
        )
    if result.environment:
        events.append({"event": "environment", "summary": "; ".join(result.environment)})
    return events


def _fire(loaded: LoadedSpec, result: DriftResult, run_id: str, log: logging.Logger) -> None:
    from mlready.alerts import fire

    model = (
        f"{result.model['name']}:{result.model['version']}"
        if result.model["version"] is not None
        else "no model"
    )
    import hashlib
    import json

    for event in result.events:
        details = {
            "model": model,
            "current": result.current,
            "drifted": result.drifted,
            "share_drifted": result.share_drifted,
        }
        # the same model on a batch of the same content gives the same statistics: one finding
        found = {
            "event": event["event"],
            "model": result.model.get("sha256"),
            "features": result.features,
            "predictions": result.predictions,
            "performance": result.performance,
            "environment": result.environment,
        }
        finding = hashlib.sha256(
            json.dumps(found, sort_keys=True, default=str).encode()
        ).hexdigest()
        result.alerts += fire(
            loaded,
            event["event"],
            f"{event['summary']} ({model} on {result.current['source']})",
            details,
            step="check-drift",
            run_id=run_id,
            logger=log,
            finding=finding,
        )
    if result.dataset_drift:
        result.failures.append(
            f"dataset drift: {result.share_drifted:.0%} of the features drifted "
            f"(the bar is {result.dataset_drift_share:.0%})"
        )
    if result.performance and result.performance["dropped"]:
        # a failure with or without a performance_drop rule: the model is no longer as good
        # as it was when it was let into production
        result.failures.append(
            "realized performance dropped: "
            + "; ".join(result.performance["reasons"])
            + ": retrain on recent data, or roll back (`mlready registry rollback`)"
        )
    for sent in result.alerts:
        if sent["severity"] == "error":
            result.failures.append(f"alert {sent['rule']} (error): {sent['runbook']}")
    result.passed = not result.failures
