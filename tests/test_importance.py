"""Feature contribution (mlready/training/importance.py): the drops are sklearn.metrics' on the
shuffled rows, a feature the pipeline expands is shuffled as one group, the sample is bounded,
and the sampled verdicts are the full computation's on data shaped like issue 18's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from mlready.training import importance as im
from mlready.training.pipeline import _member_pipeline
from tests.generated import ISSUE_18_SHAPES, wide_table

LINEAR = "sklearn.linear_model.LogisticRegression"
BOOSTER = "sklearn.ensemble.HistGradientBoostingRegressor"
RIDGE = "sklearn.linear_model.Ridge"


def _churn(rows: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows).astype(float)
    tenure[rng.random(rows) < 0.1] = np.nan  # a missing-value indicator column too
    plan = rng.choice(["basic", "pro", "max"], rows)
    region = rng.choice(["north", "south", "east", "west", "centre"], rows)
    noise = rng.normal(0, 1, rows)
    logit = 1.0 - 0.05 * np.nan_to_num(tenure, nan=36) + np.where(plan == "basic", 1.5, -0.5)
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64")
    X = pd.DataFrame({"tenure": tenure, "noise": noise, "plan": plan, "region": region})
    return X, y


def test_the_preprocessing_is_probed_into_one_group_per_raw_column() -> None:
    X, y = _churn()
    model = _member_pipeline(LINEAR, {"max_iter": 500}, ["tenure", "noise"], ["plan", "region"], 0)
    model.fit(X, y)
    groups = im.column_groups(model[:-1], X, seed=0)
    assert groups is not None
    sizes = dict(zip(X.columns, (len(g) for g in groups), strict=True))
    # one-hot: a column per category; tenure: scaled value + its missing-value indicator
    assert sizes == {"tenure": 2, "noise": 1, "plan": 3, "region": 5}
    assert sorted(np.concatenate(groups)) == list(range(model[:-1].transform(X.head()).shape[1]))


def test_shuffling_the_group_equals_shuffling_the_raw_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = _churn()
    model = _member_pipeline(LINEAR, {"max_iter": 500}, ["tenure", "noise"], ["plan", "region"], 0)
    model.fit(X, y)
    kwargs = {"task": "classification", "binary": True, "metric": "roc_auc"}
    grouped = im.measure(model, X, y, classes=["0", "1"], repeats=4, seed=3, **kwargs)
    monkeypatch.setattr(im, "column_groups", lambda *_: None)  # the raw path: whole pipeline
    raw = im.measure(model, X, y, classes=["0", "1"], repeats=4, seed=3, **kwargs)
    assert grouped is not None
    assert raw is not None
    assert (grouped.space, raw.space) == ("preprocessed", "raw")
    np.testing.assert_allclose(grouped.drops, raw.drops, rtol=1e-10, atol=1e-12)


def test_each_drop_is_sklearns_metric_on_the_shuffled_rows() -> None:
    X, y = _churn()
    model = _member_pipeline(LINEAR, {"max_iter": 500}, ["tenure", "noise"], ["plan", "region"], 0)
    model.fit(X, y)
    measured = im.measure(
        model,
        X,
        y,
        task="classification",
        binary=True,
        metric="roc_auc",
        classes=["0", "1"],
        repeats=3,
        seed=7,
        threads=2,
    )
    assert measured is not None
    base = roc_auc_score(y, model.predict_proba(X)[:, 1])
    assert measured.base == pytest.approx(base)
    for i, column in enumerate(X.columns):
        rng = np.random.default_rng([7, i])
        for r in range(3):
            shuffled = X.copy()
            shuffled[column] = X[column].to_numpy()[rng.permutation(len(X))]
            expected = base - roc_auc_score(y, model.predict_proba(shuffled)[:, 1])
            assert measured.drops[i, r] == pytest.approx(expected, abs=1e-12)
    table = im.contribution_table(measured)
    assert [row["feature"] for row in table][:2] == ["tenure", "plan"]
    assert {row["feature"]: row["adds_nothing"] for row in table}["noise"]


def test_a_lower_is_better_metric_drops_when_the_error_grows() -> None:
    frame, _ = wide_table(ISSUE_18_SHAPES[1].but(rows=800, numeric=4, categorical=2))
    X, y = frame[["n00", "n01", "n02", "n03", "c00", "c01"]], frame["target"].to_numpy(float)
    model = _member_pipeline(RIDGE, {}, list(X.columns[:4]), ["c00", "c01"], 0)
    model.fit(X, y)
    rmse = im.measure(
        model, X, y, task="regression", binary=False, metric="rmse", classes=[], repeats=2, seed=0
    )
    r2 = im.measure(
        model, X, y, task="regression", binary=False, metric="r2", classes=[], repeats=2, seed=0
    )
    assert rmse is not None
    assert r2 is not None
    assert r2.base == pytest.approx(r2_score(y, model.predict(X)))
    # the strongest feature: the error grows (rmse drop > 0) exactly when r2 falls
    assert rmse.drops[0].min() > 0
    assert r2.drops[0].min() > 0


def test_the_sample_is_bounded_and_drawn_the_same_way_each_time() -> None:
    rows = np.arange(10, 20_010)
    sample = im.sample_rows(rows, 5_000, seed=1)
    assert len(sample) == 5_000
    assert len(set(sample)) == 5_000
    assert set(sample) <= set(rows)
    np.testing.assert_array_equal(sample, im.sample_rows(rows, 5_000, seed=1))
    np.testing.assert_array_equal(im.sample_rows(rows[:300], 5_000, seed=1), rows[:300])


def test_folds_combine_as_a_row_weighted_mean() -> None:
    a = im.Measured(["x"], np.array([[1.0, 3.0]]), base=0.8, rows=100, space="preprocessed")
    b = im.Measured(["x"], np.array([[4.0, 6.0]]), base=0.5, rows=300, space="preprocessed")
    both = im.combine([a, b])
    assert both is not None
    np.testing.assert_allclose(both.drops, [[3.25, 5.25]])
    assert both.base == pytest.approx(0.575)
    assert both.rows == 400


@pytest.mark.parametrize("shape", [ISSUE_18_SHAPES[1].but(rows=4_000)], ids=["hotel_rates"])
def test_sampled_verdicts_are_the_full_computations(shape: object) -> None:
    """On a table shaped like the issue's hotel rates (every fold's rows against a sample of
    them), every feature the full computation judges clearly (a drop of 4+ spreads, or none)
    gets the same verdict from the sample."""
    frame, informative = wide_table(shape)  # type: ignore[arg-type]
    numeric = [c for c in frame if c.startswith("n")]
    categorical = [c for c in frame if c.startswith("c")]
    X, y = frame[numeric + categorical], frame["target"].to_numpy(float)
    pipeline = _member_pipeline(BOOSTER, {"max_iter": 30}, numeric, categorical, 0)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    with threadpool_limits(limits=1):  # the booster's threads only spin against the test's
        models = [clone(pipeline).fit(X.iloc[train], y[train]) for train, _ in folds]

    def verdicts(max_rows: int | None) -> list[dict[str, object]]:
        sample = im.sample_rows(np.arange(len(X)), max_rows, seed=0)
        parts = []
        for k, (model, (_, valid)) in enumerate(zip(models, folds, strict=True)):
            rows = valid[np.isin(valid, sample)]
            parts.append(
                im.measure(
                    model,
                    X.iloc[rows],
                    y[rows],
                    task="regression",
                    binary=False,
                    metric="rmse",
                    classes=[],
                    repeats=im.DEFAULT_REPEATS,
                    seed=k,
                    threads=2,
                )
            )
        measured = im.combine(parts)
        assert measured is not None
        return im.contribution_table(measured)

    full = {row["feature"]: row for row in verdicts(None)}
    sampled = {row["feature"]: row for row in verdicts(im.DEFAULT_MAX_ROWS)}
    clear = [
        f
        for f, row in full.items()
        if row["importance"] <= 0 or row["importance"] >= 4 * row["std"]  # type: ignore[operator]
    ]
    assert len(clear) >= len(full) // 2
    assert {f: sampled[f]["adds_nothing"] for f in clear} == {
        f: full[f]["adds_nothing"] for f in clear
    }
    # the strong half of the features carrying the target add something, on the sample too
    strong = informative[: len(informative) // 2]
    assert not any(sampled[f]["adds_nothing"] for f in strong)


def _booster_data(task: str, rows: int = 500) -> tuple[pd.DataFrame, np.ndarray]:
    """Numbers with gaps and categories (one of them unseen in some folds), for a booster."""
    rng = np.random.default_rng(5)
    X = pd.DataFrame(
        {
            "a": rng.normal(0, 1, rows),
            "b": np.where(rng.random(rows) < 0.1, np.nan, rng.uniform(0, 10, rows)),
            "noise": rng.normal(0, 1, rows),
            "city": rng.choice(["x", "y", "z", "w"], rows),
            "plan": rng.choice(["p", "q"], rows),
        }
    )
    signal = X["a"] + 0.3 * np.nan_to_num(X["b"]) + np.where(X["city"] == "x", 1.5, 0.0)
    if task == "regression":
        return X, (signal + rng.normal(0, 0.3, rows)).to_numpy()
    if task == "binary":
        return X, (signal + rng.normal(0, 0.5, rows) > signal.median()).astype("int64").to_numpy()
    cuts = np.quantile(signal, [0.33, 0.66])
    return X, np.array(["low", "mid", "high"])[np.searchsorted(cuts, signal)]


@pytest.mark.parametrize(
    ("task", "metric"),
    [
        ("regression", "rmse"),
        ("regression", "r2"),
        ("binary", "roc_auc"),
        ("binary", "accuracy"),
        ("multiclass", "roc_auc"),
        ("multiclass", "log_loss"),
    ],
)
def test_the_booster_shortcut_gives_the_full_predictions_drops(task: str, metric: str) -> None:
    """Re-evaluating only the rows whose path passes a split on the shuffled feature gives the
    drops of predicting every shuffled row in full."""
    X, y = _booster_data(task)
    estimator = (
        "sklearn.ensemble.HistGradientBoostingRegressor"
        if task == "regression"
        else "sklearn.ensemble.HistGradientBoostingClassifier"
    )
    model = _member_pipeline(estimator, {"max_iter": 40}, ["a", "b", "noise"], ["city", "plan"], 0)
    with threadpool_limits(limits=1):
        model.fit(X.iloc[:350], y[:350])
    classes = [] if task == "regression" else sorted(str(c) for c in np.unique(y))
    kwargs = {
        "task": "regression" if task == "regression" else "classification",
        "binary": task == "binary",
        "metric": metric,
        "classes": classes,
        "repeats": 3,
        "seed": 4,
    }
    fast = im.measure(model, X.iloc[350:], y[350:], **kwargs)  # type: ignore[arg-type]
    full = im.measure(model, X.iloc[350:], y[350:], shortcut=False, **kwargs)  # type: ignore[arg-type]
    assert fast is not None
    assert full is not None
    assert (fast.space, full.space) == ("trees", "preprocessed")
    # the sums run in another order: the same up to the last bits, and for ROC AUC up to a pair
    # of rows whose scores tie one way and differ in the last bit the other (half a pair)
    pairs = len(y[350:]) ** 2 / 4
    atol = 2 / pairs if metric == "roc_auc" else 1e-12
    np.testing.assert_allclose(fast.drops, full.drops, rtol=1e-9, atol=atol)
    assert fast.base == pytest.approx(full.base, abs=1e-12)
    assert fast.drops[2].max() < fast.drops[0].min()  # noise below the strongest feature


@pytest.mark.parametrize(
    ("metric", "y", "outputs", "classes"),
    [
        ("rmse", [1.0, 2.0, 4.0, 7.0], [1.5, 2.0, 3.0, 9.0], []),
        ("mae", [1.0, 2.0, 4.0, 7.0], [1.5, 2.0, 3.0, 9.0], []),
        ("r2", [1.0, 2.0, 4.0, 7.0], [1.5, 2.0, 3.0, 9.0], []),
        ("r2", [3.0, 3.0, 3.0], [1.0, 2.0, 3.0], []),  # constant target: sklearn's own answer
        ("accuracy", [0, 1, 1, 0, 1], [0, 1, 0, 0, 1], ["no", "yes"]),
        ("roc_auc", [0, 1, 1, 0, 1], [0.1, 0.8, 0.4, 0.4, 0.9], ["no", "yes"]),
        ("roc_auc", [1, 1, 1], [0.1, 0.8, 0.4], ["no", "yes"]),  # one class: undefined
        ("log_loss", [0, 1, 1, 0], [0.2, 0.7, 0.6, 0.5], ["no", "yes"]),
    ],
)
def test_the_scorer_is_compute_metrics(
    metric: str, y: list[float], outputs: list[float], classes: list[str]
) -> None:
    from mlready.training.metrics import compute_metrics, scorer

    truth, out = np.array(y), np.array(outputs)
    expected = compute_metrics([metric], truth, out, out, classes)[metric]
    got = scorer(metric, truth, classes)(out)
    assert (got is None) == (expected is None)
    if expected is not None:
        assert got == pytest.approx(expected, abs=1e-12)


def test_the_multiclass_auc_scorer_is_sklearns_one_against_rest() -> None:
    from mlready.training.metrics import compute_metrics, scorer

    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 300)
    scores = rng.dirichlet([1, 1, 1], 300)
    scores[:50] = scores[50:100]  # ties
    expected = compute_metrics(["roc_auc"], y, scores, y, ["a", "b", "c"])["roc_auc"]
    assert scorer("roc_auc", y, ["a", "b", "c"])(scores) == pytest.approx(expected, abs=1e-12)
