"""Hyperparameter search (mlready/training/search.py): successive halving where it fits, the
time budget honoured, boosters stopping early while searched only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from mlready.spec import load_spec
from mlready.training import evaluate as ev
from mlready.training import search
from mlready.training.data import load_training_data
from mlready.training.pipeline import build_pipeline
from tests.training_data import toy_frame, write_project

VALIDATION = "  cv: {strategy: stratified_kfold, folds: 3}\n  metrics: [roc_auc]\n"


def _searched(tmp_path: Path, model: str, rows: int = 600) -> tuple:
    write_project(tmp_path, frame=toy_frame(rows=rows), model=model, validation=VALIDATION)
    spec = load_spec(tmp_path).spec
    data = load_training_data(spec, pd.read_csv(tmp_path / "data" / "train.csv"))
    pipeline = build_pipeline(spec, data.task, data.numeric, data.categorical)
    return spec, data, pipeline, ev.folds(spec, data)


@pytest.mark.parametrize(
    ("method", "candidates", "rows", "chosen"),
    [
        ("auto", 20, 9 * 500, "halving"),  # three rounds, the first on 500 rows
        ("auto", 20, 9 * 500 - 1, "random"),  # the first round would rank on 499 rows
        ("auto", 2, 100_000, "random"),  # nothing to halve
        ("auto", 3, 1_500, "halving"),
        ("random", 50, 100_000, "random"),
        ("halving", 4, 100, "halving"),
    ],
)
def test_halving_is_the_default_where_it_fits(
    method: str, candidates: int, rows: int, chosen: str
) -> None:
    assert search.choose_method(method, candidates, rows) == chosen


def test_the_budget_stops_launching_candidates(tmp_path: Path) -> None:
    model = (
        "  estimator: sklearn.linear_model.LogisticRegression\n"
        "  params: {max_iter: 500}\n"
        "  search:\n"
        "    method: random\n"
        "    n_iter: 12\n"
        "    budget_s: 0.001\n"
        "    space: {C: {distribution: loguniform, low: 0.01, high: 10}}\n"
    )
    spec, data, pipeline, splits = _searched(tmp_path, model)
    labels = []
    summary, best = search.search(
        spec, pipeline, data, splits, "roc_auc", 1, on_progress=lambda *a: labels.append(a)
    )
    # the first chunk (as many candidates as fits run at a time) always runs; none after it
    assert summary["stopped_by_budget"]
    assert summary["evaluated"] == 1
    assert summary["candidates_skipped"] == 11
    assert [r["params"]["C"] for r in summary["results"]] == [best["model__C"]]
    assert labels[-1][1:] == (1, 12)


def test_halving_rounds_and_an_unspent_budget(tmp_path: Path) -> None:
    model = (
        "  estimator: sklearn.linear_model.LogisticRegression\n"
        "  params: {max_iter: 500}\n"
        "  search:\n"
        "    method: halving\n"
        "    n_iter: 4\n"
        "    budget_s: 3600\n"
        "    space: {C: {distribution: loguniform, low: 0.01, high: 10}}\n"
    )
    spec, data, pipeline, splits = _searched(tmp_path, model, rows=900)
    summary, _ = search.search(spec, pipeline, data, splits, "roc_auc", 1)
    assert summary["method"] == "halving"
    assert not summary["stopped_by_budget"]
    assert [r["candidates"] for r in summary["rounds"]] == [4, 2]  # the best third, rounded up
    rows = [r["rows"] for r in summary["rounds"]]
    assert rows[1] == 3 * rows[0]
    assert summary["evaluated"] == 4


def test_boosters_stop_early_while_searched_only(tmp_path: Path) -> None:
    model = (
        "  estimator: sklearn.ensemble.HistGradientBoostingClassifier\n"
        "  params: {max_iter: 100, learning_rate: 0.3}\n"
        "  search:\n"
        "    method: random\n"
        "    n_iter: 2\n"
        "    space: {max_leaf_nodes: {values: [7, 15]}}\n"
    )
    spec, data, pipeline, splits = _searched(tmp_path, model, rows=1_800)
    with threadpool_limits(limits=1):  # the booster's threads only spin against the test's
        summary, best = search.search(spec, pipeline, data, splits, "roc_auc", 1)
    assert summary["early_stopping"] == ["model"]
    assert "model__early_stopping" not in best
    assert pipeline.get_params()["model__early_stopping"] == "auto"  # the spec's own setting
    assert search.early_stopping(pipeline, {}, search.EARLY_STOPPING_MIN_ROWS - 1) == {}
    space = {"model__early_stopping": [True, False]}
    assert search.early_stopping(pipeline, space, 10**6) == {}  # searched: left to the search
