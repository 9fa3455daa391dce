"""validate-data against plain Great Expectations and plain pandas, at 1M and 5M rows x 25 columns.

Each case runs in its own process; wall time, CPU seconds (user + system), peak memory (max RSS)
and the load average before it are measured from outside (benchmarks/measuring.py), and a run
during which other processes kept over 0.2 cores busy is marked disturbed. The cases run
interleaved in rounds (every case once per round), and the chunked run is compared with plain GX
round by round on CPU seconds (the load-independent figure on a shared machine) and wall time:
min / median / max of the ratios (target: chunked <= 1.2x GX's CPU).
The data (20 numeric and 5 categorical columns plus an id, a few planted bad values) and a spec of
30 expectations are generated into benchmarks/data/ (git-ignored).
Usage: python benchmarks/bench_validate.py [--rows 1000000 5000000] [--chunk-rows 1000000]
       [--rounds 3] [--skip-whole]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measuring import DISTURBED, measure

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
CATEGORIES = ["alpha", "beta", "gamma", "delta"]

PLAIN_GX = textwrap.dedent(
    """\
    import sys
    import pandas as pd
    import great_expectations as gx
    import great_expectations.expectations as gxe

    frame = pd.read_csv(sys.argv[1])
    context = gx.get_context(mode="ephemeral")
    batch = (context.data_sources.add_pandas("p").add_dataframe_asset("a")
             .add_batch_definition_whole_dataframe("b"))
    expectations = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="id"),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValuesToMatchRegex(column="id", regex=r"^R\\d{8}$"),
    ]
    for i in range(20):
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=f"n{i}", min_value=-10,
                                                               max_value=110))
    for i in range(5):
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column=f"c{i}", value_set=["alpha", "beta", "gamma", "delta"]))
    suite = context.suites.add(gx.ExpectationSuite(name="s", expectations=expectations))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="v", data=batch, suite=suite))
    result = definition.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    print(sum(not r.success for r in result.results), "failed of", len(result.results))
    """
)

PLAIN_PANDAS = textwrap.dedent(
    """\
    import sys
    import pandas as pd

    frame = pd.read_csv(sys.argv[1])
    failed = 0
    failed += len(frame) < 1
    failed += bool(frame["id"].isna().any())
    failed += bool(frame["id"].duplicated().any())
    failed += not frame["id"].dropna().str.match(r"^R\\d{8}$").all()
    for i in range(20):
        column = frame[f"n{i}"].dropna()
        failed += not column.between(-10, 110).all()
    for i in range(5):
        failed += not frame[f"c{i}"].dropna().isin(["alpha", "beta", "gamma", "delta"]).all()
    print(failed, "failed of", 4 + 20 + 5)
    """
)


def make_data(rows: int) -> Path:
    """A CSV of ``rows`` rows: an id, 20 numeric and 5 categorical columns, 3 planted defects."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = DATA / f"validate_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    columns = {"id": pa.array([f"R{i:08d}" for i in range(rows)])}
    for i in range(20):
        values = rng.uniform(0, 100, rows)
        if i % 2:
            values = np.round(values)
        columns[f"n{i}"] = pa.array(values)
    for i in range(5):
        columns[f"c{i}"] = pa.array(np.array(CATEGORIES)[rng.integers(0, 4, rows)])
    table = pa.table(columns)
    # planted defects: a value out of range, an unknown category, a repeated id
    n0 = table.column("n0").to_numpy().copy()
    n0[rows // 2] = 1e6
    c0 = table.column("c0").to_numpy(zero_copy_only=False).copy()
    c0[rows // 3] = "omega"
    ids = table.column("id").to_numpy(zero_copy_only=False).copy()
    ids[rows - 1] = ids[0]
    table = table.set_column(1, "n0", pa.array(n0))
    table = table.set_column(21, "c0", pa.array(c0))
    table = table.set_column(0, "id", pa.array(ids))
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(table, tmp)
    tmp.rename(path)
    return path


def make_spec(folder: Path, data: Path) -> Path:
    """The same 30 expectations as an mlready spec."""
    lines = [
        "spec_version: 1",
        "project: {name: bench, owner: bench, artifacts_dir: .mlready}",
        f"data: {{source: {{path: '{data}'}}, target: c4, id_columns: [id]}}",
        "expectations:",
        "  unexpected_columns: allow",
        "  row_count: {min: 1}",
        "  columns:",
        "    id: {max_null_fraction: 0, unique: true, regex: '^R\\d{8}$'}",
    ]
    lines += [f"    n{i}: {{min: -10, max: 110}}" for i in range(20)]
    lines += [f"    c{i}: {{allowed_values: [alpha, beta, gamma, delta]}}" for i in range(5)]
    lines.append("model: {estimator: sklearn.linear_model.LogisticRegression}")
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "mlready.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


CHUNKED = "mlready validate-data --chunk-rows"
GX = "plain GX script"
#: The target: the chunked run's CPU seconds over plain GX's.
CPU_BAR = 1.2


def _row(args: list[str]) -> dict[str, Any]:
    row = measure(args)
    row.pop("stdout", None)
    row.pop("stderr", None)
    row["cpu_s"] = row["cpu_cores"] * row["wall_s"]
    row["disturbed"] = row["others_cores"] > DISTURBED
    return row


def run(rows_list: list[int], chunk_rows: int, rounds: int, whole: bool) -> dict[str, Any]:
    """Every case at every size, interleaved in rounds."""
    mlready = str(Path(sys.executable).with_name("mlready"))
    results: dict[str, Any] = {}
    work = DATA / "work"
    work.mkdir(parents=True, exist_ok=True)
    gx_script = work / "plain_gx.py"
    gx_script.write_text(PLAIN_GX)
    pandas_script = work / "plain_pandas.py"
    pandas_script.write_text(PLAIN_PANDAS)
    for rows in rows_list:
        start = time.perf_counter()
        data = make_data(rows)
        print(f"data {rows:,} rows ready ({time.perf_counter() - start:.0f} s)", flush=True)
        spec = make_spec(work / f"spec_{rows}", data)
        base = [mlready, "-q", "--spec", str(spec), "validate-data", "--no-report"]
        cases = {
            CHUNKED: [*base, "--chunk-rows", str(chunk_rows)],
            GX: [sys.executable, str(gx_script), str(data)],
        }
        if whole:
            cases["mlready validate-data"] = base
            cases["plain pandas script"] = [sys.executable, str(pandas_script), str(data)]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
        for number in range(rounds):
            # rotate the order, so no case always runs first (or after the same one)
            names = list(cases)
            names = names[number % len(names) :] + names[: number % len(names)]
            for name in names:
                row = _row(cases[name])
                runs[name].append(row)
                print(
                    f"  round {number + 1} {name:45} {row['wall_s']:7.1f} s "
                    f"{row['cpu_s']:6.1f} cpu-s {row['peak_gb']:5.2f} GB exit {row['exit']} "
                    f"load {row['load_before']:.1f}{' DISTURBED' if row['disturbed'] else ''}",
                    flush=True,
                )
        ratios = [
            {
                "cpu": c["cpu_s"] / g["cpu_s"],
                "wall": c["wall_s"] / g["wall_s"],
                "disturbed": c["disturbed"] or g["disturbed"],
            }
            for c, g in zip(runs[CHUNKED], runs[GX], strict=True)
        ]
        results[f"{rows:,} rows"] = {
            "chunk_rows": chunk_rows,
            "runs": runs,
            "chunked_vs_gx": {
                key: {
                    "min": min(r[key] for r in ratios),
                    "median": statistics.median(r[key] for r in ratios),
                    "max": max(r[key] for r in ratios),
                }
                for key in ("cpu", "wall")
            },
            "rounds": ratios,
        }
    return results


def tables(results: dict[str, Any]) -> str:
    """The results as markdown."""
    out = []
    for size, result in results.items():
        out += [
            f"### {size} (chunks of {result['chunk_rows']:,} rows)",
            "",
            "| case | round | wall s | CPU s | peak GB | load before | disturbed |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for name, runs in result["runs"].items():
            for number, r in enumerate(runs, 1):
                out.append(
                    f"| {name} | {number} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                    f"{r['peak_gb']:.2f} | {r['load_before']:.1f} | "
                    f"{'yes' if r['disturbed'] else 'no'} |"
                )
        cpu, wall = result["chunked_vs_gx"]["cpu"], result["chunked_vs_gx"]["wall"]
        verdict = "ok" if cpu["median"] <= CPU_BAR else "**missed**"
        out += [
            "",
            f"Chunked / GX, CPU: min {cpu['min']:.2f}x, median {cpu['median']:.2f}x, max "
            f"{cpu['max']:.2f}x (target <= {CPU_BAR}x at the median: {verdict}); wall: min "
            f"{wall['min']:.2f}x, median {wall['median']:.2f}x, max {wall['max']:.2f}x.",
            "",
        ]
    return "\n".join(out)


def main() -> None:
    """Run and report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument(
        "--skip-whole",
        action="store_true",
        help="only the chunked run and plain GX (not whole-table mlready or plain pandas)",
    )
    options = parser.parse_args()
    results = run(options.rows, options.chunk_rows, options.rounds, not options.skip_whole)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validate.json").write_text(json.dumps(results, indent=2) + "\n")
    text = tables(results)
    (RESULTS / "validate.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
