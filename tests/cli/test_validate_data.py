"""mlready validate-data on the command line: exit codes, outputs, reports, escaping."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlready.runs import read_run_log

BAD_BATCH_FAILURES = {
    "customer_id.regex": "cust_12",
    "customer_id.unique": "CUST-005554",
    "tenure.range": "999",
    "monthly_charges.not_null": "(missing)",
    "monthly_charges.range": "-29.85",
    "internet_service.not_null": "(missing)",
    "contract.allowed_values": "Weekly",
    "payment_method.allowed_values": "Bitcoin",
}


@pytest.fixture
def validate(sample_copy: Path, run_cli):
    """``mlready --spec <sample copy> validate-data ARGS``."""
    return lambda *args: run_cli("--spec", str(sample_copy), "validate-data", *args)


def _newest_run(project: Path) -> Path:
    record = read_run_log(project / ".mlready", "validate-data")[-1]
    return project / ".mlready" / record.run_dir


def test_training_data_passes_and_writes_every_artifact(sample_copy: Path, validate) -> None:
    result = validate()
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    assert result.stderr == ""  # nothing of GX's progress bars, warnings or logs
    run = _newest_run(sample_copy)
    assert {"validation.json", "junit.xml", "validation.html", "run.log"} <= {
        p.name for p in run.iterdir()
    }
    payload = json.loads((run / "validation.json").read_text())
    assert payload["passed"] is True
    assert payload["environment"] == "training"
    assert payload["rows"] == 5000
    [record] = read_run_log(sample_copy / ".mlready", "validate-data")
    assert record.status == "passed"
    assert record.summary["environment"] == "training"


def test_prints_its_report_and_run_folder_like_the_other_commands(
    sample_copy: Path, validate
) -> None:
    result = validate()
    run = _newest_run(sample_copy)
    lines = result.stdout.splitlines()
    assert lines[-2:] == [f"report: {run / 'validation.html'}", f"run folder: {run}"]
    plain = validate("--no-report")
    assert plain.stdout.splitlines()[-1] == f"run folder: {_newest_run(sample_copy)}"
    assert "report:" not in plain.stdout


def test_bad_batch_fails_and_names_each_failure(sample_copy: Path, validate) -> None:
    batch = sample_copy / "data" / "batch_2026_08.csv"
    result = validate("--data", str(batch))
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    for check_id, bad_value in BAD_BATCH_FAILURES.items():
        assert check_id.split(".")[0] in text
        assert bad_value in text, bad_value
    assert "8 failed" in text
    html = (_newest_run(sample_copy) / "validation.html").read_text()
    for check_id, bad_value in BAD_BATCH_FAILURES.items():
        assert f"<code>{check_id}</code>" in html
        assert f"<code>{bad_value}</code>" in html
    assert "FAILED" in html
    assert "<script" not in html
    assert "http" not in html.replace("http-equiv", "")  # nothing fetched from the network
    record = read_run_log(sample_copy / ".mlready", "validate-data")[-1]
    assert (record.status, record.exit_code) == ("failed", 1)


def test_json_and_junit_formats(sample_copy: Path, validate) -> None:
    batch = str(sample_copy / "data" / "batch_2026_08.csv")
    as_json = validate(
        "--data",
        batch,
        "--format",
        "json",
        "--no-report",
    )
    assert as_json.exit_code == 1
    payload = json.loads(as_json.stdout)
    failed = {r["id"]: r for r in payload["results"] if r["status"] == "failed"}
    assert set(failed) == set(BAD_BATCH_FAILURES)
    assert failed["tenure.range"]["unexpected_count"] == 1
    as_junit = validate(
        "--data",
        batch,
        "--format",
        "junit",
        "--no-report",
    )
    suite = ET.fromstring(as_junit.stdout.split("\n", 1)[1])
    assert suite.tag == "testsuite"
    assert int(suite.get("tests")) == len(payload["results"]) == len(suite.findall("testcase"))
    assert int(suite.get("failures")) == 8 == len(suite.findall("testcase/failure"))
    assert not (_newest_run(sample_copy) / "validation.html").exists()


def test_quarantine_from_the_command_line(sample_copy: Path, tmp_path: Path, validate) -> None:
    batch = str(sample_copy / "data" / "batch_2026_08.csv")
    result = validate(
        "--data",
        batch,
        "--quarantine",
        str(tmp_path / "q"),
    )
    assert result.exit_code == 0, result.stdout
    assert "quarantined 9 rows" in result.stdout
    rejected = pd.read_csv(tmp_path / "q" / "batch_2026_08.rejected.csv")
    clean = pd.read_csv(tmp_path / "q" / "batch_2026_08.clean.csv")
    assert len(rejected) + len(clean) == 1043


def test_infer_prints_yaml_and_writes_a_file(sample_copy: Path, tmp_path: Path, validate) -> None:
    printed = validate("--infer")
    assert printed.exit_code == 0
    contract = yaml.safe_load(printed.stdout)["expectations"]
    assert contract["columns"]["tenure"]["type"] == "integer"
    target = tmp_path / "contract.yaml"
    written = validate(
        "--infer",
        "--from",
        str(sample_copy / "data" / "batch_2026_07.csv"),
        "-o",
        str(target),
    )
    assert written.exit_code == 0
    assert "batch_2026_07.csv" in target.read_text()
    assert "churn" not in yaml.safe_load(target.read_text())["expectations"]["columns"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--data", "nowhere.csv"], 4, "no data at nowhere.csv"),
        (["--data", "sqlite:///x.db"], 2, "add --query"),
        (["--query", "SELECT 1"], 2, "--query goes with a database URL"),
        (["--chunk-rows", "0"], 2, "chunk-rows"),
        (["--format", "xml"], 2, "xml"),
    ],
)
def test_bad_invocations(sample_copy: Path, validate, args, code, message) -> None:
    result = validate(*args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_data_exits_4_and_is_logged(sample_copy: Path, validate) -> None:
    bad = sample_copy / "data" / "latin.csv"
    bad.write_bytes("customer_id,contract\nCUST-000001,D\xe9j\xe0\n".encode("latin-1"))
    result = validate("--data", str(bad))
    assert result.exit_code == 4
    assert "not UTF-8" in result.stderr
    record = read_run_log(sample_copy / ".mlready", "validate-data")[-1]
    assert (record.status, record.exit_code) == ("error", 4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--infer", "--quarantine", "q"],
            "--infer writes a contract and validates nothing: drop --quarantine",
        ),
        (["--infer", "--format", "json"], "drop --format"),
        (["--from", "data/train.csv"], "--from: only with --infer"),
        (["-o", "contract.yaml"], "--output: only with --infer"),
    ],
)
def test_options_of_the_other_mode_are_refused(validate, args, message) -> None:
    result = validate(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_infer_from_a_sql_source(sample_copy: Path, validate) -> None:
    import sqlite3

    db = sample_copy / "data" / "w.db"
    with sqlite3.connect(db) as connection:
        pd.read_csv(sample_copy / "data" / "train.csv").to_sql("t", connection, index=False)
    result = validate("--infer", "--data", f"sqlite:///{db}", "--query", "SELECT * FROM t")
    assert result.exit_code == 0, result.stderr
    assert "the query on sqlite:///" in result.stdout
    assert yaml.safe_load(result.stdout)["expectations"]["columns"]["contract"][
        "allowed_values"
    ] == ["Month-to-month", "One year", "Two year"]


def test_invalid_spec_exits_3(tmp_path: Path, run_cli) -> None:
    (tmp_path / "mlready.yaml").write_text("spec_version: 1\nproject: {}\n")
    result = run_cli("--spec", str(tmp_path), "validate-data")
    assert result.exit_code == 3


def test_hostile_names_and_values_are_escaped_in_the_report(tmp_path: Path, run_cli) -> None:
    (tmp_path / "data").mkdir()
    evil = "<script>alert(1)</script>"
    pd.DataFrame(
        {"id": ["a", "b"], "plan": ["<b>gold</b>", "basic"], "y": [0, 1], evil: [1, 2]}
    ).to_csv(tmp_path / "data" / "t.csv", index=False)
    (tmp_path / "mlready.yaml").write_text(
        "spec_version: 1\nproject: {name: evil, owner: '<img src=x onerror=alert(2)>'}\n"
        "data: {source: {path: data/t.csv}, target: y}\n"
        "expectations:\n  columns:\n    plan: {allowed_values: [basic]}\n"
        "model: {estimator: sklearn.linear_model.LogisticRegression}\n"
    )
    result = run_cli("--spec", str(tmp_path), "validate-data")
    assert result.exit_code == 1
    html = (_newest_run(tmp_path) / "validation.html").read_text()
    assert "<script>alert" not in html
    assert "<b>gold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;gold&lt;/b&gt;" in html


def test_infer_output_never_overwrites_the_spec_or_data(
    sample_copy: Path, tmp_path: Path, validate
) -> None:
    train = sample_copy / "data" / "train.csv"
    spec = sample_copy / "mlready.yaml"
    before = spec.read_bytes(), train.read_bytes()
    for target in (spec, train):
        for extra in ([], ["--force"]):
            result = validate("--infer", "--from", str(train), "-o", str(target), *extra)
            assert result.exit_code == 2, result.stderr
            assert f"--output {target} would overwrite" in result.stderr
    assert (spec.read_bytes(), train.read_bytes()) == before
    notes = tmp_path / "notes.yaml"
    notes.write_text("mine\n")
    refused = validate("--infer", "-o", str(notes))
    assert refused.exit_code == 2
    assert f"--output {notes} exists and was not written by mlready" in refused.stderr
    assert "--force" in refused.stderr
    assert notes.read_text() == "mine\n"
    assert validate("--infer", "-o", str(notes), "--force").exit_code == 0
    assert validate("--infer", "-o", str(notes)).exit_code == 0  # its own earlier output


def test_quarantine_never_overwrites_a_file_it_did_not_write(
    sample_copy: Path, tmp_path: Path, validate
) -> None:
    batch = str(sample_copy / "data" / "batch_2026_08.csv")
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "batch_2026_08.clean.csv").write_text("mine\n")
    result = validate("--data", batch, "--quarantine", str(folder))
    assert result.exit_code == 2, result.stdout
    assert "--quarantine" in result.stderr
    assert "--force" in result.stderr
    assert (folder / "batch_2026_08.clean.csv").read_text() == "mine\n"
    assert validate("--data", batch, "--quarantine", str(folder), "--force").exit_code == 0
    assert validate("--data", batch, "--quarantine", str(folder)).exit_code == 0
