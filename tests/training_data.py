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
