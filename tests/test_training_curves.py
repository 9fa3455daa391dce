"""The training report's curves: every number is sklearn.metrics' (or sklearn.calibration's) on
the same predictions; the charts are inline SVG with their axes named and their labels escaped."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from mlready.reporting import parameter
from mlready.training.curves import MAX_POINTS, RESIDUAL_POINTS, model_curves
from mlready.training.evaluate import value_label


def _binary(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.3).astype("int64")
    scores = np.clip(0.25 + 0.35 * y + rng.normal(0, 0.2, rows), 0, 1)
    return y, scores


def _on_curve(xs: list[float], ys: list[float], curve_x: np.ndarray, curve_y: np.ndarray) -> bool:
    """Whether every stored point is one of sklearn's points (to the digits kept)."""
    exact = np.stack([curve_x, curve_y], axis=1)
    return all(
        np.min(np.abs(exact - [x, y]).sum(axis=1)) < 1e-5 for x, y in zip(xs, ys, strict=True)
    )


@pytest.mark.parametrize("rows", [300, 20_000])
def test_binary_curves_are_sklearns(rows: int) -> None:
    y, scores = _binary(rows)
    c = model_curves(
        y,
        scores,
        None,
        task="classification",
        classes=["No", "Yes"],
        threshold=0.41,
        probabilities=True,
        basis="holdout",
    )
    assert (c["kind"], c["basis"], c["rows"]) == ("binary", "holdout", rows)
    assert c["roc"]["auc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert c["pr"]["average_precision"] == pytest.approx(
        average_precision_score(y, scores), abs=1e-12
    )
    assert c["pr"]["positive_rate"] == pytest.approx(y.mean())
    fpr, tpr, _ = roc_curve(y, scores)
    precision, recall, _ = precision_recall_curve(y, scores)
    for stored, exact in ((c["roc"]["fpr"], fpr), (c["pr"]["recall"], recall)):
        assert len(stored) <= MAX_POINTS
        assert stored[0] == pytest.approx(exact[0])
        assert stored[-1] == pytest.approx(exact[-1])
    assert _on_curve(c["roc"]["fpr"], c["roc"]["tpr"], fpr, tpr)
    assert _on_curve(c["pr"]["recall"], c["pr"]["precision"], recall, precision)
    # the calibration curve, bin by bin, and the rows in each bin
    observed, predicted = calibration_curve(y, scores, n_bins=10, strategy="uniform")
    assert c["calibration"]["observed"] == pytest.approx(observed, abs=1e-5)
    assert c["calibration"]["predicted"] == pytest.approx(predicted, abs=1e-5)
    assert sum(c["calibration"]["rows"]) == rows
    assert len(c["calibration"]["rows"]) == len(observed)
    # the confusion matrix at the threshold (rows actual, columns predicted)
    expected = confusion_matrix(y, (scores >= 0.41).astype(int), labels=[0, 1])
    assert c["confusion"] == {"classes": ["No", "Yes"], "matrix": expected.tolist()}
    (tn, fp), (fn, tp) = expected
    assert c["operating_point"] == pytest.approx(
        {"fpr": fp / (fp + tn), "tpr": tp / (tp + fn), "precision": tp / (tp + fp)}
    )


def test_scores_that_are_not_probabilities_get_no_calibration() -> None:
    y, scores = _binary(400, seed=1)
    margins = (scores - 0.5) * 8  # a decision_function's margins
    c = model_curves(
        y,
        margins,
        None,
        task="classification",
        classes=["0", "1"],
        threshold=0.0,
        probabilities=False,
        basis="cv",
    )
    assert c["calibration"] is None
    assert "not probabilities" in c["calibration_note"]
    assert c["roc"]["auc"] == pytest.approx(roc_auc_score(y, margins))
    assert np.sum(c["confusion"]["matrix"]) == 400
    one_class = model_curves(
        np.zeros(50, dtype=int),
        scores[:50],
        None,
        task="classification",
        classes=["0", "1"],
        threshold=0.5,
        probabilities=True,
        basis="holdout",
    )
    assert "roc" not in one_class
    assert "one class only" in one_class["note"]
    assert one_class["operating_point"]["tpr"] is None


