"""The training library: metrics against sklearn, folds, business value, leakage guards."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlready.errors import DataError, SpecError
from mlready.spec import load_spec
from mlready.training import business as bz
from mlready.training import evaluate as ev
from mlready.training import leakage, workers
from mlready.training.data import load_training_data
from mlready.training.metrics import compute_metrics
from mlready.training.pipeline import build_pipeline, to_text
from tests.training_data import toy_frame, write_project

# --------------------------------------------------------------------------------------------------
# metrics equal sklearn.metrics on the same predictions
# --------------------------------------------------------------------------------------------------


def test_binary_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    scores = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    labels = (scores >= 0.5).astype(int)
    names = [
        "roc_auc",
        "average_precision",
        "accuracy",
        "balanced_accuracy",
        "f1",
        "precision",
        "recall",
        "log_loss",
        "brier_score",
    ]
    got = compute_metrics(names, y, scores, labels, ["No", "Yes"])
    expected = {
        "roc_auc": skm.roc_auc_score(y, scores),
        "average_precision": skm.average_precision_score(y, scores),
        "accuracy": skm.accuracy_score(y, labels),
        "balanced_accuracy": skm.balanced_accuracy_score(y, labels),
        "f1": skm.f1_score(y, labels),
        "precision": skm.precision_score(y, labels),
        "recall": skm.recall_score(y, labels),
        "log_loss": skm.log_loss(y, scores),
        "brier_score": skm.brier_score_loss(y, scores),
    }
    for name in names:
        assert got[name] == pytest.approx(expected[name], abs=1e-12), name


def test_multiclass_and_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(2)
    classes = ["a", "b", "c"]
    y = rng.choice(classes, 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    labels = np.array(classes)[proba.argmax(axis=1)]
    got = compute_metrics(["roc_auc", "f1", "log_loss"], y, proba, labels, classes)
    assert got["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    )
    assert got["f1"] == pytest.approx(skm.f1_score(y, labels, average="macro"))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=classes))

    truth = rng.normal(100, 10, 200)
    predicted = truth + rng.normal(0, 3, 200)
    got = compute_metrics(["rmse", "mae", "r2", "mape"], truth, predicted, predicted, [])
    assert got["rmse"] == pytest.approx(skm.root_mean_squared_error(truth, predicted))
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(truth, predicted))
    assert got["r2"] == pytest.approx(skm.r2_score(truth, predicted))
    assert got["mape"] == pytest.approx(skm.mean_absolute_percentage_error(truth, predicted))


def test_undefined_metric_is_none_not_a_crash() -> None:
    got = compute_metrics(
        ["roc_auc", "f1"], np.ones(5, int), np.full(5, 0.7), np.ones(5, int), ["N", "Y"]
    )
    assert got["roc_auc"] is None  # one class only: undefined
    assert got["f1"] == 1.0


# --------------------------------------------------------------------------------------------------
# folds
# --------------------------------------------------------------------------------------------------


def _prepared(tmp_path: Path, validation: str, frame: pd.DataFrame | None = None) -> tuple:
    write_project(tmp_path, frame=frame, validation=validation)
    spec = load_spec(tmp_path).spec
    data = load_training_data(spec, pd.read_csv(tmp_path / "data" / "train.csv"))
    return spec, data


def test_time_ordered_folds_never_train_on_later_rows(tmp_path: Path) -> None:
    # a planted time leak: rows are shuffled in the file, so file order would mix the months
    frame = toy_frame(rows=900, shuffle=True)
    spec, data = _prepared(
        tmp_path,
        "  cv: {strategy: time_series, folds: 4, gap: 20}\n  holdout: {start: 2025-11-01}\n",
        frame,
    )
    moments = data.timestamps.to_numpy()
    splits = ev.folds(spec, data)
    assert len(splits) == 4
    for train, valid in splits:
        assert moments[train].max() <= moments[valid].min()
        assert valid.min() - train.max() - 1 >= 20  # the gap, in rows
        assert not set(train) & set(data.holdout_index)
        assert not set(valid) & set(data.holdout_index)
    assert moments[data.train_index].max() < moments[data.holdout_index].min()
    assert leakage.time_order(data, splits)["total"] == 0


def test_shuffled_folds_over_time_are_reported_as_leaking(tmp_path: Path) -> None:
    spec, data = _prepared(
        tmp_path, "  cv: {strategy: kfold, folds: 3}\n", toy_frame(rows=600, shuffle=True)
    )
    found = leakage.time_order(data, ev.folds(spec, data))
    assert found["total"] > 0
    messages = leakage.warnings_for({"total": 0, "validated": 1}, found)
    assert "older than rows their fold trained on" in messages[0]


def test_stratified_and_group_folds(tmp_path: Path) -> None:
    spec, data = _prepared(tmp_path, "  cv: {strategy: stratified_kfold, folds: 4}\n")
    splits = ev.folds(spec, data)
    rates = [data.y[valid].mean() for _, valid in splits]
    assert max(rates) - min(rates) < 0.02
    assert sorted(np.concatenate([v for _, v in splits]).tolist()) == list(range(len(data.frame)))

    frame = toy_frame()
    frame["household"] = [f"H{i // 3}" for i in range(len(frame))]
    spec, data = _prepared(
        tmp_path, "  cv: {strategy: group_kfold, folds: 3, group_column: household}\n", frame
    )
    for train, valid in ev.folds(spec, data):
        assert not set(data.groups[train]) & set(data.groups[valid])
    assert "household" not in data.numeric + data.categorical


def test_cross_validated_metrics_are_sklearns_on_the_fold_predictions(tmp_path: Path) -> None:
    spec, data = _prepared(tmp_path, "  cv: {strategy: stratified_kfold, folds: 3}\n")
    pipeline = build_pipeline(spec, data.task, data.numeric, data.categorical)
    splits = ev.folds(spec, data)
    result = ev.cross_validate(pipeline, data, splits, ["roc_auc", "brier_score"])
    for fold, (_, valid) in zip(result.folds, splits, strict=True):
        y, s = data.y[valid], result.scores[valid]
        assert fold.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
        assert fold.metrics["brier_score"] == pytest.approx(skm.brier_score_loss(y, s))


# --------------------------------------------------------------------------------------------------
# business value
# --------------------------------------------------------------------------------------------------


def test_business_value_equals_a_hand_computation() -> None:
    # six customers; positive when score >= 0.5: rows 0, 1, 3 -> TP, TP, FP; 2 FN; 4, 5 TN
    y = np.array([1, 1, 1, 0, 0, 0])
    scores = np.array([0.9, 0.6, 0.4, 0.7, 0.2, 0.1])
    charges = pd.DataFrame({"charges": [100.0, 50.0, 80.0, 60.0, 40.0, 30.0]})
    spec_business = {
        "true_positive": {"column": "charges", "multiplier": 2.0, "constant": -10},
        "false_positive": {"column": "charges", "multiplier": -0.5, "constant": -10},
        "true_negative": 0,
        "false_negative": {"constant": -5},
    }
    from mlready.spec.models import BusinessSection

    business = BusinessSection.model_validate(spec_business)
    amounts = bz.outcome_amounts(business, charges)
    at_half = bz.confusion_at(y, scores, amounts, 0.5)
    assert at_half.counts == {
        "true_positive": 2,
        "false_positive": 1,
        "true_negative": 2,
        "false_negative": 1,
    }
    # TP: (2*100-10) + (2*50-10) = 280; FP: -0.5*60-10 = -40; FN: -5; TN: 0
    assert at_half.value == pytest.approx(280 - 40 - 5)
    best = bz.optimise_threshold(y, scores, amounts, "USD")
    # threshold 0.4 adds row 2 as TP (2*80-10 = 150 instead of -5): 280 + 150 - 40 = 390
    assert best.best.threshold == pytest.approx(0.4)
    assert best.best.value == pytest.approx(390)
    assert best.default.value == pytest.approx(235)


def test_value_curve_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300), 2)  # many ties
    amounts = {
        "true_positive": rng.normal(50, 10, 300),
        "false_positive": rng.normal(-20, 5, 300),
        "true_negative": np.zeros(300),
        "false_negative": rng.normal(-5, 1, 300),
    }
    thresholds, values = bz.value_curve(y, scores, amounts)
    for t, v in zip(thresholds, values, strict=True):
        assert v == pytest.approx(bz.confusion_at(y, scores, amounts, t).value)
    best = bz.optimise_threshold(y, scores, amounts, "EUR")
    brute = max(bz.confusion_at(y, scores, amounts, t).value for t in np.unique(scores))
    assert best.best.value == pytest.approx(
        max(brute, bz.confusion_at(y, scores, amounts, 2).value)
    )
    for t, v in best.curve[::10]:
        assert v == pytest.approx(bz.confusion_at(y, scores, amounts, t).value)


# --------------------------------------------------------------------------------------------------
# data and pipeline
# --------------------------------------------------------------------------------------------------


def test_single_class_target_and_missing_feature_are_clear(tmp_path: Path) -> None:
    frame = toy_frame()
    frame["churn"] = "No"
    with pytest.raises(DataError, match="one value only"):
        _prepared(tmp_path, "  cv: {folds: 3}\n", frame)


def test_categories_read_the_same_as_int_or_float() -> None:
    one = to_text(pd.DataFrame({"x": [1, 2, 2]}))["x"].tolist()
    two = to_text(pd.DataFrame({"x": [1.0, 2.0, np.nan]}))["x"].tolist()
    assert one[:2] == two[:2] == ["1", "2"]
    assert pd.isna(two[2])


def test_hgb_uses_native_categories_and_linear_one_hot(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        model="  estimator: sklearn.ensemble.HistGradientBoostingClassifier\n"
        "  params: {max_iter: 20}\n",
    )
    spec = load_spec(tmp_path).spec
    pipeline = build_pipeline(spec, "classification", ["tenure"], ["plan", "region"])
    estimator = pipeline.named_steps["model"]
    assert estimator.categorical_features == [True, True, False]
    assert estimator.random_state == 42  # from the spec's model.random_state
    frame = toy_frame()
    transformed = pipeline.named_steps["prep"].fit_transform(frame[["tenure", "plan", "region"]])
    assert transformed.shape[1] == 3  # no one-hot widening

    write_project(tmp_path)
    spec = load_spec(tmp_path).spec
    linear = build_pipeline(spec, "classification", ["tenure"], ["plan", "region"])
    wide = linear.named_steps["prep"].fit_transform(frame[["tenure", "plan", "region"]])
    assert wide.shape[1] == 3 + 2 + 1  # plan and region one-hot, tenure scaled (no gaps)


def test_regressor_for_a_classification_target_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, model="  estimator: sklearn.linear_model.Ridge\n")
    spec = load_spec(tmp_path).spec
    with pytest.raises(SpecError, match="is a regressor"):
        build_pipeline(spec, "classification", ["tenure"], ["plan"])


def test_target_proxy_and_shared_rows_are_found(tmp_path: Path) -> None:
    frame = toy_frame()
    frame["churn_flag"] = (frame["churn"] == "Yes").astype(int) * 3 + 1
    frame = pd.concat([frame, frame.iloc[:60]], ignore_index=True)  # 60 duplicated records
    spec, data = _prepared(tmp_path, "  cv: {strategy: kfold, folds: 3}\n", frame)
    proxies = leakage.target_proxies(data)
    assert [p["feature"] for p in proxies] == ["churn_flag"]
    shared = leakage.shared_rows(data, ev.folds(spec, data))
    assert 0 < shared["total"] <= 120  # each copy of a pair can be validated once
    failures = leakage.proxy_failures(proxies)
    assert "'churn_flag' alone predicts the target" in failures[0]
    assert "data.forbidden_columns" in failures[0]
    messages = leakage.warnings_for(shared, None)
    assert any("identical to rows their fold trained on" in m for m in messages)


def loans_like(rows: int = 4000, seed: int = 0) -> pd.DataFrame:
    """An interest-rate table: the rate is set by the sub-grade (35 levels) up to small noise."""
    rng = np.random.default_rng(seed)
    grades = [f"{g}{i}" for g in "ABCDEFG" for i in range(1, 6)]
    sub = rng.choice(grades, rows)
    rate = 5.5 + 0.75 * np.array([grades.index(s) for s in sub]) + rng.normal(0, 0.3, rows)
    return pd.DataFrame(
        {
            "sub_grade": sub,
            "grade": [s[0] for s in sub],
            "annual_inc": rng.lognormal(11, 0.5, rows).round(0),
            "loan_amnt": rng.integers(1000, 40000, rows).astype(float),
            "purpose": rng.choice(["car", "debt", "home", "other"], rows),
            "member_id": [f"M{i:06d}" for i in range(rows)],  # unique: no proxy out of fold
            "int_rate": rate.round(2),
        }
    )


def _sklearn_oof(frame: pd.DataFrame, column: str, y: np.ndarray, classifier: bool) -> np.ndarray:
    """The reference single-feature model: one-hot of the column, fitted out of fold."""
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import KFold, cross_val_predict

    folds = KFold(leakage.PROXY_FOLDS, shuffle=True, random_state=0)
    onehot = pd.get_dummies(frame[column].astype(str)).to_numpy(float)
    del classifier  # the per-category rate of a 0/1 target is the same least-squares fit
    return cross_val_predict(LinearRegression(), onehot, y.astype(float), cv=folds)


def test_categorical_proxy_of_a_regression_target_is_measured_out_of_fold() -> None:
    frame = loans_like()
    X, y = frame.drop(columns="int_rate"), frame["int_rate"].to_numpy()
    strength, measure = leakage.proxy_strength(X["sub_grade"], y, "regression", numeric=False)
    expected = skm.r2_score(y, _sklearn_oof(frame, "sub_grade", y, classifier=False))
    assert strength == pytest.approx(expected, abs=1e-9)
    assert strength > leakage.PROXY_BAR
    assert "R^2" in measure
    found = leakage.find_proxies(X, y, "regression", ["annual_inc", "loan_amnt"])
    assert [p["feature"] for p in found] == ["sub_grade"]  # grade alone explains ~0.98


def test_categorical_proxy_of_a_class_is_measured_by_roc_auc() -> None:
    rng = np.random.default_rng(3)
    rows = 3000
    status = rng.choice(["current", "late", "charged_off", "fully_paid"], rows)
    bad = np.isin(status, ["late", "charged_off"]).astype(int)
    bad = np.where(rng.random(rows) < 0.002, 1 - bad, bad)  # a few exceptions
    frame = pd.DataFrame({"status": status, "noise": rng.choice(list("abcdef"), rows)})
    strength, measure = leakage.proxy_strength(
        frame["status"], bad, "classification", numeric=False
    )
    expected = skm.roc_auc_score(bad, _sklearn_oof(frame, "status", bad, classifier=True))
    # two categories of (nearly) equal rate: float rounding may order their tie differently
    assert strength == pytest.approx(expected, abs=1e-4)
    assert "ROC AUC" in measure
    found = leakage.find_proxies(frame, bad, "classification", [])
    assert [p["feature"] for p in found] == ["status"]


def test_non_linear_numeric_proxy_and_an_ordinary_feature() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(-3, 3, 5000)
    y = x**2 + rng.normal(0, 0.02, 5000)  # no linear correlation, yet x determines y
    frame = pd.DataFrame({"x": x, "ordinary": x**2 + rng.normal(0, 2, 5000)})
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.1
    found = leakage.find_proxies(frame, y, "regression", ["x", "ordinary"])
    assert [p["feature"] for p in found] == ["x"]


@pytest.mark.parametrize(
    ("linear", "verdict", "words"),
    [
        (0.90, "baseline better", "is better than the model on roc_auc by 0.0500"),
        (0.852, "as good", "is as good as the model on roc_auc"),
        (0.80, "model better", None),
    ],
)
def test_linear_baseline_is_described_as_it_compares(linear, verdict, words) -> None:
    from mlready.training import _compare_baselines

    entry = {"kind": "linear", "cv": {"roc_auc": {"mean": linear}}}
    out, failures, warnings = _compare_baselines(
        "roc_auc", {"roc_auc": 0.85}, "cv", {"roc_auc": {"std": 0.01}}, [entry]
    )
    assert out[0]["verdict"] == verdict
    assert not failures
    if words is None:
        assert not warnings
    else:
        assert len(warnings) == 1
        assert words in warnings[0]
        assert ("as good" in warnings[0]) == (verdict == "as good")


# --------------------------------------------------------------------------------------------------
# one pool of fits, progress by phase (issue 18)
# --------------------------------------------------------------------------------------------------


def test_the_pool_gives_sklearns_numbers_and_names_each_phase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.base import clone

    from mlready.training import train
    from mlready.training.pipeline import baseline_pipeline

    write_project(
        tmp_path,
        validation="  cv: {strategy: stratified_kfold, folds: 3}\n"
        "  metrics: [roc_auc, brier_score]\n"
        "  baselines: [dummy, linear]\n"
        "  slices: [{name: plan, column: plan}]\n",
        extra="training:\n  importance: {max_rows: 300, repeats: 3}\n",
    )
    loaded = load_spec(tmp_path)
    calls: list[tuple[str, int, int]] = []
    result = train(loaded, tmp_path / "run", on_progress=lambda *a: calls.append(a))
    assert capsys.readouterr() == ("", "")  # the library reports through the callback only
    meta = result.metadata

    labels = list(dict.fromkeys(label for label, _, _ in calls))
    assert labels == [
        "Reading and validating the training data",
        # the contract, the leakage and skew checks run in this process while the pool fits
        "Validating the training data while the model fits",
        "Checking for leakage",
        "Checking training rows through serving's reader",
        "Cross-validating, fitting the model and the baselines",
        "Writing the model, its profile and the report",
    ]
    assert all(0 <= done <= total for _, done, total in calls)
    fits = [(d, t) for label, d, t in calls if label.startswith("Cross-validating")]
    assert fits[-1] == (100, 100)
    assert {"read", "validate", "leakage", "fits", "analysis", "skew", "profile"} <= set(
        meta["timings"]
    )

    # the baselines' folds from the pool are sklearn's numbers on the same folds
    spec = loaded.spec
    data = load_training_data(spec, pd.read_csv(tmp_path / "data" / "train.csv"))
    splits = ev.folds(spec, data)
    for entry in meta["validation"]["baselines"]:
        simple = baseline_pipeline(
            entry["kind"], "classification", data.numeric, data.categorical, 42
        )
        aucs = []
        for train_rows, valid in splits:
            fitted = clone(simple).fit(data.X.iloc[train_rows], data.y[train_rows])
            scores = fitted.predict_proba(data.X.iloc[valid])[:, 1]
            aucs.append(skm.roc_auc_score(data.y[valid], scores))
        assert entry["value"] == pytest.approx(np.mean(aucs), abs=1e-12), entry["kind"]

    # no holdout: feature contribution on a sample of the out-of-fold rows, inside the folds
    method = meta["feature_contribution_method"]
    assert (method["basis"], method["rows"], method["repeats"]) == ("cv", 300, 3)
    assert method["held_out_rows"] == len(data.frame)
    assert method["shuffled"] == "preprocessed"  # one-hot columns shuffled as one group
    # slices are read from the same out-of-fold predictions the folds' metrics come from
    plan = meta["validation"]["slices"]["cv"][0]["groups"]
    assert sum(g["rows"] for g in plan) == len(data.frame)


def _toy_tasks(tmp_path: Path) -> tuple[list[ev.FitTask], object]:
    write_project(tmp_path, validation="  cv: {strategy: stratified_kfold, folds: 3}\n")
    spec = load_spec(tmp_path).spec
    data = load_training_data(spec, pd.read_csv(tmp_path / "data" / "train.csv"))
    pipeline = build_pipeline(spec, data.task, data.numeric, data.categorical)
    return ev.fold_tasks("model", pipeline, ev.folds(spec, data)), data


@pytest.fixture(params=["forked", "loky"])
def pool_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Fits in workers forked from this process (Linux, OpenMP held to one thread, as train
    holds it on small data), or in joblib's loky pool."""
    from threadpoolctl import threadpool_limits

    if request.param == "loky":
        monkeypatch.setitem(workers.FORK, "allowed", False)
        assert not ev.can_fork()
        yield "loky"
        return
    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only")
    import sklearn.utils._openmp_helpers  # noqa: F401  (loads the OpenMP runtime to limit)

    with threadpool_limits(limits=1, user_api="openmp"):
        assert ev.can_fork()
        yield "forked"
    assert not ev._SHARED  # nothing of the table is kept for later forks


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_fits_run_while_the_caller_works_and_stop_when_it_says_so(
    tmp_path: Path, n_jobs: int, pool_kind: str
) -> None:
    tasks, data = _toy_tasks(tmp_path)
    plain = ev.run_fits(tasks, data, n_jobs=n_jobs)
    done: list[float] = []
    calls: list[int] = []

    def meanwhile() -> bool:
        calls.append(len(done))  # no result has been read back yet
        return True

    both = ev.run_fits(tasks, data, n_jobs=n_jobs, meanwhile=meanwhile, on_done=done.append)
    assert calls == [0]
    assert len(done) == len(tasks)
    for a, b in zip(plain, both, strict=True):
        assert a.task.fold == b.task.fold
        np.testing.assert_array_equal(a.scores, b.scores)

    stopped: list[float] = []
    with pytest.raises(ev.Stopped):
        ev.run_fits(tasks, data, n_jobs=n_jobs, meanwhile=lambda: False, on_done=stopped.append)
    assert stopped == []  # nothing was read back, nothing reported done
    # the pool is usable again afterwards
    again = ev.run_fits(tasks, data, n_jobs=n_jobs)
    np.testing.assert_array_equal(again[0].scores, plain[0].scores)


