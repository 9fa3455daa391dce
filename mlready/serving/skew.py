"""Training/serving skew: the same rows read and prepared the way training does and the way
serve-batch does must give the model the same feature values (ML Test Score, monitor-3).

Training reads a whole table with pandas and converts its numeric features; serving reads
chunks with pyarrow (numeric features as float64, everything else as text) and checks them
against the serving contract. Both then go through the fitted pipeline's text and float
conversions. Where the two readers disagree (a zip code "01234" read as the number 1234 by one
and as text by the other, "true" read as a boolean by one), the model sees a category it never
learned, silently. This module puts a sample of the training rows through both paths and
compares the values the model would receive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlready.errors import DataError, MlreadyError
from mlready.spec import ProjectSpec

__all__ = ["SAMPLE_ROWS", "SkewResult", "check_skew"]

#: Training rows compared, spread evenly over the table.
SAMPLE_ROWS = 1_000
#: Numbers may differ by this relative amount (two float parsers can round the last bit apart).
RELATIVE_TOLERANCE = 1e-12
#: Mismatches kept as examples.
EXAMPLES = 5
_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class SkewResult:
    """What the comparison of training's and serving's feature values found."""

    rows: int  # rows compared (serving accepted them)
    mismatched_rows: int
    columns: list[str]  # features with at least one differing value
    rejected_rows: int = 0  # sampled rows the serving contract set aside (not compared)
    examples: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the serving path could not read the training data at all

    @property
    def passed(self) -> bool:
        return self.error is None and self.mismatched_rows == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "mismatched_rows": self.mismatched_rows,
            "columns": list(self.columns),
            "passed": self.passed,
            "rejected_rows": self.rejected_rows,
            "examples": list(self.examples),
            "error": self.error,
        }

    def message(self) -> str:
        """One line for a warning: what differs and what to do."""
        if self.error is not None:
            return f"training/serving skew: serving cannot read the training data: {self.error}"
        if self.passed:
            return (
                f"training/serving skew: none; {self.rows:,} training rows give the same "
                "feature values through serving's reader"
            )
        shown = "; ".join(
            f"{e['column']} row {e['row']:,}: training {e['training']!r}, serving {e['serving']!r}"
            for e in self.examples[:3]
        )
        return (
            f"training/serving skew: {self.mismatched_rows:,} of {self.rows:,} training rows "
            f"give other feature values through serving's reader, in {', '.join(self.columns)} "
            f"(e.g. {shown}): the model would see values it never learned; write those columns "
            "so both read them alike (e.g. quote codes, or store the data as Parquet)"
        )


def _positions(total: int, rows: int) -> Any:
    import numpy as np

    if total <= rows:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, rows).round().astype("int64"))


def _training_values(frame: Any, positions: Any, numeric: list[str], categorical: list[str]) -> Any:
    """The sampled rows as the fitted pipeline sees them after training's preparation."""
    import pandas as pd

    from mlready.training.data import prepare_features
    from mlready.training.pipeline import to_float, to_text

    sample = prepare_features(frame.iloc[positions], numeric, categorical)
    parts = [to_float(sample[numeric])] if numeric else []
    if categorical:
        text = to_text(sample[categorical])
        # a float column's text ("1" or "1.0") depends on the whole column, as in fitting
        for column in categorical:
            if pd.api.types.is_float_dtype(frame[column]):
                text[column] = to_text(frame[[column]])[column].iloc[positions].to_numpy()
        parts.append(text)
    return pd.concat([p.reset_index(drop=True) for p in parts], axis=1)


