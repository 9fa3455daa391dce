"""validate-data against plain Great Expectations and plain pandas, at 1M and 5M rows x 25 columns.

Each case runs in its own process; wall time and peak memory (max RSS) are measured from outside.
The data (20 numeric and 5 categorical columns plus an id, a few planted bad values) and a spec of
30 expectations are generated into benchmarks/data/ (git-ignored).
Usage: python benchmarks/bench_validate.py [--rows 1000000 5000000] [--chunk-rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

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


def measure(args: list[str]) -> dict[str, float]:
    """Wall time and peak RSS of one command, run in a fresh wrapper process."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "wall = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024\n"
        "print(json.dumps({'wall_s': wall, 'peak_gb': peak, 'exit': code}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(rows_list: list[int], chunk_rows: int) -> dict[str, dict[str, float]]:
    """Every case at every size."""
    mlready = str(Path(sys.executable).with_name("mlready"))
    results: dict[str, dict[str, float]] = {}
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
        cases = {
            "mlready validate-data": [
                mlready,
                "-q",
                "--spec",
                str(spec),
                "validate-data",
                "--no-report",
            ],
            f"mlready validate-data --chunk-rows {chunk_rows:,}": [
                mlready,
                "-q",
                "--spec",
                str(spec),
                "validate-data",
                "--no-report",
                "--chunk-rows",
                str(chunk_rows),
            ],
            "plain GX script": [sys.executable, str(gx_script), str(data)],
            "plain pandas script": [sys.executable, str(pandas_script), str(data)],
        }
        for name, args in cases.items():
            row = measure(args)
            results[f"{name} @ {rows:,} rows"] = row
            print(
                f"  {name:45} {row['wall_s']:7.1f} s {row['peak_gb']:6.2f} GB exit {row['exit']}",
                flush=True,
            )
    return results


def main() -> None:
    """Run and report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    options = parser.parse_args()
    results = run(options.rows, options.chunk_rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validate.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'case':62} {'wall s':>8} {'peak GB':>8}")
    for name, row in results.items():
        print(f"{name:62} {row['wall_s']:8.1f} {row['peak_gb']:8.2f}")


if __name__ == "__main__":
    main()
