"""Small synthetic training projects for the train tests (written, not shipped)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

BASE_SPEC = """\
spec_version: 1
project:
  name: toy
  owner: tests
data:
  source: {{path: data/train.csv}}
  target: churn
  positive_class: "Yes"
  id_columns: [customer_id]
  timestamp_column: month
model:
{model}
validation:
{validation}
{extra}
"""

DEFAULT_MODEL = """\
  estimator: sklearn.linear_model.LogisticRegression
  params: {max_iter: 500}
"""
DEFAULT_VALIDATION = """\
  cv: {strategy: stratified_kfold, folds: 3}
  metrics: [roc_auc, f1, brier_score]
  thresholds: {roc_auc: 0.7}
"""


def toy_frame(rows: int = 600, seed: int = 0, shuffle: bool = False) -> pd.DataFrame:
    """Customers with a tenure, a charge, a plan and a region; churn depends on tenure and plan."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows)
    charges = rng.uniform(20, 120, rows).round(2)
    plan = rng.choice(["basic", "pro", "max"], rows, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south"], rows)
    logit = 1.5 - 0.06 * tenure + np.where(plan == "basic", 1.0, -0.5) + 0.01 * (charges - 70)
    churn = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    month = pd.date_range("2025-01-01", periods=12, freq="MS")[np.sort(rng.integers(0, 12, rows))]
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(rows)],
            "month": month.strftime("%Y-%m-%d"),
            "tenure": tenure,
            "monthly_charges": charges,
            "plan": plan,
            "region": region,
            "churn": churn,
        }
    )
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return frame


def write_project(
    folder: Path,
    *,
    frame: pd.DataFrame | None = None,
    model: str = DEFAULT_MODEL,
    validation: str = DEFAULT_VALIDATION,
    extra: str = "",
) -> Path:
    """A project folder with data/train.csv and mlready.yaml; returns the folder."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (toy_frame() if frame is None else frame).to_csv(folder / "data" / "train.csv", index=False)
    text = BASE_SPEC.format(
        model=model.rstrip("\n"),
        validation=validation.rstrip("\n"),
        extra=textwrap.dedent(extra),
    )
    (folder / "mlready.yaml").write_text(text, encoding="utf-8")
    return folder


#: Zip codes of the coded frame: most start with a zero, as in the real data sets that broke.
CODES = ["01234", "02139", "00501", "07030", "10001", "94105", "03301", "08540"]


def coded_frame(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """Customers without an id column, with a zip code whose leading zeros matter and an
    integer amount with gaps (pandas reads it as float): the shapes that public data sets
    broke mlready with. Churn depends on the zip code, the tenure and the plan."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows)
    zips = rng.choice(CODES, rows)
    plan = rng.choice(["basic", "pro"], rows)
    amount = rng.integers(50, 200, rows) * 100
    effect = {code: (1.5 if code.startswith("0") else -1.5) for code in CODES}
    logit = 1.0 - 0.05 * tenure + np.array([effect[z] for z in zips]) + (plan == "basic") * 0.5
    churn = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    frame = pd.DataFrame(
        {"zip": zips, "tenure": tenure, "amount": amount, "plan": plan, "churn": churn}
    )
    frame["amount"] = frame["amount"].astype("Int64")
    frame.loc[rng.random(rows) < 0.05, "amount"] = pd.NA
    return frame


CODED_SPEC = """\
spec_version: 1
project: {{name: coded, owner: tests}}
data:
  source: {{path: data/train.{suffix}}}
  target: churn
  positive_class: "Yes"
  features: {{numeric: [tenure, amount], categorical: [zip, plan]}}
model:
  estimator: sklearn.linear_model.LogisticRegression
  params: {{max_iter: 500}}
validation:
  cv: {{strategy: stratified_kfold, folds: 3}}
  metrics: [roc_auc]
  baselines: []
expectations:
  columns:
    zip: {{type: string, regex: '^\\d{{5}}$', max_null_fraction: 0}}
    tenure: {{type: integer, min: 0, max: 100, max_null_fraction: 0}}
    amount: {{type: integer, min: 0, max: 100000, max_null_fraction: 0.1}}
{extra}
"""


def write_coded_project(
    folder: Path, *, frame: pd.DataFrame | None = None, extra: str = "", suffix: str = "csv"
) -> Path:
    """A project without id columns on :func:`coded_frame` (CSV, or Parquet with ``suffix``)."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    frame = coded_frame() if frame is None else frame
    if suffix == "csv":
        frame.to_csv(folder / "data" / "train.csv", index=False)
    else:
        frame.to_parquet(folder / "data" / f"train.{suffix}", index=False)
    text = CODED_SPEC.format(extra=textwrap.dedent(extra), suffix=suffix)
    (folder / "mlready.yaml").write_text(text, encoding="utf-8")
    return folder
