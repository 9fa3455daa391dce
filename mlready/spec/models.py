"""The project spec (``mlready.yaml``) as pydantic models: one section per pipeline step.

Constraints live on the fields so that the JSON Schema, the docs and the checks agree. Relative
paths are resolved against the spec file's folder through the validation context
(``{"base_dir": Path, "check_files": bool}``) that :func:`mlready.spec.load_spec` passes.
"""

from __future__ import annotations

import datetime as dt
import glob
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mlready import DISTRIBUTION
from mlready.io import REFUSED_SUFFIXES

# --------------------------------------------------------------------------------------------------
# Shared types
# --------------------------------------------------------------------------------------------------

Name = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
    Field(description="A name of letters, digits, '_', '.' or '-' (no spaces or slashes)."),
]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ImportPath = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"),
    Field(description="A dotted import path, e.g. sklearn.linear_model.LogisticRegression."),
]
Severity = Literal["error", "warning"]
Environment = Literal["training", "serving"]
ENVIRONMENTS: tuple[Environment, ...] = ("training", "serving")
Baseline = Literal["dummy", "linear"]
DEFAULT_BASELINES: tuple[Baseline, ...] = ("dummy",)
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Scalar = str | int | float | bool

TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".csv.gz")

CLASSIFICATION_METRICS = {
    "roc_auc": "higher",
    "average_precision": "higher",
    "accuracy": "higher",
    "balanced_accuracy": "higher",
    "f1": "higher",
    "precision": "higher",
    "recall": "higher",
    "log_loss": "lower",
    "brier_score": "lower",
}
REGRESSION_METRICS = {"rmse": "lower", "mae": "lower", "r2": "higher", "mape": "lower"}
#: metric name -> whether a higher or a lower value is better.
METRICS: dict[str, str] = {**CLASSIFICATION_METRICS, **REGRESSION_METRICS}
MetricName = Literal[
    "roc_auc",
    "average_precision",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "log_loss",
    "brier_score",
    "rmse",
    "mae",
    "r2",
    "mape",
]

_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$"
)


#: The longest duration and age a spec may give: a century. Longer ones overflow the date
#: arithmetic they feed (now + ttl, today - max_age_days), whose calendar ends in the year 9999.
MAX_DAYS = 36_500
MAX_DURATION = dt.timedelta(days=MAX_DAYS)
#: Row counts, chunk sizes and gaps: far above any table one machine reads, below int64's end.
MAX_ROWS = 10**12


def _parse_duration(value: Any) -> Any:
    """Accept '1h', '40m', '1d12h', '90s' or a number of seconds; leave the rest to pydantic."""
    if isinstance(value, bool):
        return value
    too_long = f"{value!r} is longer than {MAX_DAYS:,} days (a century): write a shorter duration"
    if isinstance(value, int | float):
        if value != value:  # NaN
            raise ValueError("nan is not a duration: write it like 1h, 40m, 1d or 1h30m")
        if abs(value) > MAX_DURATION.total_seconds():
            raise ValueError(too_long)
        return dt.timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match and any(match.groups()):
            days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            total = days * 86_400 + hours * 3_600 + minutes * 60 + seconds
            if total > MAX_DURATION.total_seconds():
                raise ValueError(too_long)
            return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        raise ValueError(f"'{value}' is not a duration: write it like 1h, 40m, 1d or 1h30m")
    return value


def _duration_range(value: dt.timedelta) -> dt.timedelta:
    if value < dt.timedelta(0):
        raise ValueError(f"a duration cannot be negative, got {value}")
    if value > MAX_DURATION:
        raise ValueError(f"{value} is longer than {MAX_DAYS:,} days: write a shorter duration")
    return value


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(_parse_duration, json_schema_input_type=str | float),
    AfterValidator(_duration_range),
    Field(description="A duration such as 1h, 40m, 7d or 1h30m (or a number of seconds)."),
]


def format_duration(value: dt.timedelta) -> str:
    """A duration as people write it: 1h, 40m, 1d12h, 90s."""
    seconds = round(value.total_seconds())
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _resolve(value: str, info: ValidationInfo) -> str:
    """Resolve a relative path or glob against the spec's folder."""
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return str(path)


def _database_url(value: str, info: ValidationInfo) -> str:
    """A database URL; a relative SQLite file is resolved against the spec's folder."""
    if "://" not in value:
        raise ValueError(f"'{value}' is not a database URL: write e.g. sqlite:///data/x.db")
    prefix = "sqlite:///"
    if value.startswith(prefix) and not value.startswith(prefix + "/"):
        rest = value[len(prefix) :]
        if rest and rest != ":memory:":
            return prefix + _resolve(rest, info)
    return value


