"""Metrics, each computed by sklearn.metrics on the predictions of one fold, slice or holdout."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from mlready.spec.models import METRICS

DEFAULT_METRICS = {
    "classification": ["roc_auc", "f1", "accuracy"],
    "regression": ["rmse", "mae", "r2"],
}
#: Metrics read from the scores (probabilities); the others from the predicted labels.
SCORE_METRICS = {"roc_auc", "average_precision", "log_loss", "brier_score"}


def higher_is_better(metric: str) -> bool:
    return METRICS[metric] == "higher"


def meets(metric: str, value: float | None, bar: float) -> bool:
    """Whether a value meets a threshold: at least it where higher is better, else at most it."""
    if value is None:
        return False
    return value >= bar if higher_is_better(metric) else value <= bar


def _one(name: str, y: Any, scores: Any, labels: Any, classes: list[str]) -> float:
    from sklearn import metrics as m
    from sklearn.preprocessing import label_binarize

    binary = len(classes) == 2
    if name == "roc_auc":
        if binary:
            return float(m.roc_auc_score(y, scores))
        return float(m.roc_auc_score(y, scores, multi_class="ovr", labels=classes))
    if name == "average_precision":
        if binary:
            return float(m.average_precision_score(y, scores))
        return float(m.average_precision_score(label_binarize(y, classes=classes), scores))
    if name == "accuracy":
        return float(m.accuracy_score(y, labels))
    if name == "balanced_accuracy":
        return float(m.balanced_accuracy_score(y, labels))
    if name in ("f1", "precision", "recall"):
        scorer = {"f1": m.f1_score, "precision": m.precision_score, "recall": m.recall_score}[name]
        if binary:
            return float(scorer(y, labels, zero_division=0))
        return float(scorer(y, labels, average="macro", zero_division=0))
    if name == "log_loss":
        return float(m.log_loss(y, scores, labels=[0, 1] if binary else classes))
    if name == "brier_score":
        if binary:
            return float(m.brier_score_loss(y, scores))
        return float(m.brier_score_loss(y, scores, labels=classes))
    if name == "rmse":
        return float(m.root_mean_squared_error(y, labels))
    if name == "mae":
        return float(m.mean_absolute_error(y, labels))
    if name == "r2":
        return float(m.r2_score(y, labels))
    if name == "mape":
        return float(m.mean_absolute_percentage_error(y, labels))
    raise KeyError(name)  # pragma: no cover - the spec only allows the names above


def compute_metrics(
    names: list[str], y: Any, scores: Any, labels: Any, classes: list[str]
) -> dict[str, float | None]:
    """Each metric by sklearn.metrics; None where it is undefined (one class only, one row)."""
    out: dict[str, float | None] = {}
    for name in names:
        if len(y) == 0:
            out[name] = None
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = _one(name, y, scores, labels, classes)
        except ValueError:
            value = math.nan
        out[name] = None if math.isnan(value) or math.isinf(value) else value
    return out


def scorer(name: str, y: Any, classes: list[str]) -> Callable[[Any], float | None]:
    """``compute_metrics`` of one metric on the rows ``y``, for many predictions of those rows:
    the error metrics, accuracy and ROC AUC by numpy (sklearn's formulas without its input
    checks, which cost more than the arithmetic on a few thousand rows: the same values up to
    the last bits of a float sum), every other metric and every case a formula cannot settle
    (one class only, a constant target) by sklearn.metrics."""
    import numpy as np

    def slow(outputs: Any) -> float | None:
        return compute_metrics([name], y, outputs, outputs, classes)[name]

    truth = np.asarray(y)
    if len(truth) < 2:
        return slow
    if name in ("rmse", "mae", "r2") and truth.dtype.kind in "iuf":
        truth = truth.astype(np.float64)
        if name == "rmse":
            return lambda p: float(np.sqrt(np.average((truth - p) ** 2)))
        if name == "mae":
            return lambda p: float(np.average(np.abs(p - truth)))
        spread = float(((truth - np.average(truth)) ** 2).sum())
        if spread == 0:
            return slow
        return lambda p: float(1 - ((truth - p) ** 2).sum() / spread)
    if name == "accuracy":

        def accuracy(labels: Any) -> float | None:
            labels = np.asarray(labels)
            if labels.dtype.kind != truth.dtype.kind or labels.shape != truth.shape:
                return slow(labels)
            return float(np.average(labels == truth))

        return accuracy
    if name == "roc_auc" and len(classes) == 2 and truth.dtype.kind in "iub":
        positive = truth == 1
        if positive.all() or not positive.any():
            return slow
        return lambda scores: roc_auc(positive, scores)
    if name == "roc_auc" and len(classes) > 2:
        columns = [truth == c for c in classes]
        if any(c.all() or not c.any() for c in columns):
            return slow
        return lambda scores: float(
            np.mean([roc_auc(c, scores[:, k]) for k, c in enumerate(columns)])
        )
    return slow


def roc_auc(positive: Any, scores: Any) -> float:
    """ROC AUC as the Mann-Whitney statistic: the share of (positive, negative) pairs the scores
    order rightly, ties counting half (what sklearn's area under the curve equals); numpy only."""
    import numpy as np

    positive = np.asarray(positive, dtype=bool)
    _, where, counts = np.unique(np.asarray(scores), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[where.reshape(-1)]  # ties: their mean rank
    hits = int(positive.sum())
    misses = len(positive) - hits
    return float((ranks[positive].sum() - hits * (hits + 1) / 2) / (hits * misses))


def summarize(folds: list[dict[str, float | None]], names: list[str]) -> dict[str, dict[str, Any]]:
    """Mean, standard deviation, min and max of each metric over the folds where it is defined."""
    import numpy as np

    summary: dict[str, dict[str, Any]] = {}
    for name in names:
        values = np.array([f[name] for f in folds if f.get(name) is not None], dtype=float)
        if len(values) == 0:
            summary[name] = {"mean": None, "std": None, "min": None, "max": None, "folds": 0}
            continue
        summary[name] = {
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "min": float(values.min()),
            "max": float(values.max()),
            "folds": len(values),
        }
    return summary
