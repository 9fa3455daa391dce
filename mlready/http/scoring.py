"""One request scored the way serve-batch scores a chunk: the same column checks, the same
serving contract, the same scorer and the same output columns (mlready.serving's functions),
with an in-memory answer cache in front of the model."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from mlready.http.cache import AnswerCache
from mlready.http.model import ServedModel
from mlready.spec import LoadedSpec

__all__ = ["RequestError", "Scored", "csv_numeric", "parse_csv", "parse_json", "score"]


class RequestError(Exception):
    """A request the server refuses: its HTTP status, a one-line message and a reason code."""

    def __init__(
        self, status: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.reason, "message": self.message, **self.details}


@dataclass
class Scored:
    """What one request's scoring did."""

    model: ServedModel
    table: Any  # pyarrow Table: the output columns of serve-batch (None: see predictions)
    rows_in: int
    rejected: list[dict[str, Any]]
    prepared: Any
    raw: dict[str, Any]
    hits: int = 0
    misses: int = 0
    warnings: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    #: the contract's counts and findings (merged into the online profile)
    contract_state: dict[str, Any] = field(default_factory=dict)
    #: the output rows as the JSON answer lists them (the fast path builds these, no table)
    predictions: list[dict[str, Any]] | None = None

    @property
    def rows_out(self) -> int:
        return len(self.predictions) if self.predictions is not None else self.table.num_rows

    def records(self) -> list[dict[str, Any]]:
        """The output rows, one dict each."""
        return self.predictions if self.predictions is not None else self.table.to_pylist()


def _constant(name: str) -> Any:
    raise RequestError(
        400,
        "not_finite",
        f"{name} is not JSON: send null for a missing value, and finite numbers only",
    )


def parse_json(body: bytes) -> list[dict[str, Any]]:
    """The records of a JSON body: ``{"records": [{...}, ...]}`` or a bare list of objects."""
    if not body.strip():
        raise RequestError(400, "empty_body", 'the body is empty: send {"records": [{...}]}')
    try:
        data = json.loads(body, parse_constant=_constant)
    except RequestError:
        raise
    except UnicodeDecodeError:
        raise RequestError(400, "malformed_json", "the body is not UTF-8 text") from None
    except ValueError as exc:
        raise RequestError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    records = data.get("records") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise RequestError(
            400,
            "wrong_shape",
            'the body must be {"records": [{...}, ...]} or a list of objects, one per row',
        )
    if not records:
        raise RequestError(400, "no_rows", "no records: send at least one row")
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            raise RequestError(
                400,
                "wrong_shape",
                f"record {position} is a {type(record).__name__}, not an object of column: value",
            )
        for column, value in record.items():
            kind = type(value)  # json.loads makes exactly these types (no subclasses)
            if value is None or kind is str or kind is int or kind is bool:
                continue
            if kind is float:
                if not math.isfinite(value):  # 1e999 parses as inf
                    raise RequestError(
                        400,
                        "not_finite",
                        f"record {position}, {column}: {value} is not a finite number",
                    )
                continue
            raise RequestError(
                400,
                "wrong_type",
                f"record {position}, {column}: a {type(value).__name__} is not a value "
                "(send a number, a text, true/false or null)",
            )
    return records


def parse_csv(body: bytes, numeric: frozenset[str] = frozenset()) -> Any:
    """A CSV body with a header row, read as serve-batch reads a CSV file (the same missing
    values; ``numeric`` columns as float64 when they parse, else text the contract converts)."""
    from mlready.errors import DataError
    from mlready.serving.reader import read_csv_bytes

    if not body.strip():
        raise RequestError(400, "empty_body", "the body is empty: send a header row and rows")
    try:
        frame = read_csv_bytes(body, numeric)
    except DataError as exc:
        raise RequestError(400, "malformed_csv", str(exc)) from None
    if len(frame) == 0:
        raise RequestError(400, "no_rows", "the CSV has a header but no rows")
    return frame


