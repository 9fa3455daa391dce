"""The readiness rubric and its scoring, on synthetic evidence written the way the commands write
it (run log records, metadata.json, drift.json): every item moves from 0 to 0.5 to 1 as the
evidence appears, statuses follow the latest evidence, the final score is the minimum."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mlready.checklist import readiness, score_item
from mlready.checklist.evidence import Evidence, RegistryFacts, RepoFacts, gather
from mlready.checklist.items import ALERT_EVENTS, CHECKS, _tested_rules
from mlready.checklist.rubric import BANDS, ITEMS, SECTIONS, SEED_CHECKLIST, band_of
from mlready.runs import append_record, hash_folder, identity_of
from mlready.spec import load_spec
from tests.conftest import SAMPLE

AUTOMATED = [key for key, item in ITEMS.items() if item.automated]
BY_HAND = [key for key, item in ITEMS.items() if not item.automated]
#: Items whose evidence is the repository or the registry, not the run log.
NOT_FROM_RUNS = {"data-7", "model-1", "infra-7"}


@pytest.fixture
def spec_folder(tmp_path: Path) -> Path:
    """The sample spec without its attestations, in a folder that is not a git repository."""
    folder = tmp_path / "project"
    shutil.copytree(
        SAMPLE, folder, ignore=shutil.ignore_patterns(".mlready", "predictions", "tests")
    )
    text = (folder / "mlready.yaml").read_text()
    text = text[: text.index("checklist:")] + "checklist:\n  pass_bar: 1.0\n" + TEST_COMMAND
    (folder / "mlready.yaml").write_text(text)
    return folder


TEST_COMMAND = "  test_command: pytest tests --junitxml={junit}\n"
JUNIT_XML = (
    '<testsuites><testsuite name="t" tests="2"><testcase classname="tests.test_features" '
    'name="test_a"/><testcase classname="tests.test_features" name="test_b"/></testsuite>'
    "</testsuites>"
)
#: Every rule of the sample spec, each reached on every channel by a test alert.
ALERTS_TESTED = [
    {"rule": rule, "event": "", "channels": {"ops-log": True, "on-call": True}}
    for rule in (
        "inputs-drifted",
        "key-inputs-moved",
        "model-too-old",
        "scores-degraded",
        "batch-late",
        "inputs-rejected",
        "packages-changed",
    )
]


def _metadata(n: int) -> dict[str, Any]:
    group = {"rows": 120, "metrics": {"roc_auc": 0.9, "average_precision": 0.7, "brier_score": 0.1}}
    return {
        "features": {"numeric": ["tenure", "monthly_charges"], "categorical": ["contract"]},
        "data": {"validation": {"checks": 12, "failed": 0, "passed": True}},
        "feature_contribution": [
            {"feature": f, "importance": 0.05, "std": 0.01, "adds_nothing": False}
            for f in ("tenure", "monthly_charges", "contract")
        ],
        "leakage": {
            "target_proxies": [],
            "time_order": {"total": 0},
            "forbidden": {
                "declared": ["customer_id", "churn_reason"],
                "present": ["customer_id", "churn_reason"],
                "used": [],
            },
        },
        "model": {
            "search": {
                "method": "random",
                "candidates": 4,
                "evaluated": 4,
                "metric": "roc_auc",
                "best_score": 0.85,
                "best_params": {"learning_rate": 0.1},
            }
        },
        "reproducibility": {"identical": True, "max_abs_prediction_diff": 0.0},
        "skew": {"rows": 120, "mismatched_rows": 0, "columns": [], "passed": True, "error": None},
        "input_example": [{"tenure": 3}],
        "validation": {
            "metrics": ["roc_auc"],
            "per_fold": [{"metrics": {"roc_auc": 0.84}}, {"metrics": {"roc_auc": 0.86}}],
            "cv": {"roc_auc": {"mean": 0.85}},
            "holdout_metrics": {"roc_auc": 0.86},
            "thresholds": [
                {"metric": "roc_auc", "bar": 0.8, "direction": "at least", "passed": True}
            ],
            "baselines": [
                {
                    "kind": "linear",
                    "metric": "roc_auc",
                    "value": 0.7,
                    "model_value": 0.86,
                    "margin": 0.01,
                    "verdict": "model better",
                }
            ],
            "slices": {"holdout": [{"name": "contract", "groups": [{"group": "A", **group}]}]},
        },
        "business": {
            "currency": "USD",
            "decision_threshold": 0.3,
            "cv": {"rows": 100, "curve": [[0.0, 10.0], [0.5, 50.0], [1.0, 0.0]]},
        },
        "run": n,
    }


SUMMARIES: dict[str, dict[str, Any]] = {
    "test": {"tests": 2, "failures": 0, "errors": 0, "skipped": 0, "exit_code": 0},
    "alert-test": {"passed": True, "alerts": ALERTS_TESTED, "undelivered": []},
    "validate-data": {"checks": 12, "failed": 0, "passed": True, "environment": "training"},
    "train": {
        "passed": True,
        "model_sha256": "a" * 64,
        "data_fingerprint": "f" * 64,
        "spec_hash": "s" * 64,
        "business_value": 5000.0,
        "decision_threshold": 0.3,
    },
    "register": {"accepted": True, "created": True, "version": 1},
    "serve-batch": {
        "passed": True,
        "canary": True,
        "nan_predictions": 0,
        "rows_in": 100,
        "rows_rejected": 0,
        "unseen_categories": {},
        "cache": {"batch_hit": False},
        "sla": {
            "budget_s": 1200.0,
            "wall_s": 2.0,
            "rows_per_s": 50.0,
            "met": True,
            "peak_memory_mb": 90.0,
        },
    },
    "serve": {"canary": True, "requests": 40, "availability": 1.0, "rows_scored": 400},
    "check-drift": {
        "passed": True,
        "dataset_drift": False,
        "share_drifted": 0.0,
        "drifted": [],
        "features": 3,
        "prediction_drift": False,
        "model_age_days": 3.0,
        "performance": {"primary_metric": "roc_auc", "value": 0.85, "training_value": 0.86},
        "events": [],
    },
}
FILES = {
    "test": {"junit.xml": JUNIT_XML},
    "train": {"metadata.json": None, "training.html": "<html></html>"},
    "check-drift": {
        "drift.json": {"performance": {"rows": 100, "business": {"value": 900.0, "per_row": 9.0}}}
    },
    "validate-data": {"validation.json": {}},
}


def write_run(
    artifacts: Path,
    step: str,
    n: int,
    *,
    status: str = "passed",
    ci: str | None = None,
    provenance: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    **changes: Any,
) -> str:
    """One run log record for a step, with the files that step writes (``files`` replaces
    some of them)."""
    import hashlib

    run_id = f"2026110{n}T0000{len(list(artifacts.glob('runs/*/*'))):02d}Z-{step[:6]}"
    folder = artifacts / "runs" / step / run_id
    folder.mkdir(parents=True)
    for name, content in {**FILES.get(step, {}), **(files or {})}.items():
        payload = _metadata(n) if name == "metadata.json" else content
        if name == "metadata.json" and "metadata" in changes:
            payload.update(changes.pop("metadata"))
        target = folder / name
        target.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    summary = {**json.loads(json.dumps(SUMMARIES[step])), **changes}
    if step == "test":
        junit = (folder / "junit.xml").read_bytes()
        summary.setdefault("junit_sha256", hashlib.sha256(junit).hexdigest())
    if step == "check-drift":  # each round checks a new batch, a month later
        summary.setdefault("current", {"serve_run": f"serve-{n}"})
        summary["model_age_days"] = changes.get("model_age_days", 30.0 * n)
    ci_run = None if ci is None else {"system": ci, "run_id": f"{n}", "url": None, "event": "push"}
    record = {
        "step": step,
        "run_id": run_id,
        "started_at": f"2026-11-0{n}T00:00:{len(list(artifacts.glob('runs/*/*'))):02d}+00:00",
        "duration_s": 1.0,
        "status": status,
        "exit_code": 0 if status == "passed" else 1,
        "user": "tester",
        "ci": ci,
        "host": "h",
        "mlready_version": "0.1.0",
        "run_dir": f"runs/{step}/{run_id}",
        "summary": summary,
        "provenance": {
            **_identity(artifacts),
            "git_commit": f"{n:040d}",
            "git_dirty": False,
            "spec_committed": True,
            "user": "tester",
            "host": "h",
            "ci": ci_run,
            "scheduled": False,
            **(provenance or {}),
        },
        "artifacts": hash_folder(folder),
    }
    append_record(artifacts, record)
    return run_id


def _identity(artifacts: Path) -> dict[str, str]:
    """The provenance fields that say which project wrote a record (the spec beside the
    artifacts folder, as the sample lays it out)."""
    spec = artifacts.parent / "mlready.yaml"
    loaded = load_spec(spec)
    return {"project": loaded.spec.project.name, "project_id": identity_of(loaded)}


def registry_facts(promotions: int) -> RegistryFacts:
    if promotions == 0:
        return RegistryFacts(model_name="telco-churn")
    versions = tuple(
        SimpleNamespace(
            model_name="telco-churn",
            run_id=None,
            version=v,
            sha256="b" * 64,
            passed=True,
            artifact_uri=f"/store/{v}.skops",
        )
        for v in range(1, promotions + 1)
    )
    history = tuple(
        {
            "alias": "production",
            "from_version": v - 1 or None,
            "to_version": v,
            "accepted": True,
            "forced": False,
            "action": "promote",
            "reason": "meets the thresholds",
        }
        for v in range(1, promotions + 1)
    )
    return RegistryFacts(
        model_name="telco-churn",
        exists=True,
        versions=versions,
        production=versions[-1],
        history=history,
        previous=promotions - 1 or None,
        previous_artifact_ok=promotions > 1,
        production_artifact_ok=True,
    )


def evidence_after(folder: Path, rounds: int, *, ci: str | None = "github") -> Evidence:
    """The project's evidence after the whole pipeline ran `rounds` times."""
    loaded = load_spec(folder)
    artifacts = Path(loaded.spec.project.artifacts_dir)
    artifacts.mkdir(parents=True, exist_ok=True)
    for n in range(1, rounds + 1):
        for step in SUMMARIES:
            write_run(artifacts, step, n, ci=ci)
    ev = gather(loaded)
    ev.registry = registry_facts(rounds)
    ci_files = (".github/workflows/mlready.yml",) if rounds >= 2 else ()
    ev.repo = (
        RepoFacts(root=None)
        if rounds == 0
        else RepoFacts(
            root=str(folder),
            spec_tracked=True,
            spec_clean=True,
            commit="c" * 40,
            ci_files=ci_files,
            test_ci_files=ci_files,
            test_files=3,
        )
    )
    return ev


