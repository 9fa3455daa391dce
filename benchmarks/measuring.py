"""What the benchmarks share: running a command in its own process and measuring its wall time,
CPU seconds, peak memory and how busy the rest of the machine was meanwhile; running the compared
cases interleaved in rounds and pairing the rounds for ratios (min / median / max); waiting for a
quiet machine; repeating disturbed runs and picking the median undisturbed one.

Every measured run (``measure``) carries:

- ``wall_s``: the command's wall time, from outside (start-up and imports included);
- ``cpu_s`` (``user_s`` + ``sys_s``): the CPU seconds of the command and everything it waited
  for, the figure other processes on a shared machine disturb least;
- ``peak_gb``: the peak RSS of the largest single process;
- ``load_before`` / ``load_after``: the 1-minute load average when the run started and ended;
- ``others_cores``: the cores other processes kept busy meanwhile (from /proc/stat), and
  ``disturbed``: whether that was over ``DISTURBED``.

``interleaved`` runs several cases in rounds (each round runs every case once, in an order rotated
by round so that no case always goes first) and ``ratios`` pairs the rounds: round i of one case
against round i of another, min / median / max over the rounds, from the undisturbed rounds when
there are any.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
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

#: A run during which other processes kept more cores than this busy is disturbed.
DISTURBED = 0.2

_WRAPPER = """\
import json, os, resource, subprocess, sys, time
def ticks():
    f = [int(v) for v in open('/proc/stat').readline().split()[1:]]
    return sum(f) - f[3] - f[4], sum(f)
load = os.getloadavg()[0]
busy, total = ticks()
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
busy2, total2 = ticks()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
machine = (busy2 - busy) / max(total2 - total, 1) * os.cpu_count()
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({'wall_s': wall, 'cpu_s': cpu, 'user_s': usage.ru_utime,
                  'sys_s': usage.ru_stime, 'peak_gb': usage.ru_maxrss / 1024 / 1024,
                  'exit': done.returncode, 'load_before': load,
                  'load_after': os.getloadavg()[0], 'cpu_cores': cpu / wall,
                  'others_cores': max(machine - cpu / wall, 0.0),
                  'stdout': done.stdout, 'stderr': done.stderr[-3000:]}))
"""


def measure(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time, CPU seconds, peak RSS, load and stdout of one command, run in a fresh wrapper
    process (so that RUSAGE_CHILDREN holds this command's figures only: its CPU seconds, and the
    peak of its largest single process). ``others_cores``: the cores other processes kept busy
    meanwhile; ``disturbed``: over ``DISTURBED``."""
    if QUIET_WAIT["seconds"]:
        wait_quiet(QUIET_WAIT["seconds"])
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        cwd=QUIET_WAIT["cwd"],
    )
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    row["disturbed"] = row["others_cores"] > DISTURBED
    return row


def report(label: str, r: dict[str, Any]) -> None:
    """One line per run: wall, CPU seconds, peak memory, load and whether it was disturbed."""
    cpu = f"{r['cpu_s']:7.2f} cpu-s " if "cpu_s" in r else ""
    load = f"load {r['load_before']:.2f}, " if "load_before" in r else ""
    flag = "  DISTURBED" if r["others_cores"] > DISTURBED else ""
    print(
        f"  {label:46} {r['wall_s']:8.2f} s {cpu}{r['peak_gb']:6.2f} GB "
        f"({load}others used {r['others_cores']:.2f} cores){flag}",
        flush=True,
    )


def spread(values: Sequence[float]) -> dict[str, float]:
    """min / median / max of some values (the median of an even count: the mean of the middle
    two)."""
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
    }


#: The figures of each run that ``pick`` keeps in its ``all`` list and sums up in ``stats``.
FIGURES = ("wall_s", "cpu_s", "peak_gb")


