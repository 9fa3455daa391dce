"""Cross-validation as the spec fixes it, predictions, slices, search and feature contribution."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlready.errors import DataError, SpecError
from mlready.spec import ProjectSpec
from mlready.training.data import TrainingData
from mlready.training.metrics import SCORE_METRICS, compute_metrics

#: sklearn scorer names, binary / multiclass, for the search and permutation importance.
_SCORERS = {
    "roc_auc": ("roc_auc", "roc_auc_ovr"),
    "average_precision": ("average_precision", "average_precision"),
    "accuracy": ("accuracy", "accuracy"),
    "balanced_accuracy": ("balanced_accuracy", "balanced_accuracy"),
    "f1": ("f1", "f1_macro"),
    "precision": ("precision", "precision_macro"),
    "recall": ("recall", "recall_macro"),
    "log_loss": ("neg_log_loss", "neg_log_loss"),
    "brier_score": ("neg_brier_score", "neg_brier_score"),
    "rmse": ("neg_root_mean_squared_error",) * 2,
    "mae": ("neg_mean_absolute_error",) * 2,
    "r2": ("r2",) * 2,
    "mape": ("neg_mean_absolute_percentage_error",) * 2,
}
#: Slices with more groups than this show the largest ones and '(other)'.
MAX_SLICE_GROUPS = 20
IMPORTANCE_ROWS = 10_000
MIN_EFFECT = 0.001


def scorer_name(metric: str, data: TrainingData) -> str:
    binary_or_regression = data.task == "regression" or data.binary
    return _SCORERS[metric][0 if binary_or_regression else 1]


def folds(spec: ProjectSpec, data: TrainingData) -> list[tuple[Any, Any]]:
    """(train, validation) row positions of each fold, within the rows not held out."""
    import numpy as np
    from sklearn import model_selection as ms

    cv = spec.validation.cv
    index = data.train_index
    n = len(index)
    seed = spec.model.random_state if cv.shuffle else None
    y = data.y[index]
    if cv.strategy == "time_series":
        size = n // (cv.folds + 1)
        if size < 1 or size <= 0 or n - size * cv.folds - cv.gap < 1:
            raise DataError(
                f"{n:,} rows are too few for {cv.folds} time-ordered folds with a gap of "
                f"{cv.gap}: lower validation.cv.folds or gap"
            )
        splitter: Any = ms.TimeSeriesSplit(n_splits=cv.folds, gap=cv.gap)
        groups = None
    elif cv.strategy == "group_kfold":
        groups = data.groups[index]
        distinct = len(np.unique(groups))
        if distinct < cv.folds:
            raise DataError(
                f"group_kfold needs at least {cv.folds} groups in '{cv.group_column}', found "
                f"{distinct}: lower validation.cv.folds"
            )
        splitter = ms.GroupKFold(n_splits=cv.folds, shuffle=cv.shuffle, random_state=seed)
    elif cv.strategy == "stratified_kfold" and data.task == "classification":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() < cv.folds:
            raise DataError(
                f"the rarest class of the target has {counts.min()} rows, fewer than the "
                f"{cv.folds} folds: lower validation.cv.folds, or gather more rows"
            )
        splitter = ms.StratifiedKFold(n_splits=cv.folds, shuffle=cv.shuffle, random_state=seed)
        groups = None
    else:
        if n < cv.folds:
            raise DataError(f"{n:,} rows are too few for {cv.folds} folds")
        splitter = ms.KFold(n_splits=cv.folds, shuffle=cv.shuffle, random_state=seed)
        groups = None
    try:
        splits = list(splitter.split(np.zeros(n), y, groups))
    except ValueError as exc:
        raise DataError(f"cannot make {cv.folds} folds: {exc}") from None
    return [(index[train], index[valid]) for train, valid in splits]


def predict(model: Any, X: Any, task: str, binary: bool) -> tuple[Any, Any]:
    """(scores, labels): positive-class probability and 0/1 labels at 0.5 for a binary
    classifier; the probability matrix and labels for several classes; the values for regression."""
    if task == "regression":
        values = model.predict(X)
        return values, values
    if binary:
        if hasattr(model, "predict_proba"):
            scores = model.predict_proba(X)[:, 1]
            return scores, (scores >= 0.5).astype("int64")
        if hasattr(model, "decision_function"):
            return model.decision_function(X), model.predict(X)
        labels = model.predict(X)  # hard voting: labels only
        return labels.astype("float64"), labels
    labels = model.predict(X)
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X), labels
    import numpy as np

    classes = list(model.classes_)
    scores = np.zeros((len(labels), len(classes)))
    scores[np.arange(len(labels)), [classes.index(v) for v in labels]] = 1.0
    return scores, labels  # no probabilities: the predicted class gets 1


def check_can_score(pipeline: Any, data: TrainingData, metrics: list[str]) -> None:
    """Probability metrics need predict_proba; say so before anything is fitted."""
    if data.task != "classification" or hasattr(pipeline, "predict_proba"):
        return
    scoring = {"log_loss", "brier_score"} if data.binary else SCORE_METRICS
    if data.binary and not hasattr(pipeline, "decision_function"):
        scoring = SCORE_METRICS
    needs = sorted(set(metrics) & scoring)
    if needs:
        raise SpecError(
            f"the model has no predict_proba, which {', '.join(needs)} need: wrap it in "
            "sklearn.calibration.CalibratedClassifierCV, or drop those metrics from "
            "validation.metrics"
        )


@dataclass
class FoldResult:
    """One fold's sizes, period, metrics and time."""

    fold: int
    train_rows: int
    validation_rows: int
    metrics: dict[str, float | None]
    fit_seconds: float
    train_period: tuple[str, str] | None = None
    validation_period: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fold": self.fold,
            "train_rows": self.train_rows,
            "validation_rows": self.validation_rows,
            "metrics": self.metrics,
            "fit_seconds": round(self.fit_seconds, 3),
            "train_period": self.train_period,
            "validation_period": self.validation_period,
        }


