"""mlready train end to end on small projects: artifacts, exit codes, bad specs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import joblib
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlready.model_format import TRUSTED_TYPES, ModelPolicy, load_model
from mlready.runs import read_run_log
from tests.conftest import CliResult
from tests.training_data import toy_frame, write_project

Run = Callable[..., CliResult]


def _run_dir(result: CliResult) -> Path:
    match = re.search(r"run folder: (\S+)", result.stdout)
    assert match, result.stdout
    return Path(match.group(1))


def _train(run_cli: Run, folder: Path, *args: str) -> CliResult:
    return run_cli("--spec", str(folder), "train", *args)


def test_train_writes_every_artifact(tmp_path: Path, run_cli: Run) -> None:
    write_project(
        tmp_path,
        validation="  cv: {strategy: time_series, folds: 3, gap: 5}\n"
        "  holdout: {start: 2025-11-01}\n"
        "  metrics: [roc_auc, f1]\n"
        "  thresholds: {roc_auc: 0.7}\n"
        "  slices: [{name: plan, column: plan}, {name: tenure, column: tenure, bins: [12, 36]}]\n",
        extra="business:\n"
        "  true_positive: {column: monthly_charges, multiplier: 2, constant: -10}\n"
        "  false_positive: -10\n",
    )
    result = _train(run_cli, tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    folder = _run_dir(result)
    for name in ("model.skops", "metadata.json", "reference_profile.json", "training.html"):
        assert (folder / name).is_file(), name
    assert not (folder / "model.joblib").exists()  # no pickle unless asked for
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["passed"] is True
    digest = hashlib.sha256((folder / "model.skops").read_bytes()).hexdigest()
    assert meta["artifact"]["sha256"] == digest
    assert meta["artifact"]["format"] == "skops"
    # the types the file holds beyond skops' defaults: mlready's own functions among them
    assert "mlready.training.pipeline.to_text" in meta["artifact"]["trusted_types"]
    assert set(meta["artifact"]["trusted_types"]) <= set(TRUSTED_TYPES)
    assert meta["environment"]["packages"]["skops"]
    for key in (
        "features",
        "target",
        "model",
        "validation",
        "business",
        "training_seconds",
        "author",
        "created_at",
        "environment",
        "data",
        "spec",
        "input_example",
        "decision_threshold",
    ):
        assert meta[key] not in (None, {}, []), key
    assert meta["features"]["numeric"] == ["tenure", "monthly_charges"]
    assert meta["features"]["categorical"] == ["plan", "region"]
    assert meta["environment"]["packages"]["scikit-learn"]
    assert (
        meta["data"]["fingerprint"]
        == hashlib.sha256(b"train.csv" + (tmp_path / "data" / "train.csv").read_bytes()).hexdigest()
    )
    assert meta["validation"]["judged_on"] == "holdout"
    assert [s["name"] for s in meta["validation"]["slices"]["holdout"]] == ["plan", "tenure"]
    tenure_groups = [g["group"] for g in meta["validation"]["slices"]["cv"][1]["groups"]]
    assert tenure_groups == ["< 12", "12 to < 36", ">= 36"]
    for fold in meta["validation"]["per_fold"]:
        assert fold["train_period"][1] <= fold["validation_period"][0]
    business = meta["business"]
    assert business["cv"]["best_threshold"]["value"] >= business["cv"]["default_threshold"]["value"]
    assert meta["decision_threshold"] == business["decision_threshold"]
    # the model loads from its skops bytes and predicts its own input example
    model = load_model((folder / "model.skops").read_bytes(), "skops", ModelPolicy(), "run")
    example = pd.DataFrame(meta["input_example"])
    assert model.predict_proba(example).shape == (len(example), 2)
    profile = json.loads((folder / "reference_profile.json").read_text())
    assert set(profile["columns"]) == {"tenure", "monthly_charges", "plan", "region"}
    assert profile["columns"]["plan"]["kind"] == "categorical"
    assert sum(profile["columns"]["tenure"]["counts"]) == meta["data"]["training_rows"]
    assert "score" in profile["prediction"]
    html = (folder / "training.html").read_text()
    assert "<svg" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # self-contained
    # the artifact is the final fit of the pool: the holdout metrics are sklearn's on its scores
    frame = pd.read_csv(tmp_path / "data" / "train.csv")
    held = frame[frame["month"] >= "2025-11-01"]
    scores = model.predict_proba(held[meta["features"]["numeric"] + ["plan", "region"]])[:, 1]
    expected = roc_auc_score((held["churn"] == "Yes").astype(int), scores)
    assert meta["validation"]["holdout_metrics"]["roc_auc"] == pytest.approx(expected, abs=1e-12)
    # feature contribution: on the holdout rows, the sample and the shuffles stated
    method = meta["feature_contribution_method"]
    assert method["basis"] == "holdout"
    assert method["rows"] == method["held_out_rows"] == len(held)
    assert method["repeats"] == 5
    assert {c["feature"] for c in meta["feature_contribution"]} == set(profile["columns"])
    assert f"on {len(held):,} holdout rows (with the final model)" in html
    assert "5 shuffles per feature" in html
    # the phases' seconds, in the metadata and the report
    assert {"read", "validate", "leakage", "fits", "analysis", "importance"} <= set(meta["timings"])
    assert "Where the time went" in html
    assert "cross-validation, final fit and baselines" in html
    record = read_run_log(tmp_path / ".mlready", "train")[-1]
    assert record.status == "passed"
    assert record.summary["model_sha256"] == digest
    assert record.summary["model_format"] == "skops"
    assert record.artifacts["model.skops"] == digest


def test_missed_threshold_exits_1_and_marks_the_artifacts(tmp_path: Path, run_cli: Run) -> None:
    write_project(
        tmp_path,
        validation="  cv: {folds: 3}\n  metrics: [roc_auc]\n  thresholds: {roc_auc: 0.99}\n",
    )
    result = _train(run_cli, tmp_path)
    assert result.exit_code == 1
    assert "roc_auc is" in result.stdout
    assert "must be at least 0.99" in result.stdout
    folder = _run_dir(result)
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["passed"] is False
    assert meta["failures"]
    assert read_run_log(tmp_path / ".mlready", "train")[-1].status == "failed"


def test_no_better_than_dummy_fails(tmp_path: Path, run_cli: Run) -> None:
    frame = toy_frame()
    frame["churn"] = frame["churn"].sample(frac=1.0, random_state=5).to_numpy()  # no signal
    write_project(tmp_path, frame=frame, validation="  cv: {folds: 3}\n  metrics: [roc_auc]\n")
    result = _train(run_cli, tmp_path, "--no-importance")
    assert result.exit_code == 1
    assert "no better than a dummy model" in result.stdout


def test_invalid_training_data_stops_before_fitting(tmp_path: Path, run_cli: Run) -> None:
    write_project(
        tmp_path,
        extra="expectations:\n  columns:\n    tenure: {min: 0, max: 10}\n",
    )
    result = _train(run_cli, tmp_path)
    assert result.exit_code == 1
    assert "nothing was fitted" in result.stdout
    folder = next((tmp_path / ".mlready" / "runs" / "train").iterdir())
    assert (folder / "validation.html").is_file()
    assert not (folder / "model.skops").exists()


@pytest.mark.parametrize(
    ("model", "frame_change", "code", "message"),
    [
        ("  estimator: sklearn.ensemble.NoSuchForest\n", None, 3, "has no 'NoSuchForest'"),
        (
            "  estimator: sklearn.linear_model.LogisticRegression\n  params: {depth: 3}\n",
            None,
            3,
            "takes no parameter 'depth'",
        ),
        ("  estimator: sklearn.linear_model.LinearRegression\n", None, 3, "is a regressor"),
        (None, "drop_target", 4, "the target data.target 'churn' is not a column"),
        (None, "one_class", 4, "has one value only"),
        (None, "missing_feature", 4, "'plan' is not a column of the training data"),
    ],
)
def test_bad_specs_exit_with_a_clear_message(
    tmp_path: Path,
    run_cli: Run,
    model: str | None,
    frame_change: str | None,
    code: int,
    message: str,
) -> None:
    frame = toy_frame()
    extra_features = ""
    if frame_change == "drop_target":
        frame = frame.drop(columns=["churn"])
    elif frame_change == "one_class":
        frame["churn"] = "No"
    elif frame_change == "missing_feature":
        frame = frame.drop(columns=["plan"])
    write_project(tmp_path, frame=frame, **({"model": model} if model else {}))
    if frame_change == "missing_feature":
        spec = tmp_path / "mlready.yaml"
        spec.write_text(
            spec.read_text().replace(
                "  timestamp_column: month\n",
                "  timestamp_column: month\n  features: {numeric: [tenure], categorical: [plan]}\n",
            )
        )
    del extra_features
    result = _train(run_cli, tmp_path)
    assert result.exit_code == code, result.stdout + result.stderr
    assert message in (result.stderr if code != 1 else result.stdout)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def test_check_reproducible_and_json_output(tmp_path: Path, run_cli: Run) -> None:
    write_project(
        tmp_path,
        model="  estimator: sklearn.ensemble.RandomForestClassifier\n"
        "  params: {n_estimators: 20, max_depth: 4}\n",
        validation="  cv: {folds: 3}\n  metrics: [roc_auc]\n",
    )
    result = _train(
        run_cli, tmp_path, "--check-reproducible", "--format", "json", "--no-importance"
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    reproducibility = payload["metadata"]["reproducibility"]
    assert reproducibility["identical"] is True
    assert reproducibility["max_abs_prediction_diff"] == 0.0
    assert payload["metadata"]["feature_contribution"] is None


def test_regression_ensemble_and_halving_search(tmp_path: Path, run_cli: Run) -> None:
    frame = toy_frame(rows=500)
    frame["churn"] = frame["monthly_charges"] * 2 + frame["tenure"]  # a number to predict
    write_project(
        tmp_path,
        frame=frame,
        model="  ensemble:\n"
        "    kind: voting\n"
        "    members:\n"
        "      - {name: ridge, estimator: sklearn.linear_model.Ridge}\n"
        "      - {name: gbm, estimator: sklearn.ensemble.HistGradientBoostingRegressor,"
        " params: {max_iter: 30}}\n"
        "  search:\n"
        "    method: halving\n"
        "    n_iter: 4\n"
        "    space: {ridge__alpha: {distribution: loguniform, low: 0.01, high: 10}}\n",
        validation="  cv: {strategy: kfold, folds: 3}\n  metrics: [rmse, r2]\n"
        "  thresholds: {r2: 0.5}\n",
        extra="business:\n  cost_per_unit_error: 0.5\n",
    )
    spec = tmp_path / "mlready.yaml"
    spec.write_text(spec.read_text().replace('  positive_class: "Yes"\n', ""))
    result = _train(run_cli, tmp_path, "--no-importance")
    assert result.exit_code == 0, result.stdout + result.stderr
    meta = json.loads((_run_dir(result) / "metadata.json").read_text())
    assert meta["task"] == "regression"
    assert meta["model"]["search"]["method"] == "halving"
    assert "ridge__alpha" in meta["model"]["search"]["best_params"]
    assert meta["business"]["cv_value"] < 0
    assert meta["validation"]["cv"]["r2"]["mean"] > 0.9


def test_sample_project_trains_a_model_that_beats_the_baseline(demo_project: Path) -> None:
    """The sample project's train as `make demo` runs it: the session's demo project's (its
    pipeline stops at the first step that fails), read rather than trained again."""
    [record] = read_run_log(demo_project / ".mlready", "train")
    assert record.status == "passed"
    meta = json.loads((demo_project / ".mlready" / record.run_dir / "metadata.json").read_text())
    dummy = next(b for b in meta["validation"]["baselines"] if b["kind"] == "dummy")
    assert dummy["verdict"] == "model better"
    business = meta["business"]
    assert business["cv"]["best_threshold"]["value"] > business["cv"]["default_threshold"]["value"]
    assert 0 < meta["decision_threshold"] < 1
    search = meta["model"]["search"]
    assert (search["method"], search["evaluated"]) == ("halving", 8)
    assert [r["candidates"] for r in search["rounds"]] == [8, 3]


def test_multiclass_target_without_business(tmp_path: Path, run_cli: Run) -> None:
    frame = toy_frame(rows=450)
    frame["churn"] = frame["plan"].where(frame.index % 7 != 0, "basic")  # three classes
    write_project(
        tmp_path,
        frame=frame.drop(columns=["plan"]),
        validation="  cv: {folds: 3}\n  holdout: {start: 2025-11-01}\n  metrics: [roc_auc, f1]\n"
        "  slices: [{name: region, column: region}]\n",
    )
    spec = tmp_path / "mlready.yaml"
    spec.write_text(spec.read_text().replace('  positive_class: "Yes"\n', ""))
    result = _train(run_cli, tmp_path)
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    meta = json.loads((_run_dir(result) / "metadata.json").read_text())
    assert meta["classes"] == ["basic", "max", "pro"]
    assert meta["decision_threshold"] is None
    assert meta["business"] is None
    assert meta["validation"]["slices"]["holdout"][0]["groups"]


def test_train_reuses_a_validation_of_the_same_bytes_only(tmp_path: Path, run_cli: Run) -> None:
    write_project(tmp_path, validation="  cv: {folds: 3}\n  metrics: [roc_auc]\n")
    spec = str(tmp_path)

    def validated_by(*args: str) -> str | None:
        result = _train(run_cli, tmp_path, "--no-importance", *args)
        assert result.exit_code == 0, result.stdout + result.stderr
        meta = json.loads((_run_dir(result) / "metadata.json").read_text())
        return meta["data"]["validation"]["validated_by_run"]

    assert validated_by() is None  # no validate-data run yet
    assert run_cli("--spec", spec, "validate-data").exit_code == 0
    run_id = read_run_log(tmp_path / ".mlready", "validate-data")[-1].run_id
    assert validated_by() == run_id
    assert validated_by("--revalidate") is None
    data = tmp_path / "data" / "train.csv"
    data.write_text(data.read_text().replace("Yes", "No", 1))  # other bytes, same row count
    assert validated_by() is None
    assert run_cli("--spec", spec, "validate-data").exit_code == 0
    spec_file = tmp_path / "mlready.yaml"
    spec_file.write_text(spec_file.read_text() + "expectations:\n  unexpected_columns: allow\n")
    assert validated_by() is None  # another contract


HGB = "  estimator: sklearn.ensemble.HistGradientBoostingClassifier\n  params: {max_iter: 20}\n"
CV3 = "  cv: {folds: 3}\n  metrics: [roc_auc]\n"


def _nothing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


@pytest.mark.parametrize(
    ("case", "model", "validation", "extra", "change", "code", "message"),
    [
        (
            "all-missing column, HGB",
            HGB,
            CV3,
            "",
            lambda f: f.assign(empty=float("nan")),
            0,
            "features without any value are left out",
        ),
        (
            "date text is no feature",
            None,
            CV3,
            "",
            lambda f: f.assign(seen="2025-01-0" + (f.index % 9 + 1).astype(str)),
            0,
            "date/time columns are not used as features: seen",
        ),
        (
            "infinite feature",
            None,
            CV3,
            "",
            lambda f: f.assign(tenure=f["tenure"].astype(float).where(f.index != 3, float("inf"))),
            4,
            "feature 'tenure' holds 1 infinite values",
        ),
        (
            "hard voting",
            "  ensemble:\n    kind: voting\n    voting: hard\n    members:\n"
            "      - {name: lr, estimator: sklearn.linear_model.LogisticRegression}\n"
            "      - {name: tree, estimator: sklearn.tree.DecisionTreeClassifier,"
            " params: {max_depth: 3}}\n",
            "  cv: {folds: 3}\n  metrics: [accuracy]\n",
            "",
            _nothing,
            0,
            "PASSED",
        ),
        (
            "soft voting without probabilities",
            "  ensemble:\n    kind: voting\n    members:\n"
            "      - {name: lr, estimator: sklearn.linear_model.LogisticRegression}\n"
            "      - {name: svc, estimator: sklearn.svm.SVC}\n",
            CV3,
            "",
            _nothing,
            3,
            "'svc' has no predict_proba, which soft voting needs",
        ),
        (
            "stacking, default final estimator",
            "  ensemble:\n    kind: stacking\n    members:\n"
            "      - {name: lr, estimator: sklearn.linear_model.LogisticRegression}\n"
            "      - {name: tree, estimator: sklearn.tree.DecisionTreeClassifier,"
            " params: {max_depth: 3}}\n",
            "  cv: {folds: 3}\n  metrics: [roc_auc, log_loss]\n",
            "",
            _nothing,
            0,
            "PASSED",
        ),
        (
            "business column typo",
            None,
            CV3,
            "business:\n  true_positive: {column: monthly_charge}\n",
            _nothing,
            4,
            "business.true_positive.column 'monthly_charge' is not a column",
        ),
        (
            "business text column",
            None,
            CV3,
            "business:\n  true_positive: {column: plan}\n",
            _nothing,
            4,
            "holds text, not amounts",
        ),
        (
            "regression business on a classifier",
            None,
            CV3,
            "business:\n  cost_per_unit_error: 2\n",
            _nothing,
            3,
            "is for regression",
        ),
        (
            "threshold on a regression metric",
            None,
            "  cv: {folds: 3}\n  thresholds: {rmse: 1}\n",
            "",
            _nothing,
            3,
            "validation.thresholds ['rmse'] do not fit a classification target",
        ),
        (
            "holdout on a text column",
            None,
            CV3 + "  holdout: {start: 2025-06-01, column: plan}\n",
            "",
            _nothing,
            4,
            "validation.holdout.column 'plan' holds no dates",
        ),
        (
            "bins on a text column",
            None,
            CV3 + "  slices: [{name: p, column: plan, bins: [1]}]\n",
            "",
            _nothing,
            4,
            "bins need a numeric column",
        ),
        (
            "invalid parameter value",
            "  estimator: sklearn.ensemble.RandomForestClassifier\n  params: {n_estimators: -1}\n",
            CV3,
            "",
            _nothing,
            3,
            "n_estimators",
        ),
        (
            "categorical_features set by hand",
            HGB.rstrip("}\n") + ", categorical_features: [plan]}\n",
            CV3,
            "",
            _nothing,
            3,
            "remove categorical_features",
        ),
        (
            "too few rows for the neighbours",
            "  estimator: sklearn.neighbors.KNeighborsClassifier\n  params: {n_neighbors: 500}\n",
            CV3,
            "",
            _nothing,
            4,
            "the model could not be trained on this data",
        ),
    ],
)
def test_awkward_inputs_end_cleanly(
    tmp_path: Path,
    run_cli: Run,
    case: str,
    model: str | None,
    validation: str,
    extra: str,
    change: Callable[[pd.DataFrame], pd.DataFrame],
    code: int,
    message: str,
) -> None:
    frame = change(toy_frame())
    kwargs = {"model": model} if model else {}
    write_project(tmp_path, frame=frame, validation=validation, extra=extra, **kwargs)
    result = _train(run_cli, tmp_path, "--no-importance")
    assert result.exit_code == code, (case, result.stdout, result.stderr)
    if code == 0:
        folder = _run_dir(result)
        meta = json.loads((folder / "metadata.json").read_text())
        assert message in result.stdout or any(message in n for n in meta["notes"]), case
    else:
        assert message in result.stderr, (case, result.stderr)
        assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # error, hint


def test_nullable_integers_from_parquet_and_decision_function_threshold(
    tmp_path: Path, run_cli: Run
) -> None:
    frame = toy_frame()
    frame["visits"] = pd.array([None if i % 5 == 0 else i % 7 for i in range(len(frame))], "Int64")
    write_project(tmp_path, frame=frame, model=HGB, validation=CV3)
    frame.to_parquet(tmp_path / "data" / "train.parquet")
    spec = tmp_path / "mlready.yaml"
    spec.write_text(spec.read_text().replace("train.csv", "train.parquet"))
    assert _train(run_cli, tmp_path, "--no-importance").exit_code == 0

    write_project(
        tmp_path / "svc",
        model="  estimator: sklearn.svm.SVC\n",
        validation="  cv: {folds: 3}\n  metrics: [roc_auc, accuracy]\n",
    )
    result = _train(run_cli, tmp_path / "svc", "--no-importance")
    assert result.exit_code == 0, result.stdout + result.stderr
    meta = json.loads((_run_dir(result) / "metadata.json").read_text())
    assert meta["decision_threshold"] == 0.0  # decision_function scores: sklearn cuts at 0


def test_a_target_proxy_fails_training_and_names_the_fix(tmp_path: Path, run_cli: Run) -> None:
    frame = toy_frame()
    # a status recorded after the outcome: one category per class, a few rows the other way
    status = frame["churn"].map({"Yes": "closed", "No": "open"})
    status.iloc[:3] = "open"
    frame["account_status"] = status
    write_project(tmp_path, frame=frame, validation="  cv: {folds: 3}\n  metrics: [roc_auc]\n")
    result = _train(run_cli, tmp_path, "--no-importance")
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    assert "feature 'account_status' alone predicts the target" in text
    assert "data.forbidden_columns" in text
    meta = json.loads((_run_dir(result) / "metadata.json").read_text())
    assert [p["feature"] for p in meta["leakage"]["target_proxies"]] == ["account_status"]
    assert meta["passed"] is False


def test_rows_left_out_are_said_and_too_many_fail(tmp_path: Path, run_cli: Run) -> None:
    frame = toy_frame()  # 600 rows
    frame.loc[:17, "churn"] = None  # 18 rows, 3%: under the default 5%
    folder = write_project(tmp_path / "few", frame=frame, validation=CV3)
    result = _train(run_cli, folder, "--no-importance")
    assert result.exit_code == 0, result.stderr
    said = "18 of 600 rows (3.0%) without a value of 'churn' were left out of training"
    assert said in result.stdout
    assert said.replace("'", "&#39;") in (_run_dir(result) / "training.html").read_text()
    frame.loc[:99, "churn"] = None  # 100 rows, 17%
    folder = write_project(tmp_path / "many", frame=frame, validation=CV3)
    result = _train(run_cli, folder, "--no-importance")
    assert result.exit_code == 4
    assert (
        "100 of 600 training rows (17%) have no value of 'churn', over data.max_dropped_share (5%)"
        in result.stderr
    )
    spec = folder / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace("target: churn", "target: churn\n  max_dropped_share: 0.2")
    )
    assert _train(run_cli, folder, "--no-importance").exit_code == 0


# --------------------------------------------------------------------------------------------------
# how the model is stored: skops with trusted types, joblib (pickle) only when asked for
# --------------------------------------------------------------------------------------------------


def test_allow_pickle_stores_joblib_and_says_so(tmp_path: Path, run_cli: Run) -> None:
    write_project(tmp_path, validation=CV3)
    result = _train(run_cli, tmp_path, "--no-importance", "--allow-pickle")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "model stored as model.joblib (pickle)" in result.stdout
    folder = _run_dir(result)
    assert not (folder / "model.skops").exists()
    meta = json.loads((folder / "metadata.json").read_text())
    digest = hashlib.sha256((folder / "model.joblib").read_bytes()).hexdigest()
    assert meta["artifact"] == {
        "file": "model.joblib",
        "sha256": digest,
        "bytes": (folder / "model.joblib").stat().st_size,
        "format": "joblib",
    }
    model = joblib.load(folder / "model.joblib")
    assert model.predict_proba(pd.DataFrame(meta["input_example"])).shape == (5, 2)
    record = read_run_log(tmp_path / ".mlready", "train")[-1]
    assert record.summary["model_format"] == "joblib"
    assert record.artifacts["model.joblib"] == digest
    # registered as it is, and served only with --allow-pickle
    result = run_cli("--spec", str(tmp_path), "register", "--promote", "production")
    assert result.exit_code == 0, result.stderr
    assert "toy:1 is stored as joblib (pickle)" in result.stdout
    batch = toy_frame(50).drop(columns=["churn"])
    batch.to_csv(tmp_path / "batch.csv", index=False)
    serve = ("--spec", str(tmp_path), "serve-batch", "-i", str(tmp_path / "batch.csv"))
    result = run_cli(*serve, "-o", str(tmp_path / "refused.csv"))
    assert result.exit_code == 4
    assert result.stderr.strip().splitlines() == [
        "error: refusing to load toy:1: it is stored as joblib (pickle), which runs code from "
        "the file when it loads: pass --allow-pickle (or set model.allow_pickle: true in the "
        "spec) if you trust it, or train and register it again to store it as skops"
    ]
    assert not (tmp_path / "refused.csv").exists()
    result = run_cli(*serve, "-o", str(tmp_path / "scored.csv"), "--allow-pickle")
    assert result.exit_code == 0, result.stderr
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 50
    # the spec key asks for the same
    spec = tmp_path / "mlready.yaml"
    spec.write_text(spec.read_text().replace("model:\n", "model:\n  allow_pickle: true\n", 1))
    result = _train(run_cli, tmp_path, "--no-importance")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (_run_dir(result) / "model.joblib").is_file()


KNN = "  estimator: sklearn.neighbors.KNeighborsClassifier\n  params: {algorithm: kd_tree}\n"
KNN_TYPES = (
    "  trusted_types: [sklearn.neighbors._kd_tree.KDTree, "
    "sklearn.metrics._dist_metrics.EuclideanDistance64]\n"
)


def test_a_model_holding_types_nobody_trusted_is_not_written(tmp_path: Path, run_cli: Run) -> None:
    from mlready.errors import DataError
    from mlready.registry import Registry, open_registry
    from mlready.spec import load_spec

    write_project(tmp_path, model=KNN, validation=CV3)
    result = _train(run_cli, tmp_path, "--no-importance")
    assert result.exit_code == 4, result.stdout + result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "sklearn.neighbors._kd_tree.KDTree" in message
    assert "model.trusted_types" in message
    assert "--allow-pickle" in message
    folder = next((tmp_path / ".mlready" / "runs" / "train").iterdir())
    assert not (folder / "model.skops").exists()
    assert not (folder / "metadata.json").exists()
    # the project lists them after review: train writes the model, and loading trusts them
    write_project(tmp_path, model=KNN + KNN_TYPES, validation=CV3)
    result = _train(run_cli, tmp_path, "--no-importance")
    assert result.exit_code == 0, result.stdout + result.stderr
    meta = json.loads((_run_dir(result) / "metadata.json").read_text())
    assert "sklearn.neighbors._kd_tree.KDTree" in meta["artifact"]["trusted_types"]
    assert run_cli("--spec", str(tmp_path), "register").exit_code == 0
    registry = open_registry(load_spec(tmp_path))
    version = registry.list_versions("toy")[-1]
    model = registry.load(version)
    assert model.predict_proba(pd.DataFrame(meta["input_example"])).shape == (5, 2)
    # a registry whose policy does not list them (another project's spec) refuses it
    with pytest.raises(DataError, match=r"refusing to load toy:1: .*KDTree"):
        Registry(registry.url, registry.store).load(version)


def test_progress_names_the_phase_and_its_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    from rich.console import Console

    from mlready.cli import train as command
    from mlready.cli.state import CliState

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    monkeypatch.setattr(CliState, "interactive", property(lambda self: True))
    monkeypatch.setattr(command, "err", lambda: console)
    with command._progress() as update:
        assert update is not None
        update("Cross-validating, fitting the model", 0, 100)
        time.sleep(0.2)
        update("Cross-validating, fitting the model", 40, 100)
        time.sleep(0.2)
        update("Cross-validating, fitting the model", 60, 100)
        update("Measuring feature contribution on the holdout", 3, 28)
    shown = buffer.getvalue()
    assert "Cross-validating, fitting the model" in shown
    assert "Measuring feature contribution on the holdout" in shown
    assert "left" in shown
    assert re.search(r"\b60%", shown)
    assert re.search(r"left \d+:\d\d:\d\d", shown)  # an estimate once the phase has a pace


def test_quiet_or_piped_shows_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlready.cli import train as command
    from mlready.cli.state import CliState

    monkeypatch.setattr(CliState, "interactive", property(lambda self: False))
    with command._progress() as update:
        assert update is None
