"""The model's curves on rows it did not train on, from the predictions train already has (the
holdout, else the out-of-fold rows; nothing is fitted again).

Classification: the ROC and precision-recall curves (one-vs-rest per class when there are
several), the calibration curve of the probabilities, and the confusion matrix at the decision
threshold. Regression: residuals against predictions. Every number comes from
``sklearn.metrics`` / ``sklearn.calibration``; a curve keeps at most :data:`MAX_POINTS` of its
points (always its ends), so metadata.json stays small and the site can draw it again.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CALIBRATION_BINS", "MAX_POINTS", "RESIDUAL_POINTS", "model_curves"]

#: Points of a curve kept (its ends and points spread evenly along it in between).
MAX_POINTS = 200
#: Equal-width probability bins of the calibration curve.
CALIBRATION_BINS = 10
#: At most this many (prediction, residual) pairs are kept for the residual plot.
RESIDUAL_POINTS = 1000
#: Bins of the prediction (quantiles) over which the mean residual is drawn.
RESIDUAL_BINS = 10
#: One-vs-rest curves are drawn for at most this many classes (the most frequent).
MAX_CURVE_CLASSES = 8
#: Significant digits kept of a curve's coordinates.
DIGITS = 6


def _round(values: Any) -> list[float]:
    import numpy as np

    return [float(f"{v:.{DIGITS}g}") for v in np.asarray(values, dtype=float)]


def _thin(*arrays: Any) -> list[list[float]]:
    """The arrays at the same positions: all of them when short, else their ends and
    :data:`MAX_POINTS` positions spread evenly in between."""
    import numpy as np

    n = len(arrays[0])
    if n <= MAX_POINTS:
        keep = np.arange(n)
    else:
        keep = np.unique(np.round(np.linspace(0, n - 1, MAX_POINTS)).astype(int))
    return [_round(np.asarray(a)[keep]) for a in arrays]


def _roc_pr(y: Any, scores: Any) -> dict[str, Any]:
    """ROC and precision-recall of one positive class (``y`` 0/1) against its scores."""
    import numpy as np
    from sklearn import metrics

    fpr, tpr, _ = metrics.roc_curve(y, scores)
    precision, recall, _ = metrics.precision_recall_curve(y, scores)
    roc_x, roc_y = _thin(fpr, tpr)
    # sklearn lists precision-recall from high recall to low: kept in that order
    pr_x, pr_y = _thin(recall, precision)
    return {
        "roc": {"fpr": roc_x, "tpr": roc_y, "auc": float(metrics.roc_auc_score(y, scores))},
        "pr": {
            "recall": pr_x,
            "precision": pr_y,
            "average_precision": float(metrics.average_precision_score(y, scores)),
            "positive_rate": float(np.mean(y)),
        },
    }


def calibration(y: Any, probabilities: Any, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """The reliability diagram's points: in each equal-width probability bin holding rows, the
    mean predicted probability, the observed positive rate (``calibration_curve``'s
    ``prob_pred`` and ``prob_true``) and the rows in it."""
    import numpy as np
    from sklearn.calibration import calibration_curve

    prob_true, prob_pred = calibration_curve(y, probabilities, n_bins=bins, strategy="uniform")
    # the rows per bin, cut as calibration_curve cuts them
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], probabilities), minlength=bins)
    return {
        "bins": bins,
        "predicted": _round(prob_pred),
        "observed": _round(prob_true),
        "rows": [int(c) for c in counts if c],
    }


def _confusion(actual: Any, predicted: Any, classes: list[Any]) -> list[list[int]]:
    from sklearn.metrics import confusion_matrix

    return [[int(c) for c in row] for row in confusion_matrix(actual, predicted, labels=classes)]


def _binary(
    y: Any, scores: Any, classes: list[str], threshold: float, probabilities: bool
) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {"kind": "binary", "threshold": float(threshold)}
    predicted = (np.asarray(scores) >= threshold).astype("int64")
    matrix = _confusion(y, predicted, [0, 1])
    out["confusion"] = {"classes": list(classes), "matrix": matrix}
    (tn, fp), (fn, tp) = matrix
    out["operating_point"] = {
        "fpr": fp / (fp + tn) if fp + tn else None,
        "tpr": tp / (tp + fn) if tp + fn else None,
        "precision": tp / (tp + fp) if tp + fp else None,
    }
    if len(np.unique(y)) < 2:
        out["note"] = "one class only among these rows: no ROC or precision-recall curve"
    else:
        out.update(_roc_pr(y, scores))
    if probabilities:
        out["calibration"] = calibration(y, np.clip(scores, 0.0, 1.0))
    else:
        out["calibration"] = None
        out["calibration_note"] = "the model gives scores, not probabilities: no calibration curve"
    return out


def _multiclass(
    y: Any, scores: Any, labels: Any, classes: list[str], probabilities: bool
) -> dict[str, Any]:
    import numpy as np

    y = np.asarray(y).astype(str)
    out: dict[str, Any] = {
        "kind": "multiclass",
        "confusion": {
            "classes": list(classes),
            "matrix": _confusion(y, np.asarray(labels).astype(str), list(classes)),
        },
    }
    if not probabilities:
        out["note"] = "the model gives no probabilities: no one-vs-rest curves"
        out["per_class"] = []
        return out
    rows = {c: int(np.sum(y == c)) for c in classes}
    per_class = []
    for name in sorted(classes, key=lambda c: -rows[c])[:MAX_CURVE_CLASSES]:
        column = list(classes).index(name)
        positive = (y == name).astype("int64")
        if 0 < positive.sum() < len(positive):
            entry = {"class": name, "rows": rows[name], **_roc_pr(positive, scores[:, column])}
            per_class.append(entry)
    out["per_class"] = per_class
    return out


def _regression(y: Any, predictions: Any, seed: int) -> dict[str, Any]:
    import numpy as np

    y = np.asarray(y, dtype=float)
    predictions = np.asarray(predictions, dtype=float)
    residuals = y - predictions
    n = len(y)
    if n > RESIDUAL_POINTS:
        chosen = np.sort(np.random.default_rng(seed).choice(n, RESIDUAL_POINTS, replace=False))
    else:
        chosen = np.arange(n)
    edges = np.unique(np.quantile(predictions, np.linspace(0, 1, RESIDUAL_BINS + 1)))
    bins = []
    if len(edges) > 1:
        which = np.clip(np.searchsorted(edges[1:-1], predictions, side="right"), 0, len(edges) - 2)
        for b in range(len(edges) - 1):
            mask = which == b
            if mask.any():
                bins.append(
                    {
                        "prediction": float(np.mean(predictions[mask])),
                        "mean_residual": float(np.mean(residuals[mask])),
                        "rows": int(mask.sum()),
                    }
                )
    return {
        "kind": "regression",
        "residuals": {
            "prediction": _round(predictions[chosen]),
            "residual": _round(residuals[chosen]),
            "rows": n,
            "shown": len(chosen),
            "mean": float(np.mean(residuals)),
            "std": float(np.std(residuals)),
            "bins": bins,
        },
    }


def model_curves(
    y: Any,
    scores: Any,
    labels: Any,
    *,
    task: str,
    classes: list[str],
    threshold: float | None,
    probabilities: bool,
    basis: str,
    seed: int = 0,
) -> dict[str, Any]:
    """The curves of one set of predictions (``basis``: ``holdout`` or ``cv``).

    ``y``: 0/1 for a binary target (``classes`` = [negative, positive]), labels for several
    classes, numbers for regression; ``scores``: the positive class's score, the probability
    matrix (columns in ``classes`` order), or the predicted values; ``labels``: the predicted
    labels (several classes); ``threshold``: the binary decision threshold; ``probabilities``:
    whether the scores are probabilities (the model has predict_proba).
    """
    import numpy as np

    head = {"basis": basis, "rows": len(y)}
    if len(y) == 0:
        return {**head, "kind": "none", "note": "no predictions on rows the model did not see"}
    if task == "regression":
        return {**head, **_regression(y, scores, seed)}
    if len(classes) == 2:
        cut = 0.5 if threshold is None else threshold
        return {**head, **_binary(np.asarray(y), np.asarray(scores), classes, cut, probabilities)}
    return {**head, **_multiclass(y, np.asarray(scores), labels, classes, probabilities)}