def test_forked_and_loky_workers_fit_the_same_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forked workers read the table from memory they share with this process; the loky
    ones receive it pickled: the same fits, the same predictions and importance, bit for bit."""
    from threadpoolctl import threadpool_limits

    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only")
    import sklearn.utils._openmp_helpers  # noqa: F401

    tasks, data = _toy_tasks(tmp_path)
    tasks[0].keep = True
    for task in tasks:
        task.measure_importance = True
    request = ev.ImportanceRequest(
        rows=np.arange(len(data.frame)), metric="roc_auc", repeats=2, seed=3
    )
    with threadpool_limits(limits=1, user_api="openmp"):
        forked = ev.run_fits(tasks, data, n_jobs=2, importance=request)
        monkeypatch.setitem(workers.FORK, "allowed", False)
        loky = ev.run_fits(tasks, data, n_jobs=2, importance=request)
    assert len(forked) == len(loky) == len(tasks)
    for a, b in zip(forked, loky, strict=True):
        assert a.task.fold == b.task.fold
        np.testing.assert_array_equal(a.scores, b.scores)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.importance is not None
        assert b.importance is not None
        np.testing.assert_array_equal(a.importance.drops, b.importance.drops)
    probe = data.X.iloc[:50]
    np.testing.assert_array_equal(
        forked[0].model.predict_proba(probe), loky[0].model.predict_proba(probe)
    )


def test_a_fit_that_fails_in_a_forked_worker_raises_here(tmp_path: Path) -> None:
    from threadpoolctl import threadpool_limits

    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only")
    import sklearn.utils._openmp_helpers  # noqa: F401

    tasks, data = _toy_tasks(tmp_path)
    tasks[1].pipeline = tasks[1].pipeline.set_params(model__max_iter=-3)
    with (
        threadpool_limits(limits=1, user_api="openmp"),
        pytest.raises(ValueError, match="max_iter"),
    ):
        ev.run_fits(tasks, data, n_jobs=2)


def _die(*args: object) -> None:
    os._exit(9)


def test_a_forked_worker_that_dies_is_a_data_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed mid-fit (the OOM killer, say) is said in one line with exit 4, not as
    an internal error."""
    from threadpoolctl import threadpool_limits

    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only")
    import sklearn.utils._openmp_helpers  # noqa: F401

    tasks, data = _toy_tasks(tmp_path)
    monkeypatch.setattr(ev, "_run_task", _die)  # the forked workers inherit it
    with (
        threadpool_limits(limits=1, user_api="openmp"),
        pytest.raises(DataError, match="died before it finished") as caught,
    ):
        ev.run_fits(tasks, data, n_jobs=2)
    assert caught.value.exit_code == 4
    assert not ev._SHARED


