"""``mlready init``: a commented starter spec, from your data's columns or with example data."""

from __future__ import annotations

import csv
import math
import os
import random
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlready.errors import DataError, InternalError, SpecError, UsageError
from mlready.io import atomic_write_text

__all__ = ["ColumnRoles", "ScaffoldResult", "infer_roles", "scaffold_project"]

SAMPLE_ROWS = 2_000
_ID_HINTS = ("id", "_id", "uuid", "key")
_TIME_HINTS = ("date", "time", "timestamp", "month", "day")


@dataclass(frozen=True)
class ColumnRoles:
    """What each column of a table is for, as guessed from a sample of it."""

    target: str
    task: str
    positive_class: str | None
    id_columns: list[str] = field(default_factory=list)
    timestamp_column: str | None = None
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    #: columns kept out of the features, with why (they would fail train's proxy check)
    forbidden: dict[str, str] = field(default_factory=dict)
    #: the positive class's share of the sampled rows
    positive_share: float | None = None
    #: what was chosen and why, for the terminal
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScaffoldResult:
    """What init wrote, and what it chose for you."""

    spec_path: Path
    written: list[Path]
    notes: list[str] = field(default_factory=list)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _is_code(text: str) -> bool:
    """Digits with a leading zero (a zip or product code): text, never a number."""
    text = text.strip().lstrip("+-")
    return len(text) > 1 and text.isdigit() and text.startswith("0")


