"""check-drift against Evidently's data-drift preset and a plain numpy/scipy script, on a
1M-row reference and a 1M-row current batch x 25 columns with drift planted in 5 of them.

The data (no id, no target): 20 numeric columns n0..n19 of assorted shapes (normal, uniform,
log-normal, exponential, gamma, whole numbers, Poisson counts, a 0/1/2 flag, one column with 2%
gaps) and 5 categorical columns c0..c4 (5, 12, 20, 35 and 50 categories: a few common ones and a
long tail). The reference and the current batch come from the same distributions (other seeds)
except for five planted shifts, two of them small:

  n0  normal(50, 10): the mean moves by +0.25 std
  n1  normal(100, 15): the spread grows x1.3 about the mean
  n2  uniform(0, 100): a small shift, +3.5 (0.12 std)
  c1  12 categories: shares moved a lot (the 3 most common lose 60% of their shares)
  c3  35 categories: shares moved a little (the most common gives 40% of its share, about 6
      points, to the 5 rarest)

Cases, each in its own process; wall time, CPU seconds and peak memory (max RSS of the largest
process) are measured from outside:

1. Equal inputs: `mlready check-drift --reference REFERENCE.csv --current CURRENT.csv --format
   json`, so the reference profile is built from the reference CSV in the same run (streamed in
   chunks: see mlready.profiles.ReferenceBuilder). This is the case compared with Evidently,
   interleaved with it in rounds (mlready, Evidently, mlready, Evidently, ...).
2. For scale, once: mlready's reference profile alone (the Python API's reference_from_file() on
   the reference CSV, saved as JSON, as training pays it), and
   `mlready check-drift --reference PROFILE.json --current CURRENT.csv --format json` in a project
   with a production model (LogisticRegression trained by `mlready train --no-importance` on
   50,000 rows from the reference's distributions with a target, then `mlready register --promote
   production`) and the default monitoring.drift settings (small_sample_rows 1000, p_value 0.05,
   distance 0.1, psi 0.1, bins 30). It writes drift.json and drift.html.
3. Evidently's DataDriftPreset (0.7.x) with the numerical and categorical columns declared: both
   CSVs read with pandas (pyarrow engine), Report(..., include_tests=True).run (its per-column
   tests carry the verdicts), the snapshot saved as JSON and HTML. Evidently 0.7 does not import
   under pandas 3, so it lives in its own venv, built by this script at
   benchmarks/data/evidently-venv (evidently 0.7.*, pandas < 3, pyarrow). DO_NOT_TRACK is set:
   no telemetry.
4. A plain script: pandas (pyarrow engine), then the tests Evidently picks when the reference has
   over 1,000 rows: scipy's wasserstein_distance over the reference's std (numeric), scipy's
   jensenshannon on the category shares (categorical, and numeric columns with at most 5
   values); drift when the distance reaches 0.1. It also computes PSI (bar 0.1) on 10 and on 30
   quantile bins of the reference, to show which planted shifts 10 bins miss.

Reported: wall time, CPU seconds, peak memory and the load average before each run; per round,
Evidently / mlready (equal inputs) on wall time and on CPU seconds, with their min / median / max
over the rounds (target >= 15x on both), and mlready's peak (target < 1 GB); each column's test,
statistic and verdict by each tool (they should agree where they run the same test), and the
planted columns each found or missed.

Data, the project, the Evidently venv and outputs go to benchmarks/data/ (git-ignored); the
results to benchmarks/results/drift.json and drift.md (git-ignored). As in bench_serve.py, each
case first waits (--quiet-wait seconds) for other processes to go quiet, and a run they disturbed
is run again (up to twice the repeats); the median undisturbed run is reported. A run during
which other processes kept over 0.2 cores busy is marked disturbed.
At 5,000,000 rows Evidently needs about 15 GB and most of an hour: run --skip-evidently there
(mlready's memory and verdicts; the reference profile is then sampled, see docs/drift.md).
Usage: python benchmarks/bench_drift.py [--rows 1000000] [--quick] [--repeats 1] [--rounds 3]
       [--skip-evidently] [--quiet-wait 300]
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
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measuring import DISTURBED, QUIET_WAIT, measure, pick, repeated, report

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
WORK = DATA / "work" / "drift"
MLREADY = Path(sys.executable).with_name("mlready")
EVIDENTLY_VENV = DATA / "evidently-venv"
#: Evidently 0.7 fails to import under pandas 3: its own venv, with pandas 2.
EVIDENTLY_PINS = ["evidently==0.7.*", "pandas<3", "pyarrow"]
#: Versions recorded from the Evidently venv.
EVIDENTLY_REPORTED = ["evidently", "pandas", "numpy", "scipy", "pyarrow"]
NUMERIC = [f"n{i}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
FEATURES = NUMERIC + CATEGORICAL
CARDINALITY = [5, 12, 20, 35, 50]
TARGET = "target"
TRAIN_ROWS = 50_000
SEED = 42
#: The planted shifts (see the module's docstring); every other column keeps its distribution.
PLANTED = {
    "n0": "mean +0.25 std",
    "n1": "spread x1.3",
    "n2": "small shift +0.12 std",
    "c1": "shares moved a lot",
    "c3": "shares moved a little",
}
MEAN_SHIFT = 0.25 * 10  # n0: normal(50, 10)
SCALE = 1.3  # n1: normal(100, 15), about its mean
SMALL_SHIFT = 3.5  # n2: uniform(0, 100), std 28.9
#: The drift bars: the defaults of mlready's monitoring.drift and of Evidently's preset.
DISTANCE = 0.1
PSI_BAR = 0.1
EVIDENTLY_BAR = 15.0
MEMORY_GB_BAR = 1.0
#: Evidently's names of its tests, as mlready names them.
EVIDENTLY_TESTS = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "ztest",
    "PSI": "psi",
}

PROFILE = textwrap.dedent(
    """\
    # The reference profile, as mlready computes it at training time, saved as JSON.
    import json, sys, time
    start = time.perf_counter()
    from mlready.drift import reference_from_file
    from mlready.spec import load_spec

    project, data_path, out_path = sys.argv[1:4]
    profile = reference_from_file(load_spec(project), data_path)
    seconds = time.perf_counter() - start
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(profile, out)
    print(json.dumps({"timings": {"profile": seconds, "total": time.perf_counter() - start},
                      "columns": len(profile["columns"]), "rows": profile["rows"]}))
    """
)

EVIDENTLY = (
    textwrap.dedent(
        """\
    # Run in the Evidently venv: the data-drift preset on two CSVs, the snapshot saved.
    import json, sys, time
    start = time.perf_counter()
    import pandas as pd
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    NUMERIC, CATEGORICAL = NUMERIC_LIST, CATEGORICAL_LIST
    reference_path, current_path, out = sys.argv[1:4]
    timings = {"imports": time.perf_counter() - start}
    t = time.perf_counter()
    reference = pd.read_csv(reference_path, engine="pyarrow")
    current = pd.read_csv(current_path, engine="pyarrow")
    timings["read"] = time.perf_counter() - t
    t = time.perf_counter()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    timings["report"] = time.perf_counter() - t
    t = time.perf_counter()
    snapshot.save_json(out + ".json")
    snapshot.save_html(out + ".html")
    timings["write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    result = snapshot.dict()
    columns, count = {}, None
    for metric in result["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith(":ValueDrift"):
            columns[config["column"]] = {
                "test": config.get("method"),
                "statistic": float(metric["value"]),
                "threshold": config.get("threshold"),
            }
        elif config.get("type", "").endswith(":DriftedColumnsCount"):
            count = metric["value"]
    for test in result["tests"]:
        column = test["metric_config"]["params"].get("column")
        if column in columns:
            columns[column]["drifted"] = test["status"] == "FAIL"
    print(json.dumps({"timings": timings, "columns": columns, "drifted_count": count,
                      "version": evidently.__version__}, default=float))
    """
    )
    .replace("NUMERIC_LIST", repr(NUMERIC))
    .replace("CATEGORICAL_LIST", repr(CATEGORICAL))
)

PLAIN = (
    textwrap.dedent(
        """\
    # The same tests by hand: the ones Evidently picks for a reference of over 1,000 rows, with
    # pandas, numpy and scipy; and PSI on 10 and 30 quantile bins of the reference.
    import json, sys, time
    start = time.perf_counter()
    import numpy as np
    import pandas as pd
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    NUMERIC, CATEGORICAL = NUMERIC_LIST, CATEGORICAL_LIST
    BAR, PSI_BAR, EPSILON = DISTANCE_BAR, PSI_LIMIT, 1e-4
    reference_path, current_path = sys.argv[1:3]
    timings = {"imports": time.perf_counter() - start}
    t = time.perf_counter()
    reference = pd.read_csv(reference_path, engine="pyarrow")
    current = pd.read_csv(current_path, engine="pyarrow")
    timings["read"] = time.perf_counter() - t


    def shares(ref, cur):
        ref_counts, cur_counts = ref.value_counts(), cur.value_counts()
        keys = ref_counts.index.union(cur_counts.index)
        r = ref_counts.reindex(keys, fill_value=0).to_numpy(float)
        c = cur_counts.reindex(keys, fill_value=0).to_numpy(float)
        return r / r.sum(), c / c.sum()


    def binned(ref, cur, bins):
        cuts = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
        r = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=len(cuts) + 1)
        c = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=len(cuts) + 1)
        return r / r.sum(), c / c.sum()


    def psi(r, c):
        r, c = np.maximum(r, EPSILON), np.maximum(c, EPSILON)
        return float(np.sum((c - r) * np.log(c / r)))


    columns = {}
    timings["tests"] = timings["psi"] = 0.0
    for name in NUMERIC + CATEGORICAL:
        ref, cur = reference[name].dropna(), current[name].dropna()
        t = time.perf_counter()
        few = name in CATEGORICAL or (
            ref.nunique() <= 5 and pd.concat([ref, cur]).nunique() <= 5
        )
        if few:
            r, c = shares(ref, cur)
            test, statistic = "jensenshannon", float(jensenshannon(r, c))
        else:
            ref, cur = ref.to_numpy(float), cur.to_numpy(float)
            test = "wasserstein"
            statistic = float(wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001))
        timings["tests"] += time.perf_counter() - t
        t = time.perf_counter()
        if few:  # categories: no bins to choose
            psi10 = psi30 = psi(r, c)
        else:
            psi10, psi30 = psi(*binned(ref, cur, 10)), psi(*binned(ref, cur, 30))
        timings["psi"] += time.perf_counter() - t
        columns[name] = {
            "test": test,
            "statistic": statistic,
            "drifted": statistic >= BAR,
            "psi10": psi10,
            "psi30": psi30,
        }
    timings["total"] = time.perf_counter() - start
    print(json.dumps({"timings": timings, "columns": columns}))
    """
    )
    .replace("NUMERIC_LIST", repr(NUMERIC))
    .replace("CATEGORICAL_LIST", repr(CATEGORICAL))
    .replace("DISTANCE_BAR", repr(DISTANCE))
    .replace("PSI_LIMIT", repr(PSI_BAR))
)


# --------------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------------


def _numeric(i: int, rng: Any, n: int) -> Any:
    """Column n<i>'s values in the reference's distribution."""
    import numpy as np

    if i == 0:
        return rng.normal(50, 10, n)
    if i == 1:
        return rng.normal(100, 15, n)
    if i == 2:
        return rng.uniform(0, 100, n)
    if i == 5:  # a column with gaps
        return np.where(rng.random(n) < 0.02, np.nan, rng.normal(0, 1, n))
    if i == 9:  # a flag: 3 values (tested as categories by both tools)
        return rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    kind = i % 5
    if kind == 0:
        return rng.lognormal(3, 0.6, n)
    if kind == 1:
        return rng.exponential(20, n)
    if kind == 2:
        return np.round(rng.uniform(0, 100, n))  # whole numbers
    if kind == 3:
        return rng.poisson(3, n)  # counts
    return rng.gamma(2.0, 5.0, n)


def _weights(i: int, current: bool) -> Any:
    """Category shares of c<i>: a few common categories, a long tail; c1 and c3 moved in the
    current batch."""
    import numpy as np

    weights = 1 / np.arange(1, CARDINALITY[i] + 1) ** 0.8
    weights = weights / weights.sum()
    if current and CATEGORICAL[i] == "c1":  # a lot: the 3 most common lose 60% of their shares
        lost = weights[:3] * 0.6
        weights[:3] -= lost
        weights[3:] += lost.sum() * weights[3:] / weights[3:].sum()
    if current and CATEGORICAL[i] == "c3":  # a little: 40% of the top share to the 5 rarest
        moved = weights[0] * 0.4
        weights[0] -= moved
        weights[-5:] += moved / 5
    return weights


def _chunks(rows: int, seed: int, *, current: bool, target: bool) -> Iterator[Any]:
    """pyarrow tables of at most 500,000 rows: 20 numeric and 5 categorical columns (the planted
    shifts when ``current``), and (``target``) an id and a Yes/No target with some signal."""
    import numpy as np
    import pyarrow as pa

    labels = [
        np.array([f"{name}_v{j:02d}" for j in range(count)])
        for name, count in zip(CATEGORICAL, CARDINALITY, strict=True)
    ]
    effect = np.random.default_rng(5).normal(0, 0.7, max(CARDINALITY))
    step = 500_000
    for k, start in enumerate(range(0, rows, step)):
        n = min(step, rows - start)
        rng = np.random.default_rng([seed, k])
        columns: dict[str, Any] = {}
        if target:
            ids = np.char.zfill(np.arange(start, start + n).astype(str), 8)
            columns["id"] = pa.array(np.char.add("T", ids))
        numbers = {name: _numeric(i, rng, n) for i, name in enumerate(NUMERIC)}
        if current:
            numbers["n0"] = numbers["n0"] + MEAN_SHIFT
            numbers["n1"] = 100 + (numbers["n1"] - 100) * SCALE
            numbers["n2"] = numbers["n2"] + SMALL_SHIFT
        for name in NUMERIC:
            columns[name] = pa.array(numbers[name], from_pandas=True)
        codes = [rng.choice(len(labels[i]), size=n, p=_weights(i, current)) for i in range(5)]
        for i, name in enumerate(CATEGORICAL):
            columns[name] = pa.array(labels[i][codes[i]])
        if target:
            logit = (
                -0.5
                + 0.06 * (numbers["n0"] - 50)
                - 0.03 * (numbers["n1"] - 100)
                + 0.02 * (numbers["n2"] - 50)
                + effect[codes[0]]
                + effect[codes[3]]
            )
            positive = rng.random(n) < 1 / (1 + np.exp(-logit))
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


def make_data(rows: int) -> tuple[Path, Path]:
    """The reference and the current batch, ``rows`` rows each."""
    reference = _write_csv(
        DATA / f"drift_reference_{rows}.csv", _chunks(rows, 31, current=False, target=False)
    )
    current = _write_csv(
        DATA / f"drift_current_{rows}.csv", _chunks(rows, 37, current=True, target=False)
    )
    return reference, current


def make_training_data() -> Path:
    """The 50,000-row training file (the reference's distributions), with an id and the target."""
    return _write_csv(
        DATA / f"drift_train_{TRAIN_ROWS}.csv", _chunks(TRAIN_ROWS, 11, current=False, target=True)
    )


# --------------------------------------------------------------------------------------------------
# the project
# --------------------------------------------------------------------------------------------------


def make_spec(folder: Path, data: Path) -> Path:
    """A light project: types-only expectations, LogisticRegression, 2 folds, roc_auc, no
    baselines, and monitoring.drift at its defaults (written out)."""
    lines = [
        "spec_version: 1",
        "project: {name: bench-drift, owner: bench, artifacts_dir: .mlready}",
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
        "  estimator: sklearn.linear_model.LogisticRegression",
        "  params: {max_iter: 200}",
        f"  random_state: {SEED}",
        "validation:",
        "  cv: {strategy: stratified_kfold, folds: 2}",
        "  metrics: [roc_auc]",
        "  baselines: []",
        "monitoring:",
        "  drift:",
        "    small_sample_rows: 1000",
        "    p_value: 0.05",
        f"    distance: {DISTANCE}",
        f"    psi: {PSI_BAR}",
        "    bins: 30",
    ]
    if folder.exists():
        shutil.rmtree(folder)  # a fresh project: no runs, no registry
    folder.mkdir(parents=True)
    spec = folder / "mlready.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def train_and_register(folder: Path) -> dict[str, Any]:
    """A fresh project in ``folder``: mlready train --no-importance, then register --promote
    production (check-drift resolves the production model). Returns the seconds both took."""
    make_spec(folder, make_training_data())
    base = [str(MLREADY), "--quiet", "--spec", str(folder)]
    start = time.perf_counter()
    done = subprocess.run(
        [*base, "train", "--no-importance", "--format", "json"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"mlready train failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    doc = json.loads(done.stdout)
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
        "train_s": train_s,
        "register_s": time.perf_counter() - start - train_s,
        "cv_roc_auc": roc_auc,
    }


# --------------------------------------------------------------------------------------------------
# the Evidently venv
# --------------------------------------------------------------------------------------------------


def evidently_venv() -> dict[str, Any]:
    """benchmarks/data/evidently-venv, built once (again when the pins change): evidently 0.7,
    pandas 2 and pyarrow. Returns its python, pins, installed versions and build seconds."""
    python = EVIDENTLY_VENV / "bin" / "python"
    stamp = EVIDENTLY_VENV / "bench-pins.json"
    info: dict[str, Any] = {"python": python, "pins": EVIDENTLY_PINS}
    if stamp.exists() and python.exists():
        built = json.loads(stamp.read_text())
        if built.get("pins") == EVIDENTLY_PINS:
            return {**info, **{k: built.get(k) for k in ("versions", "build_s")}, "reused": True}
    print(f"building the Evidently venv at {EVIDENTLY_VENV} ({', '.join(EVIDENTLY_PINS)})")
    start = time.perf_counter()
    if EVIDENTLY_VENV.exists():
        shutil.rmtree(EVIDENTLY_VENV)
    subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*pip, *EVIDENTLY_PINS], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(EVIDENTLY_PINS)} failed:\n{done.stderr[-3000:]}")
    probe = (
        "import json; from importlib import metadata; import evidently; "
        f"print(json.dumps({{n: metadata.version(n) for n in {EVIDENTLY_REPORTED!r}}}))"
    )
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"evidently does not import in its venv:\n{done.stderr[-3000:]}")
    versions = json.loads(done.stdout.strip().splitlines()[-1])
    build_s = time.perf_counter() - start
    stamp.write_text(json.dumps({"pins": EVIDENTLY_PINS, "versions": versions, "build_s": build_s}))
    print(f"  Evidently venv ready ({build_s:.0f} s): {versions}", flush=True)
    return {**info, "versions": versions, "build_s": build_s, "reused": False}


