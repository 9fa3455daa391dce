"""The training table as the model sees it: features, target, time order, holdout and groups."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from mlready.errors import DataError, SpecError
from mlready.spec import ProjectSpec

#: Target values that say by themselves which class is the positive one.
_OBVIOUS_POSITIVE = {
    frozenset({"0", "1"}): "1",
    frozenset({"false", "true"}): "true",
    frozenset({"no", "yes"}): "yes",
    frozenset({"n", "y"}): "y",
}
#: At most this many distinct integer values make an integer target a classification target.
MAX_CLASSES_AUTO = 10


@dataclass
class TrainingData:
    """The training table split into what the pipeline needs; rows in time order when folds are."""

    frame: Any  # the rows used (target present), in fold order
    X: Any  # feature columns only
    y: Any  # 0/1 for binary classification, labels for multiclass, floats for regression
    task: str  # classification | regression
    numeric: list[str]
    categorical: list[str]
    classes: list[str] = field(default_factory=list)  # binary: [negative, positive]
    positive_class: str | None = None
    timestamps: Any = None  # datetime64 Series aligned with frame, or None
    groups: Any = None  # group_kfold's groups, or None
    holdout: Any = None  # boolean numpy array: True for held-out rows, or None
    dropped_rows: int = 0  # rows without a target value
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # data left out: on the terminal too

    @property
    def binary(self) -> bool:
        return self.task == "classification" and len(self.classes) == 2

    @property
    def train_index(self) -> Any:
        """Positions of the rows used for cross-validation and fitting (not held out)."""
        import numpy as np

        if self.holdout is None:
            return np.arange(len(self.frame))
        return np.flatnonzero(~self.holdout)

    @property
    def holdout_index(self) -> Any:
        import numpy as np

        if self.holdout is None:
            return np.arange(0)
        return np.flatnonzero(self.holdout)

    def feature_dtypes(self) -> dict[str, str]:
        """Each feature's dtype as pandas names it."""
        return {str(c): str(t) for c, t in self.X.dtypes.items()}


def _missing_column(column: str, role: str, columns: list[str]) -> DataError:
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return DataError(
        f"{role} '{column}' is not a column of the training data{hint} "
        f"Its columns: {', '.join(columns[:30])}{' ...' if len(columns) > 30 else ''}"
    )


def _is_text_like(series: Any) -> bool:
    import pandas as pd

    return bool(
        pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_object_dtype(series)
        or pd.api.types.is_string_dtype(series)
        or isinstance(series.dtype, pd.CategoricalDtype)
    )