def _sample(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Column names and up to SAMPLE_ROWS rows as text, without pandas."""
    suffix = path.name.lower()
    if suffix.endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
            batch = next(parquet.iter_batches(batch_size=SAMPLE_ROWS), None)
        except Exception as exc:
            raise DataError(f"cannot read {path} as Parquet: {exc}") from None
        names = list(parquet.schema_arrow.names)
        rows = (
            []
            if batch is None
            else [
                {k: "" if v is None else str(v) for k, v in row.items()}
                for row in batch.to_pylist()
            ]
        )
        return names, rows
    if not suffix.endswith((".csv", ".csv.gz")):
        raise DataError(f"{path} is neither CSV nor Parquet: export it to one of them first")
    try:
        import gzip

        opener: Any = gzip.open if suffix.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            names = list(reader.fieldnames or [])
            rows = [row for _, row in zip(range(SAMPLE_ROWS), reader, strict=False)]
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text: re-save it as UTF-8 CSV") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if not names:
        raise DataError(f"{path} has no header row: the first line must name the columns")
    return names, rows


#: A year in a date's text: 1800-2199, not part of a longer number.
_YEAR = r"(?<!\d)(18|19|20|21)\d\d(?!\d)"


def _dates_with_year(values: list[str]) -> bool:
    """Every value reads as a date (the way train reads data.timestamp_column) and names its
    year: 'Yes'/'No' or 'March' are not dates, '2025-03' and '03/14/2025' are."""
    import re
    import warnings

    if not values or any(not v.strip() for v in values) or all(_is_number(v) for v in values):
        return False
    if not all(re.search(_YEAR, v) for v in values):
        return False
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format": the NaT count says it
        parsed = pd.to_datetime(pd.Series(values), errors="coerce", utc=True)
    return not parsed.isna().any()


def _proxies(
    rows: list[dict[str, str]], target: str, task: str, numeric: list[str], categorical: list[str]
) -> dict[str, str]:
    """The features train's proxy check would fail, measured on init's sample."""
    import pandas as pd

    from mlready.training.leakage import find_proxies

    frame = pd.DataFrame(rows, columns=[target, *numeric, *categorical]).replace("", None)
    frame = frame[frame[target].notna()]
    if len(frame) < 20 or not numeric + categorical:
        return {}
    for column in numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    y = frame[target].to_numpy()
    if task == "regression":
        y = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype=float)
    found = find_proxies(frame[numeric + categorical], y, task, numeric)
    return {
        item["feature"]: (
            f"alone predicts the target ({item['measure']} {item['strength']:.4f} on init's "
            f"sample of {len(frame):,} rows): most likely derived from the outcome"
        )
        for item in found
    }


def infer_roles(path: Path, target: str, *, find_proxies: bool = True) -> ColumnRoles:
    """Guess ids, timestamp, numeric and categorical features from a sample of the data;
    ``find_proxies``: also keep out features that alone predict the target (as train would
    refuse them), which costs importing scikit-learn."""
    names, rows = _sample(path)
    if target not in names:
        raise UsageError(
            f"--target '{target}' is not a column of {path}; columns: {', '.join(names)}"
        )
    if not rows:
        raise DataError(f"{path} has a header but no rows: init needs some data to look at")
    numeric, categorical, ids, dates = [], [], [], []
    for name in names:
        values = [row.get(name) or "" for row in rows]
        present = [v for v in values if v.strip()]
        lowered = name.lower()
        if name == target:
            continue
        if lowered.endswith(_ID_HINTS) and len(set(present)) == len(present) and present:
            ids.append(name)
        elif len(present) == len(values) and _dates_with_year(present):
            dates.append(name)
        elif present and all(_is_number(v) for v in present) and not any(map(_is_code, present)):
            numeric.append(name)
        else:
            categorical.append(name)
    notes = []
    # a date column named like one comes first (an order date over a birth date)
    hinted = [d for d in dates if any(h in d.lower() for h in _TIME_HINTS)]
    timestamp: str | None = (hinted or dates or [None])[0]  # type: ignore[list-item]
    if timestamp is not None:
        notes.append(
            f"timestamp column: {timestamp} (every sampled value is a date with a year); "
            "validation is time-ordered"
        )
        others = [d for d in dates if d != timestamp]
        if others:
            notes.append(f"other date columns, not features: {', '.join(others)}")
    else:
        notes.append("no timestamp column: no column holds dates with a year on every row")
    target_values = [row.get(target) or "" for row in rows]
    counts: dict[str, int] = {}
    for value in target_values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    distinct = sorted(counts)
    numeric_target = bool(distinct) and all(_is_number(v) for v in distinct)
    task = "regression" if numeric_target and len(distinct) > 10 else "classification"
    positive, share = None, None
    if task == "classification" and len(distinct) == 2:
        # the rarer class is the event to detect (bad credit, churn, fraud); a tie falls to a
        # yes-like value
        yes_like = {"1", "yes", "true", "y", "positive"}
        positive = min(distinct, key=lambda v: (counts[v], v.lower() not in yes_like, v))
        share = counts[positive] / sum(counts.values())
        notes.append(
            f"positive class: {positive!r}, the minority class ({share:.0%} of the sampled rows); "
            "set data.positive_class if the other class is the event to detect"
        )
    forbidden = _proxies(rows, target, task, numeric, categorical) if find_proxies else {}
    for column, why in forbidden.items():
        notes.append(f"{column} kept out of the features: it {why}")
    numeric = [c for c in numeric if c not in forbidden]
    categorical = [c for c in categorical if c not in forbidden]
    return ColumnRoles(
        target,
        task,
        positive,
        ids,
        timestamp,
        numeric,
        categorical,
        forbidden=forbidden,
        positive_share=share,
        notes=notes,
    )


def write_example_data(
    path: Path, rows: int = 600, seed: int = 7, batch: Path | None = None
) -> None:
    """A small synthetic churn table, so a fresh project runs end to end at once; with
    ``batch``, a quarter as many later rows of the same customers' kind (no outcome yet) for
    serve-batch to score: scoring the training rows themselves would show prediction drift
    (the reference holds out-of-fold scores), a finding that is no finding."""
    rng = random.Random(seed)
    plans = {"basic": 19.0, "plus": 39.0, "pro": 69.0}
    lines = [
        [
            "customer_id",
            "signup_month",
            "tenure_months",
            "monthly_fee",
            "plan",
            "support_calls",
            "churned",
        ]
    ]
    held = rows // 4 if batch is not None else 0
    for i in range(rows + held):
        plan = rng.choice(list(plans))
        tenure = rng.randint(1, 72)
        fee = round(plans[plan] * rng.uniform(0.9, 1.2), 2)
        calls = min(int(rng.expovariate(0.6)), 12)
        score = -1.2 - 0.05 * tenure + 0.35 * calls + (0.8 if plan == "basic" else 0.0)
        churned = "yes" if rng.random() < 1 / (1 + math.exp(-score)) else "no"
        month = f"2025-{(i % 12) + 1:02d}-01"
        lines.append([f"C{i:05d}", month, str(tenure), f"{fee:.2f}", plan, str(calls), churned])
    path.parent.mkdir(parents=True, exist_ok=True)
    import io

    def text(table: list[list[str]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(table)
        return buffer.getvalue()

    atomic_write_text(path, text(lines[: rows + 1]))
    if batch is not None:
        atomic_write_text(batch, text([row[:-1] for row in [lines[0], *lines[rows + 1 :]]]))


def scaffold_project(
    directory: Path, *, data: Path | None = None, target: str | None = None, force: bool = False
) -> ScaffoldResult:
    """Write DIR/mlready.yaml (and example data without --data); check it before returning."""
    from mlready.reporting import render
    from mlready.runs import current_user
    from mlready.spec import load_spec

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file; give a folder for the project")
    spec_path = directory / "mlready.yaml"
    if spec_path.exists() and not force:
        raise UsageError(f"{spec_path} exists already; pass --force to overwrite it")
    if target is not None and data is None:
        raise UsageError("--target goes with --data (the column to predict in that file)")
    written: list[Path] = []
    directory.mkdir(parents=True, exist_ok=True)
    batch_path = None
    if data is None:
        data_path = directory / "data" / "example.csv"
        batch_path = directory / "data" / "batch.csv"
        for existing in (data_path, batch_path):
            if existing.exists() and not force:
                raise UsageError(
                    f"{existing} exists already and init would write its example data there: "
                    "give another folder, use --data for your own file, or pass --force"
                )
        write_example_data(data_path, batch=batch_path)
        written += [data_path, batch_path]
        # the example holds no proxy of its target (churn is drawn from tenure, plan and calls,
        # with noise; a test measures it): no need to import scikit-learn to find none
        roles = infer_roles(data_path, "churned", find_proxies=False)
    else:
        if not data.is_file():
            raise DataError(f"--data {data} does not exist or is not a file")
        if target is None:
            names, _ = _sample(data)
            raise UsageError(
                f"--data needs --target: which of these columns to predict? {', '.join(names)}"
            )
        data_path = data
        roles = infer_roles(data, target)

    def relative_to_spec(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), directory.resolve())).as_posix()

    relative = relative_to_spec(data_path)
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in directory.resolve().name)
    text = render(
        "init/mlready.yaml.j2",
        name=(name.strip("-._") or "my-model")[:60],
        owner=current_user(),
        project_id=secrets.token_hex(8),
        data_path=relative,
        batch_path=relative if batch_path is None else relative_to_spec(batch_path),
        roles=roles,
        classification=roles.task == "classification",
    )
    atomic_write_text(spec_path, text)
    written.append(spec_path)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        atomic_write_text(gitignore, "# mlready's runs, registry and caches\n.mlready/\n")
        written.append(gitignore)
    try:
        load_spec(spec_path, check_files=True)
    except SpecError as exc:  # the starter must always pass its own check
        raise InternalError(f"the starter spec does not pass the check: {exc}") from exc
    return ScaffoldResult(spec_path=spec_path, written=written, notes=list(roles.notes))