# --------------------------------------------------------------------------------------------------
# measuring (as in bench_serve.py)
# --------------------------------------------------------------------------------------------------


def _json_out(row: dict[str, Any], what: str) -> dict[str, Any]:
    """The last line of a case's stdout as JSON (the run's exit code checked by the caller)."""
    stdout = row.pop("stdout")
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise RuntimeError(
            f"{what} printed no JSON (exit {row['exit']}):\n{stdout[-2000:]}\n{row['stderr']}"
        ) from None


# --------------------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------------------


def _profile(script: Path, project: Path, reference: Path, out: Path) -> dict[str, Any]:
    """mlready's reference profile of the reference CSV, saved as JSON (once, at training time)."""
    out.unlink(missing_ok=True)
    row = measure([sys.executable, str(script), str(project), str(reference), str(out)])
    if row["exit"]:
        raise RuntimeError(f"the reference profile failed ({row['exit']}):\n{row['stderr']}")
    doc = _json_out(row, "the reference profile")
    row["timings"] = doc["timings"]
    row["profile_mb"] = out.stat().st_size / 1e6
    return row


def _mlready(project: Path, profile: Path, current: Path) -> dict[str, Any]:
    """One `mlready check-drift` run (exit 1: dataset drift, still a result)."""
    args = [str(MLREADY), "--quiet", "--spec", str(project), "check-drift"]
    args += ["--reference", str(profile), "--current", str(current), "--format", "json"]
    row = measure(args)
    stdout = row.pop("stdout")
    if row["exit"] not in (0, 1):
        raise RuntimeError(
            f"mlready check-drift failed (exit {row['exit']}):\n{row['stderr']}{stdout[-2000:]}"
        )
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        raise RuntimeError(
            f"check-drift printed no JSON (exit {row['exit']}):\n{stdout[-2000:]}{row['stderr']}"
        ) from None
    row["columns"] = {
        f["column"]: {
            k: f.get(k) for k in ("test", "statistic", "p_value", "threshold", "drifted", "psi")
        }
        | {"exact": f.get("exact"), "note": f.get("note")}
        for f in doc["features"]
    }
    row["drifted"] = doc["drifted"]
    row["dataset_drift"] = doc["dataset_drift"]
    row["timings"] = {"check_drift": doc["seconds"]}
    row["current_rows"] = doc["current"]["rows"]
    row["run_dir"] = doc.get("run_dir")
    return row