def judge(ev: Evidence, key: str, attestation: Any = None) -> Any:
    return score_item(ITEMS[key], CHECKS[key](ev), attestation)


ATTESTED = SimpleNamespace(
    by="Dana", date=__import__("datetime").date(2026, 6, 1), evidence="wiki/privacy", note=""
)


# ---------------------------------------------------------------------------------- the rubric


def test_the_rubric_holds_the_28_tests_in_four_sections_plus_business() -> None:
    counts = {key: sum(1 for i in ITEMS.values() if i.section == key) for key in SECTIONS}
    assert counts == {"data": 7, "model": 7, "infra": 7, "monitor": 7, "business": 2}
    assert set(CHECKS) == set(ITEMS)
    covered = {n for item in ITEMS.values() for n in item.seeds}
    assert covered == set(SEED_CHECKLIST), "every checklist point is covered by an item"
    for item in ITEMS.values():
        assert all((item.title, item.why, item.how)), item.id


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "research project"),
        (0.5, "serious holes"),
        (1, "serious holes"),
        (1.5, "first pass"),
        (2, "first pass"),
        (3, "reasonably tested"),
        (4, "strong"),
        (5, "strong"),
        (5.5, "exceptional"),
        (7, "exceptional"),
    ],
)
def test_bands_follow_the_ml_test_score(score: float, band: str) -> None:
    assert band_of(score)[0] == band
    assert len(BANDS) == 6


# -------------------------------------------------------------------------- 0 -> 0.5 -> 1


@pytest.mark.parametrize("key", [k for k in AUTOMATED if k != "infra-7"])  # its own test below
def test_each_automated_item_moves_from_0_to_half_to_1(spec_folder: Path, key: str) -> None:
    points, statuses = [], []
    for rounds in (0, 1, 2):
        folder = spec_folder.parent / f"r{rounds}"
        shutil.copytree(spec_folder, folder)
        result = judge(evidence_after(folder, rounds), key)
        points.append(result.points)
        statuses.append(result.status)
        assert result.detail, key
        if rounds and result.points < 1:
            assert result.next_action, f"{key}: no next action at {result.points}"
    assert points == [0.0, 0.5, 1.0], (key, statuses)
    assert statuses == ["not done", "passing", "passing"], key


@pytest.mark.parametrize("key", AUTOMATED)
def test_an_attestation_gives_half_a_point_until_the_evidence_is_repeated(
    spec_folder: Path, key: str
) -> None:
    alone = judge(evidence_after(spec_folder, 0), key, ATTESTED)
    assert alone.points == 0.5
    assert alone.status == "attested"
    assert "attested by Dana" in alone.basis
    assert "not verified" in alone.basis
    assert alone.passing_points == 0, "a command could check it: attesting it is a stop-gap"


@pytest.mark.parametrize("key", BY_HAND)
def test_items_no_command_can_check_are_worth_half_a_point_when_attested(
    spec_folder: Path, key: str
) -> None:
    ev = evidence_after(spec_folder, 2)
    assert judge(ev, key).points == 0
    assert judge(ev, key).status == "not done"
    assert "attest" in judge(ev, key).next_action
    attested = judge(ev, key, ATTESTED)
    assert (attested.points, attested.status, attested.max_points) == (0.5, "attested", 0.5)
    assert attested.attestation["by"] == "Dana"


def test_runs_in_ci_are_counted(spec_folder: Path) -> None:
    result = judge(evidence_after(spec_folder, 2, ci="github"), "monitor-5")
    assert (result.runs, result.ci_runs) == (2, 2)
    assert "2 runs in CI on 2 commits" in result.basis
    assert [s["ci"] for s in result.sources] == ["github", "github"]


# ---------------------------------------------------------------------- statuses, from evidence


def _after(folder: Path, step: str, **changes: Any) -> Evidence:
    ev_loaded = load_spec(folder)
    artifacts = Path(ev_loaded.spec.project.artifacts_dir)
    evidence_after(folder, 2)
    write_run(artifacts, step, 3, **changes)
    ev = gather(ev_loaded)
    ev.registry = registry_facts(2)
    ev.repo = RepoFacts(root=str(folder), spec_tracked=True, spec_clean=True)
    return ev


