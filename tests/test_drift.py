"""check-drift end to end: verdicts, alerts to a real HTTP server, bad input, the report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.serving_data import Hook, make_batch, trained_project
from tests.training_data import toy_frame, write_project

Run = Callable[..., object]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained_project(tmp_path_factory.mktemp("drift"), toy_frame(3000))


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(trained, target)
    return target


def _monitoring(project: Path, url: str) -> None:
    spec = project / "mlready.yaml"
    spec.write_text(
        spec.read_text()
        + f"""monitoring:
  max_model_age_days: 30
  channels:
    chat: {{type: webhook, url: "{url}"}}
  alerts:
    - {{name: inputs-drifted, when: dataset_drift, severity: error, owner: data-team,
        runbook: "Retrain on the last 12 months", action: retrain, channels: [chat]}}
"""
    )


def _shifted(rows: int = 2000, seed: int = 11) -> pd.DataFrame:
    frame = make_batch(rows, seed=seed)
    frame["tenure"] = np.clip(frame["tenure"] + 25, 0, 100)
    rng = np.random.default_rng(seed)
    frame["plan"] = rng.choice(["basic", "pro", "max"], rows, p=[0.2, 0.3, 0.5])
    return frame


def _drift(run_cli: Run, project: Path, *args: str) -> tuple[object, dict]:
    result = run_cli("--spec", str(project), "check-drift", "--format", "json", *args)
    return result, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else {})


def test_clean_batch_no_drift_and_shifted_batch_alerts_with_its_runbook(
    run_cli: Run, project: Path
) -> None:
    hook = Hook()
    try:
        _monitoring(project, hook.url)
        make_batch(2000, seed=5).to_csv(project / "clean.csv", index=False)
        _shifted().to_csv(project / "shifted.csv", index=False)
        serve = ("serve-batch", "-o")
        run_cli(
            "--spec",
            str(project),
            *serve,
            str(project / "c.parquet"),
            "-i",
            str(project / "clean.csv"),
        )
        clean, out = _drift(run_cli, project)
        assert clean.exit_code == 0, clean.stderr
        assert out["drifted"] == []
        assert not out["dataset_drift"]
        assert out["current"]["rows"] == 2000
        assert hook.received == []
        run_cli(
            "--spec",
            str(project),
            *serve,
            str(project / "s.parquet"),
            "-i",
            str(project / "shifted.csv"),
        )
        shifted, out = _drift(run_cli, project)
        assert shifted.exit_code == 1
        assert sorted(out["drifted"]) == ["plan", "tenure"]
        assert out["dataset_drift"]  # 2 of 4 features: the 50% bar
        assert out["prediction_drift"]
        assert [a["rule"] for a in out["alerts"]] == ["inputs-drifted"]
        message = hook.received[0]
        assert "Retrain on the last 12 months" in message["text"]
        assert message["alert"]["action"] == "retrain"
        assert sorted(message["alert"]["details"]["drifted"]) == ["plan", "tenure"]
        # the same batch checked again (a rerun, CI on a new commit): still a finding, exit 1,
        # but its owner is not told the same thing twice
        again, out_again = _drift(run_cli, project)
        assert again.exit_code == 1
        assert out_again["alerts"][0]["repeat_of"] == out["alerts"][0]["id"]
        assert len(hook.received) == 1
        report = Path(out["report"]).read_text()
        assert report.count("<svg") >= 3  # tenure, plan, the scores
        assert "Retrain on the last 12 months" in report
        assert "<script" not in report  # self-contained: nothing fetched, nothing run
        assert 'src="http' not in report
        # the same batch given as a file: the same verdicts, read once
        _direct, out2 = _drift(run_cli, project, "--current", str(project / "shifted.csv"))
        assert sorted(out2["drifted"]) == ["plan", "tenure"]
        by_file = {f["column"]: f["statistic"] for f in out2["features"]}
        by_profile = {f["column"]: f["statistic"] for f in out["features"]}
        for column, value in by_profile.items():
            assert by_file[column] == pytest.approx(value, rel=1e-9, abs=1e-12)
    finally:
        hook.close()


def test_awkward_batches_get_clear_results(run_cli: Run, project: Path) -> None:
    frame = make_batch(500)
    frame.drop(columns=["region"]).assign(monthly_charges=np.nan).to_csv(
        project / "odd.csv", index=False
    )
    result, out = _drift(run_cli, project, "--current", str(project / "odd.csv"))
    assert result.exit_code == 0, result.stderr
    verdicts = {f["column"]: f for f in out["features"]}
    assert verdicts["region"]["note"] == "missing from the current data"
    assert verdicts["monthly_charges"]["test"] == "none"
    assert "no values in the current batch" in verdicts["monthly_charges"]["note"]
    assert any("missing from the current data: region" in w for w in out["warnings"])
    new = frame.assign(plan="enterprise")
    new.to_csv(project / "new.csv", index=False)
    _, out = _drift(run_cli, project, "--current", str(project / "new.csv"))
    plan = {f["column"]: f for f in out["features"]}["plan"]
    assert plan["drifted"]
    assert "never seen in the reference" in plan["note"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--batch", "20990101T000000Z-000000"), 4, "no serve-batch run 20990101T000000Z-000000"),
        ((), 4, "nothing to compare: no serve-batch run saved a batch profile yet"),
        (("--current", "nope.csv"), 4, "no data at nope.csv"),
        (("--current", "a.csv", "--batch", "x"), 2, "give one of them"),
        (("--model", "toy:9"), 4, "has no version 9"),
    ],
    ids=["unknown-run", "no-runs", "missing-file", "both", "unknown-version"],
)
def test_bad_requests_exit_cleanly(run_cli: Run, project: Path, args, code, message) -> None:
    result = run_cli("--spec", str(project), "check-drift", *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_model_age_and_outcomes(project: Path) -> None:
    import datetime as dt

    from sklearn.metrics import roc_auc_score

    from mlready.drift import check_drift
    from mlready.serving import serve_batch
    from mlready.spec import load_spec

    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text() + "monitoring: {max_model_age_days: 30}\n")
    loaded = load_spec(project)
    labelled = toy_frame(800, seed=9)
    labelled.drop(columns=["churn"]).to_csv(project / "b.csv", index=False)
    labelled[["customer_id", "churn"]].to_csv(project / "outcomes.csv", index=False)
    (project / "r1").mkdir()
    serve_batch(
        loaded,
        run_dir=project / "r1",
        run_id="r1",
        input_path=str(project / "b.csv"),
        output=project / "p.parquet",
        use_cache=False,
    )
    # serve_batch called directly writes no run-log record: give check-drift the profile
    from mlready.runs import start_run

    with start_run(project / ".mlready", "serve-batch") as run:
        shutil.copy(project / "r1" / "batch_profile.json", run.dir / "batch_profile.json")
        run.summary.update(
            files={"output": str(project / "p.parquet"), "profile": "x"},
            source=str(project / "b.csv"),
        )
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=45)
    (project / "r2").mkdir()
    result = check_drift(
        loaded,
        run_dir=project / "r2",
        run_id="r2",
        outcomes=str(project / "outcomes.csv"),
        now=later,
    )
    assert result.model_age_days == pytest.approx(45, abs=0.1)
    assert "model_age" in [e["event"] for e in result.events]
    scored = pd.read_parquet(project / "p.parquet").merge(labelled, on="customer_id")
    expected = roc_auc_score(scored["churn"] == "Yes", scored["probability"])
    assert result.performance["metrics"]["roc_auc"] == pytest.approx(expected, abs=1e-12)
    assert result.performance["rows"] == 800


def test_hostile_names_are_escaped_in_the_report(run_cli: Run, project: Path) -> None:
    frame = make_batch(300).assign(plan="<script>alert(1)</script>")
    frame.to_csv(project / "x.csv", index=False)
    _, out = _drift(run_cli, project, "--current", str(project / "x.csv"))
    html = Path(out["report"]).read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text


def test_package_versions_that_differ_from_training_are_named(project: Path) -> None:
    import dataclasses

    from mlready.registry import environment_warnings, open_registry, parse_ref
    from mlready.spec import load_spec

    loaded = load_spec(project)
    version = open_registry(loaded).resolve(parse_ref("", loaded.spec.model_name))
    assert environment_warnings(version) == []  # trained here, just now
    environment = dict(version.metadata["environment"])
    environment["packages"] = {**environment["packages"], "scikit-learn": "0.0.1", "nopkg": "1"}
    changed = dataclasses.replace(
        version, metadata={**version.metadata, "environment": environment}
    )
    warnings = environment_warnings(changed)
    assert any(
        "scikit-learn 0.0.1, this is" in w and "pin scikit-learn==0.0.1" in w for w in warnings
    )
    assert any("nopkg 1, it is not installed here" in w for w in warnings)


def test_a_batch_counted_in_other_bins_is_counted_again(run_cli: Run, project: Path) -> None:
    batch = make_batch(1500, seed=21)
    batch.to_csv(project / "b.csv", index=False)
    run_cli(
        "--spec",
        str(project),
        "serve-batch",
        "-i",
        str(project / "b.csv"),
        "-o",
        str(project / "p.parquet"),
    )
    # the batch itself as the reference: nothing may drift, every PSI is 0
    result, out = _drift(run_cli, project, "--reference", str(project / "b.csv"))
    assert result.exit_code == 0, result.stderr
    assert out["drifted"] == []
    assert all(f["psi"] == pytest.approx(0.0, abs=1e-12) for f in out["features"])
    coarse = batch.assign(tenure=(batch["tenure"] // 20) * 20)
    coarse.to_csv(project / "coarse.csv", index=False)
    result, out = _drift(run_cli, project, "--reference", str(project / "coarse.csv"))
    assert result.exit_code in (0, 1), result.stderr
    assert "tenure" in out["drifted"]


def test_outcomes_with_integer_ids_missing_labels_and_a_decision_function(
    run_cli: Run, tmp_path: Path
) -> None:
    from sklearn.metrics import accuracy_score, f1_score

    frame = toy_frame(1200, seed=4)
    frame["customer_id"] = np.arange(len(frame)) + 1000
    frame["churn"] = (frame["churn"] == "Yes").astype(int)
    folder = write_project(
        tmp_path,
        frame=frame,
        model="  estimator: sklearn.svm.LinearSVC\n",
        validation="  cv: {strategy: stratified_kfold, folds: 3}\n  metrics: [f1, accuracy]\n"
        "  baselines: []\n",
    )
    spec = folder / "mlready.yaml"
    spec.write_text(spec.read_text().replace('positive_class: "Yes"', 'positive_class: "1"'))
    assert run_cli("--quiet", "--spec", str(folder), "train", "--no-importance").exit_code == 0
    assert (
        run_cli("--quiet", "--spec", str(folder), "register", "--promote", "production").exit_code
        == 0
    )
    batch = toy_frame(500, seed=8)
    batch["customer_id"] = np.arange(500) + 5000
    outcomes = batch[["customer_id", "churn"]].assign(churn=(batch["churn"] == "Yes").astype(float))
    outcomes.loc[:9, "churn"] = np.nan  # late outcomes: some not known yet
    batch.drop(columns=["churn"]).to_csv(folder / "b.csv", index=False)
    outcomes.to_csv(folder / "outcomes.csv", index=False)
    served = run_cli(
        "--spec",
        str(folder),
        "serve-batch",
        "-i",
        str(folder / "b.csv"),
        "-o",
        str(folder / "p.parquet"),
    )
    assert served.exit_code == 0, served.stderr
    result, out = _drift(run_cli, folder, "--outcomes", str(folder / "outcomes.csv"))
    assert result.exit_code in (0, 1), result.stderr
    scored = pd.read_parquet(folder / "p.parquet")
    scored["customer_id"] = scored["customer_id"].astype(int)
    joined = scored.merge(outcomes.dropna(), on="customer_id")
    truth, said = joined["churn"].astype(int), (joined["prediction"] == "1").astype(int)
    performance = out["performance"]
    assert performance["rows"] == 490
    assert performance["rows_without_outcome"] == 10
    assert performance["metrics"]["f1"] == pytest.approx(f1_score(truth, said), abs=1e-12)
    assert performance["metrics"]["accuracy"] == pytest.approx(
        accuracy_score(truth, said), abs=1e-12
    )


def test_two_files_need_no_model(run_cli: Run, tmp_path: Path) -> None:
    folder = write_project(tmp_path)
    make_batch(800, seed=1).to_csv(folder / "old.csv", index=False)
    _shifted(800).to_csv(folder / "new.csv", index=False)
    result, out = _drift(
        run_cli,
        folder,
        "--reference",
        str(folder / "old.csv"),
        "--current",
        str(folder / "new.csv"),
    )
    assert result.exit_code == 1, result.stderr  # two of four features: dataset drift
    assert sorted(out["drifted"]) == ["plan", "tenure"]
    assert out["model"]["version"] is None
    assert out["model_age_days"] is None
    alone = run_cli("--spec", str(folder), "check-drift", "--current", str(folder / "new.csv"))
    assert alone.exit_code == 4
    assert "no model 'toy' in the registry" in alone.stderr


def test_outcomes_of_a_model_without_ids_join_on_the_row_number(
    run_cli: Run, tmp_path: Path
) -> None:
    from tests.training_data import coded_frame, write_coded_project

    folder = write_coded_project(tmp_path)
    for args in (["train", "--no-importance"], ["register", "--promote", "production"]):
        assert run_cli("--quiet", "--spec", str(folder), *args).exit_code == 0
    batch = coded_frame(300, seed=5)
    batch.drop(columns=["churn"]).to_csv(folder / "b.csv", index=False)
    served = run_cli(
        "--spec",
        str(folder),
        "serve-batch",
        "-i",
        str(folder / "b.csv"),
        "-o",
        str(folder / "p.parquet"),
    )
    assert served.exit_code == 0, served.stderr
    # outcomes without the row number cannot be joined: the message says what to add
    batch[["zip", "churn"]].to_csv(folder / "no_rows.csv", index=False)
    result, _ = _drift(run_cli, folder, "--outcomes", str(folder / "no_rows.csv"))
    assert result.exit_code == 4
    assert "lacks column 'row'" in result.stderr
    assert "data.id_columns" in result.stderr
    # with the row number (from 0, as serve-batch numbers them), outcomes join row by row
    batch.assign(row=range(len(batch)))[["row", "churn"]].iloc[::-1].to_csv(
        folder / "outcomes.csv", index=False
    )
    result, out = _drift(run_cli, folder, "--outcomes", str(folder / "outcomes.csv"))
    assert result.exit_code in (0, 1), result.stderr
    from sklearn.metrics import roc_auc_score

    scored = pd.read_parquet(folder / "p.parquet")
    truth = (batch.loc[scored["row"], "churn"] == "Yes").astype(int)
    assert out["performance"]["rows"] == 300
    assert out["performance"]["metrics"]["roc_auc"] == pytest.approx(
        roc_auc_score(truth, scored["probability"]), abs=1e-12
    )


def test_a_realized_performance_drop_fails_without_any_alert_rule(
    run_cli: Run, project: Path
) -> None:
    from sklearn.metrics import roc_auc_score

    labelled = toy_frame(800, seed=9)
    labelled.drop(columns=["churn"]).to_csv(project / "b.csv", index=False)
    # the world changed: the customers the model calls risky now stay, and the others leave
    flipped = labelled["churn"].map({"Yes": "No", "No": "Yes"})
    labelled.assign(churn=flipped)[["customer_id", "churn"]].to_csv(
        project / "outcomes.csv", index=False
    )
    assert "performance_drop" not in (project / "mlready.yaml").read_text()
    served = run_cli("--spec", str(project), "serve-batch", "-i", str(project / "b.csv"))
    assert served.exit_code == 0, served.stderr
    result, out = _drift(run_cli, project, "--outcomes", str(project / "outcomes.csv"))
    assert result.exit_code == 1
    performance = out["performance"]
    scored = pd.read_parquet(_latest_output(project)).merge(
        labelled.assign(churn=flipped), on="customer_id"
    )
    expected = roc_auc_score(scored["churn"] == "Yes", scored["probability"])
    assert performance["metrics"]["roc_auc"] == pytest.approx(expected, abs=1e-12)
    assert expected < 0.7  # the training threshold in the spec
    assert performance["dropped"]
    assert any("roc_auc" in r and "training threshold 0.7" in r for r in performance["reasons"])
    assert any(f.startswith("realized performance dropped") for f in out["failures"])


def _latest_output(project: Path) -> Path:
    from mlready.runs import read_run_log

    record = read_run_log(project / ".mlready", "serve-batch")[-1]
    return Path(record.summary["files"]["output"])


def test_rows_set_aside_for_range_count_as_drift_and_the_correction_is_said(
    run_cli: Run, project: Path
) -> None:
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text() + "monitoring:\n  drift: {correction: benjamini_hochberg}\n")
    batch = make_batch(1000, seed=5)
    batch.loc[:59, "tenure"] = 150  # 6% of the rows outside the contract's 0-100
    batch.to_csv(project / "b.csv", index=False)
    served = run_cli("--spec", str(project), "serve-batch", "-i", str(project / "b.csv"))
    assert served.exit_code == 0, served.stderr  # quarantined: the rest is scored
    _result, out = _drift(run_cli, project)
    tenure = next(f for f in out["features"] if f["column"] == "tenure")
    assert tenure["out_of_range_share"] == pytest.approx(0.06)
    assert tenure["drifted"]
    assert "outside the range" in tenure["note"]
    assert out["drifted"] == ["tenure"]
    assert out["correction"]["method"] == "benjamini_hochberg"
    plain = run_cli("--spec", str(project), "check-drift")
    assert "out of range" in plain.stdout


def test_nothing_compared_is_a_data_error_never_a_clean_verdict(
    run_cli: Run, project: Path
) -> None:
    frame = make_batch(300)
    frame.iloc[:0].to_csv(project / "empty.csv", index=False)
    result, out = _drift(run_cli, project, "--current", str(project / "empty.csv"))
    assert result.exit_code == 4, result.stderr
    assert f"{project / 'empty.csv'} has no rows: there is nothing to compare" in result.stderr
    assert out == {}
    (project / "semi.csv").write_text(frame.to_csv(index=False, sep=";"))
    result, _ = _drift(run_cli, project, "--current", str(project / "semi.csv"))
    assert result.exit_code == 4, result.stderr
    assert "semi.csv" in result.stderr
    assert "no dataset drift" not in result.stdout + result.stderr
    frame[["customer_id"]].assign(other=1).to_csv(project / "none.csv", index=False)
    result, _ = _drift(run_cli, project, "--current", str(project / "none.csv"))
    assert result.exit_code == 4, result.stderr
    assert "none of the" in result.stderr
    assert "features has a value to compare in its 300 rows (missing: " in result.stderr


def test_outcomes_count_each_id_once_and_refuse_conflicts_and_unknown_labels(
    run_cli: Run, project: Path
) -> None:
    labelled = toy_frame(400, seed=9)
    labelled.drop(columns=["churn"]).to_csv(project / "b.csv", index=False)
    served = run_cli(
        "--spec", str(project), "serve-batch", "-i", str(project / "b.csv"), "-o",
        str(project / "p.parquet"),
    )  # fmt: skip
    assert served.exit_code == 0, served.stderr
    outcomes = labelled[["customer_id", "churn"]]
    pd.concat([outcomes] * 3).to_csv(project / "tripled.csv", index=False)
    result, out = _drift(run_cli, project, "--outcomes", str(project / "tripled.csv"))
    assert result.exit_code in (0, 1), result.stderr
    assert out["performance"]["rows"] == 400
    assert out["performance"]["duplicate_rows_dropped"] == 800
    assert any("800 repeated outcome row(s)" in w for w in out["warnings"])
    conflicting = pd.concat(
        [
            outcomes,
            outcomes.head(2)
            .assign(churn="No")
            .assign(churn=lambda f: np.where(outcomes.head(2)["churn"] == "Yes", "No", "Yes")),
        ]
    )
    conflicting.to_csv(project / "conflicting.csv", index=False)
    result, _ = _drift(run_cli, project, "--outcomes", str(project / "conflicting.csv"))
    assert result.exit_code == 4, result.stderr
    assert "gives 2 id(s) more than one label (e.g. customer_id=" in result.stderr
    unknown = outcomes.copy()
    unknown.loc[:4, "churn"] = "Maybe"
    unknown.to_csv(project / "unknown.csv", index=False)
    result, _ = _drift(run_cli, project, "--outcomes", str(project / "unknown.csv"))
    assert result.exit_code == 4, result.stderr
    assert "has labels the model never saw in training: 'Maybe'" in result.stderr


def _feature(column: str, drifted: bool, psi: float, kind: str = "numeric") -> dict:
    return {
        "column": column,
        "kind": kind,
        "test": "ks",
        "exact": True,
        "statistic": 0.1,
        "p_value": 0.01 if drifted else 0.5,
        "p_adjusted": None,
        "threshold": 0.05,
        "psi": psi,
        "reference_missing": 0.0,
        "current_missing": 0.0,
        "out_of_range_share": 0.0,
        "drifted": drifted,
        "note": "",
    }


def test_the_report_draws_every_feature_drifted_first_and_links_each_to_its_chart() -> None:
    import re

    from mlready.drift import DriftResult
    from mlready.drift.report import render_drift_report

    numeric = {"kind": "numeric", "cuts": [1.0, 2.0], "counts": [10, 10, 10]}
    plan = {"kind": "categorical", "categories": {"basic": 5, "pro": 5}}
    features = [
        _feature("age", False, 0.01),
        _feature("tenure", False, 0.2),
        _feature("plan", True, 0.05, "categorical"),
        _feature("<b>odd</b>", False, 0.0),
    ]
    result = DriftResult(
        passed=True,
        model={"name": "m", "version": 1},
        current={"source": "batch.csv", "rows": 1},
        reference={"source": "training", "rows": 30},
        features=features,
        drifted=["plan"],
        share_drifted=0.25,
        dataset_drift=False,
        dataset_drift_share=0.5,
        predictions=[_feature("prediction.score", True, 0.3)],
    )
    columns = {"age": numeric, "tenure": numeric, "plan": plan, "<b>odd</b>": numeric}
    profiles = {"columns": columns, "prediction": {"score": numeric}}
    html = render_drift_report(result, profiles, profiles, [], project="p", run_id="r1")
    drawn = re.findall(r'class="chart[^"]*" id="(chart-\d+)" data-column="([^"]+)"', html)
    # drifted first, then the rest; each by PSI, largest first
    assert [c for _, c in drawn] == [
        "prediction.score",
        "plan",
        "tenure",
        "age",
        "&lt;b&gt;odd&lt;/b&gt;",
    ]
    for anchor, _column in drawn:  # the table's feature names lead to their charts
        assert f'href="#{anchor}"' in html
    assert "<b>odd" not in html
    assert "(1 row)" in html  # "1 row", not "1 rows"
    assert "1 rows" not in html


def test_predictions_binned_by_another_model_are_not_compared_and_say_why() -> None:
    """A batch scored by an older version, checked against the newer version's reference: the
    two prediction profiles have different bins; comparing them crashed (exit 5)."""
    from mlready.drift import _prediction_drift
    from mlready.profiles import numeric_profile
    from mlready.spec.models import DriftSpec

    rng = np.random.default_rng(3)
    older = numeric_profile(pd.Series(rng.beta(2, 5, 983)), bins=10, keep_values=0)
    newer = numeric_profile(pd.Series(rng.beta(5, 2, 842)), bins=10, keep_values=0)
    assert older["cuts"] != newer["cuts"]
    warnings: list[str] = []
    compared = _prediction_drift(
        {"prediction": {"score": newer}}, {"prediction": {"score": older}}, DriftSpec(), warnings
    )
    assert compared == []
    assert len(warnings) == 1
    assert "another model version" in warnings[0]
    assert "--model" in warnings[0]
    # the same bins on both sides are still compared
    same = _prediction_drift(
        {"prediction": {"score": newer}}, {"prediction": {"score": newer}}, DriftSpec(), []
    )
    assert [c.column for c in same] == ["prediction.score"]


def test_a_batch_is_compared_with_the_version_that_scored_it(run_cli: Run, project: Path) -> None:
    """`--batch RUN_ID` without --model: the version that scored the batch is the reference,
    not whatever production is by the time drift is checked."""
    make_batch(800, seed=31).to_csv(project / "b.csv", index=False)
    served = run_cli(
        "--spec",
        str(project),
        "--json",
        "serve-batch",
        "-i",
        str(project / "b.csv"),
        "-o",
        str(project / "p.parquet"),
    )
    assert served.exit_code in (0, 1), served.stderr
    run_id = json.loads(served.stdout)["run_id"]
    # a second version on other rows becomes production
    toy_frame(1500, seed=99).to_csv(project / "data" / "train.csv", index=False)
    promote = ("register", "--promote", "production", "--force", "--reason", "a test")
    for args in (("train", "--no-importance"), promote):
        assert run_cli("--quiet", "--spec", str(project), *args).exit_code == 0

    result, out = _drift(run_cli, project, "--batch", run_id)
    assert result.exit_code in (0, 1), result.stderr
    assert out["reference"]["source"].endswith(":1")  # training data of churn:1
    assert out["reference"]["rows"] == 3000
    # naming production compares with the new version (its bins: the batch counted again)
    result, out = _drift(run_cli, project, "--batch", run_id, "--model", "@production")
    assert result.exit_code in (0, 1), result.stderr
    assert out["reference"]["source"].endswith(":2")
    assert out["reference"]["rows"] == 1500