def _check_table_suffix(value: str) -> str:
    lower = value.lower()
    for suffix, kind in REFUSED_SUFFIXES.items():
        if lower.endswith(suffix):
            raise ValueError(
                f"{kind} files are not supported ('{value}'): save the table as CSV or Parquet "
                "(pandas: df.to_parquet('data.parquet'))"
            )
    if not lower.endswith(TABLE_SUFFIXES) and not lower.endswith(("*", "]", "?")):
        raise ValueError(
            f"'{value}' is neither CSV nor Parquet: use a path ending in .csv, .csv.gz or .parquet "
            "(a glob such as data/*.parquet is fine)"
        )
    return value


class Section(BaseModel):
    """Base of every spec section: unknown keys are errors, values are frozen once loaded."""

    # .inf and .nan pass no comparison the way a reader of the spec means them: refused
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------------
# project
# --------------------------------------------------------------------------------------------------


class ProjectSection(Section):
    """Who owns the model and where mlready keeps its artifacts."""

    name: Name = Field(description="The project's name; also the registered model's default name.")
    owner: str = Field(min_length=1, description="The person or team answerable for the model.")
    description: str = Field("", description="What the model is for, in a sentence or two.")
    id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="A random identity `mlready init` writes: the run log's records carry it, so "
        "another project's records (a copied or borrowed artifacts folder) are told apart even "
        "under the same name. A copy of the spec that starts a new project needs a new one.",
    )
    artifacts_dir: str = Field(
        ".mlready",
        min_length=1,
        validate_default=True,
        description="Folder for runs, the run log and the registry, relative to the spec.",
    )

    @field_validator("artifacts_dir")
    @classmethod
    def _resolve_artifacts(cls, value: str, info: ValidationInfo) -> str:
        return _resolve(value, info)


# --------------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------------


class SqlSource(Section):
    """A table read through SQLAlchemy: a database URL and a query."""

    url: str = Field(
        min_length=1,
        description="SQLAlchemy URL, e.g. sqlite:///data/churn.db or postgresql://host/db.",
    )
    query: str = Field(min_length=1, description="The SELECT statement that returns the table.")

    @field_validator("url")
    @classmethod
    def _resolve_sqlite(cls, value: str, info: ValidationInfo) -> str:
        return _database_url(value, info)


class DataSource(Section):
    """Where a table comes from: a CSV/Parquet path or glob, or a SQL query."""

    path: str | None = Field(
        None, description="CSV or Parquet file, or a glob of them, relative to the spec."
    )
    sql: SqlSource | None = Field(None, description="A database URL and query instead of a file.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        _check_table_suffix(value)
        resolved = _resolve(value, info)
        if (info.context or {}).get("check_files") and not glob.glob(resolved):
            raise ValueError(
                f"no file matches '{value}' (looked for {resolved}): fix the path, which is "
                "relative to the spec's folder"
            )
        return resolved

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        if (self.path is None) == (self.sql is None):
            raise ValueError("give exactly one of 'path' (a CSV/Parquet file or glob) or 'sql'")
        return self


class FeaturesSpec(Section):
    """Which columns the model uses; a list left out is inferred from the data's types."""

    numeric: list[ColumnName] | None = Field(
        None, description="Numeric feature columns; left out: every numeric column not excluded."
    )
    categorical: list[ColumnName] | None = Field(
        None,
        description="Categorical feature columns; left out: every text/boolean column left.",
    )
    exclude: list[ColumnName] = Field(
        default_factory=list, description="Columns never inferred as features (not an error)."
    )

    @model_validator(mode="after")
    def _disjoint(self) -> FeaturesSpec:
        both = set(self.numeric or ()) & set(self.categorical or ())
        if both:
            raise ValueError(f"columns listed as both numeric and categorical: {sorted(both)}")
        return self


class DataSection(Section):
    """The training data: its source, the target and the features."""

    source: DataSource = Field(description="Where the training data comes from.")
    target: ColumnName = Field(description="The column the model predicts.")
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="auto: classification for text/boolean/few-valued targets."
    )
    positive_class: str | None = Field(
        None, description="For binary classification: the target value that counts as positive."
    )
    id_columns: Annotated[list[ColumnName], BeforeValidator(_as_list)] = Field(
        default_factory=list,
        description="Column(s) identifying a row, read as text; kept in predictions, never "
        "features. None: predictions carry `row`, the row number in the batch.",
    )
    timestamp_column: ColumnName | None = Field(
        None, description="When each row was observed; enables time-ordered validation."
    )
    features: FeaturesSpec = Field(default_factory=FeaturesSpec, description="Feature columns.")
    forbidden_columns: list[ColumnName] = Field(
        default_factory=list,
        description="Columns that must never be features (leaks, personal data); an error if used.",
    )
    max_dropped_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="train fails (exit 4) when more than this share of rows has no target "
        "value; fewer are left out with a warning.",
    )

    @field_validator("positive_class", mode="before")
    @classmethod
    def _positive_as_text(cls, value: Any) -> Any:
        # A YAML 1 or true is meant as the value as it prints in the data.
        if isinstance(value, bool):
            return str(value)
        return str(value) if isinstance(value, int | float) else value

    @model_validator(mode="after")
    def _roles(self) -> DataSection:
        listed = set(self.features.numeric or ()) | set(self.features.categorical or ())
        roles = {"target": [self.target], "an id column": self.id_columns}
        if self.timestamp_column:
            roles["the timestamp column"] = [self.timestamp_column]
        roles["forbidden"] = self.forbidden_columns
        for role, columns in roles.items():
            clash = sorted(listed & set(columns))
            if clash:
                raise ValueError(
                    f"{clash} listed as feature(s) but also {role}: remove them from "
                    "features.numeric/categorical"
                )
        return self