def _mlready_csv(project: Path, reference: Path, current: Path) -> dict[str, Any]:
    """Equal inputs: check-drift on the two CSVs, the reference profiled in the same run."""
    return _mlready(project, reference, current)


def _evidently(
    venv: dict[str, Any], script: Path, reference: Path, current: Path, out: Path
) -> dict[str, Any]:
    """Evidently's DataDriftPreset on the two CSVs, in its venv, without telemetry."""
    row = measure(
        [str(venv["python"]), str(script), str(reference), str(current), str(out)],
        env={"DO_NOT_TRACK": "1"},
    )
    if row["exit"]:
        raise RuntimeError(f"the Evidently script failed ({row['exit']}):\n{row['stderr']}")
    doc = _json_out(row, "the Evidently script")
    row["timings"] = doc["timings"]
    row["version"] = doc["version"]
    row["drifted_count"] = doc["drifted_count"]
    row["columns"] = {
        name: {**c, "test": EVIDENTLY_TESTS.get(c["test"], c["test"]), "name": c["test"]}
        for name, c in doc["columns"].items()
    }
    row["drifted"] = [name for name in FEATURES if doc["columns"].get(name, {}).get("drifted")]
    return row


def _plain(script: Path, reference: Path, current: Path) -> dict[str, Any]:
    row = measure([sys.executable, str(script), str(reference), str(current)])
    if row["exit"]:
        raise RuntimeError(f"the plain script failed ({row['exit']}):\n{row['stderr']}")
    doc = _json_out(row, "the plain script")
    row["timings"] = doc["timings"]
    row["columns"] = doc["columns"]
    row["drifted"] = [name for name in FEATURES if doc["columns"][name]["drifted"]]
    return row