@dataclass
class CrossValidation:
    """Every fold's result and the out-of-fold predictions (rows never validated: NaN / unset)."""

    folds: list[FoldResult]
    scores: Any  # per row of data.frame
    labels: Any
    validated: Any  # boolean mask: rows some fold validated
    last_model: Any = None
    last_validation: Any = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _fit_fold(
    i: int, pipeline: Any, X: Any, y: Any, train: Any, valid: Any, task: str, binary: bool
) -> Any:
    from sklearn.base import clone

    model = clone(pipeline)
    start = time.perf_counter()
    model.fit(X.iloc[train], y[train])
    seconds = time.perf_counter() - start
    scores, labels = predict(model, X.iloc[valid], task, binary)
    return i, model, scores, labels, seconds


def _period(timestamps: Any, rows: Any) -> tuple[str, str] | None:
    if timestamps is None or len(rows) == 0:
        return None
    chosen = timestamps.iloc[rows]
    return (f"{chosen.min():%Y-%m-%d}", f"{chosen.max():%Y-%m-%d}")


def cross_validate(
    pipeline: Any,
    data: TrainingData,
    splits: list[tuple[Any, Any]],
    metrics: list[str],
    *,
    n_jobs: int = 1,
    on_fold: Callable[[int], None] | None = None,
) -> CrossValidation:
    """Fit a clone per fold and score its validation rows; folds run n_jobs at a time."""
    import numpy as np
    from joblib import Parallel, delayed

    start = time.perf_counter()
    n = len(data.frame)
    k = len(data.classes)
    scores: Any
    labels: Any
    if data.task == "classification" and not data.binary:
        scores = np.full((n, k), np.nan)
        labels = np.empty(n, dtype=object)
    else:
        scores = np.full(n, np.nan)
        labels = np.full(n, np.nan) if data.task == "regression" else np.zeros(n, dtype="int64")
    validated = np.zeros(n, dtype=bool)
    results: list[FoldResult] = []
    last = None
    jobs = (
        delayed(_fit_fold)(i, pipeline, data.X, data.y, tr, va, data.task, data.binary)
        for i, (tr, va) in enumerate(splits)
    )
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    for done, (i, model, fold_scores, fold_labels, seconds) in enumerate(parallel(jobs), start=1):
        train, valid = splits[i]
        scores[valid] = fold_scores
        labels[valid] = fold_labels
        validated[valid] = True
        y_valid = data.y[valid]
        results.append(
            FoldResult(
                fold=i + 1,
                train_rows=len(train),
                validation_rows=len(valid),
                metrics=compute_metrics(metrics, y_valid, fold_scores, fold_labels, data.classes),
                fit_seconds=seconds,
                train_period=_period(data.timestamps, train),
                validation_period=_period(data.timestamps, valid),
            )
        )
        if i == len(splits) - 1:
            last = model
        if on_fold is not None:
            on_fold(done)
    results.sort(key=lambda r: r.fold)
    return CrossValidation(
        folds=results,
        scores=scores,
        labels=labels,
        validated=validated,
        last_model=last,
        last_validation=splits[-1][1],
        seconds=time.perf_counter() - start,
    )