@pytest.mark.parametrize(
    ("key", "step", "changes", "words"),
    [
        ("data-1", "validate-data", {"passed": False, "failed": 2}, "2 failed"),
        (
            "data-2",
            "train",
            {
                "metadata": {
                    "feature_contribution": [
                        {"feature": "tenure", "adds_nothing": False},
                        {"feature": "contract", "adds_nothing": True},
                    ]
                }
            },
            "Adding nothing: contract",
        ),
        (
            "data-4",
            "train",
            {
                "metadata": {
                    "leakage": {
                        **_metadata(3)["leakage"],
                        "target_proxies": [{"column": "x"}],
                    }
                }
            },
            "1 target proxies",
        ),
        ("model-2", "check-drift", {"events": ["performance_drop"]}, "drop"),
        (
            "model-5",
            "train",
            {
                "metadata": {
                    "validation": {
                        **_metadata(3)["validation"],
                        "baselines": [
                            {
                                "kind": "linear",
                                "metric": "roc_auc",
                                "value": 0.86,
                                "model_value": 0.86,
                                "margin": 0.01,
                                "verdict": "as good",
                            }
                        ],
                    }
                }
            },
            "as good",
        ),
        (
            "model-6",
            "train",
            {
                "metadata": {
                    "validation": {
                        **_metadata(3)["validation"],
                        "slices": {
                            "holdout": [
                                {
                                    "name": "plan",
                                    "groups": [
                                        {"group": "pro", "rows": 50, "metrics": {"roc_auc": 0.61}},
                                        {"group": "tiny", "rows": 5, "metrics": {"roc_auc": 0.1}},
                                    ],
                                }
                            ]
                        },
                    }
                }
            },
            "plan = pro: roc_auc 0.610 against 0.8 (50 rows)",
        ),
        (
            "infra-1",
            "train",
            {"metadata": {"reproducibility": {"identical": False}}},
            "different model",
        ),
        ("infra-6", "serve-batch", {"canary": False}, "failed in the latest"),
        ("infra-6", "serve", {"canary": False}, "failed in the latest (serve "),
        ("monitor-1", "check-drift", {"events": ["environment"]}, "differ"),
        ("monitor-2", "serve-batch", {"rows_rejected": 7}, "7 rows rejected"),
        ("monitor-3", "check-drift", {"dataset_drift": True, "share_drifted": 0.7}, "70%"),
        (
            "monitor-3",
            "train",
            {
                "metadata": {
                    "skew": {
                        "rows": 120,
                        "mismatched_rows": 7,
                        "columns": ["zip"],
                        "passed": False,
                        "error": None,
                    }
                }
            },
            "7 gave other feature values (zip)",
        ),
        ("monitor-4", "check-drift", {"model_age_days": 400.0}, "400.0 days old"),
        ("monitor-5", "serve-batch", {"nan_predictions": 3}, "found 3"),
        (
            "monitor-6",
            "serve-batch",
            {"sla": {"budget_s": 10.0, "wall_s": 60.0, "rows_per_s": 5.0, "met": False}},
            "60.0 s",
        ),
        (
            "monitor-6",
            "serve",
            {
                "predict_requests": 40,
                "latency_ms": {"p50": 4.0, "p99": 80.0},
                "sla": {"p99_ms": 20.0, "windows": 3, "breaches": 2, "met": False},
            },
            "2 of 3 windows over it",
        ),
        (
            "monitor-6",
            "serve",
            {
                "predict_requests": 1000,
                "availability": 0.98,
                "server_errors": 20,
                "sla": {"p99_ms": 20.0, "windows": 3, "breaches": 0, "met": True},
            },
            "available 98.000%",
        ),
        ("monitor-7", "check-drift", {"prediction_drift": True}, "a prediction drift"),
        ("business-1", "train", {"business_value": -120.0}, "-120"),
        (
            "business-2",
            "serve-batch",
            {"sla": {"budget_s": 10.0, "wall_s": 60.0, "met": False}},
            "missed it",
        ),
    ],
)
def test_the_latest_evidence_decides_whether_an_item_passes_now(
    spec_folder: Path, key: str, step: str, changes: dict[str, Any], words: str
) -> None:
    result = judge(_after(spec_folder, step, **changes), key)
    assert result.status == "failing", result.detail
    assert words in result.detail
    assert result.points == 1.0, "a failing check is in place: it exists"
    assert result.passing_points == 0.0, "but it earns nothing in the passing-now score"
    assert result.next_action


def test_reproducibility_is_also_read_from_two_runs_on_the_same_inputs(spec_folder: Path) -> None:
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    no_check = {"reproducibility": None}
    write_run(artifacts, "train", 1, metadata=no_check, ci="github")
    write_run(artifacts, "train", 2, metadata=no_check, ci="github")
    result = judge(gather(load_spec(spec_folder)), "infra-1")
    assert (result.status, result.points) == ("passing", 0.5)
    write_run(artifacts, "train", 3, metadata=no_check, model_sha256="9" * 64, ci="github")
    result = judge(gather(load_spec(spec_folder)), "infra-1")
    assert result.status == "failing"
    assert (result.points, result.passing_points) == (1.0, 0.0)


def test_a_feature_that_adds_nothing_and_drifts_is_pure_cost(spec_folder: Path) -> None:
    ev = _after(
        spec_folder,
        "train",
        metadata={"feature_contribution": [{"feature": "contract", "adds_nothing": True}]},
    )
    result = judge(ev, "data-3")
    assert result.status == "not done", "no batch served since: the feature's cost is unknown"
    assert "serve-batch" in result.next_action
    write_run(Path(ev.artifacts), "serve-batch", 4)
    assert judge(gather(ev.loaded), "data-3").status == "passing", "adding nothing is data-2's"
    write_run(Path(ev.artifacts), "check-drift", 4, drifted=["contract"], share_drifted=0.3)
    result = judge(gather(ev.loaded), "data-3")
    assert result.status == "failing"
    assert "contract: drifted in check-drift" in result.detail
    assert "Drop contract" in result.next_action


def test_uncovered_features_fail_the_schema_item(spec_folder: Path) -> None:
    ev = _after(spec_folder, "train", metadata={"features": {"numeric": ["tenure", "new_col"]}})
    result = judge(ev, "data-1")
    assert result.status == "failing"
    assert "1 of 2 features" in result.detail
    assert "without: new_col" in result.detail


def test_a_forced_production_version_fails_the_gate_item(spec_folder: Path) -> None:
    ev = evidence_after(spec_folder, 1)
    forced = dict(ev.registry.history[-1], forced=True, reason="forced by Dana")
    ev.registry = RegistryFacts(
        **{**ev.registry.__dict__, "history": (forced,)}  # type: ignore[arg-type]
    )
    result = judge(ev, "infra-4")
    assert result.status == "failing"
    assert "forced past the gate" in result.detail


def test_the_spec_item_needs_models_trained_from_the_committed_spec(spec_folder: Path) -> None:
    ev = evidence_after(spec_folder, 1)
    result = judge(ev, "model-1")
    assert (result.status, result.points) == ("passing", 0.5)
    assert "as committed" in result.detail
    ev.repo = RepoFacts(
        root=str(spec_folder), spec_tracked=True, spec_clean=False, ci_files=(".gitlab-ci.yml",)
    )
    result = judge(ev, "model-1")
    assert result.status == "failing"
    assert "not committed" in result.detail
    ev.repo = RepoFacts(root=str(spec_folder), spec_tracked=False)
    assert judge(ev, "model-1").status == "not done"


def test_the_real_repository_is_read(tmp_path: Path) -> None:
    import subprocess

    folder = tmp_path / "repo"
    shutil.copytree(
        SAMPLE, folder, ignore=shutil.ignore_patterns(".mlready", "predictions", "tests")
    )
    (folder / "tests").mkdir()
    (folder / "tests" / "test_features.py").write_text("def test_x():\n    pass\n")
    (folder / ".gitlab-ci.yml").write_text("test: {script: [make test]}\n")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init")
    repo = gather(load_spec(folder)).repo
    assert repo.spec_tracked
    assert repo.spec_clean
    assert repo.ci_files == ()  # it runs tests, not mlready
    assert repo.test_ci_files == (".gitlab-ci.yml",)
    assert repo.test_files == 1
    with open(folder / "mlready.yaml", "a") as handle:
        handle.write("# changed\n")
    assert not gather(load_spec(folder)).repo.spec_clean