def _mlready_version() -> str:
    """The installed distribution's version, else the package's own (a source checkout)."""
    try:
        return metadata.version("mlready")
    except metadata.PackageNotFoundError:
        import mlready

        return str(mlready.__version__)


def run(
    rows: int,
    *,
    repeats: int = 1,
    rounds: int = 3,
    evidently: bool = True,
    quiet_wait: float = 300.0,
) -> dict[str, Any]:
    """Every case on ``rows`` reference rows and ``rows`` current rows."""
    QUIET_WAIT["seconds"] = quiet_wait
    QUIET_WAIT["cwd"] = WORK
    WORK.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run([str(MLREADY), "check-drift", "--help"], capture_output=True)
    if probe.returncode != 0:
        raise SystemExit("this mlready has no check-drift command")
    venv = evidently_venv() if evidently else None
    start = time.perf_counter()
    reference, current = make_data(rows)
    print(f"data {rows:,} + {rows:,} rows ready ({time.perf_counter() - start:.0f} s)", flush=True)
    project = WORK / "project"
    start = time.perf_counter()
    trained = train_and_register(project)
    print(
        f"model trained and registered ({time.perf_counter() - start:.0f} s, "
        f"cv roc_auc {trained['cv_roc_auc']:.4f})",
        flush=True,
    )
    # not evidently.py: the script would shadow the package it imports
    scripts = {"profile": PROFILE, "evidently": EVIDENTLY, "plain": PLAIN}
    for name, text in scripts.items():
        (WORK / f"drift_{name}.py").write_text(text)
    profile = WORK / f"reference_profile_{rows}.json"
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "mlready": _mlready_version(),
            "pandas": metadata.version("pandas"),
            "numpy": metadata.version("numpy"),
            "scipy": metadata.version("scipy"),
            "pyarrow": metadata.version("pyarrow"),
        },
        "rows": rows,
        "planted": PLANTED,
        "evidently": None
        if venv is None
        else {k: str(v) if isinstance(v, Path) else v for k, v in venv.items()},
        "model": trained,
        "cases": {},
    }
    cases = results["cases"]
    rounds_out: list[dict[str, Any]] = []
    results["rounds"] = rounds_out
    out = WORK / "evidently_snapshot"
    for number in range(rounds):
        # equal inputs, interleaved: both tools read the two CSVs in every round
        row: dict[str, Any] = {"round": number + 1}
        row["mlready"] = _mlready_csv(project, reference, current)
        report(f"round {number + 1}: mlready check-drift on both CSVs", row["mlready"])
        if venv is not None:
            row["evidently"] = _evidently(
                venv, WORK / "drift_evidently.py", reference, current, out
            )
            report(f"round {number + 1}: Evidently DataDriftPreset", row["evidently"])
        rounds_out.append(row)
    cases["mlready_csv"] = pick([r["mlready"] for r in rounds_out])
    if venv is not None:
        cases["evidently"] = pick([r["evidently"] for r in rounds_out])
    cases["mlready_profile"] = repeated(
        lambda _: _profile(WORK / "drift_profile.py", project, reference, profile),
        repeats,
        "mlready reference profile alone",
    )
    cases["mlready"] = repeated(
        lambda _: _mlready(project, profile, current), repeats, "mlready check-drift, profile JSON"
    )
    cases["plain"] = repeated(
        lambda _: _plain(WORK / "drift_plain.py", reference, current),
        repeats,
        "plain numpy/scipy script",
    )
    results["summary"] = summary(results)
    return results