def _as_labels(target: Any) -> Any:
    """The target as text labels; integer-valued floats print as integers (1.0 -> '1')."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(target):
        return target.map({True: "True", False: "False"}).astype(str)
    if pd.api.types.is_float_dtype(target) and (target.dropna() % 1 == 0).all():
        return target.astype("int64").astype(str)
    return target.astype(str)


def resolve_task(spec: ProjectSpec, target: Any) -> str:
    """classification or regression: the spec's word, else judged from the target's values."""
    import pandas as pd

    if spec.data.task != "auto":
        return spec.data.task
    if _is_text_like(target):
        return "classification"
    if pd.api.types.is_integer_dtype(target) or (target.dropna() % 1 == 0).all():
        return "classification" if target.nunique() <= MAX_CLASSES_AUTO else "regression"
    return "regression"


def _positive(spec: ProjectSpec, values: list[str], target: str) -> str:
    wanted = spec.data.positive_class
    if wanted is not None:
        if wanted not in values:
            raise DataError(
                f"data.positive_class '{wanted}' is not a value of target '{target}'; its values: "
                f"{', '.join(values)}: set positive_class to one of them"
            )
        return wanted
    lowered = {v.lower(): v for v in values}
    obvious = _OBVIOUS_POSITIVE.get(frozenset(lowered))
    if obvious is None:
        raise SpecError(
            f"target '{target}' has the values {values[0]!r} and {values[1]!r}: say which one "
            "counts as positive with data.positive_class in the spec"
        )
    return lowered[obvious]


def _features(spec: ProjectSpec, frame: Any) -> tuple[list[str], list[str], list[str]]:
    """(numeric, categorical, notes): as listed in the spec, or inferred from the dtypes."""
    import pandas as pd

    data = spec.data
    columns = [str(c) for c in frame.columns]
    listed_numeric, listed_categorical = data.features.numeric, data.features.categorical
    for names, role in (
        (listed_numeric or [], "data.features.numeric names"),
        (listed_categorical or [], "data.features.categorical names"),
    ):
        for column in names:
            if column not in frame.columns:
                raise _missing_column(column, role, columns)
    reserved = {data.target, *data.id_columns, *data.forbidden_columns, *data.features.exclude}
    if data.timestamp_column:
        reserved.add(data.timestamp_column)
    if spec.validation.cv.group_column:
        reserved.add(spec.validation.cv.group_column)
    holdout = spec.validation.holdout
    if holdout is not None and holdout.column:
        reserved.add(holdout.column)
    listed = set(listed_numeric or ()) | set(listed_categorical or ())
    notes = []
    free = [c for c in frame.columns if c not in reserved and c not in listed]
    numeric = list(listed_numeric) if listed_numeric is not None else []
    categorical = list(listed_categorical) if listed_categorical is not None else []
    skipped = []
    for column in free:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series) or _looks_like_dates(series):
            skipped.append(column)
        elif _is_text_like(series):
            if listed_categorical is None:
                categorical.append(column)
        elif pd.api.types.is_numeric_dtype(series) and listed_numeric is None:
            numeric.append(column)
    if skipped:
        notes.append(
            f"date/time columns are not used as features: {', '.join(skipped)} "
            "(derive numbers from them, e.g. days since an event, to use them)"
        )
    if listed_numeric is None or listed_categorical is None:
        notes.append(
            f"features inferred from the data's types: {len(numeric)} numeric, "
            f"{len(categorical)} categorical"
        )
    if not numeric and not categorical:
        raise SpecError(
            "the model has no features: every column is the target, an id, the timestamp, "
            "forbidden or excluded; list features under data.features"
        )
    return numeric, categorical, notes


_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"


def _looks_like_dates(series: Any) -> bool:
    """A text column whose values are ISO dates or times (CSV has no date type)."""
    import pandas as pd

    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False
    sample = series.dropna().astype(str).head(1000)
    return len(sample) > 0 and bool(sample.str.match(_DATE_TEXT).mean() >= 0.95)


def _numeric_columns(frame: Any, numeric: list[str]) -> None:
    """Listed numeric features must hold numbers (numeric text is converted), as float64."""
    import numpy as np
    import pandas as pd

    for column in numeric:
        series = frame[column]
        if (
            pd.api.types.is_bool_dtype(series)
            or (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_float_dtype(series))
            or isinstance(series.dtype, pd.api.extensions.ExtensionDtype)
        ):
            try:
                frame[column] = series.astype("float64")  # nullable Int64/boolean: NA -> NaN
                series = frame[column]
            except (TypeError, ValueError):
                pass
        if pd.api.types.is_numeric_dtype(series):
            infinite = int(np.isinf(series.to_numpy(dtype="float64", na_value=np.nan)).sum())
            if infinite:
                raise DataError(
                    f"feature '{column}' holds {infinite:,} infinite values: replace them with "
                    "a number or leave them empty (missing) in the data"
                )
            continue
        converted = pd.to_numeric(series, errors="coerce")
        bad = series[converted.isna() & series.notna()]
        if len(bad):
            sample = ", ".join(repr(v) for v in bad.astype(str).unique()[:3])
            raise DataError(
                f"feature '{column}' is listed as numeric but holds text such as {sample} "
                f"({len(bad):,} rows): fix the data, or list the column under "
                "data.features.categorical"
            )
        frame[column] = converted


def prepare_features(frame: Any, numeric: list[str], categorical: list[str]) -> Any:
    """The feature columns as training gives them to the model: numeric ones as float64."""
    features = frame[numeric + categorical].copy()
    _numeric_columns(features, numeric)
    return features


def check_roles(spec: ProjectSpec, frame: Any) -> None:
    """The columns the spec gives a role must be in the data (before anything else runs)."""
    columns = [str(c) for c in frame.columns]
    data = spec.data
    if data.target not in frame.columns:
        raise _missing_column(data.target, "the target data.target", columns)
    for column in data.id_columns:
        if column not in frame.columns:
            raise _missing_column(column, "the id column data.id_columns", columns)
    if spec.business is not None:
        for outcome in ("true_positive", "false_positive", "true_negative", "false_negative"):
            column = getattr(spec.business, outcome).column
            if column is None:
                continue
            if column not in frame.columns:
                raise _missing_column(column, f"business.{outcome}.column", columns)
            import pandas as pd

            if not pd.api.types.is_numeric_dtype(frame[column]):
                raise DataError(
                    f"business.{outcome}.column '{column}' holds text, not amounts: name a "
                    "numeric column (e.g. monthly charges)"
                )


def load_training_data(spec: ProjectSpec, frame: Any) -> TrainingData:
    """Check the table against the spec's roles and split it into what training needs."""
    import numpy as np
    import pandas as pd

    data = spec.data
    columns = [str(c) for c in frame.columns]
    if data.target not in frame.columns:
        raise _missing_column(data.target, "the target data.target", columns)
    used_forbidden = sorted(set(data.forbidden_columns) & set(data.features.numeric or ()))
    if used_forbidden:  # pragma: no cover - the spec model refuses this already
        raise SpecError(f"forbidden columns used as features: {used_forbidden}")
    frame = frame.copy()
    missing_target = frame[data.target].isna()
    dropped = int(missing_target.sum())
    notes: list[str] = []
    warnings: list[str] = []
    if dropped:
        share = dropped / len(frame)
        if share > data.max_dropped_share:
            raise DataError(
                f"{dropped:,} of {len(frame):,} training rows ({share:.0%}) have no value of "
                f"'{data.target}', over data.max_dropped_share ({data.max_dropped_share:.0%}): "
                "fill in the target, or raise the share in the spec"
            )
        frame = frame.loc[~missing_target]
        warnings.append(
            f"{dropped:,} of {dropped + len(frame):,} rows ({share:.1%}) without a value of "
            f"'{data.target}' were left out of training"
        )
    if len(frame) == 0:
        raise DataError(f"the training data has no row with a value of '{data.target}'")
    numeric, categorical, feature_notes = _features(spec, frame)
    notes.extend(feature_notes)
    _numeric_columns(frame, numeric)
    empty = [c for c in numeric + categorical if frame[c].isna().all()]
    if empty:
        numeric = [c for c in numeric if c not in empty]
        categorical = [c for c in categorical if c not in empty]
        warnings.append(f"features without any value are left out: {', '.join(empty)}")
        if not numeric and not categorical:
            raise DataError("every feature is empty in the training data: nothing to learn from")
    constant = [c for c in numeric + categorical if frame[c].nunique(dropna=False) <= 1]
    if constant:
        notes.append(f"features with one value only (they add nothing): {', '.join(constant)}")

    timestamps = None
    ts_column = data.timestamp_column
    if ts_column:
        if ts_column not in frame.columns:
            raise _missing_column(ts_column, "data.timestamp_column", columns)
        timestamps = pd.to_datetime(frame[ts_column], errors="coerce", utc=True)
        unreadable = int(timestamps.isna().sum())
        if unreadable:
            raise DataError(
                f"{unreadable:,} rows have no readable time in '{ts_column}': time-ordered "
                "validation needs one on every row; fix or drop those rows"
            )
        timestamps = timestamps.dt.tz_localize(None)
        if spec.validation.cv.strategy == "time_series":
            order = np.argsort(timestamps.to_numpy(), kind="stable")
            frame = frame.iloc[order]
            timestamps = timestamps.iloc[order]
    frame = frame.reset_index(drop=True)
    if timestamps is not None:
        timestamps = timestamps.reset_index(drop=True)

    target = frame[data.target]
    task = resolve_task(spec, target)
    classes: list[str] = []
    positive = None
    if task == "classification":
        labels = _as_labels(target)
        values = sorted(labels.unique().tolist())
        if len(values) < 2:
            raise DataError(
                f"target '{data.target}' has one value only ({values[0]!r}) in the "
                f"{len(frame):,} training rows: a classifier needs at least two classes"
            )
        if len(values) == 2:
            positive = _positive(spec, values, data.target)
            classes = [v for v in values if v != positive] + [positive]
            y = (labels == positive).astype("int64").to_numpy()
        else:
            if data.positive_class is not None:
                notes.append(
                    f"positive_class is ignored: '{data.target}' has {len(values)} classes"
                )
            classes = values
            y = labels.to_numpy(dtype=object)
    else:
        if not pd.api.types.is_numeric_dtype(target):
            raise DataError(
                f"task regression needs a numeric target, but '{data.target}' holds text: set "
                "data.task: classification, or fix the column"
            )
        y = target.astype("float64").to_numpy()
        import numpy as np

        if not np.isfinite(y).all():
            raise DataError(
                f"the target '{data.target}' holds infinite values: fix or drop those rows"
            )

    groups = None
    group_column = spec.validation.cv.group_column
    if spec.validation.cv.strategy == "group_kfold" and group_column:
        if group_column not in frame.columns:
            raise _missing_column(group_column, "validation.cv.group_column", columns)
        groups = frame[group_column].astype(str).to_numpy()

    holdout = _holdout(spec, frame, timestamps, columns)
    features = numeric + categorical
    return TrainingData(
        frame=frame,
        X=frame[features],
        y=y,
        task=task,
        numeric=numeric,
        categorical=categorical,
        classes=classes,
        positive_class=positive,
        timestamps=timestamps,
        groups=groups,
        holdout=holdout,
        dropped_rows=dropped,
        notes=notes,
        warnings=warnings,
    )


