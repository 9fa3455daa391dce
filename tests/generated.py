"""Realistic tables of many shapes, generated from a seed, for the end-to-end suite.

The shapes copy what public tables hold and what broke mlready on them (issue 16): no id column,
leading-zero codes, Yes/No and other two-value text columns, dates with and without a year,
missing values, high-cardinality strings, constant columns, a categorical proxy of the target,
columns known only after the outcome; binary, multiclass and regression targets. Each shape also
gives a later production batch of the same columns (without the target), with or without planted
drift, and the outcomes of that batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["GeneratedTables", "Shape", "generate", "write_tables"]

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
REGIONS = ["north", "south", "east", "west"]
#: The numeric feature the drifted batch shifts, and by how many of its standard deviations.
DRIFTED_FEATURE = "income"
SHIFT_SD = 1.5


@dataclass(frozen=True)
class Shape:
    """What a generated table holds."""

    name: str
    task: str = "binary"  # binary | multiclass | regression
    id_column: bool = True
    #: binary targets: "yes_no" (Yes/No, the positive class obvious), "text" (default/repaid,
    #: the positive class a minority of about 25% that must be named), "int" (0/1)
    labels: str = "yes_no"
    leading_zeros: bool = False  # a zip-code feature and a zero-padded account number as id
    two_value_text: bool = False  # Yes/No, Y/N and F/M features
    overtime: bool = False  # a Yes/No feature whose name holds "time" (OverTime)
    booleans: bool = False  # a true/false feature, with gaps
    dates: str | None = None  # "iso": a date with a year; "month": month names (no year)
    missing: float = 0.0  # share of missing values in some features
    high_cardinality: bool = False  # a free-text-like string with hundreds of values
    constant: bool = False  # a column with one value
    proxy: bool = False  # a categorical column that nearly determines the target
    post_outcome: bool = False  # a column only known after the outcome (e.g. a closure reason)
    rows: int = 400
    batch_rows: int = 300
    seed: int = 0

    def but(self, **changes: Any) -> Shape:
        """This shape with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass
class GeneratedTables:
    """A training table, two production batches (one drifted) and their outcomes."""

    shape: Shape
    train: pd.DataFrame
    batch: pd.DataFrame  # same distribution as training, no target
    drifted: pd.DataFrame  # DRIFTED_FEATURE shifted by SHIFT_SD standard deviations
    outcomes: pd.DataFrame | None  # the batch's ids and true target (None without ids)
    target: str
    positive: str | None  # binary: the positive class
    id_column: str | None
    features: list[str]  # the columns a model may legitimately use


