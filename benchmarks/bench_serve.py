"""serve-batch against a streaming floor and `mlflow models predict`, at 1M and 5M rows x 25
columns, with a linear and a gradient-boosting pipeline.

The model: a 50,000-row training file, a generated project (types-only expectations, 2 folds, no
search, no baselines, a serving section with quarantine and the cache on), `mlready train
--no-importance` and `mlready register --promote production`, once per pipeline and size (a fresh
project, so a fresh cache). Pipelines: LogisticRegression (max_iter 200) and
HistGradientBoostingClassifier (max_iter 200, no early stopping).

The batch to score: an id, 20 numeric columns n0..n19 and 5 categorical columns c0..c4 (5-50
categories), no target. Cases, each in its own process; wall time, CPU seconds (user + sys) and
peak memory (max RSS of the largest process) are measured from outside (measuring.py):

1. mlready serve-batch, cold: `--no-cache` (every check and the batch profile still on).
2. The streaming floor: a plain script (FLOOR below) that reads the CSV with pyarrow in 1 MB
   blocks (numbers as float64, text as text) gathered into chunks of 100,000 rows, loads the
   same model.skops (skops.io.load with the trusted types its metadata.json lists), scores the
   chunks with predict_proba (32,768 rows a call, as serve-batch) in 2 threads of one
   BLAS/OpenMP thread each (at most 4 chunks in flight) and appends the id and the probability
   to a ParquetWriter in order.
3. `mlflow models predict --env-manager local -t csv` on the same model, saved once with
   mlflow.sklearn.save_model(pyfunc_predict_fn="predict_proba"). MLflow lives in its own venv,
   built by this script at benchmarks/data/mlflow-venv (mlflow-skinny pinned, the same
   scikit-learn, numpy, pandas, pyarrow and skops as this venv, and mlready installed editable
   without its dependencies: the pipeline refers to functions in mlready.training.pipeline).
4. mlready serve-batch, first run with the cache on (an empty cache: it fills it).
5. mlready serve-batch, the same batch again (cache on): the batch-level cache.
6. mlready serve-batch, the same rows in another file (the CSV with its rows shuffled): the
   batch-level cache does not apply, the row-level cache does.

Cases 1-3 run interleaved in rounds (--rounds; each round in another order), so that they see the
same machine; ratios pair the rounds and give min / median / max over the rounds in which no run
was disturbed (other processes kept over 0.2 cores busy), else over all rounds, marked. The cache
cases follow (--skip-cache leaves them out). Targets: floor time / mlready time >= 1.0 (wall; CPU
seconds beside it), mlready / MLflow throughput at 1M (3x linear, 1.3x gradient boosting),
mlready's cold peak memory 5M / 1M <= 1.1 and under 2 GB, the cache speed-up (cold / same batch
again) >= 10x. The floor's and mlready's probabilities must agree exactly (checked at the
smallest size).

Data, projects, the MLflow venv and outputs go to benchmarks/data/ (git-ignored); the results to
benchmarks/results/serve.json and serve.md (git-ignored; --stem names them otherwise). Each case
may first wait (--quiet-wait seconds) for other processes to go quiet; every run records the load
average and whether it was disturbed.
Usage: python benchmarks/bench_serve.py [--sizes 1000000 5000000] [--quick] [--rounds 3]
       [--pipelines linear gbm] [--skip-mlflow] [--skip-mlready] [--skip-cache]
       [--retry-disturbed 0] [--quiet-wait 300] [--stem serve]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measuring import (
    QUIET_WAIT,
    fmt_ratio,
    interleaved,
    measure,
    pick,
    ratios,
    repeated,
    report,
    summarize,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
WORK = DATA / "work" / "serve"
MLREADY = Path(sys.executable).with_name("mlready")
MLFLOW_VENV = DATA / "mlflow-venv"
#: mlflow-skinny has the pyfunc flavour and `mlflow models predict` without the tracking
#: server's dependencies; 3.17.2 runs with pandas 3.
MLFLOW_PIN = "mlflow-skinny==3.17.2"
#: Installed in the MLflow venv at this venv's versions: the pickle needs the same scikit-learn.
SAME_AS_HERE = ["scikit-learn", "numpy", "scipy", "pandas", "pyarrow", "joblib", "skops"]
NUMERIC = [f"n{i}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
FEATURES = NUMERIC + CATEGORICAL
CARDINALITY = [5, 12, 20, 35, 50]
TARGET = "target"
TRAIN_ROWS = 50_000
CHUNK_ROWS = 100_000
SEED = 42
PIPELINES: dict[str, tuple[str, dict[str, Any]]] = {
    "linear": ("sklearn.linear_model.LogisticRegression", {"max_iter": 200}),
    "gbm": (
        "sklearn.ensemble.HistGradientBoostingClassifier",
        {"max_iter": 200, "early_stopping": False},
    ),
}
FLOOR_BAR = 1.0
MLFLOW_BARS = {"linear": 3.0, "gbm": 1.3}
MLFLOW_BAR_ROWS = 1_000_000
MEMORY_GROWTH_BAR = 1.1
MEMORY_GB_BAR = 2.0
CACHE_BAR = 10.0
#: The streaming floor's CSV block: 1 MB, as serve-batch reads (pyarrow's streaming reader
#: keeps about 32 blocks read ahead: 8 MB blocks hold some 300 MB of Arrow memory in flight).
FLOOR_BLOCK_BYTES = 1 << 20
#: The floor calls predict_proba on at most this many rows, as serve-batch does (SCORE_ROWS).
FLOOR_SCORE_ROWS = 32_768

FLOOR = textwrap.dedent(
    """\
    # The streaming floor: what scoring costs with nothing around it. pyarrow reads the CSV in
    # 1 MB blocks (numbers as float64, text as text), gathered into chunks of CHUNK_ROWS rows;
    # two threads, each with one BLAS/OpenMP thread, call predict_proba on a chunk each, in
    # slices of SCORE_ROWS rows (the rows grouped as serve-batch groups them, so the answers
    # agree to the last bit); a ParquetWriter appends the id and the probability in the batch's
    # order. At most 4 chunks are in flight: memory does not grow with the rows.
    import json, sys, time
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path
    start = time.perf_counter()
    import numpy as np
    import pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
    import skops.io
    from threadpoolctl import threadpool_limits

    NUMERIC, CATEGORICAL, BLOCK_BYTES = NUMERIC_LIST, CATEGORICAL_LIST, BLOCK_SIZE
    CHUNK, SLICE = CHUNK_SIZE, SLICE_SIZE
    FEATURES = NUMERIC + CATEGORICAL
    model_path, data_path, out_path = sys.argv[1:4]
    timings = {"read": 0.0, "predict_wait": 0.0, "write": 0.0}
    t = time.perf_counter()
    meta = json.loads((Path(model_path).parent / "metadata.json").read_text())
    model = skops.io.load(model_path, trusted=meta["artifact"]["trusted_types"])
    positive = meta["classes"].index(POSITIVE)  # the model's classes are 0, 1 in this order
    timings["load_model"] = time.perf_counter() - t
    types = {c: pa.float64() for c in NUMERIC} | {c: pa.string() for c in ["id", *CATEGORICAL]}
    reader = pacsv.open_csv(
        data_path,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
        convert_options=pacsv.ConvertOptions(column_types=types, include_columns=["id", *FEATURES]),
    )

    def chunks():
        parts, have = [], 0
        for batch in reader:
            at = 0
            while at < batch.num_rows:
                take = min(CHUNK - have, batch.num_rows - at)
                parts.append(batch.slice(at, take))
                have += take
                at += take
                if have == CHUNK:
                    yield pa.Table.from_batches(parts)
                    parts, have = [], 0
        if parts:
            yield pa.Table.from_batches(parts)

    def one_thread():
        threadpool_limits(limits=1)  # per thread: OpenMP's thread count is per calling thread

    def predict(block):
        X = block.select(FEATURES).to_pandas()
        return np.concatenate([
            model.predict_proba(X.iloc[i : i + SLICE])[:, positive]
            for i in range(0, len(X), SLICE)
        ])

    schema = pa.schema([("id", pa.string()), ("probability", pa.float64())])
    rows = 0
    with threadpool_limits(limits=1), ThreadPoolExecutor(2, initializer=one_thread) as pool, \
            pq.ParquetWriter(out_path, schema) as writer:
        pending = deque()

        def write_one():
            block, future = pending.popleft()
            t = time.perf_counter()
            probability = future.result()
            timings["predict_wait"] += time.perf_counter() - t
            t = time.perf_counter()
            writer.write_table(pa.table([block.column("id"), pa.array(probability)], schema=schema))
            timings["write"] += time.perf_counter() - t

        source = chunks()
        while True:
            t = time.perf_counter()
            try:
                block = next(source)
            except StopIteration:
                break
            finally:
                timings["read"] += time.perf_counter() - t
            rows += block.num_rows
            pending.append((block, pool.submit(predict, block)))
            if len(pending) > 3:
                write_one()
        while pending:
            write_one()
    timings["total"] = time.perf_counter() - start
    print(json.dumps({"rows": rows, "timings": timings}))
    """
)
FLOOR = (
    FLOOR.replace("NUMERIC_LIST", repr(NUMERIC))
    .replace("CATEGORICAL_LIST", repr(CATEGORICAL))
    .replace("BLOCK_SIZE", str(FLOOR_BLOCK_BYTES))
    .replace("CHUNK_SIZE", str(CHUNK_ROWS))
    .replace("SLICE_SIZE", str(FLOOR_SCORE_ROWS))
)

MLFLOW_SAVE = textwrap.dedent(
    """\
    # Run in the MLflow venv: mlready's model.skops as an MLflow model (pyfunc -> predict_proba).
    import json, sys
    from pathlib import Path
    import mlflow
    import mlflow.sklearn
    import skops.io
    import sklearn

    meta = json.loads((Path(sys.argv[1]).parent / "metadata.json").read_text())
    model = skops.io.load(sys.argv[1], trusted=meta["artifact"]["trusted_types"])
    mlflow.sklearn.save_model(
        model,
        sys.argv[2],
        pyfunc_predict_fn="predict_proba",
        # MLflow's skops loads with skops' default trust, which refuses mlready's functions
        serialization_format="pickle",
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
    )
    print(mlflow.__version__)
    """
)

#: MLflow without telemetry or any network use: this machine reaches package registries only.
MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_TRACKING_URI": "",
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
}


# --------------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------------


def _chunks(rows: int, seed: int, with_target: bool, prefix: str) -> Iterator[Any]:
    """pyarrow tables of at most 1M rows: an id, 20 numeric, 5 categorical columns and (training
    only) a Yes/No target with signal in both kinds of columns."""
    import numpy as np
    import pyarrow as pa

    effects = np.random.default_rng(5)  # the same category effects in training and scoring data
    effect = [effects.normal(0, 0.7, count) for count in CARDINALITY]
    labels = [
        np.array([f"{name}_v{j:02d}" for j in range(count)])
        for name, count in zip(CATEGORICAL, CARDINALITY, strict=True)
    ]
    rng = np.random.default_rng(seed)
    step = 1_000_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        columns: dict[str, Any] = {
            "id": pa.array(
                np.char.add(prefix, np.char.zfill(np.arange(start, start + n).astype(str), 8))
            )
        }
        numbers = {}
        for i, name in enumerate(NUMERIC):
            values = rng.uniform(0, 100, n)
            if i % 2:
                values = np.round(values)
            numbers[name] = values
            if i == 5:  # a column with gaps
                values = np.where(rng.random(n) < 0.02, np.nan, values)
            columns[name] = pa.array(values, from_pandas=True)
        logit = (
            -1.4
            + 0.035 * (numbers["n0"] - 50)
            + 0.9 * np.sin(numbers["n1"] / 8)
            + 0.03 * (numbers["n2"] - 50) * (numbers["n3"] > 50)
            - 0.02 * (numbers["n4"] - 50)
        )
        for i, (name, count) in enumerate(zip(CATEGORICAL, CARDINALITY, strict=True)):
            weights = 1 / np.arange(1, count + 1) ** 0.8  # a few common categories, a long tail
            codes = rng.choice(count, size=n, p=weights / weights.sum())
            columns[name] = pa.array(labels[i][codes])
            if i != 2:  # c2 is noise
                logit = logit + effect[i][codes]
        positive = rng.random(n) < 1 / (1 + np.exp(-(logit + rng.normal(0, 0.5, n))))
        if with_target:
            columns[TARGET] = pa.array(np.where(positive, "Yes", "No"))
        yield pa.table(columns)


def _write_csv(path: Path, tables: Iterator[Any]) -> Path:
    import pyarrow.csv as pacsv

    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer = None
    for table in tables:
        if writer is None:
            writer = pacsv.CSVWriter(tmp, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    tmp.rename(path)
    return path


def make_training_data() -> Path:
    """The 50,000-row training file, with the target."""
    return _write_csv(DATA / f"serve_train_{TRAIN_ROWS}.csv", _chunks(TRAIN_ROWS, 11, True, "T"))


def make_batch(rows: int) -> Path:
    """The batch to score: ``rows`` rows, no target."""
    return _write_csv(DATA / f"serve_{rows}.csv", _chunks(rows, 23, False, "S"))


def make_shuffled(rows: int, k: int) -> Path:
    """The same rows as make_batch(rows) in another order (permutation ``k``): another file, the
    same rows, for the row-level cache."""
    import numpy as np
    import pyarrow.csv as pacsv

    path = DATA / f"serve_{rows}_shuffled{k}.csv"
    if path.exists():
        return path
    table = pacsv.read_csv(make_batch(rows))
    order = np.random.default_rng(100 + k).permutation(table.num_rows)
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(table.take(order), tmp)
    tmp.rename(path)
    return path


# --------------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------------


def make_spec(folder: Path, data: Path, pipeline: str) -> Path:
    """A light project: types-only expectations, 2 folds, roc_auc, no baselines, a serving
    section (chunks of 100,000 rows, quarantine, the cache on for 30 days)."""
    estimator, params = PIPELINES[pipeline]
    text = ", ".join(
        f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items()
    )
    lines = [
        "spec_version: 1",
        f"project: {{name: bench-serve-{pipeline}, owner: bench, artifacts_dir: .mlready}}",
        "data:",
        f"  source: {{path: '{data}'}}",
        f"  target: {TARGET}",
        "  task: classification",
        "  positive_class: 'Yes'",
        "  id_columns: [id]",
        f"  features: {{numeric: [{', '.join(NUMERIC)}], categorical: [{', '.join(CATEGORICAL)}]}}",
        "expectations:",
        "  unexpected_columns: allow",
        "  columns:",
        "    id: {type: string}",
        *[f"    {name}: {{type: number}}" for name in NUMERIC],
        *[f"    {name}: {{type: string}}" for name in CATEGORICAL],
        f"    {TARGET}: {{type: string, environments: [training]}}",
        "model:",
        f"  estimator: {estimator}",
        f"  params: {{{text}}}",
        f"  random_state: {SEED}",
        "validation:",
        "  cv: {strategy: stratified_kfold, folds: 2}",
        "  metrics: [roc_auc]",
        "  baselines: []",
        "serving:",
        f"  chunk_rows: {CHUNK_ROWS}",
        "  on_invalid: quarantine",
        "  cache: {enabled: true, ttl: 30d}",
    ]
    if folder.exists():
        shutil.rmtree(folder)  # a fresh project: no runs, no registry, an empty cache
    folder.mkdir(parents=True)
    spec = folder / "mlready.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def train_and_register(folder: Path, pipeline: str) -> dict[str, Any]:
    """A fresh project in ``folder``: mlready train --no-importance, then register --promote
    production. Returns the spec, the model file and the seconds both took."""
    spec = make_spec(folder, make_training_data(), pipeline)
    base = [str(MLREADY), "--quiet", "--spec", str(folder)]
    start = time.perf_counter()
    done = subprocess.run(
        [*base, "train", "--no-importance", "--format", "json"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"mlready train failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    doc = json.loads(done.stdout)
    model = Path(doc["run_dir"]) / "model.skops"
    roc_auc = doc["metadata"]["validation"]["cv"]["roc_auc"]["mean"]
    train_s = time.perf_counter() - start
    done = subprocess.run(
        [*base, "register", "--promote", "production", "--format", "json"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"mlready register failed ({done.returncode}):\n{done.stderr}")
    return {
        "spec": spec,
        "model": model,
        "train_s": train_s,
        "register_s": time.perf_counter() - start - train_s,
        "cv_roc_auc": roc_auc,
    }


# --------------------------------------------------------------------------------------------------
# the MLflow venv
# --------------------------------------------------------------------------------------------------


def mlflow_venv() -> dict[str, Any]:
    """benchmarks/data/mlflow-venv, built once (again when the pins change): mlflow-skinny, this
    venv's scikit-learn, numpy, scipy, pandas, pyarrow, joblib and skops, and mlready editable
    without its dependencies. Returns its python, mlflow executable, pins and build seconds."""
    pins = [MLFLOW_PIN] + [f"{name}=={metadata.version(name)}" for name in SAME_AS_HERE]
    python = MLFLOW_VENV / "bin" / "python"
    stamp = MLFLOW_VENV / "bench-pins.json"
    info = {"python": python, "mlflow": MLFLOW_VENV / "bin" / "mlflow", "pins": pins}
    if stamp.exists() and python.exists():
        built = json.loads(stamp.read_text())
        if built.get("pins") == pins:
            return {**info, "build_s": built.get("build_s"), "reused": True}
    print(f"building the MLflow venv at {MLFLOW_VENV} ({', '.join(pins)})", flush=True)
    start = time.perf_counter()
    if MLFLOW_VENV.exists():
        shutil.rmtree(MLFLOW_VENV)
    subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for args in (pins, ["--no-deps", "-e", str(ROOT)]):
        done = subprocess.run([*pip, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pip install {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    check = "import mlflow.sklearn, mlready.training.pipeline; print(mlflow.__version__)"
    subprocess.run([str(python), "-c", check], check=True, capture_output=True)
    build_s = time.perf_counter() - start
    stamp.write_text(json.dumps({"pins": pins, "build_s": build_s}))
    print(f"  MLflow venv ready ({build_s:.0f} s)", flush=True)
    return {**info, "build_s": build_s, "reused": False}


def mlflow_model(venv: dict[str, Any], model: Path, folder: Path) -> Path:
    """The model.skops saved as an MLflow model in ``folder``/mlflow-model."""
    script = WORK / "mlflow_save.py"
    script.write_text(MLFLOW_SAVE)
    path = folder / "mlflow-model"
    if path.exists():
        shutil.rmtree(path)
    done = subprocess.run(
        [str(venv["python"]), str(script), str(model), str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **MLFLOW_ENV},
        cwd=WORK,
    )
    if done.returncode != 0:
        raise RuntimeError(f"mlflow save_model failed:\n{done.stderr[-3000:]}")
    return path


# --------------------------------------------------------------------------------------------------
# measuring (as in bench_train.py)
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------------------


def _serve(spec: Path, data: Path, out: Path, cache: bool) -> dict[str, Any]:
    """One `mlready serve-batch` run, with its JSON summary."""
    args = [str(MLREADY), "--quiet", "--spec", str(spec.parent), "serve-batch"]
    args += ["--input", str(data), "--output", str(out), "--format", "json"]
    if not cache:
        args.append("--no-cache")
    out.unlink(missing_ok=True)
    row = measure(args)
    if row["exit"] not in (0, 1):  # 1: invalid rows were quarantined; still timed
        raise RuntimeError(f"mlready serve-batch failed ({row['exit']}):\n{row['stderr']}")
    stdout = row.pop("stdout")
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"serve-batch printed no JSON:\n{stdout[-2000:]}") from None
    keys = ("rows_in", "rows_scored", "rows_rejected", "cache", "wall_s", "peak_memory_mb")
    row["summary"] = {k: doc.get(k) for k in (*keys, "nan_predictions", "timings")}
    row["rows_out"] = _parquet_rows(out)
    return row


def _floor(script: Path, model: Path, data: Path, out: Path) -> dict[str, Any]:
    out.unlink(missing_ok=True)
    row = measure([sys.executable, str(script), str(model), str(data), str(out)])
    if row["exit"]:
        raise RuntimeError(f"the floor script failed ({row['exit']}):\n{row['stderr']}")
    doc = json.loads(row.pop("stdout").strip().splitlines()[-1])
    row["timings"] = doc["timings"]
    row["rows_out"] = _parquet_rows(out)
    return row


def _mlflow(venv: dict[str, Any], model: Path, data: Path, out: Path) -> dict[str, Any]:
    out.unlink(missing_ok=True)
    args = [str(venv["mlflow"]), "models", "predict", "--env-manager", "local"]
    args += ["-m", str(model), "-i", str(data), "-t", "csv", "-o", str(out)]
    row = measure(args, env=MLFLOW_ENV)
    row.pop("stdout")
    if row["exit"] or not out.exists():
        raise RuntimeError(f"mlflow models predict failed ({row['exit']}):\n{row['stderr']}")
    row["output_mb"] = out.stat().st_size / 1e6
    return row


def _parquet_rows(path: Path) -> int | None:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows if path.exists() else None


def _agreement(floor_out: Path, ours_out: Path) -> float | None:
    """The largest difference between the floor's probabilities and mlready's (matched by id);
    None if there is nothing to compare."""
    import numpy as np
    import pyarrow.parquet as pq

    if not (floor_out.exists() and ours_out.exists()):
        return None
    floor = pq.read_table(floor_out).to_pandas().set_index("id")["probability"]
    ours = pq.read_table(ours_out).to_pandas()
    if not {"id", "probability"} <= set(ours.columns):
        return None
    ours = ours.set_index("id")["probability"].reindex(floor.index).to_numpy(dtype=float)
    return float(np.max(np.abs(ours - floor.to_numpy())))  # NaN when an id is missing


def _mlflow_agreement(floor_out: Path, mlflow_out: Path, positive: int = 1) -> float | None:
    """The largest difference between the floor's probabilities and MLflow's (same row order)."""
    import numpy as np
    import pyarrow.parquet as pq

    if not (floor_out.exists() and mlflow_out.exists()):
        return None
    predictions = json.loads(mlflow_out.read_text())
    predictions = predictions.get("predictions", predictions)
    values = np.array([p[positive] if isinstance(p, list) else p for p in predictions], float)
    floor = pq.read_table(floor_out).column("probability").to_numpy()
    return float(np.max(np.abs(values - floor))) if len(values) == len(floor) else None


def score_cases(
    rows: int,
    pipeline: str,
    *,
    repeats: int,
    mlready: bool,
    venv: dict[str, Any] | None,
    check_outputs: bool,
    cache_cases: bool = True,
    retry_disturbed: int = 0,
) -> dict[str, Any]:
    """Every case for one size and pipeline, in a fresh project: the floor, serve-batch
    --no-cache and MLflow interleaved in ``repeats`` rounds, then the cache cases."""
    folder = WORK / f"project_{pipeline}_{rows}"
    start = time.perf_counter()
    project = train_and_register(folder, pipeline)
    print(
        f" {pipeline}: trained and registered ({time.perf_counter() - start:.0f} s, "
        f"cv roc_auc {project['cv_roc_auc']:.4f})",
        flush=True,
    )
    batch = make_batch(rows)
    outs = WORK / f"out_{rows}"  # per size: two sizes may run at once
    outs.mkdir(parents=True, exist_ok=True)
    floor_script = WORK / "floor.py"
    floor_script.write_text(FLOOR.replace("POSITIVE", "'Yes'"))
    result: dict[str, Any] = {
        "rows": rows,
        "pipeline": pipeline,
        "estimator": PIPELINES[pipeline][0],
        "cv_roc_auc": project["cv_roc_auc"],
        "train_s": project["train_s"],
        "cases": {},
    }
    cases = result["cases"]
    floor_out = outs / "floor.parquet"
    ours_out = outs / "mlready.parquet"
    mlflow_out = outs / "mlflow.json"
    todo: dict[str, Callable[[int], dict[str, Any]]] = {
        "floor": lambda _: _floor(floor_script, project["model"], batch, floor_out)
    }
    if mlready:
        todo["mlready_cold"] = lambda _: _serve(project["spec"], batch, ours_out, cache=False)
    if venv is not None:
        start = time.perf_counter()
        model = mlflow_model(venv, project["model"], folder)
        result["mlflow_save_s"] = time.perf_counter() - start
        todo["mlflow"] = lambda _: _mlflow(venv, model, batch, mlflow_out)
    # the compared cases in rounds, so that all see the same machine; ratios pair the rounds
    rounds = interleaved(todo, repeats, retry_disturbed=retry_disturbed, labels=CASE_NAMES)
    for name, runs in rounds.items():
        cases[name] = summarize(runs)
    if check_outputs:
        if mlready:
            result["agreement_mlready_floor"] = _agreement(floor_out, ours_out)
        if venv is not None:
            result["agreement_mlflow_floor"] = _mlflow_agreement(floor_out, mlflow_out)
    mlflow_out.unlink(missing_ok=True)
    if mlready and cache_cases:
        # once only: a second run would find the batch in the cache
        first = _serve(project["spec"], batch, ours_out, cache=True)
        report(CASE_NAMES["mlready_first_cached"], first)
        cases["mlready_first_cached"] = pick([first])
        cases["mlready_same_batch"] = repeated(
            lambda _: _serve(project["spec"], batch, ours_out, cache=True),
            repeats,
            CASE_NAMES["mlready_same_batch"],
        )
        cases["mlready_same_rows"] = repeated(
            lambda i: _serve(project["spec"], make_shuffled(rows, i), ours_out, cache=True),
            repeats,
            CASE_NAMES["mlready_same_rows"],
        )
    for path in outs.iterdir():  # outputs and what serve-batch writes beside them
        path.unlink()
    for case in cases.values():
        case["rows_per_s"] = rows / case["wall_s"]
    result["ratios"] = case_ratios(result)
    return result


def case_ratios(result: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Throughput ratios (the same rows, so time ratios): the interleaved cases' paired by round
    (min / median / max over the rounds), in wall time and in CPU seconds; the cache cases'
    (run after the rounds) from their median runs."""
    cases = result["cases"]

    def paired_ratio(slow: str, fast: str, key: str = "wall_s") -> dict[str, Any] | None:
        if slow in cases and fast in cases:
            return ratios(cases[slow]["rounds"], cases[fast]["rounds"], key)
        return None

    def single(slow: str, fast: str) -> dict[str, Any] | None:
        if slow in cases and fast in cases:
            value = cases[slow]["wall_s"] / cases[fast]["wall_s"]
            disturbed = bool(cases[slow]["disturbed"] or cases[fast]["disturbed"])
            return {
                "min": value,
                "median": value,
                "max": value,
                "rounds": 1,
                "disturbed_rounds": int(disturbed),
                "all_disturbed": disturbed,
                "each": [round(value, 4)],
            }
        return None

    return {
        "mlready_vs_floor": paired_ratio("floor", "mlready_cold"),
        "mlready_vs_floor_cpu": paired_ratio("floor", "mlready_cold", "cpu_s"),
        "mlready_first_cached_vs_floor": single("floor", "mlready_first_cached"),
        "mlready_vs_mlflow": paired_ratio("mlflow", "mlready_cold"),
        "mlready_vs_mlflow_cpu": paired_ratio("mlflow", "mlready_cold", "cpu_s"),
        "floor_vs_mlflow": paired_ratio("mlflow", "floor"),
        "cache_speedup": single("mlready_cold", "mlready_same_batch"),
        "row_cache_speedup": single("mlready_cold", "mlready_same_rows"),
    }


