"""mlready serve's fast path (small JSON requests without pandas): the same answers as
serve-batch to the last bit, the same rejects with the same reasons, and the batch path whenever a
request needs pandas' reading of its values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.http_server import Running, post_json
from tests.serving_data import dirty_batch, make_batch, project_copy, realtime_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return realtime_project(tmp_path_factory.mktemp("fast"))


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    return project_copy(trained, tmp_path)


def _service(project: Path, cache: bool = False):
    from mlready.http import Service
    from mlready.spec import load_spec

    service = Service(load_spec(project))
    service.slot.load()
    if not cache:
        service.cache = None
    return service


def _edge_batch() -> pd.DataFrame:
    """Ordinary rows, then rows at the contract's edges: bounds, tiny and long decimals,
    missing values, unseen and missing categories, every plan."""
    frame = make_batch(300, seed=21)
    frame["tenure"] = frame["tenure"].astype("float64")
    edges = [
        (0.0, 0.0, "basic", "north"),
        (100.0, 500.0, "max", "south"),
        (1e-300, 5e-324, "pro", "east"),
        (99.99999999999999, 0.1 + 0.2, "pro", "west"),
        (37.0, math.nan, "basic", "north"),  # monthly_charges may be missing
        (12.5, 70.0, None, "north"),  # plan missing: allowed (not null is not asked)
        (12.0, 70.0, "basic", "atlantis"),  # a region never seen in training
        (12.0, 70.0, "basic", None),
        (1.0, 499.9999999999999, "max", "mars"),
    ]
    rows = []
    for i, (tenure, charges, plan, region) in enumerate(edges):
        row = frame.iloc[i % len(frame)].to_dict()
        row.update(
            customer_id=f"C9{i:04d}",
            tenure=tenure,
            monthly_charges=charges,
            plan=plan,
            region=region,
        )
        rows.append(row)
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON records: numbers as numbers, missing as null."""
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        )
    return out


def _serve_batch(run_cli, project: Path, frame: pd.DataFrame, name: str) -> pd.DataFrame:
    path = project / f"{name}.csv"
    frame.to_csv(path, index=False)
    out = project / f"{name}.parquet"
    result = run_cli(
        "--spec",
        str(project),
        "serve-batch",
        "-i",
        str(path),
        "-o",
        str(out),
        "--no-cache",
        "--quarantine",
    )
    assert result.exit_code in (0, 1), result.stderr
    return pd.read_parquet(out)


def _bits(values: list[float]) -> list[int]:
    return [int(np.float64(v).view(np.uint64)) for v in values]


def test_single_rows_equal_serve_batch_to_the_last_bit(run_cli, project: Path) -> None:
    frame = _edge_batch()
    batch = _serve_batch(run_cli, project, frame, "edges").set_index("customer_id")
    service = _service(project)
    served = service.slot.current
    assert served.fast.compiled is not None, "the linear pipeline compiles"
    assert served.describe()["fast_path"] == "compiled"
    got = {}
    for record in _records(frame):
        scored = service.score_body(served, json.dumps([record]).encode(), "json", "quarantine")
        assert scored.predictions is not None, f"took the batch path: {record}"
        (answer,) = scored.records()
        got[answer["customer_id"]] = answer
    assert sorted(got) == sorted(batch.index)
    for column in ("probability",):
        assert _bits([got[i][column] for i in batch.index]) == _bits(batch[column].tolist())
    assert [got[i]["prediction"] for i in batch.index] == batch["prediction"].tolist()
    assert [got[i]["model_version"] for i in batch.index] == batch["model_version"].tolist()
    assert [got[i]["model_name"] for i in batch.index] == batch["model_name"].tolist()
    # and in requests of 1 to 64 rows, fast path and batch path agree on everything
    records = _records(frame)
    start = 0
    for size in (2, 3, 7, 64, 13, 1, 64):
        part = records[start : start + size]
        start += size
        body = json.dumps({"records": part}).encode()
        fast = service.score_body(served, body, "json", "quarantine")
        slow = service.score_body(served, body, "json", "quarantine", fast=False)
        assert fast.predictions is not None
        assert slow.predictions is None
        ours, theirs = fast.records(), slow.records()
        for row in ours + theirs:
            row["probability"] = _bits([row["probability"]])[0]
        assert ours == theirs
        assert fast.warnings == slow.warnings


