"""One sklearn Pipeline from the spec: preprocessing suited to the estimator, then the estimator.

* Histogram gradient boosting gets its native categorical support: categories are ordinal-coded
  and the booster splits on them directly, with no wide one-hot matrix; numbers pass through (it
  handles missing values itself).
* Other tree models (module ``sklearn.ensemble``/``sklearn.tree``, xgboost, lightgbm, catboost)
  get ordinal codes and median-imputed numbers: scaling changes nothing for them.
* Everything else (linear models, SVMs, neighbours, networks) gets median imputation with missing
  indicators and standard scaling for numbers, and a capped one-hot encoding for categories.

The fitted Pipeline is the artifact: serving applies exactly the processing training applied.
"""

from __future__ import annotations

import inspect
from typing import Any

from mlready.errors import SpecError
from mlready.spec import ProjectSpec
from mlready.spec.estimators import EstimatorProblem, check_estimator, import_estimator

#: One-hot encodes at most this many categories per column (the rarest share one column).
MAX_ONE_HOT = 64
_TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


def to_text(X: Any) -> Any:
    """Categorical columns as text, missing kept missing; 1.0 reads as '1' so types cannot split
    one category in two (an integer column in training, a float one with gaps when serving)."""
    import numpy as np
    import pandas as pd

    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    out = {}
    for column in frame.columns:
        series = frame[column]
        missing = series.isna().to_numpy()
        if pd.api.types.is_float_dtype(series):
            values = series.to_numpy(dtype="float64")
            present = values[~missing]
            if np.isfinite(present).all() and (present % 1 == 0).all():
                series = pd.Series(np.where(missing, 0, values).astype("int64"))
        text = series.astype(str).to_numpy(dtype=object)
        text[missing] = np.nan
        out[column] = text
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def to_float(X: Any) -> Any:
    """Numeric columns as float64 (nullable integers' NA becomes NaN, as the models expect)."""
    import pandas as pd

    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    return frame.astype("float64")


def _native_categorical(cls: type) -> bool:
    return cls.__name__.startswith("HistGradientBoosting")


def _tree_based(cls: type) -> bool:
    return cls.__module__.startswith(_TREE_MODULES)


def make_estimator(import_path: str, params: dict[str, Any], random_state: int) -> Any:
    """Instantiate the estimator; a random_state it takes and was not given comes from the spec."""
    try:
        check_estimator(import_path, params)
        cls = import_estimator(import_path)
    except EstimatorProblem as exc:
        raise SpecError(f"model estimator {import_path}: {exc}") from None
    params = dict(params)
    try:
        accepted = set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):  # pragma: no cover - C-implemented classes
        accepted = set()
    if "random_state" in accepted and "random_state" not in params:
        params["random_state"] = random_state
    try:
        estimator = cls(**params)
        if hasattr(estimator, "_validate_params"):
            estimator._validate_params()  # sklearn's own check of each value
    except (TypeError, ValueError) as exc:
        raise SpecError(f"model estimator {import_path}: {str(exc).splitlines()[0]}") from None
    return estimator