# --------------------------------------------------------------------------------------------------
# expectations (the data contract)
# --------------------------------------------------------------------------------------------------

CheckName = Literal["required", "type", "not_null", "range", "allowed_values", "regex", "unique"]


class ColumnExpectation(Section):
    """What one column must look like."""

    type: Literal["integer", "float", "number", "string", "boolean", "datetime"] | None = Field(
        None, description="The column's type; number accepts integer or float."
    )
    required: bool = Field(True, description="The column must be present.")
    max_null_fraction: Fraction | None = Field(
        None, description="Largest tolerated share of missing values (0 = never missing)."
    )
    # an infinite bound (.inf) is no bound, as written; .nan is still refused below
    min: float | None = Field(None, allow_inf_nan=True, description="Smallest allowed value.")
    max: float | None = Field(None, allow_inf_nan=True, description="Largest allowed value.")
    allowed_values: list[Scalar] | None = Field(
        None, min_length=1, description="The only values the column may hold (besides missing)."
    )
    regex: str | None = Field(None, description="Every non-missing value must match this regex.")
    unique: bool = Field(False, description="No value may occur twice.")
    severity: Severity = Field("error", description="error fails the run; warning only reports.")
    severities: dict[CheckName, Severity] = Field(
        default_factory=dict, description="Per-check severity overrides, e.g. {regex: warning}."
    )
    environments: list[Environment] = Field(
        default_factory=lambda: list(ENVIRONMENTS),
        min_length=1,
        description="Where the expectation applies.",
    )

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"'{value}' is not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _range(self) -> ColumnExpectation:
        for key in ("min", "max"):
            value = getattr(self, key)
            if value is not None and value != value:
                raise ValueError(f"{key} is .nan, which no value is above or below: give a number")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class RowCountExpectation(Section):
    """Bounds on the number of rows."""

    min: int = Field(1, ge=0, le=MAX_ROWS, description="Fewest rows allowed.")
    max: int | None = Field(None, ge=0, le=MAX_ROWS, description="Most rows allowed.")
    severity: Severity = Field("error", description="error fails the run; warning only reports.")

    @model_validator(mode="after")
    def _range(self) -> RowCountExpectation:
        if self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class FreshnessExpectation(Section):
    """The newest timestamp must be recent."""

    column: ColumnName | None = Field(None, description="Defaults to data.timestamp_column.")
    max_age_days: float = Field(
        gt=0, le=MAX_DAYS, description="Newest value no older than this many days."
    )
    severity: Severity = Field("warning", description="error fails the run; warning reports.")


class ExpectationsSection(Section):
    """The data contract that validate-data and serve-batch enforce."""

    columns: dict[ColumnName, ColumnExpectation] = Field(
        default_factory=dict, description="Per-column expectations, by column name."
    )
    unexpected_columns: Literal["allow", "warning", "error"] = Field(
        "warning", description="What a column that the contract does not name causes."
    )
    row_count: RowCountExpectation | None = Field(None, description="Row-count bounds.")
    freshness: FreshnessExpectation | None = Field(None, description="Data recency.")
    target_in_serving: Literal["absent", "ignored"] = Field(
        "ignored",
        description="absent: serving data must not carry the target; ignored: it may.",
    )


# --------------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------------


class EstimatorSpec(Section):
    """An sklearn-compatible estimator by import path, with its constructor parameters."""

    estimator: ImportPath = Field(description="Import path of the estimator class.")
    params: dict[str, Any] = Field(default_factory=dict, description="Constructor parameters.")


class EnsembleMember(EstimatorSpec):
    """One named member of an ensemble."""

    name: Name = Field(description="The member's name in the ensemble.")


class EnsembleSpec(Section):
    """Several models combined by voting or stacking."""

    kind: Literal["voting", "stacking"] = Field(description="How the members are combined.")
    members: list[EnsembleMember] = Field(min_length=2, description="At least two estimators.")
    voting: Literal["soft", "hard"] = Field("soft", description="Voting: average probabilities.")
    final_estimator: EstimatorSpec | None = Field(
        None, description="Stacking: the model that combines the members (default: linear)."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> EnsembleSpec:
        names = [m.name for m in self.members]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"ensemble member names must be unique, repeated: {dupes}")
        if self.kind == "voting" and self.final_estimator is not None:
            raise ValueError("final_estimator belongs to kind: stacking, not voting")
        return self