def test_single_rows_over_http_equal_serve_batch(run_cli, project: Path) -> None:
    frame = _edge_batch().tail(40)
    batch = _serve_batch(run_cli, project, frame, "tail").set_index("customer_id")
    running = Running(project)
    try:
        for record in _records(frame):
            status, body, headers = post_json(running.url, {"records": [record]})
            assert status == 200, body
            (answer,) = body["predictions"]
            expected = batch.loc[answer["customer_id"]]
            assert _bits([answer["probability"]]) == _bits([expected["probability"]])
            assert answer["prediction"] == expected["prediction"]
            assert headers["X-Mlready-Model-Version"] == "1"
        assert running.service.metrics.rows_scored == len(frame)
    finally:
        running.stop()
    # the online profile counted every row the fast path scored
    profile = json.loads((project / "served" / "batch_profile.json").read_text())
    assert profile["rows"] == len(frame)


def test_the_same_rejects_with_the_same_reasons(run_cli, project: Path) -> None:
    dirty = dirty_batch(make_batch(200, seed=5), duplicate_of=100)
    dirty.loc[80, "plan"] = "gold"  # two defects in one row
    dirty.loc[80, "monthly_charges"] = 900.0
    dirty.loc[90, "customer_id"] = None  # an id check and a missing id
    _serve_batch(run_cli, project, dirty, "dirty")
    rejected = pd.read_parquet(project / "dirty.rejected.parquet")
    expected = dict(zip(rejected["_mlready_row"], rejected["_mlready_reasons"], strict=True))
    service = _service(project)
    served = service.slot.current
    records = _records(dirty)
    # one row per request: each row's own checks (a duplicate needs its twin in the request)
    single = {}
    for position, record in enumerate(records):
        body = json.dumps([record]).encode()
        if position in (20,):  # "lots" in a number column: rejected on the fast path too
            assert service.score_body(served, body, "json", "quarantine").predictions is not None
        scored = service.score_body(served, body, "json", "quarantine")
        for entry in scored.rejected:
            single[position] = "; ".join(entry["reasons"])
    duplicates = {100, 60}
    assert single == {k: v for k, v in expected.items() if k not in duplicates}
    # the whole file in requests of up to 64 rows: the duplicate pair in one request
    order = [60, 100] + [i for i in range(len(records)) if i not in duplicates]
    by_request = {}
    fast_requests = 0
    for start in range(0, len(order), 64):
        positions = order[start : start + 64]
        body = json.dumps([records[i] for i in positions]).encode()
        fast = service.score_body(served, body, "json", "quarantine")
        slow = service.score_body(served, body, "json", "quarantine", fast=False)
        # a column holding 999 and "lots" is read by pandas' parser: the batch path
        fast_requests += fast.predictions is not None
        assert fast.rejected == slow.rejected
        assert fast.contract_state == slow.contract_state
        assert fast.findings == slow.findings
        for entry in fast.rejected:
            by_request[positions[entry["row"]]] = "; ".join(entry["reasons"])
        # stop: the same 422 and the same rejects list
        from mlready.http.scoring import RequestError

        if slow.rejected:
            answers = []
            for use_fast in (True, False):
                with pytest.raises(RequestError) as caught:
                    service.score_body(served, body, "json", "stop", fast=use_fast)
                answers.append((caught.value.status, caught.value.to_dict()))
            assert answers[0] == answers[1]
            assert answers[0][0] == 422
    assert by_request == expected
    assert fast_requests >= 1


@pytest.mark.parametrize(
    "change",
    [
        {"tenure": "12"},  # a number as text: pandas' parser decides
        {"tenure": True},  # a boolean
        {"plan": 3},  # a number in a text column
        {"tenure": 2**60},  # an integer past float64's exact range
    ],
    ids=["number as text", "boolean", "number for a category", "huge integer"],
)
def test_values_pandas_reads_its_own_way_take_the_batch_path(project: Path, change) -> None:
    service = _service(project)
    served = service.slot.current
    record = _records(make_batch(1, seed=3))[0]
    record.update(change)
    body = json.dumps([record]).encode()
    assert served.fast.score([record], on_invalid="quarantine", cache=None, run_id="r") is None
    via_service = service.score_body(served, body, "json", "quarantine")
    slow = service.score_body(served, body, "json", "quarantine", fast=False)
    assert via_service.predictions is None  # the batch path answered
    assert via_service.records() == slow.records()
    assert via_service.rejected == slow.rejected


def test_the_cache_answers_small_requests_with_the_same_bits(project: Path) -> None:
    service = _service(project, cache=True)
    served = service.slot.current
    body = json.dumps(_records(make_batch(5, seed=8))).encode()
    first = service.score_body(served, body, "json", "quarantine")
    again = service.score_body(served, body, "json", "quarantine")
    assert (first.hits, first.misses) == (0, 5)
    assert (again.hits, again.misses) == (5, 0)
    assert again.records() == first.records()