# ------------------------------------------------------------------------------ the whole score


def test_the_final_score_is_the_minimum_over_the_sections(spec_folder: Path) -> None:
    evidence_after(spec_folder, 2)
    result = readiness(load_spec(spec_folder))
    scaled = {s.key: s.scaled for s in result.sections}
    assert result.final_score == min(scaled.values())
    payload = json.loads(json.dumps(result.to_dict()))
    for section in payload["sections"]:  # recomputed from the JSON, item by item
        mine = [i["points"] for i in payload["items"] if i["section"] == section["key"]]
        assert section["score"] == sum(mine)
        assert section["scaled"] == pytest.approx(sum(mine) * 7 / len(mine))
    assert payload["final_score"] == min(s["scaled"] for s in payload["sections"])
    assert payload["weakest"] == [
        s["title"] for s in payload["sections"] if s["scaled"] == payload["final_score"]
    ]


def test_business_is_read_on_the_same_scale(spec_folder: Path) -> None:
    evidence_after(spec_folder, 1)
    result = readiness(load_spec(spec_folder))
    business = next(s for s in result.sections if s.key == "business")
    assert (business.score, business.max_score, business.scaled) == (1.0, 2.0, 3.5)


def test_a_project_with_no_runs_scores_zero_and_still_reports(spec_folder: Path) -> None:
    from mlready.checklist.report import render_html, render_markdown

    result = readiness(load_spec(spec_folder))
    assert result.final_score == 0
    assert result.band == "research project"
    assert not result.passed
    assert all(i.points == 0 and i.status == "not done" for i in result.items)
    assert all(i.next_action for i in result.items), "each item says how to get its evidence"
    assert len(result.gaps) == 3
    assert result.business["value"] is None
    html = render_html(result)
    assert "0.00" in html
    assert "research project" in html.lower()
    assert "| Data | 0.00 | 0.00 | 0 / 7 |" in render_markdown(result)
    assert not (Path(load_spec(spec_folder).spec.project.artifacts_dir) / "registry.db").exists()


def test_evidence_paths_are_links_from_the_run_folder_and_from_a_copy(
    spec_folder: Path, tmp_path: Path
) -> None:
    import re
    from urllib.parse import unquote

    from mlready.checklist.report import write_outputs

    evidence_after(spec_folder, 1)
    result = readiness(load_spec(spec_folder))
    run = (
        Path(load_spec(spec_folder).spec.project.artifacts_dir) / "runs" / "checklist-report" / "x"
    )
    copies = tmp_path / "reports" / "deep"
    write_outputs(result, run, copies)
    named = [e for i in result.items for e in i.evidence if e.get("exists")]
    assert named, "the evidence names files that exist"
    for folder in (run, copies):
        html = (folder / "checklist.html").read_text()
        hrefs = re.findall(r'<a class="evidence" href="([^"]+)"', html)
        assert len(hrefs) >= len(named)
        for href in hrefs:
            assert not href.startswith(("/", "file:", "http"))
            assert (folder / unquote(href)).resolve().is_file(), (folder, href)


def test_gaps_put_failing_items_of_the_weakest_sections_first(spec_folder: Path) -> None:
    ev = _after(spec_folder, "serve-batch", nan_predictions=4)
    del ev
    result = readiness(load_spec(spec_folder))
    assert result.gaps[0]["id"] == "monitor-5"
    assert result.gaps[0]["status"] == "failing"
    assert all(g["next_action"] for g in result.gaps)


def test_attestations_in_the_spec_count(spec_folder: Path) -> None:
    spec = spec_folder / "mlready.yaml"
    spec.write_text(
        spec.read_text()
        + "  attestations:\n"
        + "    - {item: data-5, by: Dana, date: 2026-06-15, evidence: 'wiki/privacy.md'}\n"
    )
    (spec_folder / "wiki").mkdir()
    (spec_folder / "wiki" / "privacy.md").write_text("No personal data.\n")
    now = __import__("datetime").datetime(2026, 7, 1, tzinfo=__import__("datetime").timezone.utc)
    result = readiness(load_spec(spec_folder), now=now)
    item = next(i for i in result.items if i.id == "data-5")
    assert (item.points, item.passing_points, item.status) == (0.5, 0.5, "attested")
    assert item.attestation == {
        "by": "Dana",
        "date": "2026-06-15",
        "evidence": "wiki/privacy.md",
        "note": "",
        "evidence_sha256": __import__("hashlib").sha256(b"No personal data.\n").hexdigest(),
    }


def test_hostile_strings_are_escaped_in_html_and_markdown(spec_folder: Path) -> None:
    from mlready.checklist.report import render_html, render_markdown

    hostile = "<script>alert(1)</script>|**x**"
    spec = spec_folder / "mlready.yaml"
    text = spec.read_text().replace(
        "owner: retention-analytics\n  description", f"owner: '{hostile}'\n  description", 1
    )
    text += (
        "  attestations:\n"
        f"    - {{item: model-7, by: '{hostile}', date: 2026-06-15, evidence: '{hostile}', "
        f"note: '<img src=x onerror=alert(2)>'}}\n"
    )
    spec.write_text(text)
    evidence_after(spec_folder, 1)
    result = readiness(load_spec(spec_folder))
    html = render_html(result)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = render_markdown(result)
    assert "<script>" not in markdown
    assert "&lt;script&gt;" in markdown
    assert "\\|\\*\\*x\\*\\*" in markdown


def test_the_model_in_production_is_judged_not_a_newer_failed_candidate(spec_folder: Path) -> None:
    ev = evidence_after(spec_folder, 2)
    artifacts = Path(ev.artifacts)
    production_run = ev.step("train")[-1].run_id
    write_run(artifacts, "train", 3, status="failed", business_value=-5000.0)
    ev = gather(ev.loaded)
    prod = SimpleNamespace(**{**registry_facts(2).production.__dict__, "run_id": production_run})
    ev.registry = RegistryFacts(**{**registry_facts(2).__dict__, "production": prod})
    result = judge(ev, "business-1")
    assert result.status == "passing"
    assert production_run in result.detail
    assert ev.model_run[0].run_id == production_run
    ev.registry = RegistryFacts(model_name="telco-churn")  # nothing in production
    assert ev.model_run[0].run_id == production_run, "else the newest run that passed"