def pick(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time among the undisturbed runs (all, if none is), the best
    wall time among those, min / median / max of wall, CPU seconds and peak memory over those,
    the load of each run, and every run."""
    quiet = [r for r in runs if r["others_cores"] <= DISTURBED] or runs
    chosen = sorted(quiet, key=lambda r: r["wall_s"])[(len(quiet) - 1) // 2]
    return {
        **chosen,
        "runs": len(runs),
        "undisturbed_runs": sum(r["others_cores"] <= DISTURBED for r in runs),
        "best_wall_s": min(r["wall_s"] for r in quiet),
        "stats": {k: spread([r[k] for r in quiet]) for k in FIGURES if all(k in r for r in quiet)},
        "loads": [round(r.get("load_before", float("nan")), 2) for r in runs],
        "all": [
            {
                **{
                    k: r[k]
                    for k in (*FIGURES, "others_cores", "cpu_cores", "load_before", "load_after")
                    if k in r
                },
                "disturbed": r["others_cores"] > DISTURBED,
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


def interleaved(
    cases: dict[str, Callable[[int], dict[str, Any]]],
    rounds: int,
    *,
    retry_disturbed: int = 0,
    labels: dict[str, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every case once per round, ``rounds`` rounds, the order rotated by round (round i starts
    with case i), so that the cases see the same machine and none always runs first or last.
    ``case(i)`` gets the round's number. A round in which any run was disturbed is run again, up
    to ``retry_disturbed`` extra rounds in all; every round is kept (``ratios`` pairs them and
    prefers the undisturbed ones). Returns each case's runs, in round order; each run carries its
    ``round``."""
    names = list(cases)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    done = 0
    quiet = 0
    while quiet < rounds and done < rounds + retry_disturbed:
        if done >= rounds:
            print(f"round {done + 1}: again, {rounds - quiet} round(s) were disturbed", flush=True)
        print(
            f"round {done + 1}/{rounds} (load {os.getloadavg()[0]:.2f})",
            flush=True,
        )
        order = names[done % len(names) :] + names[: done % len(names)]
        disturbed = False
        for name in order:
            row = cases[name](done)
            row["round"] = done
            runs[name].append(row)
            report((labels or {}).get(name, name), row)
            disturbed = disturbed or row["others_cores"] > DISTURBED
        done += 1
        quiet += not disturbed
    return runs


def _disturbed(run: dict[str, Any]) -> bool:
    return bool(run["others_cores"] > DISTURBED)


def ratios(
    slow: list[dict[str, Any]],
    fast: list[dict[str, Any]],
    key: str = "wall_s",
) -> dict[str, Any] | None:
    """``slow[key] / fast[key]`` round by round (runs paired by their ``round``, else by
    position): min / median / max over the rounds in which neither run was disturbed, or over
    every round (``all_disturbed``) if each was. None if there is no pair."""
    if slow and all("round" in r for r in slow) and all("round" in r for r in fast):
        by_round = {r["round"]: r for r in fast}
        pairs = [(a, by_round[a["round"]]) for a in slow if a["round"] in by_round]
    else:
        pairs = list(zip(slow, fast, strict=False))
    pairs = [(a, b) for a, b in pairs if key in a and key in b and b[key] > 0]
    if not pairs:
        return None
    quiet = [(a, b) for a, b in pairs if not (_disturbed(a) or _disturbed(b))]
    used = quiet or pairs
    return {
        **spread([a[key] / b[key] for a, b in used]),
        "rounds": len(used),
        "disturbed_rounds": len(pairs) - len(quiet),
        "all_disturbed": not quiet,
        "each": [round(a[key] / b[key], 4) for a, b in pairs],
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One case's runs of ``interleaved`` summed up: ``pick``'s median undisturbed run and stats,
    and the runs themselves (``rounds``), for ``ratios``."""
    return {**pick(runs), "rounds": runs}


def fmt_ratio(r: dict[str, Any] | None, digits: int = 2) -> str:
    """A ratio of ``ratios`` as text: median (min-max), marked when every round was disturbed."""
    if r is None:
        return "n/a"
    text = f"{r['median']:.{digits}f}x ({r['min']:.{digits}f}-{r['max']:.{digits}f})"
    return text + (" disturbed" if r["all_disturbed"] else "")
