"""--quarantine: rows failing row-level checks go to one file with the reasons, the rest apart."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from mlready.io import atomic_path
from mlready.validation.checks import CheckResult

REASON_COLUMN = "_mlready_reasons"


def rejected_reasons(results: list[CheckResult], offset: int = 0) -> dict[int, list[str]]:
    """Row position -> the ids of the failed error-severity row-level checks that name it."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for result in results:
        if result.failed_error and result.check.row_level:
            for row in result.bad_rows:
                reasons[row + offset].append(result.check.id)
    return reasons


def output_paths(folder: Path, source: str) -> tuple[Path, Path]:
    """Where the clean and the rejected rows of ``source`` go (same format as the source)."""
    name = Path(source).name
    stem = name.split(".")[0].replace("*", "all") or "data"
    suffix = ".parquet" if name.lower().endswith((".parquet", ".pq")) else ".csv"
    return folder / f"{stem}.clean{suffix}", folder / f"{stem}.rejected{suffix}"


def write_frame(frame: Any, path: Path) -> None:
    """Write a DataFrame as CSV or Parquet (by suffix), atomically."""
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)


def write_quarantine(
    frame: Any, results: list[CheckResult], folder: Path, source: str
) -> dict[str, Any]:
    """Split ``frame`` into clean and rejected rows and write both; return a summary."""
    reasons = rejected_reasons(results)
    clean_path, rejected_path = output_paths(Path(folder), source)
    mask = frame.index.isin(list(reasons))
    rejected = frame[mask].copy()
    rejected[REASON_COLUMN] = ["; ".join(reasons[i]) for i in rejected.index]
    # rejected rows first: a clean file never stands without the rows taken out of it
    write_frame(rejected, rejected_path)
    write_frame(frame[~mask], clean_path)
    return summary(
        len(frame) - int(mask.sum()), int(mask.sum()), clean_path, rejected_path, reasons
    )


def summary(
    clean: int, rejected: int, clean_path: Path, rejected_path: Path, reasons: dict[int, list[str]]
) -> dict[str, Any]:
    """The quarantine part of validation.json."""
    by_check: dict[str, int] = defaultdict(int)
    for ids in reasons.values():
        for check_id in ids:
            by_check[check_id] += 1
    return {
        "clean_rows": clean,
        "rejected_rows": rejected,
        "clean_path": str(clean_path),
        "rejected_path": str(rejected_path),
        "rejected_by_check": dict(sorted(by_check.items())),
    }
