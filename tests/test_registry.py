"""The registry: concurrency, faults, tampering, the gate; on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import joblib
import pandas as pd
import pytest

from mlready.errors import DataError, NotFoundError, UsageError
from mlready.model_format import ModelPolicy
from mlready.registry import ModelRef, Registry, TrainedRun, parse_ref
from tests.conftest import ROOT, CliResult, python_code
from tests.training_data import write_project

Run = Callable[..., CliResult]
POSTGRES_URL = os.environ.get(
    "MLREADY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres:mlready@127.0.0.1:5432/postgres"
)


def _postgres_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server, dropped afterwards; skip when none answers."""
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # no driver, no server, wrong password
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL.split('@')[-1]}: {type(exc).__name__}")
    name = f"mlready_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
    else:
        yield from _postgres_database()


def recorded(folder: Path) -> TrainedRun:
    """A run folder with the hashes its record in the run log would hold."""
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    model = "model.skops" if "model.skops" in files else "model.joblib"
    return TrainedRun(folder, folder.name, files[model], files, model)


def fake_run(folder: Path, payload: object, passed: bool = True, fmt: str = "skops") -> TrainedRun:
    """A train run folder: a small model file (skops, or joblib) and the metadata train would
    write for it."""
    import skops.io

    folder.mkdir(parents=True)
    model = folder / f"model.{fmt}"
    if fmt == "skops":
        skops.io.dump(payload, model)
    else:
        joblib.dump(payload, model)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    metadata = {
        "passed": passed,
        "failures": [] if passed else ["roc_auc is 0.5"],
        "run_id": folder.name,
        "model": {"type": "test.Model", "params": {"payload": str(payload)}},
        "features": {"numeric": ["a"], "categorical": [], "dtypes": {"a": "float64"}},
        "validation": {
            "primary_metric": "roc_auc",
            "judged_on": "cv",
            "cv": {"roc_auc": {"mean": 0.8}},
            "thresholds": [],
        },
        "environment": {"python": "3.11.7", "packages": {"scikit-learn": "1.9.1"}},
        "data": {"fingerprint": "f" * 64},
        "spec": {"hash": "s" * 64},
        "artifact": {"file": model.name, "sha256": digest, "format": fmt},
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return recorded(folder)


# --------------------------------------------------------------------------------------------------
# versions, idempotency, tampering
# --------------------------------------------------------------------------------------------------


def test_register_is_idempotent_and_loading_is_verified(registry_url: str, tmp_path: Path) -> None:
    registry = Registry(registry_url, tmp_path / "store")
    first, created = registry.register("churn", fake_run(tmp_path / "r1", {"m": 1}), actor="t")
    assert (first.version, created) == (1, True)
    again, created = registry.register("churn", recorded(tmp_path / "r1"), actor="t")
    assert (again.version, created) == (1, False)
    second, _ = registry.register("churn", fake_run(tmp_path / "r2", {"m": 2}), actor="t")
    assert second.version == 2
    assert registry.aliases_of("churn") == {"candidate": 2}
    assert registry.load(registry.resolve(ModelRef("churn", version=1))) == {"m": 1}
    # one byte changed in the stored artifact: loading refuses, before unpickling anything
    stored = Path(first.artifact_uri)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    with pytest.raises(DataError, match="refusing to load churn:1"):
        registry.load(registry.resolve(ModelRef("churn", version=1)))


def test_failing_runs_need_a_reason(registry_url: str, tmp_path: Path) -> None:
    registry = Registry(registry_url, tmp_path / "store")
    run = fake_run(tmp_path / "r1", {"m": 1}, passed=False)
    with pytest.raises(UsageError, match="--allow-failing --reason"):
        registry.register("churn", run, actor="t")
    version, _ = registry.register("churn", run, actor="t", allow_failing_reason="baseline")
    assert version.allow_failing_reason == "baseline"
    assert version.passed is False


def _register_worker(url: str, store: str, run: str, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    Registry(url, Path(store)).register("churn", recorded(Path(run)), actor=f"p{os.getpid()}")


@pytest.mark.slow
def test_eight_processes_get_eight_consecutive_versions(registry_url: str, tmp_path: Path) -> None:
    runs = [fake_run(tmp_path / f"r{i}", {"m": i}) for i in range(8)]
    Registry(registry_url, tmp_path / "store")  # the schema exists before the race
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(8)
    processes = [
        context.Process(
            target=_register_worker,
            args=(registry_url, str(tmp_path / "store"), str(r.folder), barrier),
        )
        for r in runs
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
        assert p.exitcode == 0
    registry = Registry(registry_url, tmp_path / "store")
    versions = registry.list_versions("churn")
    assert [v.version for v in versions] == list(range(1, 9))
    assert len({v.sha256 for v in versions}) == 8
    for v in versions:
        assert hashlib.sha256(Path(v.artifact_uri).read_bytes()).hexdigest() == v.sha256
    if registry_url.startswith("sqlite"):
        with sqlite3.connect(registry_url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


_KILL_CHILD = """
import sys, time
from pathlib import Path
import mlready.registry as r

def pause(*args, **kwargs):
    print("PAUSED", flush=True)
    time.sleep(60)

point = sys.argv[4]
if point == "in-transaction":
    r.Registry._move = pause        # called inside the version's transaction, after its INSERT
else:
    r.Registry._insert = pause      # the artifact is stored; the transaction has not begun
from tests.test_registry import recorded
run = recorded(Path(sys.argv[3]))
r.Registry(sys.argv[1], Path(sys.argv[2])).register("churn", run, actor="victim")
"""


@pytest.mark.parametrize("point", ["before-transaction", "in-transaction"])
def test_sigkill_mid_register_leaves_all_or_nothing(
    registry_url: str, tmp_path: Path, point: str
) -> None:
    store = tmp_path / "store"
    run = fake_run(tmp_path / "r1", {"m": 1})
    Registry(registry_url, store)
    child = subprocess.Popen(
        [sys.executable, "-c", _KILL_CHILD, registry_url, str(store), str(run.folder), point],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "PAUSED"
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    registry = Registry(registry_url, store)
    assert registry.list_versions("churn") == []  # nothing half-registered
    assert registry.aliases_of("churn") == {}
    version, created = registry.register("churn", run, actor="t")  # and the registry still works
    assert (version.version, created) == (1, True)
    assert registry.load(version) == {"m": 1}
    if registry_url.startswith("sqlite"):
        with sqlite3.connect(registry_url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_references_and_bad_names() -> None:
    assert parse_ref("churn@production", "x") == ModelRef("churn", alias="production")
    assert parse_ref("churn:3", "x") == ModelRef("churn", version=3)
    assert parse_ref("3", "x") == ModelRef("x", version=3)
    assert parse_ref("@candidate", "x") == ModelRef("x", alias="candidate")
    bad_refs = (
        "../etc@production",
        "a/b:1",
        "churn:0",
        "churn:x",
        "we ird",
        "churn:\u00b2",  # a superscript two: str.isdigit() says yes, int() says no
        "churn:99999999999999999999999",  # more than the database holds
        "\u00b2",
    )
    for bad in bad_refs:
        with pytest.raises(UsageError):
            parse_ref(bad, "x")


# --------------------------------------------------------------------------------------------------
# the CLI and the gate, with real train runs
# --------------------------------------------------------------------------------------------------

GATE_VALIDATION = """\
  cv: {strategy: stratified_kfold, folds: 3}
  holdout: {start: 2025-10-01}
  metrics: [roc_auc]
"""


def _features(folder: Path, numeric: list[str], categorical: list[str]) -> None:
    spec = folder / "mlready.yaml"
    text = re.sub(r"  features: \{.*\}\n", "", spec.read_text())
    spec.write_text(
        text.replace(
            "  timestamp_column: month\n",
            f"  timestamp_column: month\n  features: {{numeric: {numeric}, "
            f"categorical: {categorical}}}\n",
        )
    )


def _trained(run_cli: Run, folder: Path, numeric: list[str], categorical: list[str]) -> str:
    _features(folder, numeric, categorical)
    result = run_cli("--spec", str(folder), "train", "--no-importance")
    assert result.exit_code == 0, result.stdout + result.stderr
    return re.search(r"run folder: \S+/(\S+)", result.stdout).group(1)  # type: ignore[union-attr]


def test_gate_accepts_a_better_challenger_and_refuses_a_worse_one(
    tmp_path: Path, run_cli: Run
) -> None:
    write_project(
        tmp_path,
        validation=GATE_VALIDATION,
        extra=textwrap.dedent("""\
        registry:
          promotion: {metric: roc_auc, tolerance: 0.005}
        """),
    )
    spec = str(tmp_path)
    weak = _trained(run_cli, tmp_path, [], ["plan"])
    strong = _trained(run_cli, tmp_path, ["tenure"], ["plan"])

    result = run_cli("--spec", spec, "register", "--run", weak, "--promote", "production")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "no production yet" in result.stdout
    result = run_cli("--spec", spec, "register", "--run", strong, "--promote", "production")
    assert result.exit_code == 0, result.stdout
    assert "is not worse" in result.stdout
    assert "on the same holdout" in result.stdout

    result = run_cli("--spec", spec, "registry", "promote", "1")  # the weak one again
    assert result.exit_code == 1
    assert "refused" in result.stdout
    assert "is worse" in result.stdout
    result = run_cli("--spec", spec, "registry", "show", "--format", "json")
    assert json.loads(result.stdout)["version"] == 2  # production did not move

    result = run_cli("--spec", spec, "registry", "promote", "1", "--force")
    assert result.exit_code == 2
    assert "--reason" in result.stderr
    result = run_cli(
        "--spec", spec, "registry", "promote", "1", "--force", "--reason", "incident 42"
    )
    assert result.exit_code == 0
    result = run_cli("--spec", spec, "registry", "rollback")
    assert result.exit_code == 0
    assert "1 -> 2" in result.stdout

    history = json.loads(run_cli("--spec", spec, "registry", "history", "--format", "json").stdout)
    production = [h for h in history if h["alias"] == "production"]
    assert [(h["action"], h["accepted"], h["forced"]) for h in production] == [
        ("promote", True, False),
        ("promote", True, False),
        ("promote", False, False),
        ("promote", True, True),
        ("rollback", True, False),
    ]
    assert "incident 42" in production[3]["reason"]

    diff = json.loads(
        run_cli("--spec", spec, "registry", "diff", "1", "2", "--format", "json").stdout
    )
    assert diff["features"] == [{"key": "tenure", "a": None, "b": "numeric", "change": None}]
    assert any(item["key"] == "holdout roc_auc" for item in diff["metrics"])


def test_registered_version_carries_every_checklist_fact(tmp_path: Path, run_cli: Run) -> None:
    write_project(
        tmp_path,
        validation=GATE_VALIDATION,
        extra="business:\n  true_positive: {column: monthly_charges, multiplier: 2}\n"
        "  false_positive: -10\n",
    )
    _trained(run_cli, tmp_path, ["tenure", "monthly_charges"], ["plan"])
    assert run_cli("--spec", str(tmp_path), "register").exit_code == 0
    shown = json.loads(
        run_cli(
            "--spec", str(tmp_path), "registry", "show", "@candidate", "--format", "json"
        ).stdout
    )
    m = shown["metadata"]
    facts = {
        "features": m["features"]["numeric"],
        "target": m["target"],
        "model type": shown["model_type"],
        "params": m["model"]["params"],
        "metrics": m["validation"]["cv"],
        "business value": m["business"]["cv"]["best_threshold"]["value"],
        "training duration": m["training_seconds"],
        "author": m["author"],
        "creation time": shown["created_at"],
        "packages": m["environment"]["packages"],
        "data fingerprint": shown["data_fingerprint"],
        "spec hash": shown["spec_hash"],
        "storage location": shown["artifact_uri"],
        "sha256": shown["sha256"],
    }
    for fact, value in facts.items():
        assert value not in (None, "", [], {}), fact
    assert Path(shown["artifact_uri"]).is_file()
    assert run_cli("--spec", str(tmp_path), "registry", "verify").exit_code == 0


def test_bad_input_exits_clearly_and_changes_nothing(tmp_path: Path, run_cli: Run) -> None:
    write_project(tmp_path, validation=GATE_VALIDATION)
    spec = str(tmp_path)
    result = run_cli("--spec", spec, "register")
    assert result.exit_code == 4
    assert "no passing train run" in result.stderr
    _trained(run_cli, tmp_path, ["tenure"], ["plan"])
    assert run_cli("--spec", spec, "register").exit_code == 0
    cases = [
        (("registry", "show", "nosuch@production"), 4, "no model 'nosuch'"),
        (("registry", "show", "toy:7"), 4, "has no version 7; versions: 1"),
        (("registry", "show", "toy@gold"), 4, "has no alias 'gold'"),
        (("registry", "show", "../../etc@production"), 2, "is not allowed"),
        (("register", "--run", "20260101T000000Z-abcdef"), 4, "no train run"),
        (("register", "--run", "../x"), 2, "is not a run id"),
        (("registry", "rollback"), 4, "no alias 'production'"),
    ]
    for args, code, message in cases:
        result = run_cli("--spec", spec, *args)
        assert result.exit_code == code, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    runs = tmp_path / ".mlready" / "runs" / "train" / "20260101T000000Z-abcdef"
    runs.mkdir(parents=True)
    result = run_cli("--spec", spec, "register", "--run", "20260101T000000Z-abcdef")
    assert result.exit_code == 4
    assert "holds no record that train wrote it" in result.stderr
    listed = json.loads(run_cli("--spec", spec, "registry", "list", "--format", "json").stdout)
    assert [v["version"] for v in listed["versions"]] == [1]


def test_tampered_artifact_exits_4(tmp_path: Path, run_cli: Run) -> None:
    write_project(tmp_path, validation=GATE_VALIDATION)
    _trained(run_cli, tmp_path, ["tenure"], ["plan"])
    assert run_cli("--spec", str(tmp_path), "register").exit_code == 0
    stored = next((tmp_path / ".mlready" / "registry" / "artifacts").rglob("*.skops"))
    data = bytearray(stored.read_bytes())
    data[100] ^= 0x01
    stored.write_bytes(bytes(data))
    result = run_cli("--spec", str(tmp_path), "registry", "verify")
    assert result.exit_code == 4
    assert "refusing to load toy:1" in result.stderr
    assert "changed after registration" in result.stderr


def test_relative_sqlite_url_is_relative_to_the_spec(tmp_path: Path, run_cli: Run) -> None:
    write_project(tmp_path, extra="registry:\n  url: sqlite:///shared/registry.db\n")
    from mlready.registry import registry_location
    from mlready.spec import load_spec

    url, _ = registry_location(load_spec(tmp_path))
    assert url == f"sqlite:///{tmp_path.resolve() / 'shared' / 'registry.db'}"
    result = run_cli("--spec", str(tmp_path), "registry", "list")
    assert result.exit_code == 0
    assert (tmp_path / "shared" / "registry.db").is_file()


def test_user_text_is_printed_literally(tmp_path: Path, run_cli: Run) -> None:
    write_project(tmp_path, validation=GATE_VALIDATION)
    _trained(run_cli, tmp_path, ["tenure"], ["plan"])
    spec = str(tmp_path)
    assert run_cli("--spec", spec, "register").exit_code == 0
    reason = "\x1b[2J\x07:x: [bold]ok[/bold]"
    moved = run_cli(
        "--spec", spec, "registry", "promote", "toy:1", "--to", "staging", "--force",
        "--reason", reason,
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    assert "\\x1b[2J\\x07:x: [bold]ok[/bold]" in moved.stdout
    history = run_cli("--spec", spec, "registry", "history").stdout
    assert "\\x1b" in history  # the table wraps the rest
    for shown in (moved.stdout, history):
        assert "\x1b" not in shown
        assert "\x07" not in shown
        assert "\u274c" not in shown  # the :x: emoji


def test_verify_without_the_registry_database_exits_4(tmp_path: Path, run_cli: Run) -> None:
    write_project(tmp_path, validation=GATE_VALIDATION)
    _trained(run_cli, tmp_path, ["tenure"], ["plan"])
    assert run_cli("--spec", str(tmp_path), "register").exit_code == 0
    (tmp_path / ".mlready" / "registry.db").unlink()
    result = run_cli("--spec", str(tmp_path), "registry", "verify")
    assert result.exit_code == 4, result.stdout
    assert "the registry is missing or was deleted" in result.stderr
    assert "no versions to verify" not in result.stdout
    empty = tmp_path / "empty"
    write_project(empty)
    result = run_cli("--spec", str(empty), "registry", "verify")
    assert result.exit_code == 0
    assert "no versions to verify" in result.stdout


# --------------------------------------------------------------------------------------------------
# what is unpickled: only bytes whose sha256 was recorded when they were written
# --------------------------------------------------------------------------------------------------


class Marker:
    """A harmless pickle that makes a folder when it is loaded: proof that it was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.path),))


def _craft(folder: Path, marker: Path, name: str = "model.joblib") -> None:
    """Put a crafted model (a pickle, under ``name``) into a run folder, with metadata.json that
    agrees with it."""
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(Marker(marker), folder / name)
    metadata_path = folder / "metadata.json"
    metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
    metadata.update(passed=True, run_id=folder.name)
    metadata["artifact"] = {
        "file": name,
        "sha256": hashlib.sha256((folder / name).read_bytes()).hexdigest(),
    }
    metadata_path.write_text(json.dumps(metadata))


def test_the_marker_runs_when_unpickled(tmp_path: Path) -> None:
    joblib.dump(Marker(tmp_path / "marker"), tmp_path / "m.joblib")
    joblib.load(tmp_path / "m.joblib")
    assert (tmp_path / "marker").is_dir()  # so the tests below can fail


def test_a_crafted_model_in_a_train_run_is_refused_without_unpickling(
    tmp_path: Path, run_cli: Run
) -> None:
    write_project(tmp_path / "p", validation=GATE_VALIDATION)
    spec = str(tmp_path / "p")
    run_id = _trained(run_cli, tmp_path / "p", ["tenure"], ["plan"])
    marker = tmp_path / "marker"
    # a pickle in place of the model train wrote
    _craft(tmp_path / "p" / ".mlready" / "runs" / "train" / run_id, marker, "model.skops")
    result = run_cli("--spec", spec, "register", "--run", run_id, "--promote", "production")
    assert result.exit_code == 4
    assert f"refusing to register train run {run_id}" in result.stderr
    assert "model.skops changed" in result.stderr
    # a run folder that train never wrote (no record in the run log)
    forged = "20260101T000000Z-abcdef"
    _craft(tmp_path / "p" / ".mlready" / "runs" / "train" / forged, marker)
    result = run_cli("--spec", spec, "register", "--run", forged, "--promote", "production")
    assert result.exit_code == 4
    assert "holds no record that train wrote it" in result.stderr
    assert not marker.exists()
    listed = json.loads(run_cli("--spec", spec, "registry", "list", "--format", "json").stdout)
    assert listed["versions"] == []


def test_bytes_that_differ_from_the_recorded_sha256_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    run = fake_run(tmp_path / "r1", {"m": 1})
    # after the run was recorded: its record keeps the old hashes
    _craft(run.folder, marker, "model.skops")
    registry = Registry(f"sqlite:///{tmp_path / 'registry.db'}", tmp_path / "store")
    with pytest.raises(DataError, match=r"train recorded .* in the run log"):
        registry.register("churn", run, actor="t")
    assert not marker.exists()
    assert registry.list_versions("churn") == []
    assert not list((tmp_path / "store").rglob("*.skops"))


def _forge_train_record(project: Path, run_dir: str, folder: Path) -> str:
    """A train record as an attacker who can write .mlready/ would append it: chained, hashed,
    with this project's identity and the hashes of the crafted folder."""
    from mlready.runs import RunRecord, append_record, hash_folder, new_run_id, provenance
    from mlready.spec import load_spec

    loaded = load_spec(project)
    run_id = new_run_id()
    files = hash_folder(folder)
    artifacts = project / ".mlready"
    record = RunRecord(
        step="train",
        run_id=run_id,
        started_at="2026-01-01T00:00:00+00:00",
        duration_s=1.0,
        status="passed",
        exit_code=0,
        user="mallory",
        ci=None,
        host="h",
        mlready_version="0",
        run_dir=run_dir.replace("{id}", run_id),
        summary={"model_sha256": files.get("model.joblib") or files["model.skops"]},
        provenance=provenance(loaded, artifacts),
        artifacts=files,
    )
    append_record(artifacts, record)
    return run_id


def test_a_run_folder_outside_the_project_is_refused(tmp_path: Path, run_cli: Run) -> None:
    project = write_project(tmp_path / "p", validation=GATE_VALIDATION)
    _trained(run_cli, project, ["tenure"], ["plan"])
    marker = tmp_path / "marker"
    outside = tmp_path / "outside"
    _craft(outside, marker)
    # an absolute run_dir in the run log, the newest passing train run
    _forge_train_record(project, str(outside), outside)
    result = run_cli("--spec", str(project), "register", "--promote", "production")
    assert result.exit_code == 4
    assert "not its own run folder" in result.stderr
    # a run folder inside runs/train that is a link to a folder outside the project
    run_id = _forge_train_record(project, "runs/train/{id}", outside)
    (project / ".mlready" / "runs" / "train" / run_id).symlink_to(outside)
    result = run_cli("--spec", str(project), "register", "--run", run_id)
    assert result.exit_code == 4
    assert "must lie inside the project's artifacts folder" in result.stderr
    assert not marker.exists()
    listed = json.loads(
        run_cli("--spec", str(project), "registry", "list", "--format", "json").stdout
    )
    assert listed["versions"] == []


def _forged_run(project: Path, build: Callable[[Path], None]) -> str:
    """A run folder inside the project, built by ``build``, with a train record forged for it
    (the whole chain rewritten, as someone who can write .mlready/ can): the run log holds."""
    staging = project / ".mlready" / "staging"
    build(staging)
    run_id = _forge_train_record(project, "runs/train/{id}", staging)
    staging.rename(project / ".mlready" / "runs" / "train" / run_id)
    return run_id


def test_a_forged_pickle_is_registered_but_never_unpickled_without_allow_pickle(
    tmp_path: Path, run_cli: Run
) -> None:
    project = write_project(tmp_path / "p", validation=GATE_VALIDATION)
    spec = str(project)
    _trained(run_cli, project, ["tenure"], ["plan"])
    assert run_cli("--spec", spec, "register", "--promote", "production").exit_code == 0
    marker = tmp_path / "marker"
    run_id = _forged_run(project, lambda folder: _craft(folder, marker))
    # the forged record holds, so the pickle gets in (as toy:2, stored as .joblib) ...
    result = run_cli("--spec", spec, "register", "--run", run_id, "--promote", "production")
    # ... but the gate, which loads both versions, does not unpickle it
    assert result.exit_code == 4, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "error: refusing to load toy:2: it is stored as joblib (pickle), which runs code from the "
        "file when it loads: pass --allow-pickle (or set model.allow_pickle: true in the spec) if "
        "you trust it, or train and register it again to store it as skops"
    )
    make = pd.DataFrame({"id": [1], "tenure": [3], "plan": ["basic"]})
    make.to_csv(project / "batch.csv", index=False)
    result = run_cli(
        "--spec", spec, "serve-batch", "--model", "toy:2", "-i", str(project / "batch.csv")
    )
    assert result.exit_code == 4
    assert "refusing to load toy:2: it is stored as joblib (pickle)" in result.stderr
    assert not marker.exists()
    stored = json.loads(run_cli("--spec", spec, "registry", "list", "--format", "json").stdout)
    assert stored["versions"][1]["artifact_uri"].endswith(".joblib")
    # --allow-pickle is the guard: with it, the pickle runs (this is what it allows)
    run_cli("--spec", spec, "registry", "promote", "toy:2", "--allow-pickle")
    assert marker.is_dir()


def test_a_forged_skops_file_with_an_untrusted_type_is_refused(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_model_format import crafted_skops, evil_module

    project = write_project(tmp_path / "p", validation=GATE_VALIDATION)
    spec = str(project)
    _trained(run_cli, project, ["tenure"], ["plan"])
    assert run_cli("--spec", spec, "register", "--promote", "production").exit_code == 0
    marker = tmp_path / "marker"
    module = evil_module(tmp_path / "mods", marker)
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))

    def build(folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "model.skops").write_bytes(crafted_skops(module, "Evil"))
        digest = hashlib.sha256((folder / "model.skops").read_bytes()).hexdigest()
        metadata = {"passed": True, "artifact": {"file": "model.skops", "sha256": digest}}
        (folder / "metadata.json").write_text(json.dumps(metadata))

    run_id = _forged_run(project, build)
    result = run_cli("--spec", spec, "register", "--run", run_id, "--promote", "production")
    assert result.exit_code == 4, result.stdout + result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert message.startswith("error: refusing to load toy:2: its skops file holds types")
    assert f"({module}.Evil)" in message
    # registry verify says so too, without loading anything
    result = run_cli("--spec", spec, "registry", "verify", "toy:2")
    assert result.exit_code == 4
    assert f"holds types mlready does not trust ({module}.Evil)" in result.stderr
    assert not marker.exists()  # the module was never imported
    assert module not in sys.modules


def test_registry_verify_does_not_unpickle(tmp_path: Path, run_cli: Run) -> None:
    from mlready.registry import open_registry
    from mlready.spec import load_spec

    project = write_project(tmp_path / "p")
    marker = tmp_path / "marker"
    # a pickle, registered through the library
    run = fake_run(tmp_path / "r1", Marker(marker), fmt="joblib")
    registry = open_registry(load_spec(project))
    version, _ = registry.register("toy", run, actor="t")
    result = run_cli("--spec", str(project), "registry", "verify", "--json")
    assert result.exit_code == 0, result.stderr
    verified = json.loads(result.stdout)["verified"][0]
    assert verified["sha256"] == version.sha256
    assert "stored as joblib (pickle)" in verified["warnings"][0]
    assert not marker.exists()
    with pytest.raises(DataError, match=r"stored as joblib \(pickle\).*--allow-pickle"):
        registry.load(version)  # the spec does not allow pickle
    assert not marker.exists()
    Registry(registry.url, registry.store, policy=ModelPolicy(allow_pickle=True)).load(version)
    assert marker.is_dir()  # loading is what unpickles


def test_rows_with_absolute_paths_are_read_against_the_current_store(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = Registry(url, tmp_path / "store")
    version, _ = registry.register("churn", fake_run(tmp_path / "r1", {"m": 1}), actor="t")
    name = Path(version.artifact_uri).relative_to(tmp_path / "store").as_posix()
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as an older mlready wrote it, in a project since moved
        conn.execute(
            sa.text(
                "UPDATE mlready_versions "
                "SET artifact_uri = :p, metadata_uri = '/x/' || metadata_uri"
            ),
            {"p": f"/old/project/.mlready/registry/artifacts/{name}"},
        )
    moved = registry.resolve(ModelRef("churn", version=1))
    assert moved.artifact_uri == str(tmp_path / "store" / name)
    registry.check(moved)
    assert registry.load(moved) == {"m": 1}
    with engine.begin() as conn:  # a path that is no name inside a store is not loaded
        conn.execute(sa.text("UPDATE mlready_versions SET artifact_uri = :p"), {"p": "/etc/x"})
    engine.dispose()
    with pytest.raises(DataError, match="is not in the registry's artifact store"):
        registry.load(registry.resolve(ModelRef("churn", version=1)))


_READ_ONLY = """\
import json, sys
from pathlib import Path
from mlready.registry import ModelRef, Registry
registry = Registry(sys.argv[1], Path(sys.argv[2]), connect=False)
version = registry.resolve(ModelRef("churn", alias=sys.argv[3]))
print(json.dumps({"version": version.summary(), "metadata": version.metadata,
                  "sqlalchemy": "sqlalchemy" in sys.modules, "loaded": registry.load(version)}))
"""


def test_reading_one_version_of_a_sqlite_registry_needs_no_sqlalchemy(tmp_path: Path) -> None:
    """serve-batch's read of one version (sqlite3, read-only) gives the version SQLAlchemy's
    path gives, with the same sha256-checked load; what it cannot find, or a registry that is
    no SQLite file it can read, goes the full way (and its errors are that way's)."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = Registry(url, tmp_path / "store")
    failing = fake_run(tmp_path / "r1", {"m": 1}, passed=False)
    registry.register("churn", failing, actor="t", allow_failing_reason="a test")
    registry.register("churn", fake_run(tmp_path / "r2", {"m": 2}), actor="t")
    got = json.loads(python_code(_READ_ONLY, url, str(tmp_path / "store"), "candidate"))
    expected = registry.resolve(ModelRef("churn", alias="candidate"))
    assert got["sqlalchemy"] is False
    assert got["version"] == json.loads(json.dumps(expected.summary()))
    assert got["metadata"] == expected.metadata
    assert got["loaded"] == {"m": 2}
    lazy = Registry(url, tmp_path / "store", connect=False)
    first = lazy.resolve(ModelRef("churn", version=1))
    assert first == registry.resolve(ModelRef("churn", version=1))
    assert first.passed is False
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        lazy.resolve(ModelRef("churn", alias="production"))
    (tmp_path / "broken.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(DataError, match="cannot open the registry"):
        Registry(f"sqlite:///{tmp_path / 'broken.db'}", tmp_path / "s2", connect=False).resolve(
            ModelRef("churn", alias="production")
        )
