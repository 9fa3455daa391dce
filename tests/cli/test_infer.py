"""validate-data --infer: from a file with no spec at all, into a file, or into the spec with
--write (the rules the spec has stay; --force replaces them), always behind the output guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.serving_data import make_batch


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a data file and no spec, as the working directory."""
    make_batch(120).to_csv(tmp_path / "data.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_inferring_from_a_file_needs_no_spec(run_cli, bare: Path) -> None:
    result = run_cli("validate-data", "--infer", "--from", "data.csv", "-o", "contract.yaml")
    assert result.exit_code == 0, result.stderr
    assert "wrote contract.yaml" in result.stdout
    contract = yaml.safe_load((bare / "contract.yaml").read_text())["expectations"]
    assert contract["columns"]["customer_id"]["unique"] is True
    assert contract["columns"]["plan"]["allowed_values"] == ["basic", "max", "pro"]
    assert "environments" not in str(contract)  # no spec: no column is the target
    again = run_cli("validate-data", "--infer", "--from", "data.csv", "-o", "contract.yaml")
    assert again.exit_code == 0, "its own earlier output may be replaced"
    printed = run_cli("validate-data", "--infer", "--from", "data.csv")
    assert printed.exit_code == 0
    assert yaml.safe_load(printed.stdout)["expectations"] == contract
    assert not (bare / "mlready.yaml").exists()


def test_without_a_spec_the_output_guard_still_holds(run_cli, bare: Path) -> None:
    (bare / "notes.yaml").write_text("mine\n")
    refused = run_cli("validate-data", "--infer", "--from", "data.csv", "-o", "notes.yaml")
    assert refused.exit_code == 2
    assert "exists and was not written by mlready" in refused.stderr
    assert (bare / "notes.yaml").read_text() == "mine\n"
    for extra in ([], ["--force"]):
        result = run_cli("validate-data", "--infer", "--from", "data.csv", "-o", "data.csv", *extra)
        assert result.exit_code == 2
        assert "would overwrite an input" in result.stderr
    forced = run_cli(
        "validate-data", "--infer", "--from", "data.csv", "-o", "notes.yaml", "--force"
    )
    assert forced.exit_code == 0
    assert "expectations:" in (bare / "notes.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate-data", "--infer"], "name the data to infer from with --from FILE"),
        (["validate-data", "--infer", "--from", "data.csv", "--write"], "run `mlready init`"),
        (["validate-data"], "no project spec"),
        (
            ["--spec", "elsewhere.yaml", "validate-data", "--infer", "--from", "data.csv"],
            "no project spec at elsewhere.yaml",
        ),
    ],
)
def test_what_still_needs_a_spec_says_so(run_cli, bare: Path, args, message) -> None:
    result = run_cli(*args)
    assert result.exit_code == 3, result.stderr
    assert message in " ".join(result.stderr.split())


def _spec(project: Path) -> tuple[Path, str]:
    spec = project / "mlready.yaml"
    text = (
        spec.read_text().replace("spec_version: 1\n", "spec_version: 1\n# kept as written\n")
        + "expectations:\n  columns:\n    tenure: {min: 0, max: 10}  # reviewed\n"
    )
    spec.write_text(text)
    return spec, text


def test_write_merges_into_the_spec_and_keeps_its_rules(run_cli, project: Path) -> None:
    spec, before = _spec(project)
    result = run_cli("--spec", str(project), "validate-data", "--infer", "--write")
    assert result.exit_code == 0, result.stderr
    assert "kept its 2 rules and added" in " ".join(result.stdout.split())
    after = spec.read_text()
    assert after.startswith(before.split("expectations:")[0])  # every other line as written
    columns = yaml.safe_load(after)["expectations"]["columns"]
    assert columns["tenure"] == {"min": 0, "max": 10}  # declared: kept as written
    assert columns["plan"]["type"] == "string"  # not declared: inferred
    assert columns["customer_id"]["unique"] is True
    assert columns["churn"]["environments"] == ["training"]
    assert run_cli("--spec", str(project), "spec", "check").exit_code == 0
    again = run_cli("--spec", str(project), "validate-data", "--infer", "--write")
    assert again.exit_code == 0
    assert spec.read_text() == after, "a second --write changes nothing"
    as_json = run_cli("--json", "--spec", str(project), "validate-data", "--infer", "--write")
    assert json.loads(as_json.stdout)["spec"]["rules_added"] == 0


def test_write_with_force_replaces_the_spec_rules(run_cli, project: Path) -> None:
    spec, _ = _spec(project)
    result = run_cli("--spec", str(project), "validate-data", "--infer", "--write", "--force")
    assert result.exit_code == 0, result.stderr
    columns = yaml.safe_load(spec.read_text())["expectations"]["columns"]
    assert columns["tenure"]["allowed_values"] == [3, 40]  # inferred from the two rows
    assert "# kept as written" in spec.read_text()


def test_write_never_leaves_an_invalid_spec(run_cli, project: Path, monkeypatch) -> None:
    spec, before = _spec(project)
    monkeypatch.setattr(
        "mlready.validation.infer.infer_contract",
        lambda frame, **_: {"columns": {"tenure": {"min": 5, "max": 1}, "x": {"min": 9, "max": 1}}},
    )
    result = run_cli("--spec", str(project), "validate-data", "--infer", "--write", "--force")
    assert result.exit_code == 3
    assert "would not be valid, so it was left as it was" in result.stderr
    assert spec.read_text() == before


def test_write_is_only_for_infer_and_output_never_targets_the_spec(run_cli, project: Path) -> None:
    result = run_cli("--spec", str(project), "validate-data", "--write")
    assert result.exit_code == 2
    assert "--write: only with --infer" in result.stderr
    spec = project / "mlready.yaml"
    before = spec.read_text()
    result = run_cli("--spec", str(project), "validate-data", "--infer", "-o", str(spec), "--force")
    assert result.exit_code == 2
    assert spec.read_text() == before