class ParamSpace(Section):
    """The values one hyperparameter may take in the search."""

    values: list[Any] | None = Field(None, min_length=1, description="A list to choose from.")
    distribution: Literal["uniform", "loguniform", "randint"] | None = Field(
        None, description="Or a distribution between low and high."
    )
    low: float | None = Field(None, description="Lower end of the distribution.")
    high: float | None = Field(None, description="Upper end of the distribution.")

    @model_validator(mode="after")
    def _one_kind(self) -> ParamSpace:
        if (self.values is None) == (self.distribution is None):
            raise ValueError("give either 'values' or 'distribution' with 'low' and 'high'")
        if self.distribution is not None:
            if self.low is None or self.high is None or self.low >= self.high:
                raise ValueError("a distribution needs low < high")
            if self.distribution == "loguniform" and self.low <= 0:
                raise ValueError("loguniform needs low > 0")
        return self


class SearchSpec(Section):
    """Hyperparameter search inside the cross-validation."""

    method: Literal["auto", "halving", "random"] = Field(
        "auto",
        description="halving: successive halving (every candidate on a third of the rows, the "
        "best third on three times more, ...); random: every candidate on every row; auto: "
        "halving when there are 3+ candidates and its first round keeps 500+ rows, else random.",
    )
    n_iter: int = Field(20, ge=1, le=10_000, description="Candidates to try.")
    metric: MetricName | None = Field(None, description="Defaults to the first validation metric.")
    space: dict[str, ParamSpace] = Field(
        min_length=1, description="Parameter name (as in the estimator's params) -> its space."
    )
    budget_s: float | None = Field(
        None,
        gt=0,
        le=30 * 24 * 3600,
        description="Time budget in seconds: no candidate is launched once it is spent (the "
        "best of those scored wins; the report says the search was cut short).",
    )
    early_stopping: bool = Field(
        True,
        description="sklearn boosters stop adding trees once their validation loss stops "
        "improving while they are searched (the model trained afterwards keeps its own setting).",
    )


class ModelSection(Section):
    """The estimator: one by import path, or an ensemble of several."""

    estimator: ImportPath | None = Field(None, description="Import path of one estimator.")
    params: dict[str, Any] = Field(default_factory=dict, description="Its parameters.")
    ensemble: EnsembleSpec | None = Field(None, description="Or an ensemble instead.")
    search: SearchSpec | None = Field(None, description="Optional hyperparameter search.")
    random_state: int = Field(
        42, ge=0, le=2**32 - 1, description="Seed for everything random in training."
    )
    allow_pickle: bool = Field(
        False,
        description="Store the model as joblib (pickle) instead of skops, and load joblib models "
        "without --allow-pickle. Loading pickle runs code from the file: only for a model skops "
        "cannot store.",
    )
    trusted_types: list[ImportPath] = Field(
        default_factory=list,
        max_length=100,
        description="Types (module.Name) trusted in the skops model file besides mlready's own "
        "list (mlready.model_format.TRUSTED_TYPES), e.g. an estimator from another package. Only "
        "types you have reviewed: loading builds them from the file.",
    )

    @model_validator(mode="after")
    def _one_model(self) -> ModelSection:
        if (self.estimator is None) == (self.ensemble is None):
            raise ValueError("give exactly one of 'estimator' (with 'params') or 'ensemble'")
        if self.ensemble is not None and self.params:
            raise ValueError("'params' goes with 'estimator'; put ensemble params on each member")
        return self


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------