def _preprocessor(
    cls: type, params: dict[str, Any], numeric: list[str], categorical: list[str]
) -> Any:
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
    )

    text = FunctionTransformer(to_text, feature_names_out="one-to-one")
    parts: list[tuple[str, Any, list[str]]] = []
    if _native_categorical(cls) or _tree_based(cls):
        native = _native_categorical(cls)
        unknown: float | int = np.nan if native else -1
        max_bins = int(params.get("max_bins", 255))
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=unknown,
            encoded_missing_value=unknown,
            max_categories=max_bins if native else None,
            dtype=np.float64,
        )
        if categorical:
            parts.append(
                ("categorical", Pipeline([("text", text), ("ordinal", encoder)]), categorical)
            )
        if numeric:
            as_float = FunctionTransformer(to_float, feature_names_out="one-to-one")
            numbers = (
                as_float
                if native
                else Pipeline([("float", as_float), ("impute", SimpleImputer(strategy="median"))])
            )
            parts.append(("numeric", numbers, numeric))
    else:
        if categorical:
            one_hot = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                max_categories=MAX_ONE_HOT,
                sparse_output=False,
            )
            parts.append(
                ("categorical", Pipeline([("text", text), ("one_hot", one_hot)]), categorical)
            )
        if numeric:
            numbers = Pipeline(
                [
                    ("float", FunctionTransformer(to_float, feature_names_out="one-to-one")),
                    ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                    ("scale", StandardScaler()),
                ]
            )
            parts.append(("numeric", numbers, numeric))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def _member_pipeline(
    import_path: str,
    params: dict[str, Any],
    numeric: list[str],
    categorical: list[str],
    random_state: int,
) -> Any:
    from sklearn.pipeline import Pipeline

    estimator = make_estimator(import_path, params, random_state)
    cls = type(estimator)
    if _native_categorical(cls) and "categorical_features" in params:
        raise SpecError(
            f"model params of {import_path}: remove categorical_features; mlready sets it from "
            "data.features.categorical"
        )
    if _native_categorical(cls) and categorical:
        # the ColumnTransformer puts the categorical columns first
        mask = [True] * len(categorical) + [False] * len(numeric)
        estimator.set_params(categorical_features=mask)
    return Pipeline(
        [("prep", _preprocessor(cls, params, numeric, categorical)), ("model", estimator)]
    )


def _check_kind(estimator: Any, task: str, name: str) -> None:
    from sklearn.base import is_classifier, is_regressor

    if task == "classification" and is_regressor(estimator):
        raise SpecError(
            f"{name} is a regressor, but the target is a classification target: use a "
            "classifier (e.g. sklearn.ensemble.HistGradientBoostingClassifier), or set "
            "data.task: regression"
        )
    if task == "regression" and is_classifier(estimator):
        raise SpecError(
            f"{name} is a classifier, but the target is a regression target: use a regressor "
            "(e.g. sklearn.ensemble.HistGradientBoostingRegressor), or set data.task"
        )


def build_pipeline(spec: ProjectSpec, task: str, numeric: list[str], categorical: list[str]) -> Any:
    """The spec's model as one unfitted Pipeline."""
    from sklearn.pipeline import Pipeline

    model = spec.model
    seed = model.random_state
    if model.estimator is not None:
        pipeline = _member_pipeline(model.estimator, model.params, numeric, categorical, seed)
        _check_kind(pipeline.steps[-1][1], task, model.estimator)
        return pipeline
    ensemble = model.ensemble
    assert ensemble is not None  # the spec model guarantees one of the two
    members = []
    for member in ensemble.members:
        member_pipeline = _member_pipeline(
            member.estimator, member.params, numeric, categorical, seed
        )
        _check_kind(member_pipeline.steps[-1][1], task, member.estimator)
        members.append((member.name, member_pipeline))
    combined = _ensemble(
        ensemble.kind, ensemble.voting, ensemble.final_estimator, members, task, seed
    )
    return Pipeline([("model", combined)])


def _ensemble(
    kind: str, voting: str, final: Any, members: list[tuple[str, Any]], task: str, seed: int
) -> Any:
    from sklearn import ensemble as sk

    classification = task == "classification"
    if kind == "voting":
        if classification:
            if voting == "soft":
                for name, member in members:
                    if not hasattr(member, "predict_proba"):
                        raise SpecError(
                            f"ensemble member '{name}' has no predict_proba, which soft voting "
                            "needs: give it probability: true (SVC), or set voting: hard"
                        )
            return sk.VotingClassifier(members, voting=voting)
        return sk.VotingRegressor(members)
    if final is not None:
        final_estimator = make_estimator(final.estimator, final.params, seed)
        _check_kind(final_estimator, task, final.estimator)
    elif classification:  # sklearn's own default, made explicit so its abilities show
        final_estimator = make_estimator(
            "sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, seed
        )
    else:
        final_estimator = make_estimator("sklearn.linear_model.RidgeCV", {}, seed)
    if classification:
        return sk.StackingClassifier(members, final_estimator=final_estimator)
    return sk.StackingRegressor(members, final_estimator=final_estimator)