def test_workers_started_early_are_the_pool_the_fits_use(tmp_path: Path) -> None:
    from joblib import Parallel, delayed

    assert ev.start_workers(1)() is None  # one job: no pool, nothing to wait for
    wait = ev.start_workers(2)
    wait()
    wait()  # waiting again (the error path does) is harmless
    early = set(Parallel(n_jobs=2)(delayed(_pid_after)(0.3) for _ in range(4)))
    assert len(early) == 2
    assert os.getpid() not in early
    tasks, data = _toy_tasks(tmp_path)
    assert len(ev.run_fits(tasks, data, n_jobs=2)) == len(tasks)
    # the fits ran in those same processes: they are not started again
    assert set(Parallel(n_jobs=2)(delayed(_pid_after)(0.3) for _ in range(4))) == early


def _pid_after(pause: float) -> int:
    import time

    time.sleep(pause)
    return os.getpid()


@pytest.fixture(params=["forked", "here"])
def validated_where(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[object]]:
    """The training data validated in a process forked right after the read (Linux, OpenMP
    held to one thread), or in this process: the calls forked are listed."""
    from threadpoolctl import threadpool_limits

    forked: list[object] = []
    original = workers.ForkedCall

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object) -> None:
            forked.append(args)
            super().__init__(*args)

    monkeypatch.setattr(workers, "ForkedCall", Spy)
    if request.param == "here":
        monkeypatch.setitem(workers.FORK, "allowed", False)
        yield forked
        assert forked == []
        return
    if not sys.platform.startswith("linux"):
        pytest.skip("validation is forked on Linux only")
    import sklearn.utils._openmp_helpers  # noqa: F401

    with threadpool_limits(limits=1, user_api="openmp"):
        yield forked
    assert len(forked) == 1


