"""skops against joblib: file size, write time and load time of the same fitted model.

Two models, each mlready's own Pipeline built from a spec with mlready's build_pipeline:
1. the sample project's (sample_project/: its estimator and params, fitted on its training data
   the way train reads it; the hyperparameter search is left out, it only picks two params);
2. the benchmark model of bench_train.py (histogram gradient boosting, 200 trees of 31 leaves,
   20 numeric and 5 categorical columns), fitted on --rows generated rows (default 100,000).

Each is written both ways, as train writes them (skops deflated with the trusted-type check;
joblib with compress=3), and the loaded models must predict identically. Then:
- warm load: in this process, after one warm-up, read the file, check its sha256 and load it
  (mlready.model_format.load_model, the registry's path), the two formats interleaved and in
  alternating order, --repeats times; min, median and max;
- cold load: a fresh Python process that imports mlready, reads, checks and loads the model
  (what serve-batch pays once), the two formats interleaved, --cold-repeats times; this includes
  importing skops, which imports every scikit-learn estimator module to list them as trusted.
The load average is recorded before and after each model. Results go to
benchmarks/results/model_format.json (git-ignored) and are printed as a table.
Usage: python benchmarks/bench_model_format.py [--rows 100000] [--repeats 15] [--cold-repeats 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

COLD = """\
import hashlib, sys, time
start = time.perf_counter()
from mlready.model_format import ModelPolicy, load_model
path, fmt, digest = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
assert hashlib.sha256(data).hexdigest() == digest
load_model(data, fmt, ModelPolicy(allow_pickle=fmt == "joblib"), "bench")
print(time.perf_counter() - start)
"""


def sample_model() -> tuple[Any, Any]:
    """The sample project's pipeline fitted on its training data; a few rows to predict."""
    from mlready.columns import ColumnTypes
    from mlready.spec import load_spec
    from mlready.training.data import load_training_data
    from mlready.training.pipeline import build_pipeline

    spec = load_spec(ROOT / "sample_project").spec
    data = load_training_data(spec, ColumnTypes.of(spec).read(spec.data.source.path))
    pipeline = build_pipeline(spec, data.task, data.numeric, data.categorical)
    pipeline.fit(data.X, data.y)
    return pipeline, data.X.head(500)


def bench_model(rows: int) -> tuple[Any, Any]:
    """bench_train.py's pipeline fitted on ``rows`` generated rows; a few rows to predict."""
    import bench_train
    import pandas as pd

    from mlready.spec import load_spec
    from mlready.training.pipeline import build_pipeline

    data = bench_train.make_data(rows)
    spec = load_spec(bench_train.make_spec(bench_train.DATA / f"format_{rows}", data)).spec
    frame = pd.read_csv(data)
    numeric, categorical = spec.data.features.numeric, spec.data.features.categorical
    X = frame[numeric + categorical]
    y = (frame[spec.data.target] == "Yes").astype("int64").to_numpy()
    pipeline = build_pipeline(spec, "classification", numeric, categorical)
    pipeline.fit(X, y)
    return pipeline, X.head(500)


def _write(model: Any, folder: Path) -> dict[str, dict[str, Any]]:
    """The model written both ways, as train writes them; each file's path, size, write time."""
    from mlready.model_format import MODEL_FILES, ModelPolicy, dump_model

    out = {}
    for fmt, policy in (("skops", ModelPolicy()), ("joblib", ModelPolicy(allow_pickle=True))):
        path = folder / MODEL_FILES[fmt]
        start = time.perf_counter()
        dump_model(model, path, policy)
        seconds = time.perf_counter() - start
        data = path.read_bytes()
        out[fmt] = {
            "path": path,
            "bytes": len(data),
            "write_s": seconds,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    return out


def _load(path: Path, fmt: str, digest: str) -> Any:
    """What the registry does: read, check the sha256, load those bytes."""
    from mlready.model_format import ModelPolicy, load_model

    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise SystemExit(f"{path} changed")
    return load_model(data, fmt, ModelPolicy(allow_pickle=fmt == "joblib"), "bench")


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "min_ms": min(values) * 1000,
        "median_ms": statistics.median(values) * 1000,
        "max_ms": max(values) * 1000,
    }


def measure(name: str, model: Any, rows: Any, repeats: int, cold_repeats: int) -> dict[str, Any]:
    import numpy as np

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        files = _write(model, Path(tmp))
        expected = model.predict_proba(rows)
        for fmt, f in files.items():  # warm-up, and the answers must not change
            loaded = _load(f["path"], fmt, f["sha256"])
            np.testing.assert_array_equal(loaded.predict_proba(rows), expected)
        warm: dict[str, list[float]] = {"skops": [], "joblib": []}
        for i in range(repeats):
            for fmt in ("skops", "joblib") if i % 2 == 0 else ("joblib", "skops"):
                f = files[fmt]
                start = time.perf_counter()
                _load(f["path"], fmt, f["sha256"])
                warm[fmt].append(time.perf_counter() - start)
        cold: dict[str, list[float]] = {"skops": [], "joblib": []}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for i in range(cold_repeats):
            for fmt in ("skops", "joblib") if i % 2 == 0 else ("joblib", "skops"):
                f = files[fmt]
                done = subprocess.run(
                    [sys.executable, "-c", COLD, str(f["path"]), fmt, f["sha256"]],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                )
                cold[fmt].append(float(done.stdout.strip()))
    result: dict[str, Any] = {"load_average_before": load_before}
    for fmt in ("skops", "joblib"):
        result[fmt] = {
            "bytes": files[fmt]["bytes"],
            "write_ms": files[fmt]["write_s"] * 1000,
            "warm": _stats(warm[fmt]),
            "cold": _stats(cold[fmt]),
        }
    result["load_average_after"] = os.getloadavg()
    result["repeats"] = {"warm": repeats, "cold": cold_repeats}
    print(f"\n{name}  (load average {load_before[0]:.2f} before, ", end="")
    print(f"{result['load_average_after'][0]:.2f} after)")
    print(
        f"  {'format':8} {'bytes':>10} {'write ms':>9}   "
        f"{'warm load ms: min / median / max':>34}   {'cold load ms: min / median / max':>34}"
    )
    for fmt in ("skops", "joblib"):
        r = result[fmt]
        w, c = r["warm"], r["cold"]
        print(
            f"  {fmt:8} {r['bytes']:>10,} {r['write_ms']:9.1f}   "
            f"{w['min_ms']:10.1f} / {w['median_ms']:8.1f} / {w['max_ms']:8.1f}   "
            f"{c['min_ms']:10.0f} / {c['median_ms']:8.0f} / {c['max_ms']:8.0f}"
        )
    return result


def run(rows: int = 100_000, repeats: int = 15, cold_repeats: int = 5) -> dict[str, Any]:
    """Measure both models; the results by model."""
    import skops
    import skops.io  # before any write is timed (the cold loads pay for it)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = {
            "sample project": sample_model(),
            f"benchmark model ({rows:,} rows)": bench_model(rows),
        }
    results = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "skops": skops.__version__,
            "joblib": __import__("joblib").__version__,
            "scikit-learn": __import__("sklearn").__version__,
        },
        "models": {
            name: measure(name, model, sample, repeats, cold_repeats)
            for name, (model, sample) in models.items()
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "model_format.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--cold-repeats", type=int, default=5)
    args = parser.parse_args()
    run(args.rows, args.repeats, args.cold_repeats)


if __name__ == "__main__":
    main()
