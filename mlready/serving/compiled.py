"""The fitted preprocessing of mlready's own pipelines as NumPy steps, for small requests.

A one-row ``predict_proba`` through the fitted Pipeline spends ~5-15 ms in pandas and sklearn's
input checks, not in arithmetic. The steps mlready's pipelines use (``to_text`` then a one-hot or
ordinal encoder for categories; ``to_float``, a median imputer with or without missing
indicators and a standard scaler for numbers) are replayed here on plain arrays: the encoders are
read by probing the fitted encoder itself with every category it knows, an unknown one and a
missing one; the imputer and scaler by their fitted statistics, in the order sklearn applies them
(fill, subtract, divide: elementwise, so the same bits). The final estimator then scores the
matrix with its own code.

Nothing is trusted: ``compile_pipeline`` replays a verification table (the model's input example,
every category, an unknown and a missing category, edge and missing numbers) through both and
returns None unless the matrices and the answers are equal to the last bit. A pipeline of
another shape (an ensemble, a custom transformer) is not compiled and small requests call the
fitted Pipeline instead.

serve-batch uses the same steps on whole chunks (:meth:`CompiledModel.raw_frame`): categories are
looked up in a table of the encoder's blocks by pyarrow (``index_in``), not one Python object at
a time, and each slice of rows gets the matrix the Pipeline would give it, scored by the final
estimator on the same rows in the same calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CompiledModel", "compile_pipeline"]

#: A category no model was trained on (probes what an unknown value encodes to).
UNKNOWN = "\x00mlready-unknown-category\x00"


@dataclass
class _Encoded:
    """One categorical column: text -> its block of the encoder's output."""

    column: str
    start: int
    width: int
    blocks: dict[str, Any]
    unknown: Any
    missing: Any

    def __post_init__(self) -> None:
        import numpy as np

        # row k of the table: the block of the k-th known category; then unknown, then missing
        known = list(self.blocks)
        self.known = known
        rows = [self.blocks[k] for k in known] + [self.unknown, self.missing]
        self.table = np.vstack(rows).reshape(len(rows), self.width)
        self._value_sets: dict[Any, Any] = {}

    def codes(self, values: Any) -> Any:
        """Each value's row of :attr:`table` (an Arrow text array; None: not text)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return None
        value_set = self._value_sets.get(values.type)
        if value_set is None:
            value_set = self._value_sets[values.type] = pa.array(self.known, type=values.type)
        found = pc.index_in(values, value_set=value_set)
        codes = np.asarray(found.fill_null(len(self.known)).to_numpy(zero_copy_only=False))
        codes = codes.astype(np.intp, copy=True)
        if values.null_count:
            codes[np.asarray(values.is_null().to_numpy(zero_copy_only=False))] = len(self.known) + 1
        return codes


@dataclass
class CompiledModel:
    """The preprocessing as array steps, and the final estimator that scores its output."""

    categorical: list[str]
    numeric: list[str]
    encoded: list[_Encoded]
    numeric_start: int
    width: int
    fill: Any  # per numeric feature, the imputer's value (None: no imputer)
    indicators: Any  # indices of numeric features with a missing indicator (None: none)
    mean: Any
    scale: Any
    scorer: Any  # mlready.serving.Scorer of the final estimator

    def transform(self, numbers: Any, categories: list[list[str | None]]) -> Any:
        """The model matrix of n rows: ``numbers`` (n x numeric float64, NaN missing) and, per
        categorical feature, its n values as text (None missing)."""
        import numpy as np

        rows = numbers.shape[0]
        out = np.zeros((rows, self.width), dtype=np.float64)
        for part, values in zip(self.encoded, categories, strict=True):
            end = part.start + part.width
            for i, value in enumerate(values):
                if value is None:
                    block = part.missing
                else:
                    block = part.blocks.get(value)
                    if block is None:
                        block = part.unknown
                out[i, part.start : end] = block
        self._numbers(numbers, out)
        return out

    def _numbers(self, numbers: Any, out: Any) -> None:
        """The numeric block of ``out`` from ``numbers`` (imputed, indicated, scaled)."""
        import numpy as np

        if self.numeric:
            X = np.array(numbers, dtype=np.float64)  # a copy: the caller's values stay
            missing = np.isnan(X)
            if self.fill is not None:
                X = np.where(missing, self.fill, X)
            if self.indicators is not None and len(self.indicators):
                X = np.hstack([X, missing[:, self.indicators].astype(np.float64)])
            if self.mean is not None:
                X -= self.mean
            if self.scale is not None:
                X /= self.scale
            out[:, self.numeric_start : self.numeric_start + X.shape[1]] = X

    def raw(self, numbers: Any, categories: list[list[str | None]]) -> dict[str, Any]:
        """The estimator's answers, as Scorer.raw gives them for the same rows."""
        return dict(self.scorer.raw(self.transform(numbers, categories)))

    def frame_inputs(self, X: Any) -> tuple[Any, list[Any]] | None:
        """(numbers, category codes per categorical feature) of a DataFrame of the model's
        features, or None when a column is not what the Pipeline's own steps would read the
        same way: numbers must be float64, categories text (``to_text`` keeps text as it is;
        other types it rewrites, so the Pipeline reads those)."""
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        columns = []
        for column in self.numeric:
            series = X[column]
            if series.dtype != np.float64:
                return None
            columns.append(series.to_numpy())
        numbers = np.column_stack(columns) if columns else np.zeros((len(X), 0))
        codes = []
        for part in self.encoded:
            series = X[part.column]
            if isinstance(series.dtype, pd.StringDtype):
                values = pa.array(series.array)
            elif series.dtype == object:
                try:
                    values = pa.array(series, from_pandas=True)
                except (pa.ArrowException, TypeError, ValueError):
                    return None
            else:
                return None
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            found = part.codes(values)
            if found is None:
                return None
            codes.append(found)
        return numbers, codes

    def raw_frame(self, X: Any, rows_per_call: int) -> dict[str, Any] | None:
        """The estimator's answers for a DataFrame of the model's features, as Scorer.raw gives
        them: the same rows in the same calls (``rows_per_call`` at a time), each call's
        matrix built as the Pipeline builds it. None when :meth:`frame_inputs` is."""
        import numpy as np

        inputs = self.frame_inputs(X)
        if inputs is None:
            return None
        numbers, codes = inputs
        parts = []
        for start in range(0, max(len(X), 1), rows_per_call):
            end = min(start + rows_per_call, len(X))
            out = np.zeros((end - start, self.width), dtype=np.float64)
            for part, found in zip(self.encoded, codes, strict=True):
                out[:, part.start : part.start + part.width] = part.table[found[start:end]]
            self._numbers(numbers[start:end], out)
            parts.append(self.scorer.raw(out))
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _function(step: Any) -> str | None:
    func = getattr(step, "func", None)
    return (
        getattr(func, "__qualname__", None)
        if type(step).__name__ == "FunctionTransformer"
        else None
    )


