"""Run every benchmark, print a table and write benchmarks/results/<name>.json (make bench)."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_cli  # noqa: E402


def main() -> None:
    """Run the benchmarks and report."""
    results = {"cli": bench_cli.run()}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine()}
    for name, rows in results.items():
        (out / f"{name}.json").write_text(
            json.dumps({"machine": machine, "results": rows}, indent=2) + "\n"
        )
        print(f"\n{name}")
        print(f"{'case':48} {'median s':>9} {'max s':>9}")
        for case, row in rows.items():
            print(f"{case:48} {row['median_s']:9.3f} {row['max_s']:9.3f}")


if __name__ == "__main__":
    main()