def test_one_batch_checked_again_is_one_measurement(spec_folder: Path) -> None:
    loaded = load_spec(spec_folder)
    artifacts = Path(loaded.spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    for n in (1, 2, 3):
        write_run(artifacts, "check-drift", n, current={"serve_run": "same"}, model_age_days=5.0)
    ev = gather(loaded)
    assert (judge(ev, "model-2").points, judge(ev, "model-2").runs) == (0.5, 1)
    result = judge(ev, "model-4")
    assert result.points == 0.5
    assert "two ages" in result.next_action


def test_a_batch_answered_from_the_cache_checked_nothing(spec_folder: Path) -> None:
    loaded = load_spec(spec_folder)
    artifacts = Path(loaded.spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    write_run(artifacts, "serve-batch", 1)
    for n in (2, 3):
        write_run(artifacts, "serve-batch", n, cache={"batch_hit": True})
    ev = gather(loaded)
    for key in ("monitor-5", "infra-6", "monitor-2"):
        assert judge(ev, key).points == 0.5, key


def test_slice_bars_follow_each_metric_direction_when_training_recorded_none(
    spec_folder: Path,
) -> None:
    validation = {
        **_metadata(3)["validation"],
        "thresholds": [],
        "slices": {
            "holdout": [
                {
                    "name": "plan",
                    "groups": [
                        {
                            "group": "good",
                            "rows": 90,
                            "metrics": {"brier_score": 0.10, "roc_auc": 0.9},
                        },
                        {
                            "group": "bad",
                            "rows": 90,
                            "metrics": {"brier_score": 0.20, "roc_auc": 0.9},
                        },
                    ],
                }
            ]
        },
    }
    result = judge(_after(spec_folder, "train", metadata={"validation": validation}), "model-6")
    assert "plan = bad: brier_score 0.200 against 0.16" in result.detail
    assert "plan = good" not in result.detail


@pytest.mark.parametrize(
    "line",
    [
        "[1]",
        "null",
        '{"step": "train", "run_id": "x", "started_at": "2026-11-01", "status": "passed", '
        '"summary": null, "run_dir": null}',
        '{"step": "serve-batch", "run_id": "y", "started_at": "2026-11-01", "status": "passed", '
        '"summary": {"sla": {"budget_s": 5, "wall_s": null}, "canary": "x", '
        '"unseen_categories": [1], "nan_predictions": "many"}}',
        '{"step": "check-drift", "run_id": "z", "started_at": "2026-11-01", "status": "passed", '
        '"summary": {"share_drifted": null, "dataset_drift": false, "performance": {"value": 1}, '
        '"model_age_days": "old", "drifted": 3}}',
    ],
)
def test_malformed_evidence_scores_nothing_and_warns_instead_of_crashing(
    spec_folder: Path, line: str
) -> None:
    from mlready.checklist.report import render_html, render_markdown

    evidence_after(spec_folder, 2)
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    with open(artifacts / "runs.jsonl", "a") as handle:
        handle.write(line + "\n")
    result = readiness(load_spec(spec_folder))
    render_html(result)
    render_markdown(result)
    assert 0 <= result.final_score <= 7


def test_a_registry_that_is_not_mlready_is_reported_and_left_untouched(spec_folder: Path) -> None:
    import sqlite3

    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    database = artifacts / "registry.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table other (x int)")
    before = database.read_bytes()
    result = readiness(load_spec(spec_folder))
    assert any("not an mlready registry" in w for w in result.warnings)
    assert database.read_bytes() == before
    (artifacts / "registry.db").write_bytes(b"")
    result = readiness(load_spec(spec_folder))
    assert database.read_bytes() == b""


def test_no_run_log_is_a_warning(spec_folder: Path) -> None:
    result = readiness(load_spec(spec_folder))
    assert any("no run log" in w for w in result.warnings)


# ----------------------------------------------- issue 15: placeholders earn nothing (recipes)


def _git_repo(folder: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init")


def test_a_placeholder_ci_file_and_an_empty_test_file_earn_nothing(spec_folder: Path) -> None:
    spec = spec_folder / "mlready.yaml"
    spec.write_text(spec.read_text().replace(TEST_COMMAND, ""))
    (spec_folder / ".ci").mkdir()
    (spec_folder / ".ci" / "pipeline").write_text("mlready test\n")
    (spec_folder / "tests").mkdir(exist_ok=True)
    (spec_folder / "tests" / "test_features.py").write_text("")
    _git_repo(spec_folder)
    before = readiness(load_spec(spec_folder))
    items = {i.id: i for i in before.items}
    assert (items["data-7"].points, items["data-7"].status) == (0, "not done")
    assert "test files or a CI file alone prove nothing" in items["data-7"].detail
    assert "checklist.test_command" in items["data-7"].next_action
    assert (items["model-1"].points, items["model-1"].status) == (0, "not done")
    assert "no model has been trained" in items["model-1"].detail
    assert before.final_score == 0


def test_a_test_run_with_no_test_or_a_failure_does_not_pass_data_7(spec_folder: Path) -> None:
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    write_run(artifacts, "test", 1, tests=0)
    result = judge(gather(load_spec(spec_folder)), "data-7")
    assert result.status == "failing"
    assert result.runs == 0
    assert "empty test file proves nothing" in result.detail
    write_run(artifacts, "test", 2, failures=1, status="failed")
    result = judge(gather(load_spec(spec_folder)), "data-7")
    assert (result.status, result.runs) == ("failing", 0)
    assert "Tests failed" in result.detail
    write_run(artifacts, "test", 3, junit_sha256="0" * 64)  # the report was swapped afterwards
    result = judge(gather(load_spec(spec_folder)), "data-7")
    assert result.status == "failing"
    assert "missing or changed" in result.detail


def test_a_model_trained_from_a_modified_spec_does_not_keep_model_1(spec_folder: Path) -> None:
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    for n in (1, 2):
        write_run(artifacts, "train", n, provenance={"spec_committed": False, "git_dirty": True})
    ev = gather(load_spec(spec_folder))
    ev.repo = RepoFacts(root=str(spec_folder), spec_tracked=True, spec_clean=True)
    result = judge(ev, "model-1")
    assert (result.status, result.points) == ("not done", 0)
    assert "trained from a spec with uncommitted changes" in result.detail
    write_run(artifacts, "train", 3)  # committed: half a point
    write_run(artifacts, "train", 4, provenance={"spec_committed": False})
    ev = gather(load_spec(spec_folder))
    ev.repo = RepoFacts(root=str(spec_folder), spec_tracked=True, spec_clean=True)
    result = judge(ev, "model-1")
    assert result.status == "failing", "the model judged now came from a modified spec"
    assert result.runs == 1
    assert "uncommitted changes" in result.detail
    write_run(artifacts, "train", 5, provenance={"spec_committed": None})  # an older record
    ev = gather(load_spec(spec_folder))
    ev.repo = RepoFacts(root=str(spec_folder), spec_tracked=True, spec_clean=True)
    assert "does not record whether" in judge(ev, "model-1").detail


def test_a_forbidden_column_the_data_does_not_hold_earns_nothing(spec_folder: Path) -> None:
    leakage = {
        **_metadata(1)["leakage"],
        "forbidden": {"declared": ["no_such_column"], "present": [], "used": []},
    }
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    for n in (1, 2):
        write_run(artifacts, "train", n, metadata={"leakage": leakage})
    result = judge(gather(load_spec(spec_folder)), "data-4")
    assert (result.status, result.points) == ("not done", 0)
    assert "keeps nothing out" in result.detail
    used = {**leakage, "forbidden": {"declared": ["a"], "present": ["a"], "used": ["a"]}}
    write_run(artifacts, "train", 3, metadata={"leakage": used})
    result = judge(gather(load_spec(spec_folder)), "data-4")
    assert result.status == "failing"
    assert "1 used as features" in result.detail


def test_train_records_which_forbidden_columns_the_data_holds() -> None:
    import pandas as pd

    from mlready.training.leakage import forbidden_facts

    spec = SimpleNamespace(data=SimpleNamespace(forbidden_columns=["customer_id", "ghost"]))
    data = SimpleNamespace(
        frame=pd.DataFrame(columns=["customer_id", "tenure", "churn"]),
        numeric=["tenure"],
        categorical=[],
    )
    assert forbidden_facts(spec, data) == {
        "declared": ["customer_id", "ghost"],
        "present": ["customer_id"],
        "used": [],
    }


def test_a_search_over_one_candidate_is_not_tuning(spec_folder: Path) -> None:
    one = {
        "search": {
            "method": "random",
            "candidates": 1,
            "metric": "roc_auc",
            "best_score": 0.8,
            "best_params": {"learning_rate": 0.1},
            "results": [{"params": {"learning_rate": 0.1}, "score": 0.8}] * 3,
        }
    }
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    for n in (1, 2):
        write_run(artifacts, "train", n, metadata={"model": one})
    result = judge(gather(load_spec(spec_folder)), "model-3")
    assert (result.status, result.points) == ("not done", 0)
    assert "1 distinct configuration" in result.detail
    assert "not a search" in result.detail
    assert "with learning_rate=0.1 (train" in result.detail  # as a reader writes it, no dict
    assert "{" not in result.detail


def _registry(history: list[tuple[Any, ...]], *, earlier_passed: bool = True) -> RegistryFacts:
    """A registry with versions 1 and 2 and the given production moves
    (action, from, to, day)."""
    versions = tuple(
        SimpleNamespace(
            model_name="telco-churn",
            run_id=None,
            version=v,
            sha256="b" * 64,
            passed=earlier_passed if v == 1 else True,
            artifact_uri=f"/store/{v}.skops",
        )
        for v in (1, 2)
    )
    moves = tuple(
        {
            "alias": "production",
            "from_version": old,
            "to_version": new,
            "accepted": True,
            "forced": False,
            "action": action,
            "reason": "",
            "at": f"2026-11-0{day}T00:00:00+00:00",
        }
        for action, old, new, day in history
    )
    current = moves[-1]["to_version"]
    previous = next(
        (
            m["from_version"]
            for m in reversed(moves)
            if m["to_version"] == current and m["from_version"] not in (None, current)
        ),
        None,
    )
    return RegistryFacts(
        model_name="telco-churn",
        exists=True,
        versions=versions,
        production=versions[current - 1],
        history=moves,
        previous=previous,
        previous_artifact_ok=previous is not None,
        production_artifact_ok=True,
    )


def test_rollback_needs_a_gated_earlier_version_and_a_recorded_rollback(
    spec_folder: Path,
) -> None:
    ev = evidence_after(spec_folder, 1)
    ev.registry = _registry([("promote", None, 1, 1), ("promote", 1, 1, 1)])  # a no-op again
    result = judge(ev, "infra-7")
    assert (result.status, result.points) == ("not done", 0)
    assert "No earlier production version" in result.detail
    ev.registry = _registry([("promote", None, 1, 1), ("promote", 1, 2, 1)])
    result = judge(ev, "infra-7")
    assert (result.status, result.points) == ("not done", 0)
    assert "No rollback has ever been done" in result.detail
    assert "mlready registry rollback" in result.next_action
    drill = [("rollback", 2, 1, 2), ("promote", 1, 2, 2)]
    ev.registry = _registry([("promote", None, 1, 1), ("promote", 1, 2, 1), *drill])
    assert (judge(ev, "infra-7").status, judge(ev, "infra-7").points) == ("passing", 0.5)
    again = [("rollback", 2, 1, 3), ("promote", 1, 2, 3)]
    ev.registry = _registry([("promote", None, 1, 1), ("promote", 1, 2, 1), *drill, *again])
    result = judge(ev, "infra-7")  # drills on two days, by hand as far as anyone can tell
    assert (result.status, result.points) == ("passing", 0.5)
    assert "not yet recorded with provenance" in result.detail
    assert "Rollbacks done on 2 days" in result.detail
    ev.registry = _registry(
        [("promote", None, 1, 1), ("promote", 1, 2, 1), *drill, *again], earlier_passed=False
    )
    result = judge(ev, "infra-7")
    assert (result.status, result.points) == ("failing", 0)
    assert "never passed the promotion gate" in result.detail


def test_infra_5_credits_a_model_stored_as_skops_and_not_one_stored_as_pickle(
    spec_folder: Path,
) -> None:
    import dataclasses

    ev = evidence_after(spec_folder, 2)
    result = judge(ev, "infra-5")
    assert (result.status, result.passing_points) == ("passing", 1)
    assert "Production telco-churn:2 is stored as skops" in result.detail
    pickled = SimpleNamespace(**{**vars(ev.registry.production), "artifact_uri": "/store/2.joblib"})
    ev.registry = dataclasses.replace(ev.registry, production=pickled)
    result = judge(ev, "infra-5")
    # the check is in place; it earns nothing now (the seed row of point 14 shows the 0)
    assert (result.status, result.passing_points) == ("failing", 0)
    assert "Production telco-churn:2 is stored as joblib (pickle)" in result.detail
    assert "--allow-pickle" in result.next_action
    # nothing in production: the judged train run's own model file decides
    ev.registry = RegistryFacts(model_name="telco-churn")
    artifacts = Path(ev.loaded.spec.project.artifacts_dir)
    write_run(artifacts, "train", 3, ci="github", metadata={"artifact": {"format": "joblib"}})
    fresh = gather(ev.loaded)
    fresh.registry, fresh.repo = ev.registry, ev.repo
    result = judge(fresh, "infra-5")
    assert result.status == "failing"
    assert "model is stored as joblib (pickle)" in result.detail


def test_expectations_must_cover_the_features(spec_folder: Path) -> None:
    unknown = {"features": {"numeric": ["a", "b"], "categorical": ["c", "d"]}}
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    for n in (1, 2):
        write_run(artifacts, "validate-data", n)
        write_run(artifacts, "train", n, metadata=unknown)
    result = judge(gather(load_spec(spec_folder)), "data-1")
    assert (result.status, result.points) == ("not done", 0)
    assert "0 of 4 features" in result.detail
    assert "`mlready validate-data --infer`" in result.next_action
    spec = spec_folder / "mlready.yaml"  # a type alone limits nothing
    spec.write_text(
        spec.read_text().replace(
            "tenure: {type: number, min: 0, max: 100, max_null_fraction: 0}",
            "tenure: {type: number}",
        )
    )
    write_run(artifacts, "train", 3)
    result = judge(gather(load_spec(spec_folder)), "data-1")
    assert result.status == "failing"
    assert "2 of 3 features" in result.detail
    assert "without: tenure" in result.detail


def _without_alerts(folder: Path) -> None:
    spec = folder / "mlready.yaml"
    text = spec.read_text()
    start, end = text.index("  alerts:\n"), text.index("\nchecklist:")
    spec.write_text(text[:start] + "  alerts: []\n" + text[end:])


def test_removing_every_alert_rule_lowers_the_score(spec_folder: Path) -> None:
    evidence_after(spec_folder, 2)
    with_rules = readiness(load_spec(spec_folder))
    _without_alerts(spec_folder)
    without = readiness(load_spec(spec_folder))
    before = {s.key: s.score for s in with_rules.sections}
    after = {s.key: s.score for s in without.sections}
    assert after["monitor"] < before["monitor"]
    assert after["monitor"] == before["monitor"] - 0.5 * len(ALERT_EVENTS)
    assert without.final_score <= with_rules.final_score
    item = next(i for i in without.items if i.id == "monitor-3")
    assert item.points == 0.5
    assert "No alert rule fires on dataset_drift or feature_drift" in item.detail
    assert "--test-alert" in item.next_action


def test_alert_rules_count_once_a_test_alert_reached_every_channel(spec_folder: Path) -> None:
    evidence_after(spec_folder, 2)
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    log = (artifacts / "runs.jsonl").read_text().splitlines()
    (artifacts / "runs.jsonl").write_text(
        "\n".join(line for line in log if '"alert-test"' not in line) + "\n"
    )
    ev = gather(load_spec(spec_folder))
    result = judge(ev, "monitor-3")
    assert result.points == 0.5
    assert "no test alert has reached all of its channels (ops-log, on-call)" in result.detail
    half = [{"rule": "inputs-drifted", "channels": {"ops-log": True, "on-call": False}}]
    write_run(artifacts, "alert-test", 3, alerts=half)
    assert judge(gather(load_spec(spec_folder)), "monitor-3").points == 0.5
    write_run(artifacts, "alert-test", 4, alerts=ALERTS_TESTED)
    assert judge(gather(load_spec(spec_folder)), "monitor-3").points == 1.0


def test_check_drift_test_alert_delivers_and_records(sample_copy: Path, run_cli) -> None:
    from mlready.runs import read_run_log

    result = run_cli("--spec", str(sample_copy), "check-drift", "--test-alert", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["undelivered"] == []
    records = read_run_log(sample_copy / ".mlready", "alert-test")
    assert len(records) == 1
    alerts = {a["rule"]: a for a in records[0].summary["alerts"]}
    assert alerts["inputs-drifted"]["channels"] == {"ops-log": True, "on-call": True}
    inbox = (sample_copy / ".mlready" / "on-call-inbox.jsonl").read_text()
    assert "TEST of alert rule 'inputs-drifted'" in inbox
    tested = _tested_rules(gather(load_spec(sample_copy)))
    assert tested["inputs-drifted"] == {"ops-log", "on-call"}


def test_check_drift_test_alert_needs_rules(spec_folder: Path, run_cli) -> None:
    _without_alerts(spec_folder)
    result = run_cli("--spec", str(spec_folder), "check-drift", "--test-alert")
    assert result.exit_code == 2
    assert "monitoring.alerts has no rule to test" in result.stderr


def test_regression_business_value_reaches_the_report(spec_folder: Path) -> None:
    regression = {
        "business": {
            "currency": "USD",
            "cv_value": -500.0,
            "baseline_value": -900.0,
            "gain_over_baseline": 400.0,
        }
    }
    artifacts = Path(load_spec(spec_folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True)
    for n in (1, 2):
        write_run(
            artifacts,
            "train",
            n,
            metadata=regression,
            business_value=-500.0,
            decision_threshold=None,
            ci="github",
        )
    result = judge(gather(load_spec(spec_folder)), "business-1")
    assert (result.status, result.points) == ("passing", 1.0)
    assert "no training run has measured it" not in result.detail
    assert "the model saves 400 USD" in result.detail
    report = readiness(load_spec(spec_folder))
    assert report.business["value"] == -500.0
    worse = {"business": {**regression["business"], "gain_over_baseline": -10.0}}
    write_run(artifacts, "train", 3, metadata=worse, business_value=-910.0)
    assert judge(gather(load_spec(spec_folder)), "business-1").status == "failing"


def test_the_no_model_baseline_of_a_regression_predicts_the_median() -> None:
    import numpy as np

    from mlready.training.business import regression_baseline_value, regression_value

    y = np.array([1.0, 2.0, 10.0, 4.0])
    assert regression_baseline_value(y, 2.0) == -2.0 * np.abs(y - np.median(y)).sum()
    assert regression_value(y, y, 2.0) == 0.0


# ---------------------------------------------------- every next action names a real command


def _strings(path: Path) -> list[str]:
    """Every string literal of a module, implicitly joined pieces together."""
    import ast

    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            out.append(
                "".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)
            )
    return out


def _mlready_commands() -> set[str]:
    import re

    import mlready.checklist.items as items_module
    import mlready.checklist.rubric as rubric_module

    found = set()
    for module in (items_module, rubric_module):
        for text in _strings(Path(module.__file__)):
            found.update(re.findall(r"`mlready ([^`]+)`", text))
    return found


def test_every_command_an_item_names_exists() -> None:
    import re

    from typer.testing import CliRunner

    from mlready.cli.app import app
    from tests.conftest import cli_commands

    commands = sorted(cli_commands(), key=lambda c: -len(c.split()))
    named = _mlready_commands()
    assert len(named) >= 15, named
    assert "validate-data --infer" in named
    runner = CliRunner()
    for text in sorted(named):
        command = next((c for c in commands if (text + " ").startswith(c + " ")), None)
        assert command is not None, f"`mlready {text}` names no command"
        shown = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, text
        for option in re.findall(r"(?<!\S)(--?[a-z][a-z-]*)", text[len(command) :]):
            known = re.search(rf"{re.escape(option)}(?![\w-])", shown.output)
            assert known, f"`mlready {text}`: {command} has no {option}"


# ------------------------------------------------------------------- loopholes a reviewer found


def _runs(folder: Path) -> Path:
    artifacts = Path(load_spec(folder).spec.project.artifacts_dir)
    artifacts.mkdir(parents=True, exist_ok=True)
    return artifacts


def _edit_spec(folder: Path, old: str, new: str) -> None:
    spec = folder / "mlready.yaml"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))


def test_slices_held_to_no_threshold_meet_no_bar(spec_folder: Path) -> None:
    artifacts = _runs(spec_folder)
    _edit_spec(
        spec_folder,
        "thresholds: {roc_auc: 0.80, average_precision: 0.55, brier_score: 0.16}",
        "thresholds: {}",
    )
    for n in (1, 2):
        no_bars = {**_metadata(n)["validation"], "thresholds": []}
        write_run(artifacts, "train", n, ci="github", metadata={"validation": no_bars})
    result = judge(gather(load_spec(spec_folder)), "model-6")
    assert (result.status, result.points, result.runs) == ("not done", 0, 0)
    assert "All meet the bars" not in result.detail
    assert "sets no bar" in result.detail
    assert "validation.thresholds" in result.next_action


def test_forbidding_the_target_or_an_id_column_keeps_nothing_out(spec_folder: Path) -> None:
    artifacts = _runs(spec_folder)
    declared = ["churn", "customer_id"]
    leakage = {
        **_metadata(1)["leakage"],
        "forbidden": {"declared": declared, "present": declared, "used": []},
    }
    for n in (1, 2):
        write_run(artifacts, "train", n, ci="github", metadata={"leakage": leakage})
    result = judge(gather(load_spec(spec_folder)), "data-4")
    assert (result.status, result.points, result.runs) == ("not done", 0, 0)
    assert "churn, customer_id: the target or an id column" in result.detail
    assert "other than the target and data.id_columns" in result.next_action
    real = {**leakage, "forbidden": {"declared": [*declared, "churn_reason"], "used": []}}
    real["forbidden"]["present"] = real["forbidden"]["declared"]
    write_run(artifacts, "train", 3, ci="github", metadata={"leakage": real})
    result = judge(gather(load_spec(spec_folder)), "data-4")
    assert (result.status, result.runs) == ("passing", 1)
    assert "1 forbidden columns found in the data (churn_reason)" in result.detail


@pytest.mark.parametrize(
    ("tenure", "contract", "limits"),
    [
        ("{min: -1.0e+308, max: 1.0e+308}", "{regex: '.*'}", False),
        ("{min: -.inf, max: .inf}", "{regex: ''}", False),
        ("{min: -1.0e+12, max: 1.0e+12}", "{regex: 'x?|y'}", False),
        ("{min: 0, max: .inf}", "{regex: '^(Month|One|Two)'}", True),
        ("{max: 100}", "{regex: '[A-Z]'}", True),
    ],
)
def test_expectations_that_let_any_value_in_do_not_limit_it(
    spec_folder: Path, tenure: str, contract: str, limits: bool
) -> None:
    _edit_spec(
        spec_folder,
        "tenure: {type: number, min: 0, max: 100, max_null_fraction: 0}",
        f"tenure: {tenure}",
    )
    _edit_spec(
        spec_folder,
        'contract: {allowed_values: ["Month-to-month", "One year", "Two year"], '
        "max_null_fraction: 0}",
        f"contract: {contract}",
    )
    artifacts = _runs(spec_folder)
    for n in (1, 2):
        write_run(artifacts, "validate-data", n, ci="github")
        write_run(artifacts, "train", n, ci="github")
    result = judge(gather(load_spec(spec_folder)), "data-1")
    if limits:
        assert (result.status, result.points) == ("passing", 1.0)
    else:
        assert (result.status, result.passing_points) == ("failing", 0)
        assert "1 of 3 features" in result.detail
        assert "without: tenure, contract" in result.detail
        assert "limits nothing" in result.detail


def test_a_batch_answered_from_the_cache_meets_no_sla(spec_folder: Path) -> None:
    artifacts = _runs(spec_folder)
    missed = {**SUMMARIES["serve-batch"]["sla"], "wall_s": 1500.0, "met": False}
    write_run(artifacts, "serve-batch", 1, ci="github", sla=missed)
    cached = {"batch_hit": True, "from_run": "1"}
    for n in (2, 3):
        write_run(artifacts, "serve-batch", n, ci="github", cache=cached)
    ev = gather(load_spec(spec_folder))
    for key in ("monitor-6", "business-2"):
        result = judge(ev, key)
        assert (result.status, result.points, result.runs) == ("failing", 0.5, 1), key
    assert "0 of 1 run met it" in judge(ev, "business-2").detail


def test_a_server_counts_for_monitor_6_by_its_run_log_record(spec_folder: Path) -> None:
    artifacts = _runs(spec_folder)
    write_run(artifacts, "serve-batch", 1, ci="github")
    # a server without a latency budget, or that judged no window, measured nothing
    write_run(artifacts, "serve", 2, ci="github", predict_requests=40, sla={"p99_ms": None})
    unjudged = {"p99_ms": 20.0, "windows": 0, "breaches": 0, "met": None}
    write_run(artifacts, "serve", 3, ci="github", predict_requests=40, sla=unjudged)
    result = judge(gather(load_spec(spec_folder)), "monitor-6")
    assert result.status == "passing"
    assert "the latest took 2.0 s" in result.detail  # still the batch's reading
    kept = {"p99_ms": 20.0, "windows": 4, "breaches": 0, "met": True}
    write_run(
        artifacts,
        "serve",
        4,
        ci="github",
        predict_requests=400,
        latency_ms={"p50": 2.0, "p99": 9.5},
        sla=kept,
    )
    result = judge(gather(load_spec(spec_folder)), "monitor-6")
    assert result.status == "passing"
    assert result.runs == 2
    assert "the latest (serve " in result.detail
    assert "available 100.000%, p99 9.5 ms against a 20 ms budget, 0 of 4 windows" in (
        result.detail
    )


def test_a_cached_batch_does_not_skip_the_throughput_check(spec_folder: Path) -> None:
    artifacts = _runs(spec_folder)
    for n in (1, 2, 3):
        write_run(artifacts, "serve-batch", n, ci="github")
    slow = {**SUMMARIES["serve-batch"]["sla"], "rows_per_s": 5.0}
    write_run(artifacts, "serve-batch", 4, ci="github", sla=slow)
    write_run(artifacts, "serve-batch", 5, ci="github", cache={"batch_hit": True})
    result = judge(gather(load_spec(spec_folder)), "monitor-6")
    assert result.status == "failing"
    assert "Throughput fell to 10%" in result.detail


def _served(artifacts: Path, n: int, source: str, **changes: Any) -> str:
    return write_run(artifacts, "serve-batch", n, ci="github", source=source, **changes)


def test_checking_an_old_batch_again_does_not_clear_drift_on_a_newer_one(
    spec_folder: Path,
) -> None:
    artifacts = _runs(spec_folder)
    write_run(artifacts, "train", 1, ci="github")
    old = _served(artifacts, 1, str(spec_folder / "data" / "old.csv"))
    write_run(artifacts, "check-drift", 1, ci="github", current={"serve_run": old})
    new = _served(artifacts, 2, "data/new.csv")
    drifted = {"dataset_drift": True, "share_drifted": 0.7, "drifted": ["tenure", "contract"]}
    write_run(artifacts, "check-drift", 2, ci="github", current={"serve_run": new}, **drifted)
    assert judge(gather(load_spec(spec_folder)), "monitor-3").status == "failing"
    # the old file again, by path (relative this time), then served again from the cache
    write_run(artifacts, "check-drift", 3, ci="github", current={"source": "data/old.csv"})
    again = _served(artifacts, 3, "data/old.csv", cache={"batch_hit": True})
    write_run(artifacts, "check-drift", 3, ci="github", current={"serve_run": again})
    result = judge(gather(load_spec(spec_folder)), "monitor-3")
    assert result.status == "failing"
    assert "found 2 of 3 served features drifted (70%)" in result.detail
    assert "does not replace that verdict" in result.detail
    newer = _served(artifacts, 4, "data/newer.csv")
    write_run(artifacts, "check-drift", 4, ci="github", current={"serve_run": newer})
    assert judge(gather(load_spec(spec_folder)), "monitor-3").status == "passing"


def test_serving_an_old_batch_again_does_not_clear_rejected_rows_on_a_newer_one(
    spec_folder: Path,
) -> None:
    artifacts = _runs(spec_folder)
    _served(artifacts, 1, "data/old.csv")
    _served(artifacts, 2, "data/new.csv", rows_rejected=7)
    _served(artifacts, 3, "data/old.csv")
    write_run(
        artifacts, "validate-data", 3, ci="github", environment="serving", source="data/old.csv"
    )
    result = judge(gather(load_spec(spec_folder)), "monitor-2")
    assert result.status == "failing"
    assert "7 rows rejected" in result.detail
    assert "does not replace that verdict" in result.detail
    _served(artifacts, 4, "data/new.csv")  # the same input checked again: its own verdict
    assert judge(gather(load_spec(spec_folder)), "monitor-2").status == "passing"


@pytest.mark.parametrize(("rows", "counts"), [(2, False), (29, False), (30, True)])
def test_realized_performance_needs_enough_labelled_rows(
    spec_folder: Path, rows: int, counts: bool
) -> None:
    artifacts = _runs(spec_folder)
    write_run(artifacts, "train", 1, ci="github")
    perfect = {"primary_metric": "roc_auc", "value": 1.0, "training_value": 0.86}
    report = {"performance": {"rows": rows, "business": {"value": 900.0, "per_row": 9.0}}}
    for n in (1, 2):
        write_run(
            artifacts,
            "check-drift",
            n,
            ci="github",
            performance=perfect,
            files={"drift.json": report},
        )
    ev = gather(load_spec(spec_folder))
    result = judge(ev, "model-2")
    realized = judge(ev, "business-1").detail
    if counts:
        assert (result.status, result.points) == ("passing", 1.0)
        assert "realized on served data" in realized
    else:
        assert (result.status, result.points) == ("not done", 0)
        assert f"{rows:,} labelled rows" in result.detail
        assert "counts from 30 rows" in result.detail
        assert "realized" not in realized
        assert judge(ev, "model-4").points == 0


def test_wording_names_the_users_command_and_pluralises(spec_folder: Path) -> None:
    assert "`mlready run`" in judge(evidence_after(spec_folder, 0), "infra-3").next_action
    from mlready.checklist import items

    assert "make demo" not in "\n".join(_strings(Path(items.__file__)))
    folder = spec_folder.parent / "two"
    shutil.copytree(spec_folder, folder)
    assert "2 labelled batches" in judge(evidence_after(folder, 2), "model-2").detail