def _steps(transformer: Any) -> list[Any]:
    from sklearn.pipeline import Pipeline

    if isinstance(transformer, Pipeline):
        return [step for _, step in transformer.steps]
    return [transformer]


def _encoded(transformer: Any, columns: list[str], start: int) -> tuple[list[_Encoded], int] | None:
    """Each categorical column's blocks, read from the fitted ``to_text`` + encoder."""
    import numpy as np
    import pandas as pd

    steps = _steps(transformer)
    if len(steps) != 2 or _function(steps[0]) != "to_text":
        return None
    encoder = steps[1]
    kind = type(encoder).__name__
    if kind == "OneHotEncoder":
        if getattr(encoder, "drop", None) is not None or getattr(encoder, "sparse_output", True):
            return None
        widths = list(getattr(encoder, "_n_features_outs", []))
    elif kind == "OrdinalEncoder":
        widths = [1] * len(columns)
    else:
        return None
    if len(widths) != len(columns):
        return None
    parts = []
    offset = 0
    for j, column in enumerate(columns):
        known = [str(v) for v in encoder.categories_[j] if not (isinstance(v, float) and v != v)]
        probe_values: list[Any] = [*known, UNKNOWN, np.nan]
        probe = pd.DataFrame(
            {c: (probe_values if c == column else [np.nan] * len(probe_values)) for c in columns},
            dtype=object,
        )
        matrix = np.asarray(transformer.transform(probe), dtype=np.float64)
        block = matrix[:, offset : offset + widths[j]]
        parts.append(
            _Encoded(
                column=column,
                start=start + offset,
                width=widths[j],
                blocks={text: block[i].copy() for i, text in enumerate(known)},
                unknown=block[len(known)].copy(),
                missing=block[len(known) + 1].copy(),
            )
        )
        offset += widths[j]
    if matrix.shape[1] != offset:
        return None
    return parts, offset


