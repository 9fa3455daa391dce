"""The sample project's own tests (run by `mlready test` once checklist.test_command is set):
the data files keep the shape the spec and the model rely on."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_customer_ids_are_unique_in_the_training_data() -> None:
    ids = [row["customer_id"] for row in _rows("train.csv")]
    assert len(ids) == len(set(ids))


def test_every_batch_has_the_training_columns_but_the_outcome() -> None:
    train = set(_rows("train.csv")[0])
    for name in ("batch_2026_07.csv", "batch_2026_08.csv"):
        assert set(_rows(name)[0]) == train - {"churn"}, name


def test_outcomes_name_customers_of_their_batch() -> None:
    batch = {row["customer_id"] for row in _rows("batch_2026_08.csv")}
    outcomes = _rows("batch_2026_08_outcomes.csv")
    known = [row for row in outcomes if row["customer_id"] in batch]
    # the August batch holds a few broken rows on purpose (an id among them): their outcomes
    # are the only ones that may not join
    assert len(known) >= 0.99 * len(outcomes)
    assert {row["churn"] for row in outcomes} <= {"Yes", "No"}