class CVSpec(Section):
    """How the cross-validation folds are made."""

    strategy: Literal["stratified_kfold", "kfold", "group_kfold", "time_series"] = Field(
        "stratified_kfold", description="time_series needs data.timestamp_column."
    )
    folds: int = Field(5, ge=2, le=100, description="Number of folds.")
    shuffle: bool = Field(True, description="Shuffle before folding (refused for time_series).")
    gap: int = Field(
        0, ge=0, le=MAX_ROWS, description="time_series: rows left out between train and test."
    )
    group_column: ColumnName | None = Field(
        None, description="group_kfold: rows of one group (e.g. a user) stay in one fold."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CVSpec:
        if self.strategy == "time_series" and "shuffle" in self.model_fields_set and self.shuffle:
            raise ValueError(
                "shuffle: true is refused with time_series folds: shuffling lets the model train "
                "on the future; remove shuffle"
            )
        if self.strategy == "group_kfold" and not self.group_column:
            raise ValueError("group_kfold needs group_column (the column holding the group)")
        if self.gap and self.strategy != "time_series":
            raise ValueError("gap only applies to strategy: time_series")
        return self


class HoldoutSpec(Section):
    """A fixed period kept out of training and cross-validation."""

    column: ColumnName | None = Field(None, description="Defaults to data.timestamp_column.")
    start: dt.date = Field(description="Rows on or after this date are held out.")
    end: dt.date | None = Field(None, description="…and before this date, if given.")

    @model_validator(mode="after")
    def _order(self) -> HoldoutSpec:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        return self


class SliceSpec(Section):
    """A user group whose metrics are reported on their own."""

    name: str = Field(min_length=1, description="How the report names the slice.")
    column: ColumnName = Field(description="Rows are grouped by this column's values.")
    bins: list[float] | None = Field(
        None, min_length=1, description="Numeric columns: cut points for the groups."
    )


class ValidationSection(Section):
    """How the model is judged, fixed in advance."""

    cv: CVSpec = Field(default_factory=CVSpec, description="Cross-validation folds.")
    holdout: HoldoutSpec | None = Field(None, description="An optional fixed holdout period.")
    slices: list[SliceSpec] = Field(default_factory=list, description="User groups / slices.")
    metrics: list[MetricName] | None = Field(
        None,
        min_length=1,
        description="Metrics to report; default roc_auc, f1, accuracy or rmse, mae, r2.",
    )
    thresholds: dict[MetricName, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Pass bar per metric: a minimum where higher is better, else a maximum.",
    )
    baselines: list[Baseline] = Field(
        default_factory=lambda: list(DEFAULT_BASELINES),
        description="Simple models the model must beat.",
    )

    @model_validator(mode="after")
    def _thresholds(self) -> ValidationSection:
        bounded = {
            "roc_auc",
            "average_precision",
            "accuracy",
            "balanced_accuracy",
            "f1",
            "precision",
            "recall",
            "brier_score",
            "r2",
        }
        for metric, value in self.thresholds.items():
            if metric in bounded and value > 1:
                raise ValueError(f"thresholds.{metric} is {value}, but {metric} is at most 1")
        if self.metrics is not None:
            missing = sorted(set(self.thresholds) - set(self.metrics))
            if missing:
                raise ValueError(f"thresholds name metrics not in 'metrics': {missing}; add them")
        return self


# --------------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------------


#: Feature contribution's defaults, chosen by measurement (benchmarks/bench_train.py --mode
#: issue) on tables shaped like issue 18's: on 2,000 rows no feature that every held-out row
#: judges clearly (a drop of 4+ spreads, or none) is judged otherwise; only borderline ones (a
#: drop of one to a few spreads) can be, as they are between two full runs with other shuffles.
#: The cost grows with rows x shuffles x features. Five shuffles (sklearn's default) gave the same
#: verdicts as ten on those features; their standard deviation is known within about a third.
IMPORTANCE_MAX_ROWS = 2_000
IMPORTANCE_REPEATS = 5


class ImportanceSpec(Section):
    """Feature contribution: permutation importance on a bounded sample of held-out rows."""

    max_rows: int = Field(
        IMPORTANCE_MAX_ROWS,
        ge=100,
        le=MAX_ROWS,
        description="Held-out rows (the holdout, else every fold's validation rows) the features "
        "are shuffled on, drawn at random: bounds the cost whatever the data's size.",
    )
    repeats: int = Field(
        IMPORTANCE_REPEATS,
        ge=2,
        le=100,
        description="Shuffles per feature; the spread reported is their standard deviation.",
    )


class TrainingSection(Section):
    """How mlready train measures what it reports."""

    importance: ImportanceSpec = Field(
        default_factory=ImportanceSpec, description="Feature contribution (permutation importance)."
    )


# --------------------------------------------------------------------------------------------------
# business
# --------------------------------------------------------------------------------------------------


def _money(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"constant": value}
    return value


class MoneyValue(Section):
    """A money amount per row: constant + multiplier x the value of a column."""

    constant: float = Field(0.0, description="A fixed amount per row.")
    column: ColumnName | None = Field(None, description="A column holding an amount per row.")
    multiplier: float = Field(1.0, description="Factor applied to the column's value.")


Money = Annotated[
    MoneyValue,
    BeforeValidator(_money, json_schema_input_type=float | MoneyValue),
]


class BusinessSection(Section):
    """How predictions turn into money."""

    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")
    description: str = Field("", description="The value story, in one or two sentences.")
    true_positive: Money = Field(default_factory=MoneyValue, description="Per true positive.")
    false_positive: Money = Field(default_factory=MoneyValue, description="Per false positive.")
    true_negative: Money = Field(default_factory=MoneyValue, description="Per true negative.")
    false_negative: Money = Field(default_factory=MoneyValue, description="Per false negative.")
    cost_per_unit_error: float | None = Field(
        None, ge=0, description="Regression: the cost of one unit of absolute error."
    )


# --------------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------------


class PromotionGate(Section):
    """When a version may become production."""

    metric: MetricName | None = Field(None, description="Compared metric; default: the first.")
    tolerance: float = Field(
        0.0, ge=0, description="How much worse than production a challenger may be."
    )
    require_thresholds: bool = Field(True, description="The version must meet every threshold.")


class RegistrySection(Section):
    """Where model versions and their metadata are kept."""

    url: str | None = Field(
        None,
        description="SQLAlchemy URL of the registry database (a relative sqlite:/// file is "
        "relative to the spec); default a SQLite file in artifacts_dir. The environment "
        "variable MLREADY_REGISTRY_URL overrides it.",
    )
    artifact_store: str | None = Field(
        None, description="Folder of artifacts stored by content hash; default in artifacts_dir."
    )
    model_name: Name | None = Field(None, description="Registered name; default project.name.")
    promotion: PromotionGate = Field(default_factory=PromotionGate, description="The gate.")

    @field_validator("url")
    @classmethod
    def _resolve_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _database_url(value, info)

    @field_validator("artifact_store")
    @classmethod
    def _resolve_store(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _resolve(value, info)


# --------------------------------------------------------------------------------------------------
# serving
# --------------------------------------------------------------------------------------------------


class CacheSpec(Section):
    """The prediction cache."""

    enabled: bool = Field(True, description="Answer rows already scored by the same model.")
    ttl: Duration = Field(dt.timedelta(days=30), description="How long a cached answer lives.")


class SlaSpec(Section):
    """The service level agreed with stakeholders."""

    output_period: Duration = Field(description="How often predictions are due, e.g. 1h or 1d.")
    max_run_time: Duration | None = Field(
        None, description="Run-time budget; default two thirds of output_period."
    )

    @model_validator(mode="after")
    def _budget(self) -> SlaSpec:
        if self.output_period <= dt.timedelta(0):
            raise ValueError("output_period must be positive")
        if self.max_run_time is not None:
            if self.max_run_time <= dt.timedelta(0):
                raise ValueError("max_run_time must be positive")
            if self.max_run_time > self.output_period:
                raise ValueError(
                    f"max_run_time ({self.max_run_time}) is longer than output_period "
                    f"({self.output_period}): a run would not finish before the next is due"
                )
        return self

    @property
    def budget(self) -> dt.timedelta:
        """The run-time budget in force."""
        return self.max_run_time or self.output_period * 2 / 3


class RealtimeSpec(Section):
    """Real-time scoring over HTTP (`mlready serve`)."""

    max_rows: int = Field(
        10_000, ge=1, le=1_000_000, description="Most rows one request may hold (413 beyond)."
    )
    max_body_mb: float = Field(
        10.0, gt=0, le=1024, description="Largest request body in MB (413 beyond)."
    )
    reload_seconds: float = Field(
        30.0,
        ge=0.1,
        le=86_400,
        description="How often the registry is asked whether the served alias moved.",
    )
    p99_ms: float | None = Field(
        None,
        gt=0,
        description="Latency SLA: the 99th percentile of /predict over a window, in ms; a "
        "breach fires the sla_breach alert rules.",
    )
    window_seconds: float = Field(
        60.0, ge=1, le=86_400, description="The window the p99 latency is judged over."
    )
    min_requests: int = Field(
        100, ge=1, description="Fewest requests in a window for its p99 to be judged."
    )
    cache_rows: int = Field(
        100_000, ge=0, le=100_000_000, description="Rows the in-memory answer cache holds (LRU)."
    )
    profile_seconds: float = Field(
        60.0,
        ge=1,
        le=86_400,
        description="How often the online traffic's profile is written for check-drift.",
    )


class ServingSection(Section):
    """Batch scoring with a registered model."""

    input: DataSource | None = Field(None, description="Default batch to score: path/glob or SQL.")
    output: str | None = Field(None, description="Predictions file (.parquet or .csv).")
    chunk_rows: int = Field(
        100_000,
        ge=1,
        le=MAX_ROWS,
        description="Rows checked and scored per chunk (the last chunk of a file fewer); the "
        "model is called on at most 32,768 rows at a time.",
    )
    on_invalid: Literal["stop", "quarantine"] = Field(
        "stop", description="stop: exit 1 on invalid rows; quarantine: set them aside, go on."
    )
    max_reject_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="With quarantine: the run fails when more than this share of rows is set "
        "aside (a run that scores no row always fails).",
    )
    cache: CacheSpec = Field(default_factory=CacheSpec, description="The prediction cache.")
    sla: SlaSpec | None = Field(None, description="Output period and run-time budget.")
    realtime: RealtimeSpec = Field(
        default_factory=RealtimeSpec, description="Real-time scoring over HTTP (mlready serve)."
    )

    @field_validator("output")
    @classmethod
    def _output(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.lower().endswith((".parquet", ".csv")):
            raise ValueError(f"'{value}' must end in .parquet or .csv")
        return _resolve(value, info)


# --------------------------------------------------------------------------------------------------
# monitoring
# --------------------------------------------------------------------------------------------------


class FeatureDriftSpec(Section):
    """A per-feature override of the drift test or its threshold."""

    test: Literal["ks", "chisquare", "ztest", "wasserstein", "jensenshannon", "psi"] | None = Field(
        None, description="The test to use instead of the one chosen by type and sample size."
    )
    threshold: float | None = Field(None, ge=0, description="p-value or distance threshold.")


class DriftSpec(Section):
    """How drift is measured and judged."""

    small_sample_rows: int = Field(
        1000,
        ge=1,
        le=MAX_ROWS,
        description="Reference up to this size: p-value tests; larger: distances.",
    )
    p_value: float = Field(0.05, gt=0, lt=1, description="Drift when p is below this.")
    correction: Literal["none", "benjamini_hochberg"] = Field(
        "none",
        description="Multiple-testing correction of the features' p-values: "
        "benjamini_hochberg keeps the expected share of chance findings under p_value.",
    )
    out_of_range_share: float = Field(
        0.01,
        gt=0,
        le=1,
        description="A feature drifts when this share of the batch's rows was set aside for "
        "a value outside its expectations range.",
    )
    distance: float = Field(0.1, ge=0, description="Drift when a distance reaches this.")
    psi: float = Field(0.1, ge=0, description="PSI at or above this is reported as drift.")
    bins: int = Field(30, ge=2, le=1000, description="Bins of the reference profile.")
    dataset_drift_share: float = Field(
        0.5, gt=0, le=1, description="Dataset drift when this share of features drifts."
    )
    features: dict[ColumnName, FeatureDriftSpec] = Field(
        default_factory=dict, description="Per-feature overrides."
    )


class AlertChannel(Section):
    """Where alerts go: a webhook, a shell command or a log file."""

    type: Literal["webhook", "command", "log"] = Field(description="The kind of channel.")
    url: str | None = Field(None, description="webhook: the URL a JSON payload is POSTed to.")
    command: str | None = Field(None, description="command: run with the alert JSON on stdin.")
    path: str | None = Field(None, description="log: the file alerts are appended to.")
    retries: int = Field(3, ge=0, le=20, description="Delivery retries with backoff.")
    timeout: Duration = Field(dt.timedelta(seconds=10), description="Per-attempt timeout.")

    @model_validator(mode="after")
    def _target(self) -> AlertChannel:
        needed = {"webhook": "url", "command": "command", "log": "path"}[self.type]
        if getattr(self, needed) is None:
            raise ValueError(f"a {self.type} channel needs '{needed}'")
        if self.type == "webhook" and not str(self.url).startswith(("http://", "https://")):
            raise ValueError(f"url '{self.url}' must start with http:// or https://")
        return self

    @field_validator("path")
    @classmethod
    def _resolve_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _resolve(value, info)


class AlertRule(Section):
    """What fires an alert, how serious it is, who owns it and what to do."""

    name: Name = Field(description="The rule's name.")
    when: Literal[
        "dataset_drift",
        "feature_drift",
        "prediction_drift",
        "performance_drop",
        "model_age",
        "environment",
        "sla_breach",
        "data_invalid",
    ] = Field(description="The event that fires the rule.")
    severity: Literal["info", "warning", "error"] = Field(description="error makes the run fail.")
    owner: str = Field(min_length=1, description="Who acts on the alert.")
    runbook: str = Field(min_length=1, description="What to do: text or a link.")
    action: Literal["notify", "retrain", "rollback"] = Field(
        "notify", description="The recommended action."
    )
    channels: list[Name] = Field(min_length=1, description="Names of channels to send to.")


class MonitoringSection(Section):
    """Drift tests, model age and alerting."""

    drift: DriftSpec = Field(default_factory=DriftSpec, description="Drift statistics.")
    max_model_age_days: float | None = Field(
        None, gt=0, le=MAX_DAYS, description="Alert when production is older than this."
    )
    channels: dict[Name, AlertChannel] = Field(
        default_factory=dict, description="Alert channels by name."
    )
    alerts: list[AlertRule] = Field(default_factory=list, description="Alert rules.")

    @model_validator(mode="after")
    def _channels_exist(self) -> MonitoringSection:
        for rule in self.alerts:
            unknown = sorted(set(rule.channels) - set(self.channels))
            if unknown:
                known = ", ".join(sorted(self.channels)) or "none defined"
                raise ValueError(
                    f"alert '{rule.name}' names unknown channel(s) {unknown}; "
                    f"defined in monitoring.channels: {known}"
                )
        return self


# --------------------------------------------------------------------------------------------------
# checklist
# --------------------------------------------------------------------------------------------------


class Attestation(Section):
    """A person vouching that a checklist item is done by hand."""

    item: str = Field(
        pattern=r"^(data|model|infra|monitor)-[1-7]$|^business-[1-2]$",
        description="The checklist item id, e.g. data-5 or business-1.",
    )
    by: str = Field(min_length=1, description="Who attests it.")
    date: dt.date = Field(description="When (YYYY-MM-DD).")
    evidence: str = Field(
        min_length=1,
        description="An http(s) URL, or a path (relative to the spec) to a file that must exist; "
        "it is hashed when the report is made.",
    )
    note: str = Field("", description="Anything a reader should know.")


class ChecklistSection(Section):
    """The production-readiness score's pass bar and manual attestations."""

    pass_bar: float = Field(
        1.0,
        ge=0,
        le=7,
        description="checklist-report fails under this score (0-7): what passes now, or what "
        "is in place with judge: in_place.",
    )
    judge: Literal["passing_now", "in_place"] = Field(
        "passing_now",
        description="Which score the pass bar judges: what passes now (an item whose latest "
        "evidence fails earns nothing), or what is in place (the ML Test Score's reading).",
    )
    attestation_max_age_days: int = Field(
        180,
        ge=1,
        le=366,
        description="An attestation older than this many days no longer counts (a year at most).",
    )
    attestations: list[Attestation] = Field(
        default_factory=list,
        description="Items done by hand: 0.5 points at most each, shown as attested, never "
        "over automated evidence that the item fails.",
    )
    test_command: str | None = Field(
        None,
        min_length=1,
        description="The project's own tests as a shell command run from the spec's folder, "
        "writing JUnit XML to {junit} (e.g. pytest tests --junitxml={junit}); `mlready test` "
        "and `mlready run` run it.",
    )

    @field_validator("test_command")
    @classmethod
    def _junit_placeholder(cls, value: str | None) -> str | None:
        if value is not None and "{junit}" not in value:
            raise ValueError(
                "the command must write its JUnit XML to {junit}, e.g. "
                "pytest tests --junitxml={junit}"
            )
        return value


# --------------------------------------------------------------------------------------------------
# ci
# --------------------------------------------------------------------------------------------------


class CiSection(Section):
    """The CI configuration that `mlready init --ci` writes."""

    install: str | None = Field(
        None,
        description="The pip requirement CI installs mlready with; default "
        "mlready-cli[postgres] at the version that wrote the file. Another build: a VCS URL "
        "('mlready-cli[postgres] @ git+https://github.com/you/mlready@v0.2') or a path to a "
        "wheel in the repository.",
    )

    @field_validator("install")
    @classmethod
    def _mlready_itself(cls, value: str | None) -> str | None:
        if value is None:
            return value
        text = value.strip()
        if not text or "\n" in text:
            raise ValueError("give one pip requirement, on one line")
        if text.startswith("-"):
            raise ValueError(
                "give a requirement, not pip options: e.g. 'mlready-cli @ git+https://...'"
            )
        named = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", text)
        name = re.sub(r"[-_.]+", "-", named.group().lower()) if named else ""
        rest = text[named.end() :].lstrip() if named else text
        is_location = not named or rest[:1] not in ("", "[", "@", "=", "<", ">", "~", "!", ";")
        if name == "mlready" and not is_location:
            raise ValueError(
                f"'mlready' on PyPI is another author's package: install {DISTRIBUTION}, e.g. "
                f"'{DISTRIBUTION}[postgres]==VERSION'"
            )
        if name == DISTRIBUTION or is_location or "://" in text:
            return text
        raise ValueError(
            f"CI must install mlready: name {DISTRIBUTION} ('{DISTRIBUTION}[postgres]==VERSION', "
            f"'{DISTRIBUTION} @ git+https://...'), or give a path to its wheel"
        )


# --------------------------------------------------------------------------------------------------
# the whole spec
# --------------------------------------------------------------------------------------------------


class ProjectSpec(Section):
    """The whole project spec, as read from mlready.yaml."""

    spec_version: Literal[1] = Field(description="Always 1 for this format.")
    project: ProjectSection
    data: DataSection
    expectations: ExpectationsSection = Field(default_factory=ExpectationsSection)
    model: ModelSection
    validation: ValidationSection = Field(default_factory=ValidationSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    business: BusinessSection | None = None
    registry: RegistrySection = Field(default_factory=RegistrySection)
    serving: ServingSection | None = None
    monitoring: MonitoringSection = Field(default_factory=MonitoringSection)
    checklist: ChecklistSection = Field(default_factory=ChecklistSection)
    ci: CiSection = Field(default_factory=CiSection)

    @model_validator(mode="after")
    def _cross_section(self) -> ProjectSpec:
        ts = self.data.timestamp_column
        if self.validation.cv.strategy == "time_series" and not ts:
            raise ValueError(
                "validation.cv.strategy time_series needs data.timestamp_column: name the column "
                "that orders the rows"
            )
        holdout = self.validation.holdout
        if holdout is not None and not (holdout.column or ts):
            raise ValueError("validation.holdout needs a column, or data.timestamp_column")
        fresh = self.expectations.freshness
        if fresh is not None and not (fresh.column or ts):
            raise ValueError("expectations.freshness needs a column, or data.timestamp_column")
        if self.data.task != "auto":
            allowed = (
                CLASSIFICATION_METRICS
                if self.data.task == "classification"
                else (REGRESSION_METRICS)
            )
            named = set(self.validation.metrics or ()) | set(self.validation.thresholds)
            wrong = sorted(named - set(allowed))
            if wrong:
                raise ValueError(
                    f"metrics {wrong} do not fit task {self.data.task}; use {sorted(allowed)}"
                )
        return self

    @property
    def model_name(self) -> str:
        """The name the model is registered under."""
        return self.registry.model_name or self.project.name