def _numeric(transformer: Any, columns: list[str]) -> dict[str, Any] | None:
    """The fitted ``to_float`` + imputer + scaler's statistics."""
    import numpy as np

    steps = _steps(transformer)
    if not steps or _function(steps[0]) != "to_float":
        return None
    out: dict[str, Any] = {"fill": None, "indicators": None, "mean": None, "scale": None}
    width = len(columns)
    for step in steps[1:]:
        kind = type(step).__name__
        if kind == "SimpleImputer" and out["fill"] is None and out["mean"] is None:
            statistics = np.asarray(step.statistics_, dtype=np.float64)
            if step.strategy not in ("median", "mean") or not np.isfinite(statistics).all():
                return None
            if not (isinstance(step.missing_values, float) and np.isnan(step.missing_values)):
                return None
            out["fill"] = statistics
            indicator = getattr(step, "indicator_", None)
            if indicator is not None:
                if indicator.features != "missing-only":
                    return None
                out["indicators"] = np.asarray(indicator.features_, dtype=np.intp)
                width += len(out["indicators"])
        elif kind == "StandardScaler" and out["mean"] is None:
            out["mean"] = None if step.mean_ is None else np.asarray(step.mean_, dtype=np.float64)
            out["scale"] = None if step.scale_ is None else np.asarray(step.scale_, np.float64)
        else:
            return None
    out["width"] = width
    return out


def compile_pipeline(model: Any, info: Any, *, singles: bool = True) -> CompiledModel | None:
    """The fitted Pipeline as a CompiledModel, or None when it is not one of mlready's shapes or
    the compiled steps differ from it in any bit on the verification table (``singles``: also
    each of its rows scored alone, as real-time requests are; serve-batch, which scores whole
    chunks, checks the table's batch path instead)."""
    try:
        compiled = _compile(model, info)
        if compiled is None or not _verified(model, info, compiled, singles=singles):
            return None
        return compiled
    except Exception:  # any surprise in a fitted object: the Pipeline itself serves
        return None


def _compile(model: Any, info: Any) -> CompiledModel | None:
    from sklearn.pipeline import Pipeline

    from mlready.serving import Scorer

    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        return None
    prep, estimator = model.steps[0][1], model.steps[1][1]
    if type(prep).__name__ != "ColumnTransformer" or hasattr(estimator, "feature_names_in_"):
        return None
    if getattr(prep, "sparse_output_", False):
        return None
    encoded: list[_Encoded] = []
    numeric: dict[str, Any] | None = None
    numeric_columns: list[str] = []
    categorical_columns: list[str] = []
    numeric_start = 0
    offset = 0
    for name, transformer, columns in prep.transformers_:
        if transformer == "drop":
            continue
        if isinstance(transformer, str) or not isinstance(columns, list):
            return None
        if name == "categorical" and not encoded:
            found = _encoded(transformer, list(columns), offset)
            if found is None:
                return None
            encoded, width = found
            categorical_columns = list(columns)
            offset += width
        elif name == "numeric" and numeric is None:
            numeric = _numeric(transformer, list(columns))
            if numeric is None:
                return None
            numeric_columns = list(columns)
            numeric_start = offset
            offset += numeric["width"]
        else:
            return None
    # the callers pass values in the model's recorded feature order: the pipeline's must be it
    if numeric_columns != list(info.numeric) or categorical_columns != list(info.categorical):
        return None
    numeric = numeric or {"fill": None, "indicators": None, "mean": None, "scale": None}
    return CompiledModel(
        categorical=categorical_columns,
        numeric=numeric_columns,
        encoded=encoded,
        numeric_start=numeric_start,
        width=offset,
        fill=numeric["fill"],
        indicators=numeric["indicators"],
        mean=numeric["mean"],
        scale=numeric["scale"],
        scorer=Scorer(estimator, info),
    )


