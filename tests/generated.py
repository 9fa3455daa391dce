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


# --------------------------------------------------------------------------------------------------
# wide tables shaped like issue 18's public data sets
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WideShape:
    """A wide table like a real public one: many numeric and categorical features, about half
    of which carry the target (strongly to modestly), the rest noise; gaps in some columns."""

    name: str
    rows: int
    numeric: int
    categorical: int
    task: str  # regression | binary | multiclass
    informative: float = 0.5  # share of each kind of feature that carries the target
    missing: float = 0.05  # share of missing values in every fifth column
    classes: int = 7  # multiclass: ordered grades A, B, ...
    seed: int = 0

    def but(self, **changes: Any) -> WideShape:
        """This shape with some fields changed."""
        return dataclasses.replace(self, **changes)


#: issue 18's tables: house prices (2.9k x 74, mostly categorical, regression), hotel rates
#: (15k x 28, mixed, regression), loan grades (10k x 23, classification) and 100k x 25.
ISSUE_18_SHAPES = (
    WideShape("house_prices", 2_900, numeric=28, categorical=46, task="regression"),
    WideShape("hotel_rates", 15_000, numeric=14, categorical=14, task="regression", seed=1),
    WideShape("loan_grades", 10_000, numeric=13, categorical=10, task="multiclass", seed=2),
    WideShape("large_binary", 100_000, numeric=20, categorical=5, task="binary", seed=3),
)


def wide_table(shape: WideShape) -> tuple[pd.DataFrame, list[str]]:
    """(the table: an id, n00.. numeric and c00.. categorical features, the target; the
    features that carry the target). The same shape gives the same table."""
    rng = np.random.default_rng(shape.seed)
    n = shape.rows
    frame: dict[str, Any] = {"id": [f"R{i:07d}" for i in range(n)]}
    latent = np.zeros(n)
    informative: list[str] = []
    carrying = round(shape.informative * shape.numeric)
    for j in range(shape.numeric):
        name = f"n{j:02d}"
        kind = j % 4
        if kind == 0:
            values = rng.normal(0, 1, n)
        elif kind == 1:
            values = rng.lognormal(0, 0.8, n)
        elif kind == 2:
            values = rng.integers(0, 10, n).astype(float)
        else:
            values = rng.uniform(-1, 1, n)
        if j < carrying:
            weight = 1.0 / (1 + 0.35 * j)  # strong to modest
            scaled = (values - values.mean()) / values.std()
            effect = np.sin(1.5 * scaled) if j % 3 == 2 else scaled
            latent += weight * effect
            informative.append(name)
        if j % 5 == 4 and shape.missing:
            values = np.where(rng.random(n) < shape.missing, np.nan, values)
        frame[name] = np.round(values, 4)
    carrying = round(shape.informative * shape.categorical)
    for j in range(shape.categorical):
        name = f"c{j:02d}"
        count = (2, 3, 5, 8, 12, 25)[j % 6]
        weights = 1 / np.arange(1, count + 1) ** 0.7
        codes = rng.choice(count, n, p=weights / weights.sum())
        values = np.array([f"{name}_{k}" for k in range(count)], dtype=object)[codes]
        if j < carrying:
            effects = rng.normal(0, 1, count)
            effects = (effects - effects.mean()) / max(effects.std(), 1e-9)
            latent += 0.8 / (1 + 0.35 * j) * effects[codes]
            informative.append(name)
        if j % 5 == 4 and shape.missing:
            values = np.where(rng.random(n) < shape.missing, None, values)
        frame[name] = values
    latent = (latent - latent.mean()) / latent.std()
    if shape.task == "regression":
        target: Any = np.round(180_000 + 60_000 * (latent + 0.5 * rng.normal(0, 1, n)), 0)
    elif shape.task == "binary":
        target = np.where(latent + rng.logistic(0, 0.6, n) > 0.9, "Yes", "No")
    else:
        noisy = latent + rng.logistic(0, 0.4, n)
        shares = np.cumsum(np.linspace(2, 1, shape.classes))
        cuts = np.quantile(noisy, shares[:-1] / shares[-1])
        grades = np.array([chr(ord("A") + k) for k in range(shape.classes)])
        target = grades[np.searchsorted(cuts, noisy)]
    frame["target"] = target
    return pd.DataFrame(frame), informative