def _rows(shape: Shape, n: int, rng: np.random.Generator, shift: float, start: int) -> pd.DataFrame:
    """n rows of the shape's columns, the target last; ``shift`` moves DRIFTED_FEATURE."""
    age = rng.integers(18, 80, n)
    income = rng.normal(50_000, 15_000, n).round(2)
    income = income + shift * 15_000
    region = rng.choice(REGIONS, n, p=[0.4, 0.3, 0.2, 0.1])
    visits = rng.poisson(3, n)
    # the signal: older, poorer customers with many visits in the north default more
    z = (
        0.04 * (age - 50)
        - (income - 50_000) / 20_000
        + 0.3 * (visits - 3)
        + np.where(region == "north", 0.8, 0.0)
    )
    frame: dict[str, Any] = {}
    if shape.id_column:
        ids = np.arange(start, start + n)
        frame["account_id"] = (
            [f"{i:08d}" for i in ids] if shape.leading_zeros else [f"A{i}" for i in ids]
        )
    frame["age"] = age
    frame["income"] = income
    frame["region"] = region
    frame["visits"] = visits
    if shape.leading_zeros:
        # New England zip codes start with 0: read as numbers they lose it
        zips = rng.choice(["01234", "02139", "03301", "04101", "05401", "10001"], n)
        frame["zip"] = zips
        z = z + np.where(np.isin(zips, ["01234", "02139"]), 0.5, 0.0)
    if shape.two_value_text:
        partner = rng.choice(["Yes", "No"], n)
        frame["partner"] = partner
        frame["paperless"] = rng.choice(["Y", "N"], n)
        frame["gender"] = rng.choice(["F", "M"], n)
        z = z + np.where(partner == "Yes", -0.4, 0.0)
    if shape.overtime:
        overtime = rng.choice(["Yes", "No"], n, p=[0.3, 0.7])
        frame["OverTime"] = overtime
        z = z + np.where(overtime == "Yes", 0.7, 0.0)
    if shape.booleans:
        active = rng.choice(["true", "false"], n)
        frame["active"] = np.where(rng.random(n) < 0.05, "", active)
        z = z + np.where(active == "true", -0.3, 0.0)
    if shape.dates == "iso":
        day0 = np.datetime64("2024-01-01") + (start // 10)
        days = day0 + rng.integers(0, 365, n).astype("timedelta64[D]")
        frame["signup_date"] = pd.to_datetime(days).strftime("%Y-%m-%d")
    elif shape.dates == "month":
        frame["month"] = rng.choice(MONTHS, n)
        frame["day_of_week"] = rng.choice(["mon", "tue", "wed", "thu", "fri"], n)
    if shape.high_cardinality:
        frame["employer"] = [f"company {int(k)}" for k in rng.zipf(1.3, n) % 5000]
    if shape.constant:
        frame["country"] = ["FR"] * n
    noise = rng.logistic(0, 1, n)
    if shape.task == "regression":
        target = np.round(1_000 + 400 * z + 150 * rng.normal(0, 1, n), 2)
    elif shape.task == "multiclass":
        target = np.select([z + noise < -1.0, z + noise < 1.0], ["low", "medium"], "high")
    else:
        positive = z + noise > 1.2  # about a quarter
        target = positive
    if shape.proxy:
        # a collection agency code assigned from the outcome, 1% noise: alone it predicts the
        # target above the proxy bar (0.99)
        basis = target if shape.task != "regression" else target > np.median(target)
        keys = np.unique(basis)
        code = {k: f"AG{i + 1}" for i, k in enumerate(keys)}
        agency = np.array([code[k] for k in basis], dtype=object)
        flip = rng.random(n) < 0.01
        agency[flip] = rng.choice(list(code.values()), int(flip.sum()))
        frame["agency_code"] = agency
    if shape.post_outcome:
        # the number of reminder letters sent after a missed payment: zero unless it happened
        basis = target if shape.task != "regression" else target > np.median(target)
        if shape.task == "multiclass":
            basis = target == "high"
        frame["reminders_sent"] = np.where(basis, rng.integers(1, 6, n), 0)
    if shape.task == "binary":
        if shape.labels == "yes_no":
            target = np.where(target, "Yes", "No")
        elif shape.labels == "text":
            target = np.where(target, "default", "repaid")
        else:
            target = target.astype(int)
    frame["target"] = target
    out = pd.DataFrame(frame)
    if shape.missing:
        for column in ("age", "income", "region") + (("zip",) if shape.leading_zeros else ()):
            gone = rng.random(n) < shape.missing
            out[column] = out[column].astype(object).where(~gone, None)
    return out


def _positive(shape: Shape) -> str | None:
    if shape.task != "binary":
        return None
    return {"yes_no": "Yes", "text": "default", "int": "1"}[shape.labels]


def generate(shape: Shape) -> GeneratedTables:
    """The tables of one shape (the same seed gives the same tables)."""
    rng = np.random.default_rng(shape.seed)
    train = _rows(shape, shape.rows, rng, 0.0, 0)
    later = _rows(shape, shape.batch_rows, rng, 0.0, shape.rows)
    drifted = _rows(shape, shape.batch_rows, rng, SHIFT_SD, shape.rows + shape.batch_rows)
    id_column = "account_id" if shape.id_column else None
    outcomes = later[[id_column, "target"]].copy() if id_column else None
    leaky = {"agency_code", "reminders_sent", "target", "account_id"}
    features = [c for c in train.columns if c not in leaky]
    return GeneratedTables(
        shape=shape,
        train=train,
        batch=later.drop(columns="target"),
        drifted=drifted.drop(columns="target"),
        outcomes=outcomes,
        target="target",
        positive=_positive(shape),
        id_column=id_column,
        features=features,
    )


def write_tables(tables: GeneratedTables, folder: Path) -> dict[str, Path]:
    """Write the tables as CSV files in ``folder``; their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "train": folder / "train.csv",
        "batch": folder / "batch.csv",
        "drifted": folder / "drifted.csv",
    }
    tables.train.to_csv(paths["train"], index=False)
    tables.batch.to_csv(paths["batch"], index=False)
    tables.drifted.to_csv(paths["drifted"], index=False)
    if tables.outcomes is not None:
        paths["outcomes"] = folder / "outcomes.csv"
        tables.outcomes.to_csv(paths["outcomes"], index=False)
    return paths