def test_multiclass_curves_are_one_against_the_rest() -> None:
    rng = np.random.default_rng(3)
    classes = ["basic", "max", "pro"]
    y = rng.choice(classes, 600, p=[0.5, 0.2, 0.3])
    probabilities = rng.dirichlet([1, 1, 1], 600)
    probabilities[np.arange(600), [classes.index(v) for v in y]] += 0.6
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    labels = np.array(classes)[probabilities.argmax(axis=1)]
    c = model_curves(
        y,
        probabilities,
        labels,
        task="classification",
        classes=classes,
        threshold=None,
        probabilities=True,
        basis="cv",
    )
    assert c["kind"] == "multiclass"
    assert c["confusion"]["matrix"] == confusion_matrix(y, labels, labels=classes).tolist()
    assert [p["class"] for p in c["per_class"]] == ["basic", "pro", "max"]  # most rows first
    for p in c["per_class"]:
        column = classes.index(p["class"])
        positive = (y == p["class"]).astype(int)
        assert p["rows"] == positive.sum()
        assert p["roc"]["auc"] == pytest.approx(roc_auc_score(positive, probabilities[:, column]))
        assert p["pr"]["average_precision"] == pytest.approx(
            average_precision_score(positive, probabilities[:, column])
        )


def test_regression_residuals_against_predictions() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(100, 20, 5000)
    predictions = y * 0.9 + 10 + rng.normal(0, 5, 5000)  # too low at the top, too high below
    c = model_curves(
        y,
        predictions,
        predictions,
        task="regression",
        classes=[],
        threshold=None,
        probabilities=False,
        basis="cv",
        seed=7,
    )
    r = c["residuals"]
    assert (r["rows"], r["shown"]) == (5000, RESIDUAL_POINTS)
    assert r["mean"] == pytest.approx(np.mean(y - predictions))
    assert r["std"] == pytest.approx(np.std(y - predictions))
    for prediction, residual in zip(r["prediction"], r["residual"], strict=True):
        residuals = y - predictions
        row = np.argmin(np.abs(predictions - prediction) + np.abs(residuals - residual))
        assert predictions[row] == pytest.approx(prediction, rel=1e-5)
        assert residuals[row] == pytest.approx(residual, rel=1e-5, abs=1e-9)
    assert sum(b["rows"] for b in r["bins"]) == 5000
    means = [b["mean_residual"] for b in r["bins"]]
    assert means[0] < 0 < means[-1]  # the bias the data has, at each end
    again = model_curves(
        y,
        predictions,
        predictions,
        task="regression",
        classes=[],
        threshold=None,
        probabilities=False,
        basis="cv",
        seed=7,
    )
    assert again == c  # the sample is the same run after run


def test_the_charts_are_inline_svg_with_named_axes_and_escaped_labels() -> None:
    from mlready import charts

    y, scores = _binary(500)
    c = model_curves(
        y,
        scores,
        None,
        task="classification",
        classes=["<No>", "Yes & more"],
        threshold=0.5,
        probabilities=True,
        basis="cv",
    )
    roc = charts.curves(
        [("model", c["roc"]["fpr"], c["roc"]["tpr"])],
        title="ROC curve",
        xlabel="false positive rate",
        ylabel="true positive rate",
        reference=([0, 1], [0, 1], "chance"),
        marks=[(0.2, 0.6, "threshold 0.5")],
    )
    assert roc.startswith("<svg")
    assert "false positive rate" in roc
    assert "threshold 0.5" in roc
    matrix = charts.confusion(c["confusion"]["matrix"], c["confusion"]["classes"], "at 0.5")
    assert "&lt;No&gt;" in matrix
    assert "Yes &amp; more" in matrix
    assert "<No>" not in matrix
    assert "predicted" in matrix
    assert "actual" in matrix
    cal = c["calibration"]
    assert "observed positive rate" in charts.reliability(
        cal["predicted"], cal["observed"], cal["rows"]
    )
    assert "residual (actual" in charts.residuals([1.0, 2.0], [0.5, -0.5], [])


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.30000000000000004, "0.3"),
        (0.030511586180091473, "0.03051"),
        (1e-05, "1e-05"),
        (7, "7"),
        (1.0, "1.0"),
        ("auto", "auto"),
        (None, "None"),
        (True, "True"),
        (123456.789, "123,457"),
        ([0.1 + 0.2, 3], "[0.3, 3]"),
    ],
)
def test_hyperparameters_are_shown_rounded(value: object, shown: str) -> None:
    assert parameter(value) == shown


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0.0, "0"),
        (1.0, "1"),
        (np.float64(3.0), "3"),
        (np.int64(2), "2"),
        (2.5, "2.5"),
        ("01234", "01234"),
        ("Month-to-month", "Month-to-month"),
        (True, "True"),
    ],
)
def test_slice_labels_are_written_as_the_data_writes_them(value: object, label: str) -> None:
    assert value_label(value) == label
