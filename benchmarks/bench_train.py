"""train against a plain sklearn script: issue 18's shapes with every analysis on (the default
mode), and parity at 100k and 1M rows x 25 columns with native categories against one-hot.

--mode issue (default): four generated tables shaped like issue 18's (tests/generated.py,
   ISSUE_18_SHAPES): house prices 2.9k x 74 mostly categorical, regression; hotel rates 15k x 28
   mixed, regression; loan grades 10k x 23, 7 classes; 100k x 25 binary. Each gets the spec
   `mlready init --data` writes (histogram gradient boosting, 5 folds, dummy and linear
   baselines). `mlready train` with every analysis (validation, leakage checks, baselines, slices,
   feature contribution, skew, profile, report) against a plain script: pandas read, sklearn
   cross_validate (default n_jobs) of the same pipeline on the same folds by the primary metric,
   a final fit; each a whole process, in turns, --repeats pairs (3; --quick: the three small
   shapes, one pair, no waiting for a quiet machine). The table gives the min/median/max ratio
   per shape and the load. Then one more `mlready train` per
   shape measures feature contribution on every held-out row, and the sampled verdicts (adds
   nothing or not) are compared with it: they must agree on every feature the full run judges
   clearly (a drop of 4 spreads or more, or none). A last full run under another random_state
   (other folds, model and shuffles) gives the noise floor: how many verdicts two full runs
   themselves disagree on. --plain-threads 1 runs the plain side on one
   OpenMP thread (on a busy machine the booster's threads spin against the other processes).
   Results: benchmarks/results/train_issue.json and train_issue.md.
--mode parity:
1. Parity: `mlready train --no-importance` against a plain script that reads the same CSV with
   pandas, builds the same Pipeline (mlready's own build_pipeline) and runs sklearn's
   cross_validate (5 stratified shuffled folds, seed 42, roc_auc, n_jobs=1) and a final fit.
   Both run in their own process; wall time and peak memory (max RSS) are measured from outside.
   Compared twice: end to end (process wall time), and on the core, the work the plain script
   does too: mlready's total minus validation, leakage checks, analyses, importance and the
   reference profile, against the plain script's read + cross_validate + fit. Permutation
   importance is timed in a separate `mlready train` run.
2. Native against one-hot, at the smallest size: 5-fold cross_validate of mlready's pipeline
   (ordinal codes, the booster's native categorical support) and of OneHotEncoder + passthrough
   numbers + the same booster, each with n_jobs=1 and n_jobs=2, with their ROC AUC.

The data (an id, 20 numeric and 5 categorical columns with 5-50 categories, a Yes/No target with
signal in both kinds) and a spec are generated into benchmarks/data/ (git-ignored); the results go
to benchmarks/results/train.json and train.md (git-ignored).
The booster's OpenMP threads slow down many times over when another process takes a core, so
each case first waits (--quiet-wait seconds) for other processes to go quiet, measures how many
cores they used meanwhile, and parity runs they disturbed are run again.
Usage: python benchmarks/bench_train.py [--mode issue|parity] [--quick] [--repeats N]
       [--shapes NAME ...] [--no-verdicts] [--plain-threads N]
       [--sizes 100000 1000000] [--quiet-wait 300] [--compare-rows N] [--no-importance]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
MLREADY = Path(sys.executable).with_name("mlready")
NUMERIC = [f"n{i}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
CARDINALITY = [5, 12, 20, 35, 50]
TARGET = "target"
#: Fixed iterations (no early stopping), so both pipelines fit the same number of trees.
PARAMS = {"max_iter": 200, "learning_rate": 0.1, "max_leaf_nodes": 31, "early_stopping": False}
FOLDS = 5
SEED = 42
PARITY_BAR = 1.15
SPEEDUP_BAR = 3.0

PLAIN_TRAIN = (
    textwrap.dedent(
        """\
    # What a data scientist would write: read, cross_validate, fit. The Pipeline is mlready's
    # own, built from the same spec, so both sides fit exactly the same model.
    import json, sys, time
    start = time.perf_counter()
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from mlready.spec import load_spec
    from mlready.training.pipeline import build_pipeline

    spec = load_spec(sys.argv[1]).spec
    numeric, categorical = spec.data.features.numeric, spec.data.features.categorical
    timings = {"imports": time.perf_counter() - start}
    t = time.perf_counter()
    frame = pd.read_csv(spec.data.source.path)
    timings["read"] = time.perf_counter() - t
    X = frame[numeric + categorical]
    y = (frame[spec.data.target] == "Yes").astype("int64").to_numpy()
    pipeline = build_pipeline(spec, "classification", numeric, categorical)
    t = time.perf_counter()
    cv = cross_validate(pipeline, X, y, scoring="roc_auc", n_jobs=1,
                        cv=StratifiedKFold(FOLDS, shuffle=True, random_state=SEED))
    timings["cross_validate"] = time.perf_counter() - t
    t = time.perf_counter()
    pipeline.fit(X, y)
    timings["fit"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    print(json.dumps({"timings": timings, "roc_auc": float(cv["test_score"].mean())}))
    """
    )
    .replace("FOLDS", str(FOLDS))
    .replace("SEED", str(SEED))
)

CV_COMPARE = (
    textwrap.dedent(
        """\
    # 5-fold cross_validate of one pipeline: mlready's native-categorical one, or one-hot.
    import json, sys, time
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from mlready.spec import load_spec
    from mlready.training.pipeline import build_pipeline

    spec_path, kind, n_jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    spec = load_spec(spec_path).spec
    numeric, categorical = spec.data.features.numeric, spec.data.features.categorical
    frame = pd.read_csv(spec.data.source.path)
    X = frame[numeric + categorical]
    y = (frame[spec.data.target] == "Yes").astype("int64").to_numpy()
    if kind == "native":
        pipeline = build_pipeline(spec, "classification", numeric, categorical)
    else:
        booster = HistGradientBoostingClassifier(
            **spec.model.params, random_state=spec.model.random_state)
        prep = ColumnTransformer([
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
             categorical),
            ("numeric", "passthrough", numeric),
        ])
        pipeline = Pipeline([("prep", prep), ("model", booster)])
    start = time.perf_counter()
    cv = cross_validate(pipeline, X, y, scoring="roc_auc", n_jobs=n_jobs,
                        cv=StratifiedKFold(FOLDS, shuffle=True, random_state=SEED))
    seconds = time.perf_counter() - start
    width = pipeline.fit(X.head(1000), y[:1000])[:-1].transform(X.head(5)).shape[1]
    print(json.dumps({
        "cv_s": seconds,
        "fit_s_mean": float(np.mean(cv["fit_time"])),
        "score_s_mean": float(np.mean(cv["score_time"])),
        "roc_auc": float(np.mean(cv["test_score"])),
        "roc_auc_std": float(np.std(cv["test_score"])),
        "model_columns": int(width),
    }))
    """
    )
    .replace("FOLDS", str(FOLDS))
    .replace("SEED", str(SEED))
)


def make_data(rows: int) -> Path:
    """A CSV of ``rows`` rows: an id, 20 numeric and 5 categorical columns, a Yes/No target."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = DATA / f"train_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    columns: dict[str, Any] = {"id": pa.array([f"R{i:08d}" for i in range(rows)])}
    numbers = {}
    for i, name in enumerate(NUMERIC):
        values = rng.uniform(0, 100, rows)
        if i % 2:
            values = np.round(values)
        numbers[name] = values
        if i == 5:  # a column with gaps: the booster handles missing values itself
            values = np.where(rng.random(rows) < 0.02, np.nan, values)
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
        codes = rng.choice(count, size=rows, p=weights / weights.sum())
        labels = np.array([f"{name}_v{j:02d}" for j in range(count)])
        columns[name] = pa.array(labels[codes])
        if i != 2:  # c2 is noise; the others carry signal, one effect per category
            logit = logit + rng.normal(0, 0.7, count)[codes]
    positive = rng.random(rows) < 1 / (1 + np.exp(-(logit + rng.normal(0, 0.5, rows))))
    columns[TARGET] = pa.array(np.where(positive, "Yes", "No"))
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(pa.table(columns), tmp)
    tmp.rename(path)
    return path