def _holdout(spec: ProjectSpec, frame: Any, timestamps: Any, columns: list[str]) -> Any:
    import pandas as pd

    holdout = spec.validation.holdout
    if holdout is None:
        return None
    column = holdout.column or spec.data.timestamp_column
    assert column is not None  # the spec model guarantees one
    if column == spec.data.timestamp_column and timestamps is not None:
        moments = timestamps
    else:
        if column not in frame.columns:
            raise _missing_column(column, "validation.holdout.column", columns)
        moments = pd.to_datetime(frame[column], errors="coerce", utc=True).dt.tz_localize(None)
    if moments.isna().all():
        raise DataError(
            f"validation.holdout.column '{column}' holds no dates: name a date or time column"
        )
    start = pd.Timestamp(holdout.start)
    mask = moments >= start
    if holdout.end is not None:
        mask &= moments < pd.Timestamp(holdout.end)
    mask = mask.fillna(False).to_numpy(dtype=bool)
    period = f"{holdout.start}" + (f" to {holdout.end}" if holdout.end else " on")
    if not mask.any():
        raise DataError(
            f"the holdout ({period}) holds no row: the data's '{column}' runs from "
            f"{moments.min():%Y-%m-%d} to {moments.max():%Y-%m-%d}; move validation.holdout.start"
        )
    if mask.all():
        raise DataError(
            f"the holdout ({period}) holds every row, leaving none to train on: move "
            "validation.holdout.start later"
        )
    return mask
