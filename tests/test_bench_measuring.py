"""benchmarks/measuring.py: interleaved rounds, paired ratios, disturbed runs marked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import measuring


def _run(wall: float, others: float = 0.0, cpu: float | None = None) -> dict[str, Any]:
    return {
        "wall_s": wall,
        "cpu_s": wall if cpu is None else cpu,
        "peak_gb": 0.5,
        "others_cores": others,
        "load_before": 1.0,
    }


def test_interleaved_rotates_the_order_and_numbers_the_rounds() -> None:
    order: list[tuple[str, int]] = []

    def case(name: str) -> Any:
        def run(i: int) -> dict[str, Any]:
            order.append((name, i))
            return _run(1.0)

        return run

    runs = measuring.interleaved({"a": case("a"), "b": case("b"), "c": case("c")}, 3)
    assert order == [
        ("a", 0), ("b", 0), ("c", 0),
        ("b", 1), ("c", 1), ("a", 1),
        ("c", 2), ("a", 2), ("b", 2),
    ]  # fmt: skip
    assert [r["round"] for r in runs["b"]] == [0, 1, 2]


def test_interleaved_runs_a_disturbed_round_again_within_its_budget() -> None:
    busy = iter([0.9, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0])
    runs = measuring.interleaved(
        {"a": lambda i: _run(1.0, next(busy)), "b": lambda i: _run(2.0, next(busy))},
        2,
        retry_disturbed=2,
    )
    # rounds 0 and 2 were disturbed: 4 rounds in all, two of them quiet
    assert len(runs["a"]) == 4
    r = measuring.ratios(runs["b"], runs["a"])
    assert r is not None
    assert (r["rounds"], r["disturbed_rounds"], r["all_disturbed"]) == (2, 2, False)


def test_ratios_pair_rounds_and_prefer_undisturbed_ones() -> None:
    slow = [_run(3.0), _run(10.0, others=1.5), _run(4.0), _run(2.0)]
    fast = [_run(1.0), _run(1.0), _run(2.0), _run(2.0)]
    for i, (a, b) in enumerate(zip(slow, fast, strict=True)):
        a["round"] = b["round"] = i
    r = measuring.ratios(slow, fast)
    assert r is not None
    assert (r["min"], r["median"], r["max"]) == (1.0, 2.0, 3.0)  # round 1 left out
    assert r["disturbed_rounds"] == 1
    assert not r["all_disturbed"]
    assert r["each"] == [3.0, 10.0, 2.0, 1.0]
    assert measuring.fmt_ratio(r) == "2.00x (1.00-3.00)"


def test_ratios_over_disturbed_rounds_say_so() -> None:
    r = measuring.ratios([_run(2.0, others=1.0)], [_run(1.0)], key="cpu_s")
    assert r is not None
    assert r["all_disturbed"]
    assert measuring.fmt_ratio(r).endswith("disturbed")
    assert measuring.ratios([], [_run(1.0)]) is None


def test_pick_sums_up_cpu_seconds_memory_and_load() -> None:
    runs = [_run(3.0, cpu=2.5), _run(1.0, cpu=0.9), _run(2.0, cpu=1.8), _run(9.0, others=1.0)]
    picked = measuring.pick(runs)
    assert picked["wall_s"] == 2.0
    assert picked["stats"]["cpu_s"] == {"min": 0.9, "median": 1.8, "max": 2.5}
    assert picked["loads"] == [1.0] * 4
    assert [r["disturbed"] for r in picked["all"]] == [False, False, False, True]


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc/stat")
def test_measure_reports_cpu_seconds_load_and_the_disturbed_flag() -> None:
    row = measuring.measure([sys.executable, "-c", "sum(range(2_000_000))"])
    assert row["exit"] == 0
    assert 0 < row["cpu_s"] == pytest.approx(row["user_s"] + row["sys_s"])
    assert row["peak_gb"] > 0
    assert row["load_before"] >= 0
    assert row["load_after"] >= 0
    assert row["disturbed"] == (row["others_cores"] > measuring.DISTURBED)