def run(
    sizes: list[int],
    *,
    repeats: int = 1,
    mlflow: bool = True,
    mlready: bool = True,
    quiet_wait: float = 300.0,
    cache_cases: bool = True,
    retry_disturbed: int = 0,
    pipelines: list[str] | None = None,
) -> dict[str, Any]:
    """Every case at every size, for both pipelines (or those named)."""
    QUIET_WAIT["seconds"] = quiet_wait
    QUIET_WAIT["cwd"] = WORK
    WORK.mkdir(parents=True, exist_ok=True)
    if mlready:
        probe = subprocess.run([str(MLREADY), "serve-batch", "--help"], capture_output=True)
        if probe.returncode != 0:
            raise SystemExit("this mlready has no serve-batch command (use --skip-mlready)")
    venv = mlflow_venv() if mlflow else None
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "sklearn": metadata.version("scikit-learn"),
            "pandas": metadata.version("pandas"),
            "pyarrow": metadata.version("pyarrow"),
            "load_at_start": os.getloadavg(),
            "train_rows": TRAIN_ROWS,
            "chunk_rows": CHUNK_ROWS,
            "pipelines": {k: {"estimator": e, "params": p} for k, (e, p) in PIPELINES.items()},
        },
        "mlflow": None
        if venv is None
        else {k: str(v) if isinstance(v, Path) else v for k, v in venv.items()},
        "sizes": {},
    }
    smallest = min(sizes)
    for rows in sizes:
        start = time.perf_counter()
        make_batch(rows)
        if mlready and cache_cases:
            for k in range(repeats):  # the row-cache runs' files (a rerun makes another)
                make_shuffled(rows, k)
        print(f"data {rows:,} rows ready ({time.perf_counter() - start:.0f} s)", flush=True)
        results["sizes"][str(rows)] = {
            pipeline: score_cases(
                rows,
                pipeline,
                repeats=repeats,
                mlready=mlready,
                venv=venv,
                check_outputs=rows == smallest,
                cache_cases=cache_cases,
                retry_disturbed=retry_disturbed,
            )
            for pipeline in pipelines or PIPELINES
        }
    results["summary"] = summary(results)
    return results


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The targets: throughput against the floor and MLflow, memory growth, cache speed-up."""
    sizes = results["sizes"]
    out: dict[str, Any] = {}
    pipelines = dict.fromkeys(p for by_pipeline in sizes.values() for p in by_pipeline)
    for pipeline in pipelines:
        row: dict[str, Any] = {}
        by_size = {int(k): v[pipeline] for k, v in sizes.items() if pipeline in v}
        for name in ("mlready_vs_floor", "mlready_vs_floor_cpu", "cache_speedup"):
            row[name] = {str(k): v["ratios"][name] for k, v in sorted(by_size.items())}
        at = MLFLOW_BAR_ROWS if MLFLOW_BAR_ROWS in by_size else min(by_size)
        row["mlready_vs_mlflow"] = {"rows": at, "ratio": by_size[at]["ratios"]["mlready_vs_mlflow"]}
        for case in ("mlready_cold", "floor"):
            peaks = {
                k: v["cases"][case]["peak_gb"]
                for k, v in sorted(by_size.items())
                if case in v["cases"]
            }
            key = "mlready" if case == "mlready_cold" else "floor"
            row[f"{key}_peak_gb"] = {str(k): v for k, v in peaks.items()}
            if len(peaks) >= 2:
                small, large = min(peaks), max(peaks)
                row[f"{key}_peak_growth"] = {
                    "from_rows": small,
                    "to_rows": large,
                    "ratio": peaks[large] / peaks[small],
                }
        out[pipeline] = row
    return out


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------

CASE_NAMES = {
    "mlready_cold": "mlready serve-batch --no-cache (cold)",
    "mlready_first_cached": "mlready serve-batch, empty cache (fills it)",
    "mlready_same_batch": "mlready serve-batch, same batch again",
    "mlready_same_rows": "mlready serve-batch, same rows in another file",
    "floor": "streaming floor: pyarrow blocks, 2 threads, ParquetWriter",
    "mlflow": "mlflow models predict --env-manager local",
}


def _verdict(value: float | None, ok: bool) -> str:
    if value is None:
        return "not measured"
    return "ok" if ok else "**missed**"


def _fmt(value: float | None, digits: int = 2, suffix: str = "x") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def _median(r: dict[str, Any] | None) -> float | None:
    return None if r is None else float(r["median"])


def tables(results: dict[str, Any]) -> str:
    """The results as markdown tables."""
    m = results["machine"]
    mlflow = results.get("mlflow")
    out = [
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, scikit-learn {m['sklearn']}, "
        f"pandas {m['pandas']}, pyarrow {m['pyarrow']}. Model trained by mlready on "
        f"{m['train_rows']:,} rows; serve-batch chunks of {m['chunk_rows']:,} rows.",
    ]
    if mlflow:
        out.append(f"MLflow venv: {', '.join(mlflow['pins'])}.")
    out += [
        "",
        "### Scoring a batch of 25 features (measured from outside the process)",
        "",
        "The floor, serve-batch --no-cache and MLflow ran interleaved in rounds; the cache cases "
        "after them. Wall s, CPU s (user + sys) and peak GB: the median undisturbed run, with "
        "min-max over the rounds. Load: the 1-minute load average at the start of each run. "
        "Disturbed: runs during which other processes kept over 0.2 cores busy.",
        "",
        "| rows | pipeline | case | wall s | cpu s | peak GB | rows/s | cache hits | load "
        "| disturbed |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for key, pipelines in results["sizes"].items():
        for pipeline, r in pipelines.items():
            for case, name in CASE_NAMES.items():
                if case not in r["cases"]:
                    continue
                c = r["cases"][case]
                cache = (c.get("summary") or {}).get("cache") or {}
                hits = ""
                if cache:
                    hits = f"{cache.get('hits', 0):,}" + (
                        " (batch)" if cache.get("batch_hit") else ""
                    )
                stats = c.get("stats") or {}

                def cell(k: str, value: float, stats: dict[str, Any] = stats) -> str:
                    s = stats.get(k)
                    if not s or s["min"] == s["max"]:
                        return f"{value:.2f}"
                    return f"{value:.2f} ({s['min']:.2f}-{s['max']:.2f})"

                out.append(
                    f"| {int(key):,} | {pipeline} | {name} | {cell('wall_s', c['wall_s'])} | "
                    f"{cell('cpu_s', c['cpu_s'])} | {cell('peak_gb', c['peak_gb'])} | "
                    f"{c['rows_per_s']:,.0f} | {hits} | "
                    f"{', '.join(f'{v:.1f}' for v in c.get('loads', []))} | "
                    f"{c['runs'] - c['undisturbed_runs']} of {c['runs']} |"
                )
    out += [
        "",
        "### Ratios",
        "",
        "Paired by round: median (min-max) over the rounds in which neither run was disturbed, "
        "or over all rounds ('disturbed') if each was. Over 1: mlready is faster. mlready: "
        "serve-batch --no-cache; the cache speed-ups are from median runs.",
        "",
        "| rows | pipeline | floor / mlready wall | floor / mlready cpu | MLflow / mlready wall "
        "| MLflow / mlready cpu | MLflow / floor wall | cache speed-up | row-cache speed-up |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, pipelines in results["sizes"].items():
        for pipeline, r in pipelines.items():
            q = r["ratios"]
            out.append(
                f"| {int(key):,} | {pipeline} | {fmt_ratio(q['mlready_vs_floor'])} | "
                f"{fmt_ratio(q['mlready_vs_floor_cpu'])} | {fmt_ratio(q['mlready_vs_mlflow'])} | "
                f"{fmt_ratio(q['mlready_vs_mlflow_cpu'])} | {fmt_ratio(q['floor_vs_mlflow'])} | "
                f"{_fmt(_median(q['cache_speedup']), 1)} | "
                f"{_fmt(_median(q['row_cache_speedup']), 1)} |"
            )
    out += [
        "",
        "### Targets",
        "",
        "| pipeline | target | measured (median) | verdict |",
        "|---|---|---|---|",
    ]
    for pipeline, s in results["summary"].items():
        for rows, r in s["mlready_vs_floor"].items():
            value = _median(r)
            out.append(
                f"| {pipeline} | floor time / mlready time >= {FLOOR_BAR} at {int(rows):,} | "
                f"{fmt_ratio(r)} | {_verdict(value, value is not None and value >= FLOOR_BAR)} |"
            )
        bar = MLFLOW_BARS[pipeline]
        r = s["mlready_vs_mlflow"]["ratio"]
        value = _median(r)
        at = s["mlready_vs_mlflow"]["rows"]
        note = "" if at == MLFLOW_BAR_ROWS else " (target is at 1,000,000)"
        out.append(
            f"| {pipeline} | mlready / MLflow throughput >= {bar}x at {at:,}{note} | "
            f"{fmt_ratio(r)} | {_verdict(value, value is not None and value >= bar)} |"
        )
        growth = s.get("mlready_peak_growth")
        if growth:
            peak = s["mlready_peak_gb"][str(growth["to_rows"])]
            ok = growth["ratio"] <= MEMORY_GROWTH_BAR and peak < MEMORY_GB_BAR
            floor_growth = s.get("floor_peak_growth")
            floor_note = (
                f"; the floor {floor_growth['ratio']:.2f}" if floor_growth is not None else ""
            )
            out.append(
                f"| {pipeline} | mlready peak {growth['to_rows']:,} / {growth['from_rows']:,} "
                f"<= {MEMORY_GROWTH_BAR} and < {MEMORY_GB_BAR} GB | {growth['ratio']:.2f} "
                f"({peak:.2f} GB{floor_note}) | {_verdict(growth['ratio'], ok)} |"
            )
        for rows, r in s["cache_speedup"].items():
            value = _median(r)
            out.append(
                f"| {pipeline} | cache speed-up (cold / same batch) >= {CACHE_BAR:.0f}x at "
                f"{int(rows):,} | {_fmt(value, 1)} | "
                f"{_verdict(value, value is not None and value >= CACHE_BAR)} |"
            )
    checks = []
    for key, pipelines in results["sizes"].items():
        for pipeline, r in pipelines.items():
            for name in ("agreement_mlready_floor", "agreement_mlflow_floor"):
                if name in r:
                    value = r[name]
                    checks.append(
                        f"{pipeline} at {int(key):,}: {name.split('_')[1]} and the floor differ "
                        + ("(not compared)" if value is None else f"by at most {value:.2e}")
                    )
    if checks:
        out += ["", "Same predictions: " + "; ".join(checks) + "."]
    for key, pipelines in results["sizes"].items():
        for pipeline, r in pipelines.items():
            runs = r["cases"].get("mlready_same_batch", {}).get("all", [])
            missed = sum(not (run.get("cache") or {}).get("batch_hit") for run in runs)
            if missed:
                out.append(
                    f"\nWarning: {missed} of {len(runs)} 'same batch again' runs ({pipeline}, "
                    f"{int(key):,} rows) were not whole-batch cache hits."
                )
    return "\n".join(out) + "\n"


def main() -> None:
    """Run and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--quick", action="store_true", help="a smoke run on 100,000 rows")
    parser.add_argument(
        "--rounds",
        "--repeats",
        dest="rounds",
        type=int,
        default=3,
        help="rounds of the interleaved cases (floor, serve-batch --no-cache, MLflow); ratios are "
        "paired by round (min / median / max); the cache cases run as many times",
    )
    parser.add_argument(
        "--retry-disturbed",
        type=int,
        default=0,
        help="extra rounds allowed, run when a round was disturbed by other processes",
    )
    parser.add_argument(
        "--pipelines", nargs="+", choices=list(PIPELINES), help="only these pipelines"
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="no MLflow venv, no MLflow")
    parser.add_argument(
        "--skip-mlready", action="store_true", help="only the floor and MLflow (no serve-batch)"
    )
    parser.add_argument(
        "--skip-cache", action="store_true", help="no cache cases (only the interleaved rounds)"
    )
    parser.add_argument(
        "--stem", help="name of the results files in benchmarks/results (default: serve)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="seconds to wait, before each case, for other processes to stop using the CPU",
    )
    options = parser.parse_args()
    sizes = [100_000] if options.quick else sorted(options.sizes)
    results = run(
        sizes,
        repeats=options.rounds,
        mlflow=not options.skip_mlflow,
        mlready=not options.skip_mlready,
        quiet_wait=options.quiet_wait,
        cache_cases=not options.skip_cache,
        retry_disturbed=options.retry_disturbed,
        pipelines=options.pipelines,
    )
    RESULTS.mkdir(exist_ok=True)
    # a smoke run keeps the full results
    stem = options.stem or ("serve_quick" if options.quick else "serve")
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    text = tables(results)
    (RESULTS / f"{stem}.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
