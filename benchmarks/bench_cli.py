"""How long the CLI takes to start and to check the sample spec (median of repeated runs)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLREADY = Path(sys.executable).with_name("mlready")


def timed(args: list[str], repeats: int) -> dict[str, float]:
    """Median and worst wall time of a command, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "max_s": max(times), "runs": repeats}


def run(repeats: int = 15) -> dict[str, dict[str, float]]:
    """The CLI benchmarks, by name."""
    spec = str(ROOT / "sample_project" / "mlready.yaml")
    return {
        "mlready --help": timed([str(MLREADY), "--help"], repeats),
        "mlready --version": timed([str(MLREADY), "--version"], repeats),
        "mlready spec check --no-files (sample)": timed(
            [str(MLREADY), "--spec", spec, "spec", "check", "--no-files"], repeats
        ),
        "mlready spec check (sample, imports sklearn)": timed(
            [str(MLREADY), "--spec", spec, "spec", "check"], max(3, repeats // 3)
        ),
    }