def csv_numeric(loaded: LoadedSpec, served: ServedModel, body: bytes) -> frozenset[str]:
    """The columns serve-batch would read as numbers from a CSV with this body's header."""
    import csv

    from mlready.serving.prepare import Contract

    line = body[3:] if body.startswith(b"\xef\xbb\xbf") else body
    try:
        names = next(csv.reader([line.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")]), [])
    except UnicodeDecodeError:
        return frozenset()  # parse_csv says why
    info = served.info
    try:
        checks, _ = _checks(loaded, served, names)
    except RequestError:
        return frozenset(info.numeric)
    contract = Contract(checks, info.numeric, info.categorical, served.known, {}, info.dtypes)
    return frozenset(contract.numeric_columns())


def frame_of(records: list[dict[str, Any]]) -> Any:
    """The records as a DataFrame (a column absent from a record is missing in that row)."""
    import pandas as pd

    return pd.DataFrame.from_records(records)


def _checks(
    loaded: LoadedSpec, served: ServedModel, columns: list[str]
) -> tuple[list[Any], list[str]]:
    """The contract's checks for these columns (built once per column set and model)."""
    from mlready.errors import CheckFailed
    from mlready.serving import check_schema

    key = tuple(columns)
    found = served.checks.get(key)
    if found is None:
        try:
            found = check_schema(loaded, served.info, columns, "the request")
        except CheckFailed as exc:
            raise RequestError(422, "columns", str(exc)) from None
        if len(served.checks) < 256:
            served.checks[key] = found
    return found


def score(
    loaded: LoadedSpec,
    served: ServedModel,
    frame: Any,
    *,
    on_invalid: str,
    cache: AnswerCache | None,
    run_id: str,
) -> Scored:
    """Check the rows against the contract, answer from the cache or the model, and build
    serve-batch's output columns; RequestError 422 for invalid rows unless ``quarantine``."""
    import numpy as np

    from mlready.serving import duplicate_hashes, output_table, row_keys_of, unique_columns
    from mlready.serving.prepare import Contract

    info = served.info
    scorer = served.scorer
    frame.columns = [str(c) for c in frame.columns]
    checks, warnings = _checks(loaded, served, list(frame.columns))
    unique = [c for c in unique_columns(checks) if c in frame.columns]
    # one row cannot repeat a value: no hashing (a tenth of a single row's time)
    duplicates = duplicate_hashes([frame], unique) if unique and len(frame) > 1 else {}
    contract = Contract(
        checks, info.numeric, info.categorical, served.known, duplicates, info.dtypes
    )
    prepared = contract.prepare(frame)
    rejected = []
    if prepared.reasons:
        descriptions = {f.id: f.description for f in contract.findings.values()}
        ids = frame.reset_index(drop=True)
        for position in sorted(prepared.reasons):
            reasons = prepared.reasons[position]
            entry: dict[str, Any] = {"row": position}
            for column in info.id_columns:
                value = ids.at[position, column]
                entry[column] = None if _missing(value) else str(value)
            entry["reasons"] = reasons
            entry["messages"] = [f"{r}: must be {descriptions.get(r, r)}" for r in reasons]
            rejected.append(entry)
        if on_invalid != "quarantine":
            raise RequestError(
                422,
                "invalid_rows",
                f"{len(rejected)} of {len(frame)} rows break the serving contract; nothing was "
                "scored (fix them, or send ?on_invalid=quarantine to score the others)",
                {"rows": len(frame), "rejected": rejected},
            )
    X = prepared.X
    hits = np.zeros(len(X), dtype=bool)
    cached: dict[str, Any] = {}
    keys: tuple[Any, Any] | None = None
    if cache is not None and len(X):
        from mlready.serving.cache import row_keys

        keys = row_keys(X, info.categorical)
        hits, cached = cache.lookup(served.sha256, keys[0], keys[1], scorer)
    misses = X.loc[~hits] if hits.any() else X
    fresh = scorer.raw(misses) if len(misses) else scorer.empty()
    raw = {}
    for name in scorer.payload:
        column = np.empty(len(X), dtype=scorer.empty()[name].dtype)
        if hits.any():
            column[hits] = cached[name]
        column[~hits] = fresh[name]
        raw[name] = column
    bad = scorer.bad(raw)
    if bad is not None and bad.any():
        raise RequestError(
            500,
            "nan_prediction",
            f"{served.label} answered NaN or infinity for {int(bad.sum())} rows: the model or "
            "its inputs are broken; nothing was returned",
        )
    if cache is not None and keys is not None and (~hits).any():
        cache.add(
            served.sha256, keys[0][~hits], keys[1][~hits], {n: fresh[n] for n in scorer.payload}
        )
    keys_out = row_keys_of(frame, prepared.accepted, info.id_columns, 0)
    table = output_table(keys_out, raw, scorer, run_id)
    findings = [f.to_dict() for f in contract.findings.values()]
    findings += [f.to_dict() for f in contract.unseen.values()]
    return Scored(
        model=served,
        table=table,
        rows_in=len(frame),
        rejected=rejected,
        prepared=prepared,
        raw=raw,
        hits=int(hits.sum()),
        misses=int((~hits).sum()),
        warnings=warnings,
        findings=findings,
        contract_state=contract.state(),
    )


def _missing(value: Any) -> bool:
    try:
        return bool(value != value) or value is None  # NaN, None
    except (TypeError, ValueError):
        return False
