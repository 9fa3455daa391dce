"""What the benchmarks share: running a command in its own process and measuring its wall time,
peak memory and how busy the rest of the machine was meanwhile; waiting for a quiet machine;
repeating disturbed runs and picking the median undisturbed one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
    """Wait (at most ``max_wait`` seconds) until other processes use under ``threshold`` cores.
    Returns the last measured use."""
    deadline = time.monotonic() + max_wait
    used = others_busy()
    while used >= threshold and time.monotonic() < deadline:
        print(f"  (other processes use {used:.1f} cores: waiting)", flush=True)
        time.sleep(10)
        used = others_busy()
    return used


#: Set by each benchmark's run(): how long measure() waits for a quiet machine before each case,
#: and the folder the measured commands run in.
QUIET_WAIT: dict[str, Any] = {"seconds": 0.0, "cwd": None}


def measure(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time, peak RSS and stdout of one command, run in a fresh wrapper process (so that
    RUSAGE_CHILDREN holds this command's peak only: the largest single process). ``others_cores``:
    the cores other processes kept busy meanwhile."""
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
        "                  'stdout': done.stdout[-100000:], 'stderr': done.stderr[-3000:]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        cwd=QUIET_WAIT["cwd"],
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


#: A run during which other processes kept more cores than this busy is disturbed.
DISTURBED = 0.2


def report(label: str, r: dict[str, Any]) -> None:
    print(
        f"  {label:46} {r['wall_s']:8.2f} s {r['peak_gb']:6.2f} GB "
        f"(others used {r['others_cores']:.2f} cores)",
        flush=True,
    )


def pick(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time among the undisturbed runs (all, if none is), the best
    wall time among those, and every run."""
    quiet = [r for r in runs if r["others_cores"] <= DISTURBED] or runs
    chosen = sorted(quiet, key=lambda r: r["wall_s"])[(len(quiet) - 1) // 2]
    return {
        **chosen,
        "runs": len(runs),
        "undisturbed_runs": sum(r["others_cores"] <= DISTURBED for r in runs),
        "best_wall_s": min(r["wall_s"] for r in quiet),
        "all": [
            {
                **{k: r[k] for k in ("wall_s", "peak_gb", "others_cores", "cpu_cores")},
                **({"cache": r["summary"]["cache"]} if "cache" in r.get("summary", {}) else {}),
            }
            for r in runs
        ],
    }


def enough(runs: list[dict[str, Any]], repeats: int) -> bool:
    quiet = sum(r["others_cores"] <= DISTURBED for r in runs)
    return quiet >= repeats or len(runs) >= 2 * repeats


def repeated(case: Callable[[int], dict[str, Any]], repeats: int, label: str) -> dict[str, Any]:
    """``repeats`` undisturbed runs of ``case(attempt)`` (a disturbed one is run again, up to twice
    the repeats in all), summed up by pick."""
    runs: list[dict[str, Any]] = []
    while not enough(runs, repeats):
        runs.append(case(len(runs)))
        report(label, runs[-1])
    return pick(runs)


def paired(
    first: Callable[[], dict[str, Any]],
    second: Callable[[], dict[str, Any]],
    repeats: int,
    labels: tuple[str, str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two cases run in turns (so both see the same machine) until each has ``repeats``
    undisturbed runs (up to twice the repeats in all)."""
    ones: list[dict[str, Any]] = []
    twos: list[dict[str, Any]] = []
    while not (enough(ones, repeats) and enough(twos, repeats)):
        ones.append(first())
        report(labels[0], ones[-1])
        twos.append(second())
        report(labels[1], twos[-1])
    return pick(ones), pick(twos)
