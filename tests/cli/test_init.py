"""mlready init: a starter spec that passes the check, from example data or the user's own."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mlready.spec import load_spec


def test_init_writes_a_spec_that_passes_the_check(tmp_path: Path, run_cli) -> None:
    target = tmp_path / "new"
    result = run_cli("init", str(target))
    assert result.exit_code == 0, result.stderr
    assert (target / "mlready.yaml").is_file()
    assert (target / "data" / "example.csv").is_file()
    assert ".mlready/" in (target / ".gitignore").read_text()
    check = run_cli("--spec", str(target), "spec", "check")
    assert check.exit_code == 0, check.stderr
    text = (target / "mlready.yaml").read_text()
    assert text.count("#") > 10  # a commented starter, not a bare dump
    spec = load_spec(target).spec
    assert spec.data.target == "churned"
    assert spec.data.id_columns == ["customer_id"]
    assert spec.data.timestamp_column == "signup_month"
    assert set(spec.data.features.numeric or []) == {
        "tenure_months",
        "monthly_fee",
        "support_calls",
    }
    assert spec.data.features.categorical == ["plan"]


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, run_cli) -> None:
    assert run_cli("init", str(tmp_path)).exit_code == 0
    (tmp_path / "mlready.yaml").write_text("# mine\n")
    again = run_cli("init", str(tmp_path))
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert (tmp_path / "mlready.yaml").read_text() == "# mine\n"
    assert run_cli("init", str(tmp_path), "--force").exit_code == 0


def test_init_from_the_users_csv(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "houses.csv"
    rows = ["house_id,area,rooms,city,price"] + [
        f"H{i},{50 + i},{1 + i % 5},{['Lyon', 'Nice', 'Paris'][i % 3]},{100000 + 1500 * i}"
        for i in range(40)
    ]
    data.write_text("\n".join(rows) + "\n")
    result = run_cli("init", str(tmp_path / "proj"), "--data", str(data), "--target", "price")
    assert result.exit_code == 0, result.stderr
    spec = load_spec(tmp_path / "proj", check_files=True).spec
    assert spec.data.task == "regression"
    assert spec.data.id_columns == ["house_id"]
    assert spec.data.features.numeric == ["area", "rooms"]
    assert spec.data.features.categorical == ["city"]
    assert spec.model.estimator == "sklearn.ensemble.HistGradientBoostingRegressor"
    assert not (tmp_path / "proj" / "data").exists()  # no example data when you bring your own


def test_init_from_parquet(tmp_path: Path, run_cli) -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0], "kind": ["a", "b", "a"], "label": [0, 1, 0]})
    pq.write_table(table, tmp_path / "d.parquet")
    result = run_cli(
        "init", str(tmp_path / "p"), "--data", str(tmp_path / "d.parquet"), "--target", "label"
    )
    assert result.exit_code == 0, result.stderr
    spec = load_spec(tmp_path / "p", check_files=True).spec
    assert spec.data.task == "classification"
    assert spec.data.positive_class == "1"


def test_init_with_unknown_target_lists_the_columns(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "c")
    assert result.exit_code == 2
    assert "'c' is not a column" in result.stderr
    assert "a, b" in result.stderr
    assert not (tmp_path / "p" / "mlready.yaml").exists()


def test_init_with_data_but_no_target(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data))
    assert result.exit_code == 2
    assert "--target" in result.stderr


def test_init_with_unreadable_data(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "d.csv"
    data.write_bytes("a,b\ncaf\u00e9,1\n".encode("latin-1"))
    result = run_cli("init", str(tmp_path / "p"), "--data", str(data), "--target", "b")
    assert result.exit_code == 4
    assert "UTF-8" in result.stderr
    missing = run_cli(
        "init", str(tmp_path / "q"), "--data", str(tmp_path / "no.csv"), "--target", "b"
    )
    assert missing.exit_code == 4