def test_data_breaking_the_contract_fails_train_before_anything_is_written(
    tmp_path: Path, validated_where: list[object]
) -> None:
    """Validation runs while the folds fit; when it fails, the fits stop, nothing is written and
    the failures are the contract's, as when it ran first."""
    from mlready.training import train

    write_project(
        tmp_path,
        validation="  cv: {strategy: stratified_kfold, folds: 3}\n  metrics: [roc_auc]\n",
        extra="expectations:\n  columns:\n    tenure: {min: 0, max: 10}\n",
    )
    run = tmp_path / "run"
    run.mkdir()
    result = train(load_spec(tmp_path), run)
    assert not result.passed
    assert result.validation_failed
    assert result.metadata == {}
    assert len(result.failures) == 1
    assert result.failures[0].startswith("tenure")
    assert list(run.iterdir()) == []


def test_the_contracts_failure_comes_before_a_data_error_of_the_model(
    tmp_path: Path, validated_where: list[object]
) -> None:
    """Rows the model cannot use (a target missing in most of them) that also break the
    contract: train reports the contract's failures, not the data error preparing them hit."""
    from mlready.training import train

    frame = toy_frame()
    frame.loc[frame.index[:400], "churn"] = None
    write_project(
        tmp_path,
        frame=frame,
        validation="  cv: {strategy: stratified_kfold, folds: 3}\n  metrics: [roc_auc]\n",
        extra="expectations:\n  columns:\n    churn: {max_null_fraction: 0}\n",
    )
    result = train(load_spec(tmp_path), tmp_path / "run")
    assert not result.passed
    assert result.validation_failed
    assert any("churn" in f for f in result.failures)

    # the same data under a contract it meets: the data error itself
    spec_file = tmp_path / "mlready.yaml"
    spec_file.write_text(
        spec_file.read_text().replace("max_null_fraction: 0", "max_null_fraction: 1")
    )
    validated_where.clear()
    with pytest.raises(DataError, match="no value of 'churn'"):
        train(load_spec(tmp_path), tmp_path / "run2")