def search(
    spec: ProjectSpec,
    pipeline: Any,
    data: TrainingData,
    splits: list[tuple[Any, Any]],
    metric: str,
    n_jobs: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Randomised or successive-halving search over the spec's space, on the same folds:
    (a summary for the metadata, the best parameters by the pipeline's names)."""
    import numpy as np
    from sklearn import model_selection as ms

    from mlready.training.artifacts import jsonable
    from mlready.training.pipeline import search_space

    settings = spec.model.search
    assert settings is not None
    space = search_space(spec, pipeline)
    index = data.train_index
    position = np.full(len(data.frame), -1)
    position[index] = np.arange(len(index))
    local = [(position[tr], position[va]) for tr, va in splits]
    common: dict[str, Any] = {
        "scoring": scorer_name(metric, data),
        "cv": local,
        "n_jobs": n_jobs,
        "random_state": spec.model.random_state,
        "refit": False,
        "error_score": "raise",
    }
    start = time.perf_counter()
    if settings.method == "halving":
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401

        searcher: Any = ms.HalvingRandomSearchCV(
            pipeline,
            space,
            n_candidates=settings.n_iter,
            factor=3,
            min_resources="exhaust",
            **common,
        )
    else:
        searcher = ms.RandomizedSearchCV(pipeline, space, n_iter=settings.n_iter, **common)
    try:
        searcher.fit(data.X.iloc[index], data.y[index])
    except ValueError as exc:
        raise SpecError(f"model.search failed: {str(exc).splitlines()[0]}") from None
    sign = -1.0 if common["scoring"].startswith("neg_") else 1.0
    results = searcher.cv_results_
    rounds = results.get("iter")
    last = None if rounds is None else max(rounds)  # halving: the round on the most rows
    candidates: list[dict[str, Any]] = [
        {
            "params": {spec_key(k): jsonable(v) for k, v in p.items()},
            "score": sign * float(s),
            "std": float(sd),
        }
        for i, (p, s, sd) in enumerate(
            zip(
                results["params"],
                results["mean_test_score"],
                results["std_test_score"],
                strict=True,
            )
        )
        if last is None or rounds[i] == last
    ]
    best = {k: jsonable(v) for k, v in searcher.best_params_.items()}
    evaluated = {
        json.dumps({spec_key(k): jsonable(v) for k, v in p.items()}, sort_keys=True, default=str)
        for p in results["params"]
    }
    summary = {
        "method": settings.method,
        "metric": metric,
        "candidates": len(candidates),
        "evaluated": len(evaluated),  # distinct configurations scored, in every round
        "best_params": {spec_key(k): v for k, v in best.items()},
        "best_score": sign * float(searcher.best_score_),
        "results": sorted(candidates, key=lambda c: -c["score"] if sign > 0 else c["score"])[:50],
        "seconds": time.perf_counter() - start,
    }
    return summary, best


def spec_key(pipeline_key: str) -> str:
    """A pipeline parameter as the spec names it: model__x -> x, model__m__model__x -> m__x."""
    return pipeline_key.removeprefix("model__").replace("__model__", "__")


def slice_groups(frame: Any, column: str, bins: list[float] | None) -> Any:
    """The group label of every row for one slice: values, or ranges between cut points."""
    import numpy as np
    import pandas as pd

    series = frame[column]
    if bins:
        edges = [-np.inf, *sorted(bins), np.inf]
        labels = []
        for low, high in itertools.pairwise(edges):
            if np.isinf(low):
                labels.append(f"< {high:g}")
            elif np.isinf(high):
                labels.append(f">= {low:g}")
            else:
                labels.append(f"{low:g} to < {high:g}")
        groups = pd.cut(pd.to_numeric(series, errors="coerce"), edges, right=False, labels=labels)
        groups = groups.astype(object)
    else:
        groups = series.astype(object).map(str).where(series.notna())
    groups = groups.where(groups.notna(), "(missing)").astype(str)
    top = groups.value_counts().index[:MAX_SLICE_GROUPS]
    return groups.where(groups.isin(top), "(other)").to_numpy()


def _group_order(groups: Any, bins: list[float] | None) -> list[str]:
    """Bins in their numeric order; values in natural order (numbers as numbers); then the
    catch-all groups."""
    present = set(groups)
    special = [g for g in ("(other)", "(missing)") if g in present]
    plain = [g for g in present if g not in special]
    if bins:

        def low(label: str) -> float:
            return (
                -float("inf")
                if label.startswith("<")
                else float(label.split()[-1 if label.startswith(">") else 0])
            )

        return sorted(plain, key=low) + special

    def natural(label: str) -> tuple[int, float, str]:
        try:
            return (0, float(label), label)
        except ValueError:
            return (1, 0.0, label)

    return sorted(plain, key=natural) + special


def slice_metrics(
    spec: ProjectSpec,
    data: TrainingData,
    rows: Any,
    scores: Any,
    labels: Any,
    metrics: list[str],
) -> list[dict[str, Any]]:
    """Metrics for every group of every slice in the spec, on the given rows' predictions."""
    import numpy as np

    out = []
    frame = data.frame.iloc[rows]
    y = data.y[rows]
    for item in spec.validation.slices:
        if item.column not in frame.columns:
            raise DataError(
                f"validation.slices '{item.name}': column '{item.column}' is not in the data"
            )
        import pandas as pd

        if item.bins and not pd.api.types.is_numeric_dtype(frame[item.column]):
            raise DataError(
                f"validation.slices '{item.name}': bins need a numeric column, but "
                f"'{item.column}' holds text; drop bins to group by its values"
            )
        groups = slice_groups(frame, item.column, item.bins)
        table = []
        for group in _group_order(groups, item.bins):
            mask = groups == group
            row: dict[str, Any] = {
                "group": group,
                "rows": int(mask.sum()),
                "metrics": compute_metrics(
                    metrics, y[mask], scores[mask], labels[mask], data.classes
                ),
            }
            if data.binary:
                row["positive_rate"] = float(np.mean(y[mask]))
            table.append(row)
        out.append({"name": item.name, "column": item.column, "groups": table})
    return out


def permutation_contribution(
    model: Any, X: Any, y: Any, metric: str, data: TrainingData, seed: int
) -> list[dict[str, Any]]:
    """Permutation importance of each input column on held-out rows; the drop in the metric
    when the column's values are shuffled. A feature whose drop is within its spread over the
    repeats, or below a thousandth of the metric, adds nothing measurable."""
    from sklearn.inspection import permutation_importance

    if (
        metric in SCORE_METRICS
        and data.task == "classification"
        and not hasattr(model, "predict_proba")
    ):
        metric = "accuracy"
    from sklearn.metrics import get_scorer

    rows = len(X)
    scorer = scorer_name(metric, data)
    base = abs(float(get_scorer(scorer)(model, X, y)))
    smallest = MIN_EFFECT * max(base, 1.0)  # a change too small to matter, in the metric's units
    result = permutation_importance(
        model,
        X,
        y,
        scoring=scorer,
        n_repeats=5,
        random_state=seed,
        max_samples=min(1.0, IMPORTANCE_ROWS / max(rows, 1)),
        n_jobs=1,
    )
    table: list[dict[str, Any]] = []
    for name, mean, std in zip(
        X.columns, result.importances_mean, result.importances_std, strict=True
    ):
        table.append(
            {
                "feature": str(name),
                "importance": float(mean),
                "std": float(std),
                "adds_nothing": bool(mean - std <= 0 or mean < smallest),
            }
        )
    table.sort(key=lambda r: -r["importance"])
    return table