def _found(drifted: list[str]) -> dict[str, list[str]]:
    return {
        "planted_found": [c for c in PLANTED if c in drifted],
        "planted_missed": [c for c in PLANTED if c not in drifted],
        "false_alarms": [c for c in FEATURES if c in drifted and c not in PLANTED],
    }


def cpu_seconds(run: dict[str, Any]) -> float:
    """CPU seconds (user + system) of a measured run: its own cores times its wall time."""
    return float(run["cpu_cores"] * run["wall_s"])


def round_ratios(rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Evidently / mlready per round, on wall time and on CPU seconds: each round's, and their
    min / median / max; a round is disturbed when either run of it was."""
    import statistics

    rows = [r for r in rounds if "evidently" in r]
    if not rows:
        return None
    out: dict[str, Any] = {"rounds": []}
    for r in rows:
        m, e = r["mlready"], r["evidently"]
        out["rounds"].append(
            {
                "round": r["round"],
                "wall": e["wall_s"] / m["wall_s"],
                "cpu": cpu_seconds(e) / cpu_seconds(m),
                "disturbed": max(m["others_cores"], e["others_cores"]) > DISTURBED,
                "load_before": [m["load_before"], e["load_before"]],
            }
        )
    for key in ("wall", "cpu"):
        values = [r[key] for r in out["rounds"]]
        out[key] = {
            "min": min(values),
            "median": statistics.median(values),
            "max": max(values),
        }
    return out


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The targets, the planted columns each tool (and PSI at 10 and 30 bins) found, and where
    tools running the same test disagree."""
    cases = results["cases"]

    def ratio(slow: str, fast: str) -> float | None:
        if slow in cases and fast in cases:
            return cases[slow]["wall_s"] / cases[fast]["wall_s"]
        return None

    plain = cases["plain"]["columns"]
    mlready = cases["mlready_csv"]["columns"]
    found = {
        "mlready check-drift": _found(cases["mlready_csv"]["drifted"]),
        "plain (Wasserstein / Jensen-Shannon)": _found(cases["plain"]["drifted"]),
        "mlready PSI (30 bins of its profile)": _found(
            [c for c in FEATURES if (mlready[c]["psi"] or 0.0) >= PSI_BAR]
        ),
        "PSI, 10 bins": _found([c for c in FEATURES if plain[c]["psi10"] >= PSI_BAR]),
        "PSI, 30 bins": _found([c for c in FEATURES if plain[c]["psi30"] >= PSI_BAR]),
    }
    if "evidently" in cases:
        found["Evidently DataDriftPreset"] = _found(cases["evidently"]["drifted"])
    tools = {"mlready": mlready, "plain": plain}
    if "evidently" in cases:
        tools["evidently"] = cases["evidently"]["columns"]
    disagreements = []
    largest: dict[str, float] = {}
    names = list(tools)
    for i, one in enumerate(names):
        for two in names[i + 1 :]:
            key = f"{one} vs {two}"
            largest[key] = 0.0
            for column in FEATURES:
                a, b = tools[one].get(column), tools[two].get(column)
                if not a or not b or a["test"] != b["test"]:
                    continue
                if a["statistic"] is not None and b["statistic"] is not None:
                    largest[key] = max(largest[key], abs(a["statistic"] - b["statistic"]))
                if bool(a.get("drifted")) != bool(b.get("drifted")):
                    disagreements.append(
                        {
                            "column": column,
                            "tools": [one, two],
                            "test": a["test"],
                            "statistics": [a["statistic"], b["statistic"]],
                            "verdicts": [a.get("drifted"), b.get("drifted")],
                        }
                    )
    different_tests = [
        {"column": c, **{name: t[c]["test"] for name, t in tools.items() if c in t}}
        for c in FEATURES
        if len({t[c]["test"] for t in tools.values() if c in t}) > 1
    ]
    peak = max(r["mlready"]["peak_gb"] for r in results["rounds"])
    psi10, psi30 = found["PSI, 10 bins"], found["PSI, 30 bins"]
    return {
        "evidently_vs_mlready": ratio("evidently", "mlready_csv"),
        "round_ratios": round_ratios(results["rounds"]),
        "plain_vs_mlready": ratio("plain", "mlready_csv"),
        "profile_json_vs_csv": ratio("mlready_csv", "mlready"),
        "mlready_peak_gb": peak,
        "found": found,
        "psi_10_bins_miss_30_bins_find": [
            c for c in psi30["planted_found"] if c not in psi10["planted_found"]
        ],
        "largest_statistic_difference": largest,
        "verdict_disagreements": disagreements,
        "different_tests": different_tests,
    }


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------

CASE_NAMES = {
    "mlready_csv": "mlready check-drift --reference REFERENCE.csv --current CURRENT.csv",
    "mlready_profile": "(for scale) mlready reference profile alone, saved as JSON",
    "mlready": "(for scale) mlready check-drift --reference profile.json --current file",
    "evidently": "Evidently DataDriftPreset (read, Report.run, JSON + HTML)",
    "plain": "plain pandas + scipy (Wasserstein, Jensen-Shannon, PSI 10/30)",
}


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _cell(c: dict[str, Any] | None) -> str:
    if not c:
        return "n/a"
    value = c["p_value"] if c.get("p_value") is not None else c["statistic"]
    shown = f"p={value:.3g}" if c.get("p_value") is not None else _fmt(value)
    return f"{c['test']} {shown} {'**drift**' if c.get('drifted') else 'no'}"


def tables(results: dict[str, Any]) -> str:
    """The results as markdown tables."""
    m = results["machine"]
    cases = results["cases"]
    s = results["summary"]
    ev = results.get("evidently")
    rows = results["rows"]
    out = [
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, mlready {m['mlready']}, pandas "
        f"{m['pandas']}, numpy {m['numpy']}, scipy {m['scipy']}, pyarrow {m['pyarrow']}.",
    ]
    if ev:
        versions = ev.get("versions") or {}
        out.append("Evidently venv: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    out += [
        "",
        f"### Drift of {rows:,} current rows against {rows:,} reference rows, 25 columns "
        "(wall time and peak memory measured from outside)",
        "",
        "Others' cores: CPU other processes used meanwhile (over 0.2: disturbed); the median "
        "undisturbed run is shown.",
        "",
        "| case | wall s | CPU s | peak GB | phases (s) | load before | others' cores |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for case, name in CASE_NAMES.items():
        if case not in cases:
            continue
        c = cases[case]
        phases = ", ".join(f"{k} {v:.2f}" for k, v in (c.get("timings") or {}).items())
        out.append(
            f"| {name} | {c['wall_s']:.2f} | {cpu_seconds(c):.2f} | {c['peak_gb']:.2f} | "
            f"{phases} | {c['load_before']:.2f} | {c['others_cores']:.2f} |"
        )
    peak = s["mlready_peak_gb"]
    ratios = s["round_ratios"]
    out += ["", "### Rounds (equal inputs, interleaved)", ""]
    out += [
        "| round | mlready wall s / CPU s / GB | Evidently wall s / CPU s / GB | wall ratio "
        "| CPU ratio | load before | disturbed |",
        "|---:|---|---|---:|---:|---|---|",
    ]
    for r in results["rounds"]:
        m, e = r["mlready"], r.get("evidently")
        ratio_row = next(
            (x for x in (ratios or {}).get("rounds", []) if x["round"] == r["round"]), None
        )
        out.append(
            f"| {r['round']} | {m['wall_s']:.2f} / {cpu_seconds(m):.2f} / {m['peak_gb']:.2f} | "
            + (
                f"{e['wall_s']:.1f} / {cpu_seconds(e):.1f} / {e['peak_gb']:.2f} | "
                if e
                else "not run | "
            )
            + (
                f"{ratio_row['wall']:.1f}x | {ratio_row['cpu']:.1f}x | "
                f"{', '.join(f'{v:.2f}' for v in ratio_row['load_before'])} | "
                f"{'yes' if ratio_row['disturbed'] else 'no'} |"
                if ratio_row
                else f"| | {m['load_before']:.2f} | "
                f"{'yes' if m['others_cores'] > DISTURBED else 'no'} |"
            )
        )

    def verdict(key: str) -> str:
        if ratios is None:
            bar = f"{EVIDENTLY_BAR:.0f}x"
            return f"| Evidently / mlready {key} (equal inputs) >= {bar} | n/a | not measured |"
        r = ratios[key]
        ok = (
            "ok"
            if r["min"] >= EVIDENTLY_BAR
            else ("ok at the median" if r["median"] >= EVIDENTLY_BAR else "**missed**")
        )
        return (
            f"| Evidently / mlready {key} (equal inputs) >= {EVIDENTLY_BAR:.0f}x | "
            f"min {r['min']:.1f}x, median {r['median']:.1f}x, max {r['max']:.1f}x | {ok} |"
        )

    out += [
        "",
        "### Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        verdict("wall"),
        verdict("cpu"),
        f"| mlready check-drift on both CSVs, peak < {MEMORY_GB_BAR:.0f} GB | {peak:.2f} GB | "
        f"{'ok' if peak < MEMORY_GB_BAR else '**missed**'} |",
    ]
    if s["plain_vs_mlready"] is not None:
        out.append(
            f"| (for scale) plain script / mlready check-drift wall time | "
            f"{s['plain_vs_mlready']:.1f}x | |"
        )
    mlready = cases["mlready_csv"]["columns"]
    plain = cases["plain"]["columns"]
    evidently = cases["evidently"]["columns"] if "evidently" in cases else {}
    out += [
        "",
        "### Per column: test, statistic (distance, or p-value) and verdict",
        "",
        f"Distances drift at {DISTANCE}; PSI is shown against {PSI_BAR} (mlready's PSI: the 30 "
        "bins of its profile; PSI 10/30: the plain script's quantile bins).",
        "",
        "| column | planted | mlready | Evidently | plain script | mlready PSI | PSI 10 bins "
        "| PSI 30 bins |",
        "|---|---|---|---|---|---:|---:|---:|",
    ]
    for column in FEATURES:

        def psi(value: float | None) -> str:
            if value is None:
                return "n/a"
            return f"**{value:.3f}**" if value >= PSI_BAR else f"{value:.3f}"

        out.append(
            f"| {column} | {PLANTED.get(column, '')} | {_cell(mlready.get(column))} | "
            f"{_cell(evidently.get(column)) if evidently else 'not run'} | "
            f"{_cell(plain.get(column))} | {psi(mlready[column]['psi'])} | "
            f"{psi(plain[column]['psi10'])} | {psi(plain[column]['psi30'])} |"
        )
    out += [
        "",
        f"### The {len(PLANTED)} planted shifts: found, missed, false alarms",
        "",
        "| detector | planted found | planted missed | false alarms |",
        "|---|---|---|---|",
    ]
    for name, f in s["found"].items():
        out.append(
            f"| {name} | {len(f['planted_found'])}/{len(PLANTED)} "
            f"{', '.join(f['planted_found'])} | {', '.join(f['planted_missed']) or '-'} | "
            f"{', '.join(f['false_alarms']) or '-'} |"
        )
    lost = s["psi_10_bins_miss_30_bins_find"]
    out += [
        "",
        f"PSI at {PSI_BAR} with 10 bins misses {len(lost)} planted shift(s) that 30 bins find"
        + (f": {', '.join(f'{c} ({PLANTED[c]})' for c in lost)}." if lost else "."),
    ]
    out += ["", "### Agreement where the same test runs", ""]
    for key, value in s["largest_statistic_difference"].items():
        out.append(f"- {key}: largest statistic difference {value:.2e}")
    if s["different_tests"]:
        listed = "; ".join(
            f"{d['column']} ({', '.join(f'{k} {v}' for k, v in d.items() if k != 'column')})"
            for d in s["different_tests"]
        )
        out.append(f"- different tests chosen: {listed}")
    if s["verdict_disagreements"]:
        for d in s["verdict_disagreements"]:
            out.append(
                f"- **{d['column']}**: {d['tools'][0]} and {d['tools'][1]} disagree ({d['test']}, "
                f"statistics {_fmt(d['statistics'][0])} and {_fmt(d['statistics'][1])}, "
                f"verdicts {d['verdicts'][0]} and {d['verdicts'][1]})"
            )
    else:
        out.append("- no verdict differs between tools running the same test")
    return "\n".join(out) + "\n"


def main() -> None:
    """Run and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="reference and current rows")
    parser.add_argument("--quick", action="store_true", help="a smoke run on 50,000 rows")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="undisturbed runs per case (the median is reported); a run other processes "
        "disturbed is run again, up to twice the repeats in all",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of mlready and Evidently"
    )
    parser.add_argument("--skip-evidently", action="store_true", help="no Evidently venv or case")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="seconds to wait, before each case, for other processes to stop using the CPU",
    )
    options = parser.parse_args()
    results = run(
        50_000 if options.quick else options.rows,
        repeats=options.repeats,
        rounds=options.rounds,
        evidently=not options.skip_evidently,
        quiet_wait=options.quiet_wait,
    )
    RESULTS.mkdir(exist_ok=True)
    stem = "drift_quick" if options.quick else "drift"  # a smoke run keeps the full results
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    text = tables(results)
    (RESULTS / f"{stem}.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
