"""Run the contract's checks with Great Expectations 1.x (ephemeral context, pandas engine).

GX is imported only here, with its progress bars, warnings, logging and analytics switched off,
so none of it reaches the user's terminal.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from typing import Any

from mlready.validation.checks import Check, CheckResult

SAMPLE_SIZE = 10
_NUMERIC_RE = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
_INTEGER_RE = r"^\s*[-+]?\d+\s*$"
_SHADOW = "__mlready_{kind}__{column}"

_INT = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
]
_FLOAT = ["float16", "float32", "float64", "Float32", "Float64"]
_TEXT = ["object", "str", "string", "category"]
_BOOL = ["bool", "boolean"]
_TYPE_NAMES = {
    "integer": _INT,
    "float": _FLOAT,
    "number": _INT + _FLOAT,
    "string": _TEXT,
    "boolean": _BOOL,
}


@contextlib.contextmanager
def quiet_gx() -> Iterator[None]:
    """Keep GX's warnings, log lines and stray prints off the user's terminal."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logger = logging.getLogger("great_expectations")
    previous = (logger.level, logger.propagate)
    logger.setLevel(logging.CRITICAL)
    logger.propagate = False
    sink = io.StringIO()
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(previous[0])
        logger.propagate = previous[1]


#: Modules GX imports at its own import that no check of mlready's uses (see mlready.deferred):
#: the KL-divergence expectation's charts and statistics load on first use, if ever; SQL data
#: sources are GX's optional extra, and mlready hands GX only pandas frames.
GX_LAZY = ("altair", "scipy.stats")
GX_ABSENT = ("sqlalchemy",)


def import_gx() -> Any:
    """``great_expectations``, imported (the first time) without what mlready never uses."""
    from mlready.deferred import deferred_imports

    with quiet_gx(), deferred_imports(lazy=GX_LAZY, absent=GX_ABSENT):
        import great_expectations as gx
    return gx


@lru_cache(maxsize=1)
def _context() -> Any:
    gx = import_gx()
    with quiet_gx():
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False,
        )
        return gx.get_context(mode="ephemeral", project_config=config)


def naive_utc(series: Any) -> Any:
    """Timestamps as naive UTC (text parsed, time zones converted), so any two compare."""
    import pandas as pd

    parsed = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
    return parsed.dt.tz_localize(None)


def values_like(series: Any, values: list[Any]) -> list[Any]:
    """The allowed values in the column's own type: YAML "1" for an integer column is 1."""
    import pandas as pd

    dtype = series.dtype
    out: list[Any] = []
    for value in values:
        if pd.api.types.is_bool_dtype(dtype) and isinstance(value, str):
            lowered = value.strip().lower()
            value = {"true": True, "false": False}.get(lowered, value)
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            if isinstance(value, str):
                try:
                    number = float(value)
                    value = int(number) if number.is_integer() else number
                except ValueError:
                    pass
        elif _is_text(dtype) and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        out.append(value)
    return out