def _serving_sample(spec: ProjectSpec, positions: Any, contract: Any) -> tuple[Any, Any]:
    """The sampled rows read by serving's reader and checked by its contract: (values the
    model sees, accepted mask)."""
    import numpy as np
    import pandas as pd

    from mlready.serving import reader
    from mlready.training.pipeline import to_float, to_text

    source = spec.data.source
    sql = (source.sql.url, source.sql.query) if source.sql is not None else None
    pieces, offset, last = [], 0, int(positions[-1])
    for chunk in reader.iter_batch(
        source.path,
        sql,
        list(dict.fromkeys(contract.columns())),
        _CHUNK_ROWS,
        numeric=frozenset(contract.numeric_columns()),
    ):
        inside = positions[(positions >= offset) & (positions < offset + len(chunk))]
        if len(inside):
            pieces.append(chunk.iloc[inside - offset])
        offset += len(chunk)
        if offset > last:
            break
    if offset <= last:
        raise DataError(f"serving's reader gives {offset:,} rows, training's {last + 1:,} or more")
    sample = pd.concat(pieces, ignore_index=True)
    prepared = contract.prepare(sample)
    X = prepared.X
    parts = []
    if contract.numeric:
        parts.append(to_float(X[contract.numeric]))
    if contract.categorical:
        parts.append(to_text(X[contract.categorical]))
    values = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=X.index)
    return values.reset_index(drop=True), np.asarray(prepared.accepted, dtype=bool)


def _differ(train: Any, serve: Any, numeric: bool) -> Any:
    import numpy as np
    import pandas as pd

    if numeric:
        a = train.to_numpy(dtype="float64", na_value=np.nan)
        b = serve.to_numpy(dtype="float64", na_value=np.nan)
        both_missing = np.isnan(a) & np.isnan(b)
        with np.errstate(invalid="ignore"):
            close = np.isclose(a, b, rtol=RELATIVE_TOLERANCE, atol=0.0)
        return ~(close | both_missing)
    a_missing = pd.isna(train).to_numpy()
    b_missing = pd.isna(serve).to_numpy()
    same = (train.to_numpy(dtype=object) == serve.to_numpy(dtype=object)) & ~a_missing
    return ~(same | (a_missing & b_missing))


def check_skew(
    spec: ProjectSpec,
    frame: Any,
    numeric: list[str],
    categorical: list[str],
    *,
    rows: int = SAMPLE_ROWS,
) -> SkewResult:
    """Put up to ``rows`` rows of the training table (``frame``, as training's reader gave it)
    through serving's reader and contract, and compare the feature values the model receives."""
    import numpy as np

    from mlready.serving.prepare import Contract
    from mlready.validation.checks import build_checks

    if len(frame) == 0 or not (numeric or categorical):
        return SkewResult(0, 0, [])
    positions = _positions(len(frame), rows)
    checks = build_checks(spec, [str(c) for c in frame.columns], "serving")
    contract = Contract(checks, numeric, categorical, {})
    try:
        served, accepted = _serving_sample(spec, positions, contract)
    except MlreadyError as exc:
        return SkewResult(0, 0, [], error=str(exc).splitlines()[0])
    trained = _training_values(frame, positions, numeric, categorical).iloc[
        np.flatnonzero(accepted)
    ]
    trained = trained.reset_index(drop=True)
    kept = positions[accepted]
    mismatched = np.zeros(len(trained), dtype=bool)
    columns: list[str] = []
    examples: list[dict[str, Any]] = []
    for column in [*numeric, *categorical]:
        bad = _differ(trained[column], served[column], column in numeric)
        if not bad.any():
            continue
        columns.append(column)
        mismatched |= bad
        first = int(np.flatnonzero(bad)[0])
        if len(examples) < EXAMPLES:
            examples.append(
                {
                    "column": column,
                    "row": int(kept[first]),
                    "training": _shown(trained[column].iloc[first]),
                    "serving": _shown(served[column].iloc[first]),
                }
            )
    return SkewResult(
        rows=len(trained),
        mismatched_rows=int(mismatched.sum()),
        columns=columns,
        rejected_rows=int((~accepted).sum()),
        examples=examples,
    )


def _shown(value: Any) -> Any:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
