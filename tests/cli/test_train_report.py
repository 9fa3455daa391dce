"""The training report answers the questions it raises: curves and the confusion matrix of a
classifier, residuals of a regressor (numbers: sklearn.metrics' on the run's own predictions),
slices below the bar marked, hyperparameters rounded, slice groups as the data writes them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    mean_squared_error,
    roc_auc_score,
)

from mlready.model_format import ModelPolicy, load_model
from tests.conftest import CliResult
from tests.training_data import toy_frame, write_project

Run = Callable[..., CliResult]


def _run_dir(result: CliResult) -> Path:
    match = re.search(r"run folder: (\S+)", result.stdout)
    assert match, result.stdout + result.stderr
    return Path(match.group(1))


def _segmented(rows: int = 900) -> pd.DataFrame:
    """The toy customers, with churn that the features explain in the north only (the south
    churns at random: its slice is below the bar) and a segment coded 0, 1, 2 with gaps
    (pandas reads it as floats)."""
    frame = toy_frame(rows=rows, seed=4)
    rng = np.random.default_rng(4)
    south = frame["region"] == "south"
    frame.loc[south, "churn"] = np.where(rng.random(int(south.sum())) < 0.35, "Yes", "No")
    segment = pd.Series(rng.integers(0, 3, rows), dtype="float64")
    segment[rng.random(rows) < 0.05] = np.nan
    frame["segment"] = segment
    return frame


def test_a_binary_classifier_report_has_curves_marks_and_round_numbers(
    tmp_path: Path, run_cli: Run
) -> None:
    write_project(
        tmp_path,
        frame=_segmented(),
        model="  estimator: sklearn.linear_model.LogisticRegression\n"
        "  params: {max_iter: 500}\n"
        "  search:\n"
        "    method: random\n"
        "    n_iter: 3\n"
        "    space: {C: {distribution: loguniform, low: 0.01, high: 10}}\n",
        validation="  cv: {strategy: time_series, folds: 3}\n"
        "  holdout: {start: 2025-10-01}\n"
        "  metrics: [roc_auc, average_precision]\n"
        "  thresholds: {roc_auc: 0.62}\n"
        "  baselines: [dummy]\n"
        "  slices: [{name: region, column: region}, {name: segment, column: segment}]\n",
        extra="business:\n  true_positive: 50\n  false_positive: -10\n",
    )
    result = run_cli("--spec", str(tmp_path), "train", "--no-importance")
    assert result.exit_code == 0, result.stdout + result.stderr
    folder = _run_dir(result)
    meta = json.loads((folder / "metadata.json").read_text())
    curves = meta["validation"]["curves"]
    assert (curves["kind"], curves["basis"]) == ("binary", "holdout")

    # the numbers are sklearn's on the holdout predictions of the model the run wrote
    frame = pd.read_csv(tmp_path / "data" / "train.csv")
    held = frame[frame["month"] >= "2025-10-01"]
    model = load_model((folder / "model.skops").read_bytes(), "skops", ModelPolicy(), "run")
    features = meta["features"]["numeric"] + meta["features"]["categorical"]
    scores = model.predict_proba(held[features])[:, 1]
    y = (held["churn"] == "Yes").astype(int).to_numpy()
    assert curves["rows"] == len(held)
    assert curves["roc"]["auc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-9)
    assert curves["roc"]["auc"] == pytest.approx(meta["validation"]["holdout_metrics"]["roc_auc"])
    assert curves["pr"]["average_precision"] == pytest.approx(
        average_precision_score(y, scores), abs=1e-9
    )
    threshold = meta["decision_threshold"]
    assert curves["threshold"] == threshold == meta["business"]["decision_threshold"]
    expected = confusion_matrix(y, (scores >= threshold).astype(int), labels=[0, 1])
    assert curves["confusion"]["matrix"] == expected.tolist()
    assert curves["confusion"]["classes"] == ["No", "Yes"]
    assert sum(curves["calibration"]["rows"]) == len(held)

    html = (folder / "training.html").read_text()
    for section in (
        "Curves and confusion matrix",
        "ROC curve",
        "Precision-recall curve",
        "Calibration (reliability)",
        f"Confusion matrix at threshold {threshold:.3g}",
        "false positive rate",
        "mean predicted probability",
    ):
        assert section in html, section
    (_tn, fp), (_fn, tp) = expected
    assert f"{tp + fp:,} of the {len(held):,} rows are predicted Yes" in html

    # slices: the south (random churn) is below the bar, and marked; segments read 0, 1, 2
    slices = {s["name"]: s for s in meta["validation"]["slices"]["holdout"]}
    region = {g["group"]: g for g in slices["region"]["groups"]}
    assert region["south"]["metrics"]["roc_auc"] < 0.62 <= region["north"]["metrics"]["roc_auc"]
    assert (region["south"]["below_bar"], region["north"]["below_bar"]) == (["roc_auc"], [])
    assert "1 of 2 groups below the bar: “south”." in html
    assert html.count("▼ below the bar") == sum(
        bool(g["below_bar"]) for s in slices.values() for g in s["groups"]
    ) + sum(bool(g["below_bar"]) for s in meta["validation"]["slices"]["cv"] for g in s["groups"])
    segments = [g["group"] for g in slices["segment"]["groups"]]
    assert segments == ["0", "1", "2", "(missing)"]
    assert "<td>0.0" not in html
    assert "<td>1.0" not in html

    # hyperparameters: rounded in the report, exact in the metadata
    best = meta["model"]["search"]["best_params"]["C"]
    assert len(repr(best)) > 8  # a loguniform draw has every digit ...
    assert f"C={float(f'{best:.4g}'):.4g}</code>" in html  # ... the report shows four
    assert not re.search(r"=\d+\.\d{6,}", html)


def test_a_regressor_report_shows_residuals_against_predictions(
    tmp_path: Path, run_cli: Run
) -> None:
    frame = toy_frame(rows=500)
    frame["churn"] = frame["monthly_charges"] * 2 + frame["tenure"] ** 1.5  # a number
    write_project(
        tmp_path,
        frame=frame,
        model="  estimator: sklearn.linear_model.Ridge\n",
        validation="  cv: {strategy: kfold, folds: 3}\n  metrics: [rmse, r2]\n"
        "  thresholds: {r2: 0.5}\n",
    )
    spec = tmp_path / "mlready.yaml"
    spec.write_text(spec.read_text().replace('  positive_class: "Yes"\n', ""))
    result = run_cli("--spec", str(spec), "train", "--no-importance")
    assert result.exit_code == 0, result.stdout + result.stderr
    folder = _run_dir(result)
    meta = json.loads((folder / "metadata.json").read_text())
    curves = meta["validation"]["curves"]
    assert (curves["kind"], curves["basis"], curves["rows"]) == ("regression", "cv", 500)
    r = curves["residuals"]
    assert r["shown"] == 500
    assert len(r["prediction"]) == 500
    # the residuals are the out-of-fold ones: their RMSE is the folds' RMSE pooled
    folds = meta["validation"]["per_fold"]
    pooled = np.sqrt(sum(f["metrics"]["rmse"] ** 2 * f["validation_rows"] for f in folds) / 500)
    residual = np.asarray(r["residual"])
    assert np.sqrt(np.mean(residual**2)) == pytest.approx(pooled, rel=1e-4)
    assert np.sqrt(mean_squared_error(np.zeros(500), residual)) == pytest.approx(pooled, rel=1e-4)
    assert r["mean"] == pytest.approx(residual.mean(), abs=1e-3)
    html = (folder / "training.html").read_text()
    assert "<h2>Residuals</h2>" in html
    assert "residual (actual" in html
    assert "prediction" in html
    assert "Curves and confusion matrix" not in html


def test_a_multiclass_report_has_its_confusion_matrix(tmp_path: Path, run_cli: Run) -> None:
    frame = toy_frame(rows=450)
    frame["churn"] = frame["plan"].where(frame.index % 7 != 0, "basic")  # three classes
    write_project(
        tmp_path,
        frame=frame.drop(columns=["plan"]),
        validation="  cv: {folds: 3}\n  metrics: [roc_auc, f1]\n",
    )
    spec = tmp_path / "mlready.yaml"
    spec.write_text(spec.read_text().replace('  positive_class: "Yes"\n', ""))
    result = run_cli("--spec", str(spec), "train", "--no-importance")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    meta = json.loads((_run_dir(result) / "metadata.json").read_text())
    curves = meta["validation"]["curves"]
    assert curves["kind"] == "multiclass"
    assert curves["confusion"]["classes"] == ["basic", "max", "pro"]
    assert np.sum(curves["confusion"]["matrix"]) == curves["rows"] == 450
    assert {p["class"] for p in curves["per_class"]} == {"basic", "max", "pro"}
    html = (_run_dir(result) / "training.html").read_text()
    assert "Confusion matrix (the most probable class)" in html
    assert "ROC, each class against the rest" in html