def _is_text(dtype: Any) -> bool:
    import pandas as pd

    return bool(
        pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _plan(checks: list[Check], frame: Any) -> tuple[Any, list[tuple[Check, Any]]]:
    """The frame GX sees (with helper columns) and one GX expectation per check."""
    import great_expectations.expectations as gxe
    import pandas as pd

    shadows: dict[str, Any] = {}

    def shadow(kind: str, column: str, make: Any) -> str:
        name = _SHADOW.format(kind=kind, column=column)
        if name not in shadows:
            shadows[name] = make(frame[column])
        return name

    planned: list[tuple[Check, Any]] = []
    for check in checks:
        column = check.column or ""
        meta = {"mlready_id": check.id}
        kind = check.kind
        expectation: Any
        if kind == "row_count":
            expectation = gxe.ExpectTableRowCountToBeBetween(
                min_value=check.params["min"], max_value=check.params["max"], meta=meta
            )
        elif kind in ("target", "required"):
            expectation = gxe.ExpectColumnToExist(column=column, meta=meta)
        elif kind in ("unexpected_columns", "target_absent"):
            expectation = None  # built below, once every helper column is known
        elif kind == "freshness":
            name = shadow("time", column, naive_utc)
            expectation = gxe.ExpectColumnMaxToBeBetween(
                column=name, min_value=pd.Timestamp(check.params["oldest"]), meta=meta
            )
        elif kind == "type":
            check, expectation = _type_expectation(check, frame[column], meta, shadow)
        elif kind == "not_null":
            expectation = gxe.ExpectColumnValuesToNotBeNull(
                column=column, mostly=1.0 - check.params["max_null_fraction"], meta=meta
            )
        elif kind == "range":
            target = column
            if _is_text(frame[column].dtype):
                target = shadow("number", column, lambda s: pd.to_numeric(s, errors="coerce"))
            expectation = gxe.ExpectColumnValuesToBeBetween(
                column=target,
                min_value=check.params["min"],
                max_value=check.params["max"],
                meta=meta,
            )
        elif kind == "allowed_values":
            expectation = gxe.ExpectColumnValuesToBeInSet(
                column=column,
                value_set=values_like(frame[column], check.params["values"]),
                meta=meta,
            )
        elif kind == "regex":
            target = column
            if not _is_text(frame[column].dtype):
                target = shadow("text", column, lambda s: s.astype("string"))
            expectation = gxe.ExpectColumnValuesToMatchRegex(
                column=target, regex=check.params["regex"], meta=meta
            )
        elif kind == "unique":
            expectation = gxe.ExpectColumnValuesToBeUnique(column=column, meta=meta)
        else:  # pragma: no cover - build_checks makes only the kinds above
            raise ValueError(f"unknown check kind {kind}")
        planned.append((check, expectation))

    prepared = frame.assign(**shadows) if shadows else frame
    for i, (check, expectation) in enumerate(planned):
        if expectation is not None:
            continue
        if check.kind == "unexpected_columns":
            allowed = [c for c in frame.columns if c in set(check.params["allowed"])]
        else:
            allowed = [c for c in frame.columns if c != check.column]
        planned[i] = (
            check,
            gxe.ExpectTableColumnsToMatchSet(
                column_set=allowed + list(shadows), exact_match=True, meta={"mlready_id": check.id}
            ),
        )
    return prepared, planned


def _type_expectation(
    check: Check, series: Any, meta: dict[str, Any], shadow: Any
) -> tuple[Check, Any]:
    """A dtype check, or a per-value check where the values arrived as text."""
    import great_expectations.expectations as gxe
    import pandas as pd

    wanted = check.params["type"]
    column = check.column or ""
    if _is_text(series.dtype) and wanted in ("integer", "float", "number"):
        regex = _INTEGER_RE if wanted == "integer" else _NUMERIC_RE
        return replace(check, kind="type_values"), gxe.ExpectColumnValuesToMatchRegex(
            column=column, regex=regex, meta=meta
        )
    if _is_text(series.dtype) and wanted == "datetime":
        return replace(check, kind="type_values"), gxe.ExpectColumnValuesToBeDateutilParseable(
            column=column, meta=meta
        )
    if wanted == "string" and _is_text(series.dtype) and series.dtype != object:
        # GX's type list knows no pandas 3 "str" dtype: show it the same text as object dtype
        name = shadow("object", column, lambda s: s.astype(object))
        return check, gxe.ExpectColumnValuesToBeInTypeList(
            column=name, type_list=["object", "str"], meta=meta
        )
    if wanted == "datetime" and getattr(series.dtype, "tz", None) is not None:
        # time-zone-aware timestamps: GX's type list cannot name their dtype; show it naive UTC
        name = shadow("utc", column, lambda s: s.dt.tz_convert(None))
        return check, gxe.ExpectColumnValuesToBeInTypeList(
            column=name, type_list=[str(series.dtype).split(",")[0] + "]"], meta=meta
        )
    if wanted == "datetime":
        names = (
            [str(series.dtype)]
            if pd.api.types.is_datetime64_any_dtype(series.dtype)
            else ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"]
        )
    else:
        names = list(_TYPE_NAMES[wanted])
        if len(series) and bool(series.isna().all()):
            # no value at all (read as float): no value of the wrong type; not_null judges it
            names.append(str(series.dtype))
        if (
            wanted == "integer"
            and pd.api.types.is_float_dtype(series.dtype)
            and series.isna().any()
        ):
            present = series.dropna()
            if bool((present == present.round()).all()):
                # whole numbers that pandas widened to float because some are missing
                names.append(str(series.dtype))
    return check, gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=names, meta=meta)