@pytest.mark.parametrize(
    "estimator",
    [
        "sklearn.linear_model.LogisticRegression",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.linear_model.Ridge",
    ],
)
def test_mlready_pipelines_compile_to_the_same_bits(estimator: str) -> None:
    from mlready.serving import ModelInfo, Scorer
    from mlready.serving.compiled import arrays, compile_pipeline, typed
    from mlready.training.pipeline import _member_pipeline

    generator = np.random.default_rng(4)
    rows = 400
    frame = pd.DataFrame(
        {
            "a": generator.normal(50, 20, rows),
            "b": np.where(generator.random(rows) < 0.1, np.nan, generator.uniform(0, 9, rows)),
            "c": generator.choice(["x", "y", "z", "w"], rows, p=[0.5, 0.3, 0.19, 0.01]),
            "d": generator.choice(["p", "q", None], rows),
        }
    )
    regression = estimator.endswith("Ridge")
    target = frame["a"] * 0.1 + (frame["c"] == "x") if regression else (frame["a"] > 50)
    params = {"n_estimators": 10} if "Forest" in estimator else {}
    pipeline = _member_pipeline(estimator, params, ["a", "b"], ["c", "d"], 0)
    pipeline.fit(typed(frame, _shape(["a", "b"], ["c", "d"])), target)
    info = ModelInfo(
        name="m",
        version=1,
        sha256="0",
        run_id=None,
        task="regression" if regression else "classification",
        classes=[] if regression else [False, True],
        threshold=None,
        numeric=["a", "b"],
        categorical=["c", "d"],
        id_columns=[],
        profile=None,
        metadata={},
    )
    compiled = compile_pipeline(pipeline, info)
    assert compiled is not None
    # the features recorded in another order than the pipeline's: not compiled
    import dataclasses

    swapped = dataclasses.replace(info, numeric=["b", "a"])
    assert compile_pipeline(pipeline, swapped) is None
    test = frame.sample(60, random_state=1).reset_index(drop=True)
    test.loc[0, "c"] = "never"
    test.loc[1, "b"] = np.nan
    X = typed(test, compiled)
    want = Scorer(pipeline, info).raw(X)
    numbers, categories = arrays(X, compiled)
    got = compiled.raw(numbers, categories)
    for name, values in want.items():
        assert np.array_equal(values, got[name]), name
    # a row alone gets the bits it gets among others (through the Pipeline too)
    alone = [Scorer(pipeline, info).raw(X.iloc[[i]]) for i in range(len(X))]
    for name, values in want.items():
        assert np.array_equal(values, np.concatenate([a[name] for a in alone])), name
    # serve-batch's path: whole frames, categories looked up by pyarrow, Arrow or object text
    for frame_ in (X, X.astype({"c": object, "d": object})):
        batch = compiled.raw_frame(frame_, 1000)
        assert batch is not None
        for name, values in want.items():
            assert np.array_equal(values, batch[name]), name
    sliced = compiled.raw_frame(X, 16)  # the same rows in calls of 16, as the Pipeline's
    by_16 = [Scorer(pipeline, info).raw(X.iloc[i : i + 16]) for i in range(0, len(X), 16)]
    for name in want:
        assert np.array_equal(np.concatenate([b[name] for b in by_16]), sliced[name]), name
    # categories that are not text (the Pipeline's to_text rewrites them): not this path
    assert compiled.raw_frame(X.assign(c=np.arange(len(X)) % 3), 1000) is None
    assert compiled.raw_frame(X.assign(a=X["a"].astype("float32")), 1000) is None


def _shape(numeric: list[str], categorical: list[str]):
    class Shape:
        pass

    shape = Shape()
    shape.numeric = numeric  # type: ignore[attr-defined]
    shape.categorical = categorical  # type: ignore[attr-defined]
    return shape


def test_a_pipeline_of_another_shape_is_not_compiled() -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    from mlready.serving.compiled import compile_pipeline

    model = make_pipeline(PolynomialFeatures(), PolynomialFeatures())
    assert compile_pipeline(model, None) is None


def test_without_the_compiled_pipeline_small_requests_still_get_the_batch_bits(
    project: Path,
) -> None:
    service = _service(project)
    served = service.slot.current
    served.fast.compiled = None  # a pipeline of another shape: the fitted Pipeline scores
    records = _records(_edge_batch().tail(20))
    for size in (1, 3, 20):
        body = json.dumps(records[:size]).encode()
        fast = service.score_body(served, body, "json", "quarantine")
        slow = service.score_body(served, body, "json", "quarantine", fast=False)
        assert fast.predictions is not None
        got = [_bits([r["probability"]]) for r in fast.records()]
        assert got == [_bits([r["probability"]]) for r in slow.records()]
        assert fast.rejected == slow.rejected
