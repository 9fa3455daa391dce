"""Run every benchmark, print a table and write benchmarks/results/<name>.json (make bench)."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_cli  # noqa: E402
import bench_drift  # noqa: E402
import bench_serve  # noqa: E402
import bench_serve_http  # noqa: E402
import bench_train  # noqa: E402
import bench_validate  # noqa: E402


def main() -> None:
    """Run the benchmarks and report."""
    results = {
        "cli": bench_cli.run(),
        "validate": bench_validate.run([1_000_000, 5_000_000], chunk_rows=500_000),
    }
    train = bench_train.run([100_000, 1_000_000])
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine()}
    for name, rows in results.items():
        (out / f"{name}.json").write_text(
            json.dumps({"machine": machine, "results": rows}, indent=2) + "\n"
        )
        print(f"\n{name}")
        print(f"{'case':64} {'seconds':>9} {'peak GB':>8}")
        for case, row in rows.items():
            seconds = row.get("median_s", row.get("wall_s", 0.0))
            peak = f"{row['peak_gb']:8.2f}" if "peak_gb" in row else ""
            print(f"{case:64} {seconds:9.3f} {peak}")
    (out / "train.json").write_text(json.dumps(train, indent=2) + "\n")  # has its machine
    (out / "train.md").write_text(bench_train.tables(train))
    print("\ntrain\n" + bench_train.tables(train))
    issue = bench_train.run_issue()  # issue 18's shapes: every analysis against a plain fit
    (out / "train_issue.json").write_text(json.dumps(issue, indent=2) + "\n")
    (out / "train_issue.md").write_text(bench_train.issue_tables(issue))
    print("\ntrain, issue 18's shapes\n" + bench_train.issue_tables(issue))
    serve = bench_serve.run([1_000_000, 5_000_000])
    (out / "serve.json").write_text(json.dumps(serve, indent=2, default=str) + "\n")
    (out / "serve.md").write_text(bench_serve.tables(serve))
    print("\nserve\n" + bench_serve.tables(serve))
    served = bench_serve_http.measure(bench_serve_http.options([]))
    (out / "serve_http.json").write_text(json.dumps(served, indent=2, default=str) + "\n")
    (out / "serve_http.md").write_text(bench_serve_http.table(served))
    print("\nserve over HTTP\n" + bench_serve_http.table(served))
    drift = bench_drift.run(1_000_000)
    (out / "drift.json").write_text(json.dumps(drift, indent=2, default=str) + "\n")
    (out / "drift.md").write_text(bench_drift.tables(drift))
    print("\ndrift\n" + bench_drift.tables(drift))


if __name__ == "__main__":
    main()