def make_spec(folder: Path, data: Path) -> Path:
    """HistGradientBoostingClassifier on 5 stratified folds, roc_auc, the dummy baseline only,
    no search, no holdout, and a small contract."""
    params = ", ".join(
        f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in PARAMS.items()
    )
    lines = [
        "spec_version: 1",
        f"project: {{name: bench-train, owner: bench, artifacts_dir: '{folder / '.mlready'}'}}",
        "data:",
        f"  source: {{path: '{data}'}}",
        f"  target: {TARGET}",
        "  task: classification",
        "  positive_class: 'Yes'",
        "  id_columns: [id]",
        f"  features: {{numeric: [{', '.join(NUMERIC)}], categorical: [{', '.join(CATEGORICAL)}]}}",
        "expectations:",
        "  unexpected_columns: allow",
        "  row_count: {min: 1000}",
        "  columns:",
        "    id: {max_null_fraction: 0, unique: true}",
        f"    {TARGET}: {{allowed_values: ['Yes', 'No'], max_null_fraction: 0}}",
        "    n0: {type: number, min: 0, max: 100}",
        f"    c0: {{allowed_values: [{', '.join(f'c0_v{j:02d}' for j in range(CARDINALITY[0]))}]}}",
        "model:",
        "  estimator: sklearn.ensemble.HistGradientBoostingClassifier",
        f"  params: {{{params}}}",
        f"  random_state: {SEED}",
        "validation:",
        f"  cv: {{strategy: stratified_kfold, folds: {FOLDS}}}",
        "  metrics: [roc_auc]",
        "  baselines: [dummy]",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "mlready.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def others_busy(seconds: float = 2.0) -> float:
    """How many cores the machine keeps busy over ``seconds`` (nothing of ours runs meanwhile)."""
    busy, total = _cpu_ticks()
    time.sleep(seconds)
    busy2, total2 = _cpu_ticks()
    return (busy2 - busy) / max(total2 - total, 1) * (os.cpu_count() or 1)


def wait_quiet(max_wait: float, threshold: float = 0.3) -> float:
    """Wait (at most ``max_wait`` seconds) until other processes use under ``threshold`` cores:
    the booster's OpenMP threads slow down many times over when another process takes a core.
    Returns the last measured use."""
    deadline = time.monotonic() + max_wait
    used = others_busy()
    while used >= threshold and time.monotonic() < deadline:
        print(f"  (other processes use {used:.1f} cores: waiting)", flush=True)
        time.sleep(10)
        used = others_busy()
    return used


#: Set by run(): how long measure() waits for a quiet machine before each case.
QUIET_WAIT = {"seconds": 0.0}


def measure(args: list[str]) -> dict[str, Any]:
    """Wall time, peak RSS and stdout of one command, run in a fresh wrapper process (so that
    RUSAGE_CHILDREN holds this command's peak only: the largest single process, not the sum of
    worker processes). ``others_cores``: the cores other processes kept busy meanwhile (the
    machine's busy time minus the command's CPU time, over its wall time)."""
    if QUIET_WAIT["seconds"]:
        wait_quiet(QUIET_WAIT["seconds"])
    wrapper = (
        "import json, os, resource, subprocess, sys, time\n"
        "def ticks():\n"
        "    f = [int(v) for v in open('/proc/stat').readline().split()[1:]]\n"
        "    return sum(f) - f[3] - f[4], sum(f)\n"
        "load = os.getloadavg()[0]\n"
        "busy, total = ticks()\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - start\n"
        "busy2, total2 = ticks()\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "machine = (busy2 - busy) / max(total2 - total, 1) * os.cpu_count()\n"
        "own = (usage.ru_utime + usage.ru_stime) / wall\n"
        "print(json.dumps({'wall_s': wall, 'peak_gb': usage.ru_maxrss / 1024 / 1024,\n"
        "                  'exit': done.returncode, 'load_before': load,\n"
        "                  'cpu_cores': own, 'others_cores': max(machine - own, 0.0),\n"
        "                  'stdout': done.stdout, 'stderr': done.stderr[-3000:]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=True
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    if row["exit"] not in (0, 1):  # train exits 1 when a threshold is missed: still timed
        raise RuntimeError(f"{args[:4]} failed ({row['exit']}):\n{row['stderr']}")
    return row


#: mlready's phases the plain script does not do (the baselines share the fits' pool now).
EXTRA_PHASES = ("validate", "leakage", "analysis", "importance", "skew", "profile")


def _train(spec: Path, importance: bool) -> dict[str, Any]:
    """One `mlready train` run: wall time, peak memory, the metadata's timings and CV score."""
    args = [str(MLREADY), "-q", "--spec", str(spec), "train", "--format", "json"]
    if not importance:
        args.append("--no-importance")
    row = measure(args)
    doc = json.loads(row.pop("stdout"))
    if row["exit"]:
        raise RuntimeError(f"mlready train failed: {doc.get('failures')}\n{row['stderr']}")
    meta = doc["metadata"]
    timings = meta["timings"]
    extras = sum(timings.get(k, 0.0) for k in EXTRA_PHASES)
    shutil.rmtree(doc["run_dir"], ignore_errors=True)  # model and report: not needed here
    return {
        "wall_s": row["wall_s"],
        "peak_gb": row["peak_gb"],
        "cpu_cores": row["cpu_cores"],
        "others_cores": row["others_cores"],
        "timings": timings,
        "core_s": timings["total"] - extras,
        "roc_auc": meta["validation"]["cv"]["roc_auc"]["mean"],
    }


def _plain(spec: Path, script: Path) -> dict[str, Any]:
    row = measure([sys.executable, str(script), str(spec)])
    doc = json.loads(row.pop("stdout").strip().splitlines()[-1])
    timings = doc["timings"]
    return {
        "wall_s": row["wall_s"],
        "peak_gb": row["peak_gb"],
        "cpu_cores": row["cpu_cores"],
        "others_cores": row["others_cores"],
        "timings": timings,
        "core_s": timings["read"] + timings["cross_validate"] + timings["fit"],
        "roc_auc": doc["roc_auc"],
    }


#: A run during which other processes kept more cores than this busy is disturbed.
DISTURBED = 0.2


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time among the undisturbed runs (all, if none is), the best
    wall and core times among those, and every run."""
    quiet = [r for r in runs if r["others_cores"] <= DISTURBED] or runs
    chosen = sorted(quiet, key=lambda r: r["wall_s"])[(len(quiet) - 1) // 2]
    return {
        **chosen,
        "runs": len(runs),
        "undisturbed_runs": sum(r["others_cores"] <= DISTURBED for r in runs),
        "best_wall_s": min(r["wall_s"] for r in quiet),
        "best_core_s": min(r["core_s"] for r in quiet),
        "all": [
            {k: r[k] for k in ("wall_s", "core_s", "peak_gb", "others_cores", "timings")}
            for r in runs
        ],
    }


def parity(rows: int, spec: Path, script: Path, repeats: int, importance: bool) -> dict[str, Any]:
    """mlready train --no-importance against the plain script, runs interleaved. The ratios
    compare the median undisturbed runs, and (``_best``) the fastest undisturbed runs."""
    ours: list[dict[str, Any]] = []
    plain: list[dict[str, Any]] = []

    def quiet(runs: list[dict[str, Any]]) -> int:
        return sum(r["others_cores"] <= DISTURBED for r in runs)

    # a disturbed pair is run again, up to twice the repeats in all
    while len(ours) < 2 * repeats and min(quiet(ours), quiet(plain)) < repeats:
        ours.append(_train(spec, importance=False))
        print(
            f"  mlready train --no-importance {ours[-1]['wall_s']:8.1f} s "
            f"(others used {ours[-1]['others_cores']:.2f} cores)",
            flush=True,
        )
        plain.append(_plain(spec, script))
        print(
            f"  plain sklearn script          {plain[-1]['wall_s']:8.1f} s "
            f"(others used {plain[-1]['others_cores']:.2f} cores)",
            flush=True,
        )
    result: dict[str, Any] = {
        "rows": rows,
        "mlready": _median_run(ours),
        "plain": _median_run(plain),
    }
    if importance:
        result["mlready_with_importance"] = _train(spec, importance=True)
        t = result["mlready_with_importance"]["timings"]
        print(f"  mlready train (importance)    {t['importance']:8.1f} s importance", flush=True)
    m, p = result["mlready"], result["plain"]
    result["ratio_wall"] = m["wall_s"] / p["wall_s"]
    result["ratio_core"] = m["core_s"] / p["core_s"]
    result["ratio_wall_best"] = m["best_wall_s"] / p["best_wall_s"]
    result["ratio_core_best"] = m["best_core_s"] / p["best_core_s"]
    return result


def compare(rows: int, spec: Path, script: Path) -> dict[str, Any]:
    """Native categorical support against one-hot encoding, each with n_jobs 1 and 2."""
    cases: dict[str, Any] = {}
    for kind in ("native", "onehot"):
        for jobs in (1, 2):
            row = measure([sys.executable, str(script), str(spec), kind, str(jobs)])
            if row["others_cores"] > DISTURBED:  # once more, if other processes got in the way
                row = measure([sys.executable, str(script), str(spec), kind, str(jobs)])
            doc = json.loads(row.pop("stdout").strip().splitlines()[-1])
            cases[f"{kind} n_jobs={jobs}"] = {
                **doc,
                "wall_s": row["wall_s"],
                "peak_gb": row["peak_gb"],
                "cpu_cores": row["cpu_cores"],
                "others_cores": row["others_cores"],
            }
            print(
                f"  cross_validate {kind:6} n_jobs={jobs} {doc['cv_s']:8.1f} s "
                f"roc_auc {doc['roc_auc']:.4f} (others used {row['others_cores']:.2f} cores)",
                flush=True,
            )
    best_native = min(cases["native n_jobs=1"]["cv_s"], cases["native n_jobs=2"]["cv_s"])
    best_onehot = min(cases["onehot n_jobs=1"]["cv_s"], cases["onehot n_jobs=2"]["cv_s"])
    return {
        "rows": rows,
        "cases": cases,
        "speedup_best": best_onehot / best_native,
        "speedup_n_jobs_1": cases["onehot n_jobs=1"]["cv_s"] / cases["native n_jobs=1"]["cv_s"],
        "speedup_fit_n_jobs_1": cases["onehot n_jobs=1"]["fit_s_mean"]
        / cases["native n_jobs=1"]["fit_s_mean"],
        "roc_auc_gain": cases["native n_jobs=1"]["roc_auc"] - cases["onehot n_jobs=1"]["roc_auc"],
    }


def run(
    sizes: list[int],
    *,
    repeats: int = 1,
    compare_rows: int | None = None,
    importance: bool = True,
    quiet_wait: float = 300.0,
) -> dict[str, Any]:
    """Parity at every size, and native against one-hot at ``compare_rows`` (the smallest).
    Before each case, waits up to ``quiet_wait`` seconds for other processes to go quiet."""
    QUIET_WAIT["seconds"] = quiet_wait
    work = DATA / "work"
    work.mkdir(parents=True, exist_ok=True)
    plain_script = work / "plain_train.py"
    plain_script.write_text(PLAIN_TRAIN)
    compare_script = work / "cv_compare.py"
    compare_script.write_text(CV_COMPARE)
    compare_rows = compare_rows or min(sizes)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "params": PARAMS,
            "folds": FOLDS,
        },
        "parity": {},
        "compare": None,
    }
    for rows in sorted(set(sizes) | {compare_rows}):
        start = time.perf_counter()
        data = make_data(rows)
        print(f"data {rows:,} rows ready ({time.perf_counter() - start:.0f} s)", flush=True)
        spec = make_spec(work / f"train_spec_{rows}", data)
        if rows in sizes:
            results["parity"][str(rows)] = parity(rows, spec, plain_script, repeats, importance)
        if rows == compare_rows:
            results["compare"] = compare(rows, spec, compare_script)
    return results


PHASES = ["read", "validate", "leakage", "fits", "analysis", "skew", "profile", "total"]


def tables(results: dict[str, Any]) -> str:
    """The results as markdown tables."""
    out = [
        f"Machine: {results['machine']['cpus']} CPUs, Python {results['machine']['python']}; "
        f"HistGradientBoostingClassifier {results['machine']['params']}, "
        f"{results['machine']['folds']} stratified folds.",
        "",
        "### mlready train --no-importance against plain sklearn (cross_validate + fit)",
        "",
        "Core = mlready's total minus validation, leakage checks, analyses and profile (its "
        "baselines share the fits' pool) | plain read + "
        "cross_validate + fit. Others' cores: CPU other processes used meanwhile (timings with "
        "more than 0.2 are disturbed: the booster's threads slow down a lot under contention); "
        "the median and best runs are taken among the undisturbed ones.",
        "",
        "| rows | case | wall s | core s | peak GB | roc_auc | others' cores |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for key, p in results["parity"].items():
        rows = int(key)
        for name, r in (("mlready train", p["mlready"]), ("plain script", p["plain"])):
            name += f" ({r['undisturbed_runs']}/{r['runs']} runs undisturbed)"
            out.append(
                f"| {rows:,} | {name} | {r['wall_s']:.1f} | {r['core_s']:.1f} | "
                f"{r['peak_gb']:.2f} | {r['roc_auc']:.4f} | {r['others_cores']:.2f} |"
            )
        verdict = "ok" if p["ratio_core"] <= PARITY_BAR else f"over {PARITY_BAR}x"
        out.append(
            f"| {rows:,} | **ratio (median runs)** | **{p['ratio_wall']:.3f}x** | "
            f"**{p['ratio_core']:.3f}x** | | | core {verdict} |"
        )
        out.append(
            f"| {rows:,} | ratio (best runs) | {p['ratio_wall_best']:.3f}x | "
            f"{p['ratio_core_best']:.3f}x | | | |"
        )
    out += [
        "",
        "### Phases (seconds)",
        "",
        "untimed: mlready's total less its timed phases (reading the features and target, "
        "leakage checks, slices, lazy imports); outside total: process start, imports and "
        "writing the artifacts (wall less total). The plain script's total includes its imports.",
        "",
        "| rows | run | " + " | ".join(PHASES[:-1]) + " | importance | untimed | total | wall |",
        "|---:|---|" + "---:|" * (len(PHASES) + 3),
    ]
    for key, p in results["parity"].items():
        runs = [("mlready --no-importance", p["mlready"])]
        if "mlready_with_importance" in p:
            runs.append(("mlready (importance)", p["mlready_with_importance"]))
        for name, r in runs:
            t = r["timings"]
            cells = " | ".join(f"{t.get(k, 0.0):.2f}" for k in PHASES[:-1])
            untimed = t["total"] - sum(v for k, v in t.items() if k != "total")
            out.append(
                f"| {int(key):,} | {name} | {cells} | {t.get('importance', 0.0):.2f} | "
                f"{untimed:.2f} | {t['total']:.2f} | {r['wall_s']:.1f} |"
            )
        t = p["plain"]["timings"]
        cells = " | ".join(f"{t[k]:.2f}" if k in t else "" for k in PHASES[:-1])
        out.append(
            f"| {int(key):,} | plain script | {cells} | | | {t['total']:.2f} | "
            f"{p['plain']['wall_s']:.1f} |"
        )
    c = results["compare"]
    if c:
        out += [
            "",
            f"### Native categorical against one-hot, {c['rows']:,} rows, "
            f"{results['machine']['folds']}-fold cross_validate",
            "",
            "| pipeline | n_jobs | cv s | mean fit s | model columns | roc_auc | peak GB "
            "| others' cores |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in c["cases"].items():
            kind, jobs = name.split(" n_jobs=")
            out.append(
                f"| {kind} | {jobs} | {r['cv_s']:.1f} | {r['fit_s_mean']:.2f} | "
                f"{r['model_columns']} | {r['roc_auc']:.4f} ± {r['roc_auc_std']:.4f} | "
                f"{r['peak_gb']:.2f} | {r['others_cores']:.2f} |"
            )
        verdict = "ok" if c["speedup_best"] >= SPEEDUP_BAR and c["roc_auc_gain"] >= 0 else "no"
        out += [
            "",
            f"Speedup, best n_jobs of each: **{c['speedup_best']:.2f}x**; at n_jobs=1: "
            f"{c['speedup_n_jobs_1']:.2f}x (mean fold fit {c['speedup_fit_n_jobs_1']:.2f}x); "
            f"ROC AUC native - one-hot: {c['roc_auc_gain']:+.4f} "
            f"(target {SPEEDUP_BAR}x at equal or better AUC: {verdict}).",
        ]
        disturbed = [n for n, r in c["cases"].items() if r["others_cores"] > DISTURBED]
        if disturbed:
            out.append(f"Disturbed by other processes: {', '.join(disturbed)}.")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------
# --mode issue: issue 18's shapes, mlready train with every analysis against cross_validate + fit
# --------------------------------------------------------------------------------------------------

#: The plain side: what a data scientist would write for the same model, on the same folds:
#: read with pandas, sklearn's cross_validate (default n_jobs) by the primary metric, a final fit.
#: The Pipeline, the features and the folds are mlready's own, from the same spec, so both sides
#: fit exactly the same model on exactly the same rows.
PLAIN_ISSUE = textwrap.dedent(
    """\
    import json, sys, time
    start = time.perf_counter()
    import pandas as pd
    from sklearn.model_selection import cross_validate
    from mlready.spec import load_spec
    from mlready.training.data import load_training_data
    from mlready.training.evaluate import folds
    from mlready.training.metrics import DEFAULT_METRICS
    from mlready.training.pipeline import build_pipeline
    from mlready.training.search import scorer_name

    spec = load_spec(sys.argv[1]).spec
    timings = {"imports": time.perf_counter() - start}
    t = time.perf_counter()
    frame = pd.read_csv(spec.data.source.path)
    timings["read"] = time.perf_counter() - t
    data = load_training_data(spec, frame)
    pipeline = build_pipeline(spec, data.task, data.numeric, data.categorical)
    metric = (spec.validation.metrics or DEFAULT_METRICS[data.task])[0]
    t = time.perf_counter()
    cv = cross_validate(pipeline, data.X, data.y, cv=folds(spec, data),
                        scoring=scorer_name(metric, data))
    timings["cross_validate"] = time.perf_counter() - t
    t = time.perf_counter()
    pipeline.fit(data.X, data.y)
    timings["fit"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    print(json.dumps({"timings": timings, "metric": metric,
                      "score": float(cv["test_score"].mean())}))
    """
)
#: A feature whose verdict the full computation gives clearly: a drop of at least this many
#: spreads (and floors), or none at all (at most zero). Between the two a verdict is borderline:
#: two full runs with other shuffles, or on other rows of the same data, can disagree on it.
CLEAR_SPREADS = 4.0


def _issue_shapes(quick: bool, names: list[str] | None) -> list[Any]:
    sys.path.insert(0, str(HERE.parent))
    from tests.generated import ISSUE_18_SHAPES

    shapes = [s for s in ISSUE_18_SHAPES if not names or s.name in names]
    if quick and not names:
        shapes = [s for s in shapes if s.rows <= 20_000]
    return shapes


def _issue_project(shape: Any) -> Path:
    """The shape's CSV and the spec `mlready init --data` writes for it (as a user would start)."""
    from tests.generated import wide_table

    folder = DATA / "issue18" / shape.name
    spec = folder / "mlready.yaml"
    if spec.exists():
        return spec
    folder.mkdir(parents=True, exist_ok=True)
    frame, _ = wide_table(shape)
    data = folder / "train.csv"
    frame.to_csv(data, index=False)
    subprocess.run(
        [str(MLREADY), "-q", "init", str(folder), "--data", str(data), "--target", "target"],
        check=True,
        capture_output=True,
        text=True,
    )
    return spec


def _full_spec(spec: Path, rows: int, reseed: bool = False) -> Path:
    """The spec with feature contribution measured on every held-out row (no sample); with
    ``reseed``, under another random_state (other folds, model and shuffles): how much two full
    runs disagree is the noise the sampled run is judged against."""
    full = spec.with_name("mlready.full-reseeded.yaml" if reseed else "mlready.full.yaml")
    text = spec.read_text()
    if reseed:
        text, count = re.subn(
            r"^(\s*random_state:\s*)(\d+)", lambda m: f"{m[1]}{int(m[2]) + 1}", text, flags=re.M
        )
        if count != 1:
            raise RuntimeError(f"{spec}: expected one model.random_state to change, saw {count}")
    full.write_text(text.rstrip() + f"\ntraining:\n  importance: {{max_rows: {max(rows, 100)}}}\n")
    return full


def _issue_train(spec: Path) -> dict[str, Any]:
    args = [str(MLREADY), "-q", "--spec", str(spec), "train", "--format", "json", "--revalidate"]
    from measuring import measure as measure_cmd

    row = measure_cmd(args)
    if row["exit"] not in (0, 1):
        raise RuntimeError(f"mlready train failed ({row['exit']}):\n{row['stderr']}")
    doc = json.loads(row.pop("stdout"))
    meta = doc["metadata"]
    shutil.rmtree(doc["run_dir"], ignore_errors=True)
    primary = meta["validation"]["primary_metric"]
    return {
        "wall_s": row["wall_s"],
        "peak_gb": row["peak_gb"],
        "cpu_cores": row["cpu_cores"],
        "others_cores": row["others_cores"],
        "load_before": row["load_before"],
        "timings": meta["timings"],
        "metric": primary,
        "score": meta["validation"]["cv"][primary]["mean"],
        "importance": meta.get("feature_contribution_method"),
        "contribution": meta.get("feature_contribution") or [],
    }


def _issue_plain(spec: Path, script: Path, threads: int | None = None) -> dict[str, Any]:
    from measuring import measure as measure_cmd

    env = None if threads is None else {"OMP_NUM_THREADS": str(threads)}
    row = measure_cmd([sys.executable, str(script), str(spec)], env=env)
    if row["exit"]:
        raise RuntimeError(f"the plain script failed:\n{row['stderr']}")
    doc = json.loads(row.pop("stdout").strip().splitlines()[-1])
    return {
        "wall_s": row["wall_s"],
        "peak_gb": row["peak_gb"],
        "cpu_cores": row["cpu_cores"],
        "others_cores": row["others_cores"],
        "load_before": row["load_before"],
        "timings": doc["timings"],
        "metric": doc["metric"],
        "score": doc["score"],
    }


def compare_verdicts(sampled: list[dict[str, Any]], full: list[dict[str, Any]]) -> dict[str, Any]:
    """Which features the sampled and the full computation judge differently, and whether the
    full computation's verdict on them was clear or borderline (see CLEAR_SPREADS)."""
    by_feature = {c["feature"]: c for c in full}
    mine = {c["feature"]: c["adds_nothing"] for c in sampled}
    differ = sorted(f for f, verdict in mine.items() if by_feature[f]["adds_nothing"] != verdict)

    def clear(row: dict[str, Any]) -> bool:
        spread = max(row["std"], 1e-12)
        return row["importance"] <= 0 or row["importance"] >= CLEAR_SPREADS * spread

    return {
        "features": len(full),
        "adds_nothing_full": sum(c["adds_nothing"] for c in full),
        "adds_nothing_sampled": sum(mine.values()),
        "differ": differ,
        "differ_clear": [f for f in differ if clear(by_feature[f])],
        "borderline_full": sum(not clear(c) for c in full),
    }


def run_issue(
    *,
    quick: bool = False,
    repeats: int = 3,
    quiet_wait: float = 300.0,
    shapes: list[str] | None = None,
    verdicts: bool = True,
    plain_threads: int | None = None,
) -> dict[str, Any]:
    """For each shape: `mlready train` (every analysis on) and the plain script, interleaved,
    ``repeats`` pairs; then one `mlready train` with feature contribution on every held-out row,
    whose verdicts the sampled runs must give too."""
    import measuring

    measuring.QUIET_WAIT["seconds"] = quiet_wait
    work = DATA / "work"
    work.mkdir(parents=True, exist_ok=True)
    script = work / "plain_issue.py"
    script.write_text(PLAIN_ISSUE)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "plain_threads": plain_threads,
        },
        "shapes": {},
    }
    for shape in _issue_shapes(quick, shapes):
        spec = _issue_project(shape)
        print(f"{shape.name}: {shape.rows:,} rows x {shape.numeric + shape.categorical} features")
        ours: list[dict[str, Any]] = []
        plain: list[dict[str, Any]] = []
        for _ in range(repeats):
            ours.append(_issue_train(spec))
            measuring.report("mlready train", ours[-1])
            plain.append(_issue_plain(spec, script, plain_threads))
            measuring.report("plain cross_validate + fit", plain[-1])
        ratios = sorted(o["wall_s"] / p["wall_s"] for o, p in zip(ours, plain, strict=True))
        entry: dict[str, Any] = {
            "rows": shape.rows,
            "features": shape.numeric + shape.categorical,
            "task": shape.task,
            "mlready": ours,
            "plain": plain,
            "ratio": {
                "min": ratios[0],
                "median": ratios[len(ratios) // 2],
                "max": ratios[-1],
            },
            "load": [round(r["load_before"], 2) for r in ours + plain],
            "others_cores": max(r["others_cores"] for r in ours + plain),
        }
        if verdicts:
            full = _issue_train(_full_spec(spec, shape.rows))
            entry["full_importance"] = {
                k: full[k] for k in ("wall_s", "timings", "importance", "contribution")
            }
            entry["verdicts"] = compare_verdicts(ours[0]["contribution"], full["contribution"])
            v = entry["verdicts"]
            print(
                f"  verdicts against every held-out row: {len(v['differ'])} differ "
                f"({len(v['differ_clear'])} of them clear in the full run)",
                flush=True,
            )
            # the noise floor: the same full run under another seed
            again = _issue_train(_full_spec(spec, shape.rows, reseed=True))
            entry["verdicts_reseeded"] = compare_verdicts(
                again["contribution"], full["contribution"]
            )
            v = entry["verdicts_reseeded"]
            print(
                f"  two full runs, another seed: {len(v['differ'])} differ "
                f"({len(v['differ_clear'])} of them clear in the first)",
                flush=True,
            )
        for run_ in ours:
            run_.pop("contribution", None)
        results["shapes"][shape.name] = entry
    return results


def issue_tables(results: dict[str, Any]) -> str:
    """The issue-mode results as markdown: the ratios per shape, then the phases."""
    out = [
        f"Machine: {results['machine']['cpus']} CPUs, Python {results['machine']['python']}. "
        "mlready train (every analysis: validation, leakage checks, dummy and linear baselines, "
        "slices, feature contribution, skew, profile, report) against plain sklearn "
        "cross_validate (default n_jobs) + fit of the same pipeline on the same folds, each a "
        "whole process, run in turns. Target: at most 1.5x on every shape. Load: the 1-minute "
        "load average before each run; others' cores: the most CPU other processes used during "
        "a run (over 0.2, the timings are disturbed)."
        + (
            f" The plain side ran with OMP_NUM_THREADS={results['machine']['plain_threads']}."
            if results["machine"].get("plain_threads")
            else ""
        ),
        "",
        "| shape | rows x features | mlready s (median) | plain s (median) | ratio min | "
        "ratio median | ratio max | importance rows x repeats (work s) | verdicts differ "
        "(clear) | two full runs differ (clear) | load | others' cores |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---|---|---:|",
    ]
    for name, e in results["shapes"].items():
        ours = sorted(r["wall_s"] for r in e["mlready"])
        plain = sorted(r["wall_s"] for r in e["plain"])
        im = e["mlready"][0].get("importance") or {}
        v = e.get("verdicts")
        verdict = (
            f"{len(v['differ'])} of {v['features']} ({len(v['differ_clear'])})" if v else "not run"
        )
        w = e.get("verdicts_reseeded")
        noise = f"{len(w['differ'])} ({len(w['differ_clear'])})" if w else "not run"
        r = e["ratio"]
        flag = "" if r["max"] <= 1.5 else " (over 1.5)"  # marks the max, not the median
        load = f"{min(e['load']):.1f}-{max(e['load']):.1f}"
        out.append(
            f"| {name} | {e['rows']:,} x {e['features']} | {ours[len(ours) // 2]:.1f} | "
            f"{plain[len(plain) // 2]:.1f} | {r['min']:.2f}x | **{r['median']:.2f}x** | "
            f"{r['max']:.2f}x{flag} | {im.get('rows', 0):,} x {im.get('repeats', 0)} "
            f"({im.get('seconds', 0.0):.1f}) | {verdict} | {noise} | "
            f"{load} | {e['others_cores']:.2f} |"
        )
    phases = ["read", "validate", "leakage", "fits", "analysis", "importance", "skew", "profile"]
    out += [
        "",
        "Phases of the median mlready run (seconds; fits = the folds, the final fit and the "
        "baselines in one pool, feature contribution measured inside the folds when there is "
        "no holdout) against the plain script's:",
        "",
        "| shape | " + " | ".join(phases) + " | total | wall | plain cv | plain fit | plain wall |",
        "|---|" + "---:|" * (len(phases) + 5),
    ]
    for name, e in results["shapes"].items():
        runs = sorted(e["mlready"], key=lambda r: r["wall_s"])
        t = runs[len(runs) // 2]["timings"]
        p = sorted(e["plain"], key=lambda r: r["wall_s"])[len(e["plain"]) // 2]
        cells = " | ".join(f"{t.get(k, 0.0):.2f}" for k in phases)
        out.append(
            f"| {name} | {cells} | {t['total']:.2f} | {runs[len(runs) // 2]['wall_s']:.1f} | "
            f"{p['timings']['cross_validate']:.2f} | {p['timings']['fit']:.2f} | "
            f"{p['wall_s']:.1f} |"
        )
    differ = {n: e["verdicts"] for n, e in results["shapes"].items() if e.get("verdicts")}
    if differ:
        out += ["", "Verdicts (adds nothing / adds something) against every held-out row:", ""]
        for name, v in differ.items():
            differ_all = ", ".join(v["differ"]) or "none"
            differ_clear = ", ".join(v["differ_clear"]) or "none"
            out.append(
                f"- {name}: {v['adds_nothing_sampled']} of {v['features']} add nothing "
                f"(full: {v['adds_nothing_full']}); differ on {differ_all}; on a feature the "
                f"full run judges clearly: {differ_clear} ({v['borderline_full']} features are "
                "borderline in the full run)."
            )
            w = results["shapes"][name].get("verdicts_reseeded")
            if w:
                out.append(
                    f"  The full run again under another seed (other folds, model and shuffles) "
                    f"differs from the first on {', '.join(w['differ']) or 'none'} "
                    f"({len(w['differ_clear'])} of them clear in the first)."
                )
    return "\n".join(out) + "\n"


def main() -> None:
    """Run and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="issue mode: the three small shapes, one pair each; parity: 20,000 rows only",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="undisturbed parity runs per size (the median is reported); a run other processes "
        "disturbed is run again, up to twice the repeats in all; issue mode: pairs per shape, "
        "at least 3 (a min / median / max needs three)",
    )
    parser.add_argument("--compare-rows", type=int, help="native against one-hot at this size")
    parser.add_argument("--no-importance", action="store_true", help="skip the importance run")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="seconds to wait, before each case, for other processes to stop using the CPU",
    )
    parser.add_argument(
        "--mode",
        choices=["issue", "parity"],
        default="issue",
        help="issue: issue 18's four shapes, every analysis against cross_validate + fit "
        "(--quick: the three small ones, one pair each); parity: 100k and 1M rows against the "
        "plain script, and native categories against one-hot",
    )
    parser.add_argument("--shapes", nargs="+", help="issue mode: only these shapes")
    parser.add_argument(
        "--no-verdicts", action="store_true", help="issue mode: skip the full-importance run"
    )
    parser.add_argument(
        "--plain-threads",
        type=int,
        help="issue mode: OMP_NUM_THREADS for the plain side (on a loaded machine the booster's "
        "threads spin against other processes; 1 shows the plain side at its best there)",
    )
    options = parser.parse_args()
    if options.mode == "issue":
        results = run_issue(
            quick=options.quick,
            repeats=1 if options.quick else max(options.repeats, 3),
            quiet_wait=0.0 if options.quick else options.quiet_wait,
            shapes=options.shapes,
            verdicts=not options.no_verdicts,
            plain_threads=options.plain_threads,
        )
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "train_issue.json").write_text(json.dumps(results, indent=2) + "\n")
        text = issue_tables(results)
        (RESULTS / "train_issue.md").write_text(text)
        print("\n" + text)
        return
    sizes = [20_000] if options.quick else options.sizes
    results = run(
        sizes,
        repeats=options.repeats,
        compare_rows=options.compare_rows,
        importance=not options.no_importance,
        quiet_wait=options.quiet_wait,
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "train.json").write_text(json.dumps(results, indent=2) + "\n")
    text = tables(results)
    (RESULTS / "train.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