def _text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def run_checks(checks: list[Check], frame: Any, *, want_rows: bool = False) -> list[CheckResult]:
    """Run the checks on a DataFrame with GX; ``want_rows`` also returns failing row positions."""
    if not checks:
        return []
    frame = frame.reset_index(drop=True)
    context = _context()
    gx = import_gx()
    with quiet_gx():
        prepared, planned = _plan(checks, frame)
        name = f"mlready-{uuid.uuid4().hex[:12]}"
        source = context.data_sources.add_pandas(name)
        batch_definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(
            "all"
        )
        suite = context.suites.add(
            gx.ExpectationSuite(name=name, expectations=[e for _, e in planned])
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        )
        result_format = {
            "result_format": "COMPLETE" if want_rows else "SUMMARY",
            "partial_unexpected_count": SAMPLE_SIZE * 3,
        }
        try:
            outcome = definition.run(
                batch_parameters={"dataframe": prepared}, result_format=result_format
            )
        finally:
            context.validation_definitions.delete(name)
            context.suites.delete(name)
            context.data_sources.delete(name)
            # GX leaves reference cycles that hold the DataFrame: without a collection here,
            # validating in chunks keeps every chunk alive until the collector happens to run
            del definition, suite, batch_definition, source, prepared
            gc.collect()
    by_id = {r.expectation_config.meta.get("mlready_id"): r for r in outcome.results}
    return [_translate(check, by_id.get(check.id), len(frame)) for check, _ in planned]


def _is_missing(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA (a nullable column's gap, which no comparison can judge)."""
    import pandas as pd

    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array value
        return False


def _translate(check: Check, result: Any, rows: int) -> CheckResult:
    if result is None:  # pragma: no cover - GX returns one result per expectation
        return CheckResult(check, False, error="Great Expectations returned no result")
    info = result.exception_info or {}
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "the check could not run").splitlines()[0]
        return CheckResult(check, False, error=message)
    detail = result.result or {}
    count = detail.get("unexpected_count")
    fraction = None
    if count is not None:
        total = detail.get("element_count") or rows
        fraction = count / total if total else 0.0
    raw = detail.get("partial_unexpected_list") or []
    sample: list[str] = []
    for value in raw:
        shown = "(missing)" if _is_missing(value) else _text(value)
        if shown not in sample:
            sample.append(shown)
        if len(sample) == SAMPLE_SIZE:
            break
    observed = detail.get("observed_value")
    if check.kind in ("unexpected_columns", "target_absent"):
        extra = (detail.get("details") or {}).get("mismatched", {}).get("unexpected") or []
        extra = [c for c in extra if not str(c).startswith("__mlready_")]
        sample = [_text(c) for c in extra]
        count = len(extra)
        observed = None
    if check.kind == "not_null" and not sample and count:
        sample = ["(missing)"]
    rows_out = tuple(int(i) for i in detail.get("unexpected_index_list") or ())
    return CheckResult(
        check,
        bool(result.success),
        unexpected_count=count,
        unexpected_fraction=fraction,
        sample=tuple(sample),
        observed=None if observed is None else _text(observed),
        bad_rows=rows_out,
    )