def baseline_pipeline(
    kind: str, task: str, numeric: list[str], categorical: list[str], seed: int
) -> Any:
    """A simple model the real one must beat: 'dummy' (the prior or the mean) or 'linear'."""
    from sklearn.pipeline import Pipeline

    if kind == "dummy":
        path = (
            "sklearn.dummy.DummyClassifier"
            if task == "classification"
            else "sklearn.dummy.DummyRegressor"
        )
        params: dict[str, Any] = (
            {"strategy": "prior"} if task == "classification" else {"strategy": "mean"}
        )
        return Pipeline([("model", make_estimator(path, params, seed))])
    if task == "classification":
        return _member_pipeline(
            "sklearn.linear_model.LogisticRegression",
            {"max_iter": 1000},
            numeric,
            categorical,
            seed,
        )
    return _member_pipeline("sklearn.linear_model.Ridge", {}, numeric, categorical, seed)


def search_space(spec: ProjectSpec, pipeline: Any) -> dict[str, Any]:
    """The spec's search space, keyed by the pipeline's parameter names, as scipy distributions."""
    from scipy import stats

    search = spec.model.search
    assert search is not None
    available = set(pipeline.get_params(deep=True))
    space: dict[str, Any] = {}
    for name, item in search.space.items():
        if spec.model.estimator is not None:
            key = f"model__{name}"
        else:
            member, _, param = name.partition("__")
            key = f"model__{member}__model__{param}"
        if key not in available:
            names = sorted(
                k.removeprefix("model__").replace("__model__", "__")
                for k in available
                if k.startswith("model__") and "__prep" not in k and k.count("__") <= 3
            )
            raise SpecError(
                f"model.search.space.{name}: the model has no parameter '{name}'"
                + ("" if spec.model.estimator is not None else " (write member__param)")
                + f"; it has: {', '.join(n for n in names if n)}"
            )
        if item.values is not None:
            space[key] = list(item.values)
        elif item.distribution == "uniform":
            assert item.low is not None
            assert item.high is not None
            space[key] = stats.uniform(item.low, item.high - item.low)
        elif item.distribution == "loguniform":
            space[key] = stats.loguniform(item.low, item.high)
        else:
            assert item.low is not None
            assert item.high is not None
            space[key] = stats.randint(int(item.low), int(item.high) + 1)
    return space


def threads_inside(pipeline: Any) -> bool:
    """Whether the model already uses every core (OpenMP boosters, n_jobs set): then folds run
    one after another, since parallel folds would only oversubscribe the cores."""
    for value in pipeline.get_params(deep=True).values():
        if hasattr(value, "fit") and _native_categorical(type(value)):
            return True
    params = pipeline.get_params(deep=True)
    return any(k.endswith("n_jobs") and v not in (None, 1) for k, v in params.items())


#: Below this many training rows (and cells) a model's own threads cost more than they bring
#: (and spin badly when the cores are busy): folds run in parallel processes of one thread each
#: instead. Measured on 2 cores: a 100,000 x 25 booster fit takes 1.31 s on two threads against
#: 1.84 s on one, so two one-thread processes fit 1.4x the folds per second; past the cell
#: bound the copies of the table in the processes cost more memory than that is worth.
SMALL_DATA_ROWS = 200_000
SMALL_DATA_CELLS = 10_000_000


def small_data(rows: int, columns: int = 1) -> bool:
    return rows < SMALL_DATA_ROWS and rows * max(columns, 1) < SMALL_DATA_CELLS


def fold_jobs(pipeline: Any, folds: int, rows: int | None = None, columns: int = 1) -> int:
    """How many folds to fit at once: one per core, except for a self-threaded model (an
    OpenMP booster, n_jobs set) on enough data to use its threads, where folds run in turn."""
    from mlready.training.workers import thread_budget

    if threads_inside(pipeline) and not (rows is not None and small_data(rows, columns)):
        return 1
    return max(1, min(folds, thread_budget()))
