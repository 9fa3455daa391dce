"""The small runs people do all day, each as a whole process, against the floor
`python -c "import pandas, sklearn"` (and validate-data against Great Expectations' own bare
validation of the same suite), interleaved round by round so that every case sees the same machine.

Cases (each in a fresh process; wall time from outside, see measuring.measure):

* floor: `python -c "import pandas, sklearn"`.
* bare GX: bench_validate's plain Great Expectations script (ephemeral context, a pandas data
  source, the suite of 30 expectations, one ValidationDefinition run) on the 1,000-row table.
* validate-data: `mlready validate-data` of the same table against the same 30 expectations
  (with its HTML and JUnit reports; exit 1: three defects are planted).
* spec check: `mlready spec check` of sample_project's spec (files, columns and estimators).
* init: `mlready init` of a new folder (the example data; a fresh folder each round).
* init --data: `mlready init --data` of a 1,000-row sample of sample_project's training data.
* serve-batch: `mlready serve-batch --no-cache` of sample_project's 1,000-row July batch with a
  model trained on 1,000 of its training rows (no search, no importance; registered once and
  promoted with --force, its brier score misses the sample's bar on so few rows).

Targets (issue 18): validate-data under 2x bare GX; spec check under 1 s; serve-batch under 2 s.
Each case's min/median/max over the rounds, and the median of its per-round ratios to the floor
(and validate-data's to bare GX, and with --before each case's to its before), so a busy round
raises both sides of a ratio. Also each case's CPU seconds (user + system, child processes
included), which a busy machine disturbs less than wall time. The machine's 1-minute load
average is recorded before every run.

Projects and data go to benchmarks/data/small_runs/ (git-ignored; the trained model is kept
between invocations, --fresh rebuilds it); results to benchmarks/results/small_runs.json and .md.
mlready runs as `python -m mlready` from benchmarks/data/small_runs/ with PYTHONPATH set to this
checkout; --before TREE adds every mlready case again with TREE on PYTHONPATH, in the same rounds
(make TREE with `git archive main | tar -x -C TREE`).
Usage: python benchmarks/bench_small_runs.py [--rounds 7] [--fresh] [--only NAME ...]
       [--before TREE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_validate
from measuring import QUIET_WAIT, measure

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "data" / "small_runs"
RESULTS = HERE / "results"
SAMPLE = ROOT / "sample_project"
MLREADY = [sys.executable, "-m", "mlready"]
ROWS = 1000
#: Exit codes each case must end with (validate-data finds the planted defects).
EXPECTED_EXIT = {"validate-data": 1}
TARGETS = {
    "validate-data / bare GX": 2.0,
    "spec check (s)": 1.0,
    "serve-batch (s)": 2.0,
}


def _mlready(*args: str) -> list[str]:
    return [*MLREADY, *args]


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, cwd=WORK)
    if done.returncode != 0:
        raise SystemExit(f"setup failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")


def _sample_copy(folder: Path) -> Path:
    """sample_project with 1,000 of its training rows (every fifth: all months) and no search."""
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".mlready", "predictions"))
    lines = (folder / "data" / "train.csv").read_text().splitlines(keepends=True)
    (folder / "data" / "train_1k.csv").write_text("".join([lines[0], *lines[1:][4::5][:ROWS]]))
    spec = (folder / "mlready.yaml").read_text()
    spec = spec.replace("path: data/train.csv", "path: data/train_1k.csv")
    start = spec.index("  search:\n")
    end = spec.index("\nvalidation:")
    spec = spec[:start] + spec[end + 1 :].replace("validation:", "\nvalidation:", 1)
    (folder / "mlready.yaml").write_text(spec)
    return folder


def setup(fresh: bool) -> dict[str, Any]:
    """Data, projects and the trained model (kept between invocations unless ``fresh``)."""
    if fresh and WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True, exist_ok=True)
    data = bench_validate.make_data(ROWS)
    spec = bench_validate.make_spec(WORK / "validate", data)
    gx_script = WORK / "bare_gx.py"
    gx_script.write_text(bench_validate.PLAIN_GX)
    served = WORK / "served"
    if not (served / ".mlready" / "registry").exists():
        if served.exists():
            shutil.rmtree(served)
        _sample_copy(served)
        print("training the 1,000-row model for serve-batch (once) ...", flush=True)
        # exit 1 expected: on 1,000 rows the brier score misses the sample's bar
        subprocess.run(
            _mlready("-q", "--spec", str(served), "train", "--no-importance"),
            capture_output=True,
            check=False,
            cwd=WORK,
        )
        run_id = sorted((served / ".mlready" / "runs" / "train").iterdir())[-1].name
        _run(
            _mlready(
                "-q",
                "--spec",
                str(served),
                "register",
                "--run",
                run_id,
                "--allow-failing",
                "--promote",
                "production",
                "--force",
                "--reason",
                "benchmark of serve-batch's fixed costs",
            )
        )
    return {"data": data, "spec": spec, "gx_script": gx_script, "served": served}


def cases(paths: dict[str, Any]) -> dict[str, Any]:
    """Each case: a function of the round number returning the command to run."""
    served = paths["served"]
    batch = served / "data" / "batch_2026_07.csv"
    inits = WORK / "inits"

    def fresh_folder(name: str, i: int) -> str:
        folder = inits / f"{name}-{i}"
        if folder.exists():
            shutil.rmtree(folder)
        return str(folder)

    return {
        "floor": lambda i: [sys.executable, "-c", "import pandas, sklearn"],
        "bare GX": lambda i: [sys.executable, str(paths["gx_script"]), str(paths["data"])],
        "validate-data": lambda i: _mlready("-q", "--spec", str(paths["spec"]), "validate-data"),
        "spec check": lambda i: _mlready("-q", "--spec", str(served), "spec", "check"),
        "init": lambda i: _mlready("-q", "init", fresh_folder("example", i)),
        "init --data": lambda i: _mlready(
            "-q",
            "init",
            fresh_folder("data", i),
            "--data",
            str(served / "data" / "train_1k.csv"),
            "--target",
            "churn",
        ),
        "serve-batch": lambda i: _mlready(
            "-q", "--spec", str(served), "serve-batch", "-i", str(batch), "--no-cache", "--force"
        ),
    }


def run(
    rounds: int, fresh: bool, only: list[str] | None = None, before: Path | None = None
) -> dict[str, Any]:
    paths = setup(fresh)
    # not the checkout's folder: `python -m mlready` would import ./mlready before PYTHONPATH's
    QUIET_WAIT["cwd"] = WORK
    todo = {
        name: (command, {"PYTHONPATH": str(ROOT)})
        for name, command in cases(paths).items()
        if not only or name in only or name in ("floor", "bare GX")
    }
    if before is not None:  # each case next to its before, so that both see the same machine
        todo = {
            key: value
            for name, (command, env) in todo.items()
            for key, value in [
                (name, (command, env)),
                (f"{name} (before)", (command, {"PYTHONPATH": str(before)})),
            ]
            if name not in ("floor", "bare GX") or key == name
        }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in todo}
    for i in range(rounds):
        print(f"round {i + 1}/{rounds} (load {os.getloadavg()[0]:.2f})", flush=True)
        for name, (command, env) in todo.items():
            row = measure(command(i), env=env)
            expected = EXPECTED_EXIT.get(name.removesuffix(" (before)"), 0)
            if row["exit"] != expected:
                raise SystemExit(f"{name} exited {row['exit']}, not {expected}:\n{row['stderr']}")
            runs[name].append(row)
            print(
                f"  {name:24} {row['wall_s']:6.2f} s  (load {row['load_before']:.2f}, "
                f"others {row['others_cores']:.2f} cores)",
                flush=True,
            )
    result = summarize(runs)
    result["machine"]["before"] = None if before is None else str(before)
    return result


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def stats(values: list[float]) -> dict[str, float]:
        return {
            "min": round(min(values), 3),
            "median": round(statistics.median(values), 3),
            "max": round(max(values), 3),
        }

    floor = [r["wall_s"] for r in runs["floor"]]
    floor_cpu = [r["cpu_cores"] * r["wall_s"] for r in runs["floor"]]
    out: dict[str, Any] = {"cases": {}, "ratios": {}, "targets": {}}
    for name, rows in runs.items():
        walls = [r["wall_s"] for r in rows]
        cpu = [r["cpu_cores"] * r["wall_s"] for r in rows]
        out["cases"][name] = {
            **stats(walls),
            "over_floor": stats([w / f for w, f in zip(walls, floor, strict=True)]),
            # user + system seconds of the process: less disturbed by a busy machine than wall
            "cpu_s": stats(cpu),
            "cpu_over_floor": stats([c / f for c, f in zip(cpu, floor_cpu, strict=True)]),
            "load_before": stats([r["load_before"] for r in rows]),
            "others_cores": stats([r["others_cores"] for r in rows]),
            "peak_gb": round(max(r["peak_gb"] for r in rows), 3),
            "runs": walls,
        }
    for suffix in ("", " (before)"):
        if f"validate-data{suffix}" in runs and "bare GX" in runs:
            per_round = [
                v["wall_s"] / g["wall_s"]
                for v, g in zip(runs[f"validate-data{suffix}"], runs["bare GX"], strict=True)
            ]
            out["ratios"][f"validate-data{suffix} / bare GX"] = stats(per_round)
    for name in [n for n in runs if f"{n} (before)" in runs]:
        out["ratios"][f"{name}: after / before"] = stats(
            [
                a["wall_s"] / b["wall_s"]
                for a, b in zip(runs[name], runs[f"{name} (before)"], strict=True)
            ]
        )
    if "validate-data / bare GX" in out["ratios"]:
        out["targets"]["validate-data / bare GX"] = out["ratios"]["validate-data / bare GX"][
            "median"
        ]
    for name in ("spec check", "serve-batch"):
        if name in runs:
            out["targets"][f"{name} (s)"] = out["cases"][name]["median"]
    out["targets_met"] = {name: value < TARGETS[name] for name, value in out["targets"].items()}
    out["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_after": os.getloadavg(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mlready": subprocess.run(
            [sys.executable, "-c", "import mlready; print(mlready.__file__)"],
            capture_output=True,
            text=True,
            cwd=WORK,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        ).stdout.strip(),
    }
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        "| case | min s | median s | max s | median / floor | CPU s (median) | CPU / floor's "
        "| load (median) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in result["cases"].items():
        lines.append(
            f"| {name} | {row['min']:.2f} | {row['median']:.2f} | {row['max']:.2f} | "
            f"{row['over_floor']['median']:.2f}x | {row['cpu_s']['median']:.2f} | "
            f"{row['cpu_over_floor']['median']:.2f}x | {row['load_before']['median']:.2f} |"
        )
    lines.append("")
    for name, row in result["ratios"].items():
        lines.append(
            f"- {name}: median {row['median']:.2f} (min {row['min']:.2f}, max {row['max']:.2f})"
        )
    for name, value in result["targets"].items():
        met = "met" if result["targets_met"][name] else "NOT met"
        lines.append(f"- {name}: {value:.2f} (target < {TARGETS[name]:g}): {met}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="Rebuild data and the model.")
    parser.add_argument("--only", nargs="+", help="Run only these cases (and the floor).")
    parser.add_argument("--name", default="small_runs", help="Results file name.")
    parser.add_argument(
        "--before",
        type=Path,
        help="Also run every mlready case with this tree on PYTHONPATH (e.g. a `git archive` of "
        "main), in the same rounds.",
    )
    options = parser.parse_args()
    result = run(options.rounds, options.fresh, options.only, options.before)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{options.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    text = table(result)
    (RESULTS / f"{options.name}.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