def verification_table(info: Any, compiled: CompiledModel) -> Any:
    """Rows that visit every category, an unknown and a missing one, and numbers at the edges,
    missing, and at the fitted statistics (after the model's input example)."""
    import numpy as np
    import pandas as pd

    edges = [0.0, -1.0, 1.0, 0.5, -0.5, 1e-12, -1e9, 1e9, 12345.678, np.nan, 3.0, 99.99]
    pools: dict[str, list[Any]] = {}
    for part in compiled.encoded:
        pools[part.column] = [*part.blocks, "never-seen-in-training", None]
    for j, column in enumerate(compiled.numeric):
        extra = []
        for stats in (compiled.fill, compiled.mean):
            if stats is not None:
                extra.append(float(stats[j]))
        pools[column] = [*edges, *extra]
    rows = max([len(p) for p in pools.values()] + [1]) * 2
    generator = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            c: [
                pool[(i * (k + 1) + int(generator.integers(0, 3))) % len(pool)] for i in range(rows)
            ]
            for k, (c, pool) in enumerate(pools.items())
        }
    )
    example = pd.DataFrame(info.metadata.get("input_example") or [])
    if set(info.features) <= set(example.columns):
        frame = pd.concat([example[list(pools)], frame], ignore_index=True)
    return typed(frame, compiled)


def typed(frame: Any, compiled: CompiledModel) -> Any:
    """Numbers as float64, categories as text with missing values NaN (serving's model input)."""
    import numpy as np
    import pandas as pd

    out = pd.DataFrame(index=range(len(frame)))
    for column in compiled.numeric:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in compiled.categorical:
        values = [
            None if v is None or (isinstance(v, float) and v != v) else str(v)
            for v in frame[column]
        ]
        out[column] = pd.Series(values, dtype="str").replace({None: np.nan})
    return out


def arrays(frame: Any, compiled: CompiledModel) -> tuple[Any, list[list[str | None]]]:
    """The compiled model's inputs for a typed frame."""
    import numpy as np

    numbers = (
        frame[compiled.numeric].to_numpy(dtype=np.float64)
        if compiled.numeric
        else np.zeros((len(frame), 0))
    )
    categories = [
        [None if not isinstance(v, str) else v for v in frame[c].tolist()]
        for c in compiled.categorical
    ]
    return numbers, categories


def _verified(model: Any, info: Any, compiled: CompiledModel, *, singles: bool = True) -> bool:
    import numpy as np

    from mlready.serving import Scorer

    frame = verification_table(info, compiled)
    columns = compiled.categorical + compiled.numeric
    frame = frame[[c for c in info.features if c in columns]]
    expected = np.asarray(model.steps[0][1].transform(frame), dtype=np.float64)
    numbers, categories = arrays(frame, compiled)
    got = compiled.transform(numbers, categories)
    if expected.shape != got.shape or not np.array_equal(expected, got, equal_nan=True):
        return False
    full = Scorer(model, info)
    want = full.raw(frame)
    answers = compiled.scorer.raw(got)
    if not singles:
        # the batch path on the same table: its lookups, in calls of a few rows
        batch = compiled.raw_frame(frame, 7)
        return batch is not None and all(
            _same(values, answers[name]) and _same(values, batch[name])
            for name, values in want.items()
        )
    # row by row too: a row alone (Scorer.raw pads it) gets the bits it gets among others
    alone = [
        compiled.raw(numbers[i : i + 1], [c[i : i + 1] for c in categories])
        for i in range(len(frame))
    ]
    for name, values in want.items():
        if not _same(values, answers[name]):
            return False
        one = np.concatenate([s[name] for s in alone])
        if not _same(values, one):
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    import numpy as np

    a = np.asarray(a)
    b = np.asarray(b)
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    return a.shape == b.shape and [str(x) for x in a] == [str(x) for x in b]