def test_importance_samples_only_rows_some_fold_validates(tmp_path: Path) -> None:
    from mlready.training import train

    write_project(
        tmp_path,
        validation="  cv: {strategy: time_series, folds: 3}\n  metrics: [roc_auc]\n"
        "  baselines: []\n",
        extra="training:\n  importance: {max_rows: 5000, repeats: 2}\n",
    )
    result = train(load_spec(tmp_path), tmp_path / "run")
    method = result.metadata["feature_contribution_method"]
    validated = sum(f["validation_rows"] for f in result.metadata["validation"]["per_fold"])
    # the oldest quarter of the rows trains every fold and is never validated: not sampled
    assert method["rows"] == method["held_out_rows"] == validated < len(toy_frame())


def test_package_versions_skip_the_search_only_for_the_packages_listed_already() -> None:
    """Models of scikit-learn name no package beyond the listed ones: the same versions as
    asking every installed package which modules it owns; another module still names its
    package (pytest's here)."""
    from importlib import metadata

    from mlready.training.artifacts import PACKAGES, package_versions

    owners = metadata.packages_distributions()
    names = list(PACKAGES) + [
        d for d in owners.get("sklearn", []) + owners.get("numpy", []) if d not in PACKAGES
    ]
    expected = {}
    for name in names:
        try:
            expected[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    assert package_versions(["sklearn.ensemble", "numpy"]) == expected
    assert package_versions(["_pytest.python"])["pytest"] == metadata.version("pytest")


def test_proxy_folds_and_scores_are_sklearns() -> None:
    """The proxy check's folds and scores, computed without scikit-learn, are sklearn's KFold
    and metrics."""
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
    from sklearn.model_selection import KFold

    from mlready.training import leakage
    from mlready.training.metrics import roc_auc

    for rows in (20, 23, 1001):
        ours = leakage._folds(rows)
        theirs = list(KFold(leakage.PROXY_FOLDS, shuffle=True, random_state=0).split(range(rows)))
        assert len(ours) == len(theirs)
        for (a, b), (c, d) in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(np.sort(b), np.sort(d))
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    scores = np.round(rng.random(500) + 0.3 * labels, 1)  # many ties
    assert roc_auc(labels == 1, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    series = pd.Series(rng.choice(list("abcdef"), 500))
    target = np.where(series == "a", 2.0, 0.0) + rng.normal(0, 1, 500)
    strength, _ = leakage.proxy_strength(series, target, "regression", numeric=False)
    codes = leakage._groups(series, False)
    predicted = leakage._out_of_fold(codes, target[:, None], leakage._folds(500))[:, 0]
    assert strength == pytest.approx(r2_score(target, predicted), abs=1e-12)
    three = np.array(["x", "y", "z"])[rng.integers(0, 3, 500)]
    strength, _ = leakage.proxy_strength(series, three, "classification", numeric=False)
    onehot = np.eye(3)[np.unique(three, return_inverse=True)[1]]
    guess = leakage._out_of_fold(codes, onehot, leakage._folds(500)).argmax(axis=1)
    assert strength == pytest.approx(
        accuracy_score(np.unique(three, return_inverse=True)[1], guess), abs=1e-12
    )
