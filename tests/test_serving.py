"""serve-batch: scoring in chunks, the serving contract, the cache, the SLA, failures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.serving_data import Hook, dirty_batch, make_batch, trained_project
from tests.training_data import write_project

Run = Callable[..., object]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy project, trained and registered once (production alias set)."""
    return trained_project(tmp_path_factory.mktemp("served"))


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    """A private copy of the trained project (its registry and an empty cache)."""
    target = tmp_path / "project"
    shutil.copytree(trained, target)
    return target


def _serve(run_cli: Run, project: Path, *args: str) -> tuple[object, dict]:
    args = tuple(
        str(project / a) if i and args[i - 1] == "-o" and not Path(a).is_absolute() else a
        for i, a in enumerate(args)
    )
    result = run_cli("--spec", str(project), "serve-batch", "--format", "json", *args)
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result, payload


def _model(project: Path):
    from mlready.model_format import ModelPolicy, load_model

    path = next((project / ".mlready" / "registry" / "artifacts").rglob("*.skops"))
    return load_model(path.read_bytes(), "skops", ModelPolicy(), "toy")


def test_output_plus_rejects_equal_input_in_order_with_reasons(run_cli: Run, project: Path) -> None:
    batch = dirty_batch(make_batch())
    batch.to_csv(project / "batch.csv", index=False)
    result, out = _serve(run_cli, project, "-i", str(project / "batch.csv"), "-o", "out.parquet")
    assert result.exit_code == 0, result.stderr
    scored = pd.read_parquet(project / "out.parquet")
    rejected = pd.read_parquet(project / "out.rejected.parquet")
    assert len(scored) + len(rejected) == len(batch) == out["rows_in"]
    assert out["rows_scored"] == len(scored)
    assert out["rows_rejected"] == len(rejected) == 8
    bad = {10, 20, 30, 40, 50, 60, 70, 400}
    assert sorted(rejected["_mlready_row"]) == sorted(bad)
    kept = [i for i in range(len(batch)) if i not in bad]
    assert scored["customer_id"].tolist() == batch["customer_id"].iloc[kept].tolist()
    reasons = dict(zip(rejected["_mlready_row"], rejected["_mlready_reasons"], strict=True))
    assert reasons[10] == "tenure.range"
    assert reasons[20] == "tenure.type"
    assert reasons[30] == "monthly_charges.range"
    assert reasons[40] == "plan.allowed_values"
    assert reasons[50] == "customer_id.regex"
    assert reasons[60] == reasons[400] == "customer_id.unique"
    assert reasons[70] == "tenure.not_null"
    assert set(scored.columns) >= {"customer_id", "prediction", "probability", "model_name"}
    assert set(scored["model_version"]) == {1}
    assert set(scored["run_id"]) == {out["run_id"]}


def test_rejects_match_validate_data_quarantine(run_cli: Run, project: Path) -> None:
    """The per-value checks of serving agree with Great Expectations on the same batch."""
    batch = dirty_batch(make_batch(600, seed=3))
    batch.loc[5, "monthly_charges"] = None  # allowed: no max_null_fraction on this column
    batch.to_csv(project / "batch.csv", index=False)
    result, _ = _serve(run_cli, project, "-i", str(project / "batch.csv"), "-o", "o.csv")
    assert result.exit_code == 0, result.stderr
    ours = pd.read_csv(project / "o.rejected.csv")
    gx = run_cli(
        "--spec",
        str(project),
        "validate-data",
        "--data",
        str(project / "batch.csv"),
        "--quarantine",
        str(project / "q"),
    )
    assert gx.exit_code in (0, 1)
    theirs = pd.read_csv(project / "q" / "batch.rejected.csv")
    assert sorted(ours["customer_id"].astype(str)) == sorted(theirs["customer_id"].astype(str))
    ours_reasons = sorted(ours["_mlready_reasons"].str.replace("tenure.type", "tenure.type_values"))
    assert ours_reasons == sorted(
        theirs["_mlready_reasons"].str.replace("tenure.type", "tenure.type_values")
    )


def test_predictions_equal_the_model_on_the_whole_batch(run_cli: Run, project: Path) -> None:
    batch = make_batch(900)
    batch.to_parquet(project / "batch.parquet", index=False)
    result, out = _serve(run_cli, project, "-i", str(project / "batch.parquet"), "-o", "p.csv")
    assert result.exit_code == 0, result.stderr
    scored = pd.read_csv(project / "p.csv")
    model = _model(project)
    X = batch[["tenure", "monthly_charges", "plan", "region"]].astype(
        {"tenure": "float64", "monthly_charges": "float64"}
    )
    expected = model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(scored["probability"], expected, rtol=0, atol=1e-12)
    cut = out["model"]["decision_threshold"]
    assert scored["prediction"].tolist() == np.where(expected >= cut, "Yes", "No").tolist()
    assert out["canary"]["passed"]
    assert out["canary"]["rows"] == 5


def test_cache_answers_batches_and_rows_and_never_across_versions(
    run_cli: Run, project: Path
) -> None:
    batch = make_batch(700)
    batch.to_csv(project / "b.csv", index=False)
    args = ("-i", str(project / "b.csv"), "-o", "first.parquet")
    first, out1 = _serve(run_cli, project, *args)
    assert first.exit_code == 0
    assert out1["cache"]["hits"] == 0
    assert out1["cache"]["misses"] == 700
    _again, out2 = _serve(run_cli, project, *args)
    assert out2["cache"]["batch_hit"]
    assert out2["cache"]["hits"] == 700
    assert out2["cache"]["from_run"] == out1["run_id"]
    assert (project / "first.profile.json").is_file()
    # the same rows in another file (other bytes): answered row by row
    shuffled = batch.sample(frac=1.0, random_state=1)
    shuffled.to_parquet(project / "b.parquet", index=False)
    _rows, out3 = _serve(run_cli, project, "-i", str(project / "b.parquet"), "-o", "second.parquet")
    assert not out3["cache"]["batch_hit"]
    assert out3["cache"]["hits"] == 700
    one = pd.read_parquet(project / "first.parquet").set_index("customer_id")["probability"]
    two = pd.read_parquet(project / "second.parquet").set_index("customer_id")["probability"]
    pd.testing.assert_series_equal(one.sort_index(), two.sort_index())
    # a changed row misses; --no-cache looks nothing up
    shuffled.iloc[0, shuffled.columns.get_loc("tenure")] += 1
    shuffled.to_parquet(project / "b.parquet", index=False)
    _, out4 = _serve(run_cli, project, "-i", str(project / "b.parquet"), "-o", "third.parquet")
    assert out4["cache"]["hits"] == 699
    assert out4["cache"]["misses"] == 1
    _, out5 = _serve(run_cli, project, *args, "--no-cache")
    assert out5["cache"] == {"enabled": False, "hits": 0, "misses": 700, "batch_hit": False}
    # a new version never sees the old version's answers
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text().replace("max_iter: 500", "max_iter: 500, C: 0.1"))
    assert run_cli("--quiet", "--spec", str(project), "train", "--no-importance").exit_code == 0
    assert run_cli("--quiet", "--spec", str(project), "register").exit_code == 0
    _, out6 = _serve(run_cli, project, *args, "--model", ":2")
    assert out6["model"]["version"] == 2
    assert out6["cache"]["hits"] == 0


def test_cache_entries_expire(run_cli: Run, project: Path) -> None:
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text().replace("ttl: 30d", "ttl: 1s"))
    make_batch(200).to_csv(project / "b.csv", index=False)
    make_batch(200).to_parquet(project / "b.parquet", index=False)
    _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", "a.parquet")
    time.sleep(1.2)
    _, out = _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", "a.parquet")
    assert not out["cache"]["batch_hit"]
    assert out["cache"]["hits"] == 0
    _, warm = _serve(run_cli, project, "-i", str(project / "b.parquet"), "-o", "c.parquet")
    assert warm["cache"]["hits"] == 200  # written a moment ago: still alive


def test_sla_over_budget_fails_and_is_recorded(run_cli: Run, project: Path) -> None:
    spec = project / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace(
            "sla: {output_period: 1d}", "sla: {output_period: 1h, max_run_time: 0.001}"
        )
    )
    make_batch(300).to_csv(project / "b.csv", index=False)
    result, out = _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", "s.parquet")
    assert result.exit_code == 1
    assert out["sla"]["met"] is False
    assert out["sla"]["budget_s"] == pytest.approx(0.001)
    assert "SLA missed" in out["failures"][0]
    record = json.loads((project / ".mlready" / "runs.jsonl").read_text().splitlines()[-1])
    assert record["step"] == "serve-batch"
    assert record["status"] == "failed"
    assert record["summary"]["sla"]["met"] is False
    assert record["summary"]["sla"]["rows_per_s"] > 0
    assert record["summary"]["peak_memory_mb"] > 0
    assert (project / "s.parquet").is_file()  # late answers are still answers


def test_stop_mode_writes_nothing(run_cli: Run, project: Path) -> None:
    dirty_batch(make_batch()).to_csv(project / "b.csv", index=False)
    result = run_cli(
        "--spec",
        str(project),
        "serve-batch",
        "-i",
        str(project / "b.csv"),
        "-o",
        str(project / "x.parquet"),
        "--stop",
    )
    assert result.exit_code == 1
    assert "breaks the serving contract from row 10" in result.stderr
    assert "--quarantine" in result.stderr
    assert not list(project.glob("x*"))
    assert not list(project.glob(".x*"))


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (lambda f: f.drop(columns=["plan"]), 1, "lacks feature plan"),
        (lambda f: f.drop(columns=["customer_id"]), 1, "lacks the id column customer_id"),
        (lambda f: f.rename(columns={"tenure": "tenures"}), 1, "did you mean 'tenures'"),
        (lambda f: f.iloc[:0], 4, "holds no rows"),
    ],
    ids=["missing-feature", "missing-id", "renamed-feature", "empty"],
)
def test_bad_batches_exit_cleanly(run_cli: Run, project: Path, change, code, message) -> None:
    change(make_batch(100)).to_csv(project / "b.csv", index=False)
    result = run_cli(
        "--spec",
        str(project),
        "serve-batch",
        "-i",
        str(project / "b.csv"),
        "-o",
        str(project / "x.parquet"),
    )
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert not (project / "x.parquet").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("b.csv", b"", "is empty"),
        ("b.csv", b"customer_id,tenure\n" + "Ç1,5\n".encode("latin-1"), "not UTF-8"),
        ("b.parquet", b"PAR1 not really", "cannot read"),
        ("b.xlsx", b"PK", "Excel files are not read"),
        ("missing.csv", None, "no data at"),
    ],
    ids=["zero-bytes", "latin1-no-features", "broken-parquet", "excel", "missing-file"],
)
def test_unreadable_input_exits_4(run_cli: Run, project: Path, name, content, message) -> None:
    if content is not None:
        (project / name).write_bytes(content)
    result = run_cli("--spec", str(project), "serve-batch", "-i", str(project / name))
    assert result.exit_code in (1, 4), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_not_utf8_is_a_data_error(run_cli: Run, project: Path) -> None:
    batch = make_batch(50)
    batch.loc[3, "region"] = "Zürich"
    (project / "b.csv").write_bytes(batch.to_csv(index=False).encode("latin-1"))
    result = run_cli("--spec", str(project), "serve-batch", "-i", str(project / "b.csv"))
    assert result.exit_code == 4
    assert "not UTF-8" in result.stderr


def test_extra_columns_and_unseen_categories_are_scored_and_counted(
    run_cli: Run, project: Path
) -> None:
    batch = make_batch(300)
    batch["notes"] = "free text"
    batch.loc[:9, "region"] = "east"  # never seen in training
    batch.to_csv(project / "b.csv", index=False)
    result, out = _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", "u.parquet")
    assert result.exit_code == 0, result.stderr
    assert out["rows_scored"] == 300
    assert out["unseen"][0]["id"] == "region.unseen_category"
    assert out["unseen"][0]["count"] == 10
    assert any("notes" in w for w in out["warnings"])
    record = json.loads((project / ".mlready" / "runs.jsonl").read_text().splitlines()[-1])
    assert record["summary"]["unseen_categories"] == {"region": 10}


def test_tampered_artifact_is_refused(run_cli: Run, project: Path) -> None:
    make_batch(50).to_csv(project / "b.csv", index=False)
    # the copy's registry points at the original store: tamper a copy and repoint one version
    stored = next((project / ".mlready" / "registry" / "artifacts").rglob("*.skops"))
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{project / '.mlready' / 'registry.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE mlready_versions SET artifact_uri = :p"), {"p": str(stored)})
    data = bytearray(stored.read_bytes())
    data[200] ^= 0x01
    stored.write_bytes(bytes(data))
    result = run_cli(
        "--spec",
        str(project),
        "serve-batch",
        "-i",
        str(project / "b.csv"),
        "-o",
        str(project / "t.parquet"),
        "--no-cache",
    )
    assert result.exit_code == 4
    assert "refusing to load toy:1" in result.stderr
    assert not (project / "t.parquet").exists()


def _flip_stored(project: Path) -> None:
    stored = next((project / ".mlready" / "registry" / "artifacts").rglob("*.skops"))
    data = bytearray(stored.read_bytes())
    data[200] ^= 0x01
    stored.write_bytes(bytes(data))


def _serves_and_verifies(run_cli: Run, project: Path) -> None:
    make_batch(50).to_csv(project / "b.csv", index=False)
    result, out = _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", "s.parquet")
    assert result.exit_code == 0, result.stderr
    assert out["rows_scored"] == 50
    result = run_cli("--spec", str(project), "registry", "verify", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(
        run_cli("--spec", str(project), "registry", "show", "--format", "json").stdout
    )
    assert Path(shown["artifact_uri"]).is_relative_to(project)


def test_a_moved_project_serves_and_verifies_its_own_files(
    run_cli: Run, project: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(project, moved)
    _serves_and_verifies(run_cli, moved)
    result = run_cli("--spec", str(moved), "register", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["created"] is False  # the same version, still loadable
    _flip_stored(moved)  # and verify reads the moved files, not a path recorded before the move
    result = run_cli("--spec", str(moved), "registry", "verify")
    assert result.exit_code == 4
    assert str(moved) in result.stderr


def test_a_copied_project_serves_and_verifies_its_own_files(
    run_cli: Run, project: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    _flip_stored(project)  # the original's store is damaged: the copy does not read it
    _serves_and_verifies(run_cli, copy)
    result = run_cli("--spec", str(project), "registry", "verify")
    assert result.exit_code == 4
    assert "refusing to load toy:1" in result.stderr
    _flip_stored(project)  # repaired; now the copy's store is damaged: the original is fine
    _flip_stored(copy)
    _serves_and_verifies(run_cli, project)
    result = run_cli("--spec", str(copy), "registry", "verify")
    assert result.exit_code == 4


def test_sql_input(run_cli: Run, project: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{project / 'batch.db'}"
    make_batch(250).to_sql("customers", sa.create_engine(url), index=False)
    result, out = _serve(
        run_cli, project, "-i", url, "--query", "SELECT * FROM customers", "-o", "q.parquet"
    )
    assert result.exit_code == 0, result.stderr
    assert out["rows_scored"] == 250
    assert not out["cache"]["batch_hit"]


@pytest.mark.parametrize("path", ["pipeline", "compiled"])
def test_nan_predictions_and_a_failing_canary_stop_the_run(
    project: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    from mlready import serving
    from mlready.errors import CheckFailed
    from mlready.serving import compiled
    from mlready.spec import load_spec

    make_batch(120).to_csv(project / "b.csv", index=False)
    loaded = load_spec(project)
    if path == "pipeline":
        monkeypatch.setattr(compiled, "compile_pipeline", lambda *a, **k: None)
        real = serving.Scorer.raw
        calls = {"n": 0}

        def nan_after_canary(self, X):
            calls["n"] += 1
            raw = real(self, X)
            if calls["n"] > 1:
                raw["probability"][:3] = np.nan
            return raw

        monkeypatch.setattr(serving.Scorer, "raw", nan_after_canary)
    else:
        real_load = serving._load_and_compile
        compiled_runs: list[bool] = []

        def load(info):
            model, fast = real_load(info)
            compiled_runs.append(fast is not None)
            if fast is None:
                return model, fast
            real_frame = fast.raw_frame

            def nan_in_batch(X, rows_per_call):
                raw = real_frame(X, rows_per_call)
                raw["probability"][:3] = np.nan
                return raw

            fast.raw_frame = nan_in_batch
            return model, fast

        monkeypatch.setattr(serving, "_load_and_compile", load)
    run_dir = project / "run"
    run_dir.mkdir()
    with pytest.raises(CheckFailed, match="3 predictions are NaN or infinite"):
        serving.serve_batch(
            loaded,
            run_dir=run_dir,
            run_id="r1",
            input_path=str(project / "b.csv"),
            output=project / "n.parquet",
            use_cache=False,
        )
    assert not (project / "n.parquet").exists()
    if path == "compiled":
        assert compiled_runs == [True]  # the toy pipeline compiles: its NaN came that way

    def broken(self, X):
        raise ValueError("columns are missing: {'plan'}")

    monkeypatch.setattr(serving.Scorer, "raw", broken)
    with pytest.raises(CheckFailed, match="canary: toy:1 cannot score its own input example"):
        serving.serve_batch(
            loaded,
            run_dir=run_dir,
            run_id="r2",
            input_path=str(project / "b.csv"),
            output=project / "n.parquet",
            use_cache=False,
        )


def test_sigkill_mid_run_leaves_nothing_at_the_final_path(project: Path) -> None:
    big = pd.concat([make_batch(1000, seed=s) for s in range(60)], ignore_index=True)
    big["customer_id"] = [f"C{i:05d}" for i in range(len(big))]
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text().replace("unique: true, ", ""))
    big.to_csv(project / "big.csv", index=False)
    out = project / "out" / "scores.parquet"
    env = {**os.environ, "CI": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlready",
            "--spec",
            str(project),
            "serve-batch",
            "-i",
            str(project / "big.csv"),
            "-o",
            str(out),
            "--chunk-rows",
            "100",
            "--no-cache",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.parent.glob(".scores.parquet.*")):
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert not (project / "out" / "scores.profile.json").exists()


def test_dask_engine_gives_the_local_engine_s_answers(
    run_cli: Run, project: Path, dask_scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = dirty_batch(make_batch(3000))
    batch.to_csv(project / "b.csv", index=False)
    result, local = _serve(
        run_cli, project, "-i", str(project / "b.csv"), "-o", "l.parquet", "--no-cache"
    )
    assert result.exit_code == 0, result.stderr
    from mlready.serving import distributed as engine

    monkeypatch.setattr(engine, "BLOCK_BYTES", 20_000)  # several partitions from a small file
    result, remote = _serve(
        run_cli,
        project,
        "-i",
        str(project / "b.csv"),
        "-o",
        "d",
        "--engine",
        "dask",
        "--scheduler",
        dask_scheduler,
    )
    assert result.exit_code == 0, result.stderr
    parts = sorted((project / "d").glob("part-*.parquet"))
    assert len(parts) > 2
    ours = pd.read_parquet(project / "l.parquet")
    theirs = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    assert theirs["customer_id"].tolist() == ours["customer_id"].tolist()
    np.testing.assert_allclose(theirs["probability"], ours["probability"], rtol=0, atol=1e-12)
    assert theirs["prediction"].tolist() == ours["prediction"].tolist()
    assert remote["rows_rejected"] == local["rows_rejected"] == 8
    assert sorted(f["id"] for f in remote["findings"]) == sorted(f["id"] for f in local["findings"])
    # the merged profile of the partitions is the profile of the whole batch
    one = json.loads((project / "l.profile.json").read_text())
    two = json.loads((project / "d.profile.json").read_text())
    for column in ("tenure", "monthly_charges", "plan", "region"):
        a, b = one["columns"][column], two["columns"][column]
        for key in ("rows", "count", "missing", "counts", "fine_counts", "categories"):
            assert a.get(key) == b.get(key), (column, key)
        if a["kind"] == "numeric":
            assert b["mean"] == pytest.approx(a["mean"], rel=1e-12)
            assert b["std"] == pytest.approx(a["std"], rel=1e-9)
    assert one["prediction"]["score"]["counts"] == two["prediction"]["score"]["counts"]
    # a clean batch to the same folder: the earlier rejects do not stay beside it
    make_batch(500).to_csv(project / "clean.csv", index=False)
    result, _ = _serve(
        run_cli,
        project,
        "-i",
        str(project / "clean.csv"),
        "-o",
        "d",
        "--engine",
        "dask",
        "--scheduler",
        dask_scheduler,
    )
    assert result.exit_code == 0, result.stderr
    assert not (project / "d.rejected").exists()


def test_dask_engine_says_when_the_scheduler_is_unreachable(
    run_cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    from mlready.serving import distributed

    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", "1s")  # refused at once, retried till then
    make_batch(50).to_csv(project / "b.csv", index=False)
    result = run_cli(
        "--spec",
        str(project),
        "serve-batch",
        "-i",
        str(project / "b.csv"),
        "--engine",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert result.exit_code == 4
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr


def test_missed_sla_and_rejected_rows_alert_their_channels(
    run_cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlready import alerts

    monkeypatch.setattr(alerts, "BACKOFF", 0.01)
    good, bad = Hook(), Hook(status=500)
    try:
        spec = project / "mlready.yaml"
        text = spec.read_text().replace(
            "sla: {output_period: 1d}", "sla: {output_period: 1h, max_run_time: 0.001}"
        )
        spec.write_text(
            text
            + f"""monitoring:
  channels:
    chat: {{type: webhook, url: "{good.url}"}}
    broken: {{type: webhook, url: "{bad.url}", retries: 2}}
    pager: {{type: command, command: "cat >> inbox.jsonl"}}
  alerts:
    - {{name: batch-late, when: sla_breach, severity: error, owner: ml-platform,
        runbook: "Raise serving.chunk_rows", action: notify, channels: [chat, broken, pager]}}
    - {{name: bad-rows, when: data_invalid, severity: warning, owner: data-eng,
        runbook: "https://wiki/bad-rows", channels: [chat]}}
"""
        )
        dirty_batch(make_batch(500)).to_csv(project / "b.csv", index=False)
        result, out = _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", "a.parquet")
        assert result.exit_code == 1
        rules = [a["rule"] for a in out["alerts"]]
        assert rules == ["batch-late", "bad-rows"]
        late = out["alerts"][0]["deliveries"]
        assert late["chat"]["delivered"]
        assert late["pager"]["delivered"]
        assert late["broken"] == {
            "delivered": False,
            "attempts": 3,
            "error": late["broken"]["error"],
        }
        assert "500" in late["broken"]["error"]
        assert len(bad.received) == 3  # first try and two retries
        texts = [m["text"] for m in good.received]
        assert "Raise serving.chunk_rows" in texts[0]
        assert "https://wiki/bad-rows" in texts[1]
        assert good.received[1]["alert"]["details"]["rejected"] == 8
        inbox = [json.loads(line) for line in (project / "inbox.jsonl").read_text().splitlines()]
        assert inbox[0]["alert"]["rule"] == "batch-late"
        logged = alerts.read_alerts(project / ".mlready")
        assert [a["rule"] for a in logged] == ["batch-late", "bad-rows"]
        assert logged[0]["deliveries"]["broken"]["delivered"] is False
        assert logged[0]["delivered"]  # two of its channels took it
    finally:
        good.close()
        bad.close()


@pytest.mark.parametrize(
    ("target", "task", "estimator", "columns"),
    [
        ("monthly_charges", "regression", "sklearn.linear_model.Ridge", {"prediction"}),
        (
            "plan",
            "classification",
            "sklearn.ensemble.HistGradientBoostingClassifier",
            {"prediction", "probability"},
        ),
    ],
    ids=["regression", "multiclass"],
)
def test_regression_and_multiclass_models_are_served(
    run_cli: Run, tmp_path: Path, target: str, task: str, estimator: str, columns: set[str]
) -> None:
    folder = write_project(
        tmp_path,
        model=f"  estimator: {estimator}\n",
        validation="  cv: {strategy: kfold, folds: 3}\n  baselines: []\n",
    )
    spec = folder / "mlready.yaml"
    text = spec.read_text().replace("target: churn", f"target: {target}")
    text = text.replace('  positive_class: "Yes"\n', f"  task: {task}\n")
    spec.write_text(
        text.replace("  timestamp_column: month\n", "  features: {exclude: [churn, month]}\n")
    )
    assert run_cli("--quiet", "--spec", str(folder), "train", "--no-importance").exit_code == 0
    assert (
        run_cli("--quiet", "--spec", str(folder), "register", "--promote", "production").exit_code
        == 0
    )
    batch = make_batch(300).drop(columns=[target])
    batch.to_csv(folder / "b.csv", index=False)
    result, out = _serve(run_cli, folder, "-i", str(folder / "b.csv"), "-o", "p.parquet")
    assert result.exit_code == 0, result.stderr
    scored = pd.read_parquet(folder / "p.parquet")
    assert columns <= set(scored.columns)
    assert len(scored) == 300
    model = _model(folder)
    features = [c for c in ("tenure", "monthly_charges", "plan", "region") if c != target]
    X = batch[features].astype(
        {c: "float64" for c in ("tenure", "monthly_charges") if c in features}
    )
    if task == "regression":
        np.testing.assert_allclose(scored["prediction"], model.predict(X), rtol=1e-12)
        assert "value" in json.loads((folder / "p.profile.json").read_text())["prediction"]
    else:
        assert scored["prediction"].tolist() == [str(v) for v in model.predict(X)]
        # a first chunk with every row rejected: the labels stay text
        first_bad = batch.copy()
        first_bad.loc[:99, "tenure"] = -1
        first_bad.to_csv(folder / "first_bad.csv", index=False)
        spec.write_text(spec.read_text() + "expectations:\n  columns:\n    tenure: {min: 0}\n")
        again, _ = _serve(
            run_cli,
            folder,
            "-i",
            str(folder / "first_bad.csv"),
            "-o",
            "q.parquet",
            "--chunk-rows",
            "100",
            "--quarantine",
            "--no-cache",
        )
        assert again.exit_code == 0, again.stderr
        assert pd.read_parquet(folder / "q.parquet")["prediction"].dtype != "float64"
        np.testing.assert_allclose(scored["probability"], model.predict_proba(X).max(axis=1))
        profile = json.loads((folder / "p.profile.json").read_text())
        assert sum(profile["prediction"]["classes"]["categories"].values()) == 300
    assert out["canary"]["passed"]


def test_finding_counts_are_every_failing_row(run_cli: Run, project: Path) -> None:
    batch = make_batch(400).assign(tenure=-1)
    batch.to_csv(project / "b.csv", index=False)
    result, out = _serve(
        run_cli, project, "-i", str(project / "b.csv"), "-o", "x.parquet", "--chunk-rows", "150"
    )
    assert result.exit_code == 1, result.stderr  # no row scored: the run fails
    assert out["rows_rejected"] == 400
    assert {f["id"]: f["count"] for f in out["findings"]}["tenure.range"] == 400
    assert pd.read_parquet(project / "x.parquet").empty


# ------------------------------------------------------ a model without ids, codes with zeros


def _train_and_promote(folder: Path) -> Path:
    from mlready.cli.app import main

    for args in (["train", "--no-importance"], ["register", "--promote", "production"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--quiet", "--spec", str(folder), *args])
        assert exit_info.value.code == 0
    return folder


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project without id columns whose zip codes have leading zeros, trained and promoted."""
    from tests.training_data import write_coded_project

    return _train_and_promote(
        write_coded_project(
            tmp_path_factory.mktemp("coded"), extra="serving:\n  on_invalid: quarantine\n"
        )
    )


def _coded_batch(rows: int = 400) -> pd.DataFrame:
    """A batch of the coded project's shape; rows 5 and 250 break the tenure range."""
    from tests.training_data import coded_frame

    batch = coded_frame(rows, seed=3).drop(columns=["churn"])
    batch.loc[[5, 250], "tenure"] = -1
    return batch


def test_a_model_without_ids_numbers_its_answers_by_row(
    run_cli: Run, coded: Path, tmp_path: Path
) -> None:
    project = tmp_path / "p"
    shutil.copytree(coded, project)
    batch = _coded_batch()
    batch.to_csv(project / "b.csv", index=False)
    model = _model(project)
    kept = [i for i in range(len(batch)) if i not in (5, 250)]
    X = batch.loc[kept, ["tenure", "amount", "zip", "plan"]].astype(
        {"tenure": "float64", "amount": "float64"}
    )
    expected = model.predict_proba(X)[:, 1]
    runs = [
        ("one.parquet", ("--no-cache",)),  # one process, one chunk
        ("chunked.parquet", ("--chunk-rows", "64", "--no-cache")),
        ("cached.parquet", ()),  # fills the caches
        ("cached.parquet", ()),  # the same bytes: the batch cache answers
        ("rows.csv", ("--chunk-rows", "64")),  # another output: the row cache answers
    ]
    for name, args in runs:
        result, out = _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", name, *args)
        assert result.exit_code == 0, (name, result.stderr)
        scored = (pd.read_csv if name.endswith(".csv") else pd.read_parquet)(project / name)
        assert scored["row"].tolist() == kept, name
        np.testing.assert_allclose(scored["probability"], expected, rtol=0, atol=1e-9)
        rejects = project / name.replace(".", ".rejected.")
        rejected = (pd.read_csv if name.endswith(".csv") else pd.read_parquet)(rejects)
        assert rejected["_mlready_row"].astype(int).tolist() == [5, 250]
        # the zip codes are served as trained: "01234", not 1234 (an unseen category)
        assert out["unseen"] == [], name
    assert out["cache"]["hits"] == len(kept)
    # a batch with every row rejected: the empty output is numbered by row too
    batch.assign(tenure=-1).to_csv(project / "bad.csv", index=False)
    result, _ = _serve(run_cli, project, "-i", str(project / "bad.csv"), "-o", "none.parquet")
    assert result.exit_code == 1, result.stderr  # no row scored
    empty = pd.read_parquet(project / "none.parquet")
    assert empty.empty
    assert "row" in empty.columns


def test_dask_engine_numbers_rows_without_ids(
    run_cli: Run, coded: Path, tmp_path: Path, dask_scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "p"
    shutil.copytree(coded, project)
    _coded_batch(2000).to_csv(project / "b.csv", index=False)
    result, _ = _serve(run_cli, project, "-i", str(project / "b.csv"), "-o", "l.parquet")
    assert result.exit_code == 0, result.stderr
    from mlready.serving import distributed as engine

    monkeypatch.setattr(engine, "BLOCK_BYTES", 10_000)  # several partitions from a small file
    result, remote = _serve(
        run_cli,
        project,
        "-i",
        str(project / "b.csv"),
        "-o",
        "d",
        "--engine",
        "dask",
        "--scheduler",
        dask_scheduler,
    )
    assert result.exit_code == 0, result.stderr
    parts = sorted((project / "d").glob("part-*.parquet"))
    assert len(parts) > 2
    theirs = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    ours = pd.read_parquet(project / "l.parquet")
    assert theirs["row"].tolist() == ours["row"].tolist()
    np.testing.assert_allclose(theirs["probability"], ours["probability"], rtol=0, atol=1e-12)
    assert remote["unseen"] == []


def test_serving_types_categories_as_the_model_was_trained(run_cli: Run, tmp_path: Path) -> None:
    """A model trained on a Parquet file that stores the zip code as an integer learned the
    category '1234': serving reads '01234' from a CSV batch and gives the model 1234."""
    from tests.training_data import coded_frame, write_coded_project

    frame = coded_frame().assign(
        zip=lambda f: f["zip"].astype("int64"), amount=lambda f: f["amount"].astype("float64")
    )
    folder = write_coded_project(tmp_path, frame=frame, suffix="parquet")
    spec = folder / "mlready.yaml"
    spec.write_text(spec.read_text().replace("zip: {type: string, regex: '^\\d{5}$', ", "zip: {"))
    _train_and_promote(folder)
    metadata = [json.loads(p.read_text()) for p in (folder / ".mlready").rglob("*.json")]
    dtypes = next(m["features"]["dtypes"] for m in metadata if "dtypes" in m.get("features", {}))
    assert dtypes["zip"] == "int64"
    _coded_batch().to_csv(folder / "b.csv", index=False)
    result, out = _serve(
        run_cli, folder, "-i", str(folder / "b.csv"), "-o", "p.parquet", "--quarantine"
    )
    assert result.exit_code == 0, result.stderr
    assert out["unseen"] == []
    # a category served as a number is the fitted Pipeline's to read (to_text rewrites it)
    assert out["fast_path"] == "pipeline"


def test_table_level_rules_give_one_verdict_in_every_command(
    run_cli: Run, coded: Path, tmp_path: Path
) -> None:
    """A missing share over the tolerance fails validate-data (even with --quarantine) and
    serve-batch alike; under it both pass, and only rows breaking row rules are set aside."""
    project = tmp_path / "p"
    shutil.copytree(coded, project)
    batch = _coded_batch(400)
    assert 0.02 < batch["amount"].isna().mean() < 0.08  # natural gaps, under the 10% tolerated
    for name, step in (("over.csv", 12), ("under.csv", None)):
        gappy = batch.copy()
        if step:
            gappy.loc[1::step, "amount"] = pd.NA  # about 8% more: slightly over the tolerance
        gappy.to_csv(project / name, index=False)
        validated = run_cli(
            "--spec",
            str(project),
            "validate-data",
            "--data",
            str(project / name),
            "--quarantine",
            str(project / f"q-{name}"),
            "--format",
            "json",
        )
        served, out = _serve(run_cli, project, "-i", str(project / name), "-o", f"{name}.parquet")
        verdict = json.loads(validated.stdout)
        if name == "over.csv":
            assert validated.exit_code == served.exit_code == 1, served.stderr
            assert "amount.not_null" in served.stderr
            assert not (project / f"{name}.parquet").exists()
        else:
            assert validated.exit_code == served.exit_code == 0, served.stderr
            assert out["rows_rejected"] == 2
        # quarantine sets aside the rows that break row rules, never those with gaps
        assert verdict["quarantine"]["rejected_by_check"] == {"tenure.range": 2}
    # serve-batch's rejected rows keep the source's numbers: 10400, not 10400.0
    rejected = pd.read_parquet(project / "under.csv.rejected.parquet")
    source = pd.read_csv(project / "under.csv", dtype=str, keep_default_na=False)
    for column in ("amount", "zip"):
        assert rejected[column].fillna("").tolist() == source.loc[[5, 250], column].tolist()


# ------------------------------------------------------------ guarded outputs, too many rejects


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("batch.csv", "would overwrite an input, the spec or a data file it names"),
        ("data/train.csv", "would overwrite an input, the spec or a data file it names"),
        ("mine.csv", "exists and was not written by mlready"),
    ],
)
def test_output_never_overwrites_a_file_it_did_not_write(
    run_cli: Run, project: Path, output: str, message: str
) -> None:
    make_batch(200).to_csv(project / "batch.csv", index=False)
    (project / "mine.csv").write_text("precious\n")
    before = {p: (project / p).read_bytes() for p in ("batch.csv", "data/train.csv", "mine.csv")}
    result, _ = _serve(run_cli, project, "-i", str(project / "batch.csv"), "-o", output)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert f"{project / output}" in result.stderr
    assert {p: (project / p).read_bytes() for p in before} == before
    forced, _ = _serve(run_cli, project, "-i", str(project / "batch.csv"), "-o", output, "--force")
    if output == "mine.csv":  # --force overwrites a stranger's file, never the inputs
        assert forced.exit_code == 0, forced.stderr
        assert "prediction" in (project / "mine.csv").read_text()
    else:
        assert forced.exit_code == 2, forced.stderr
        assert {p: (project / p).read_bytes() for p in before} == before


def test_output_may_replace_its_own_earlier_output(run_cli: Run, project: Path) -> None:
    make_batch(200).to_csv(project / "batch.csv", index=False)
    for _ in range(2):
        result, _ = _serve(
            run_cli, project, "-i", str(project / "batch.csv"), "-o", "p.csv", "--no-cache"
        )
        assert result.exit_code == 0, result.stderr
    (project / "p.csv").write_text("edited by hand\n")  # no longer what mlready wrote
    result, _ = _serve(run_cli, project, "-i", str(project / "batch.csv"), "-o", "p.csv")
    assert result.exit_code == 2
    assert "--force" in result.stderr


def test_a_run_that_scores_no_row_or_rejects_too_many_fails(run_cli: Run, project: Path) -> None:
    make_batch(100).assign(tenure=-1).to_csv(project / "all_bad.csv", index=False)
    result, out = _serve(run_cli, project, "-i", str(project / "all_bad.csv"), "-o", "a.parquet")
    assert result.exit_code == 1, result.stderr
    assert out["rows_scored"] == 0
    assert not out["passed"]
    assert any("no row scored: 100 rows in, 100 rejected" in f for f in out["failures"])
    batch = make_batch(100)
    batch.loc[:59, "tenure"] = -1  # 60% rejected, over the default 50%
    batch.to_csv(project / "most_bad.csv", index=False)
    result, out = _serve(run_cli, project, "-i", str(project / "most_bad.csv"), "-o", "m.parquet")
    assert result.exit_code == 1, result.stderr
    assert any("60 of 100 rows rejected (60%)" in f for f in out["failures"])
    spec = project / "mlready.yaml"
    spec.write_text(
        spec.read_text().replace(
            "on_invalid: quarantine", "on_invalid: quarantine\n  max_reject_share: 0.7"
        )
    )
    result, out = _serve(run_cli, project, "-i", str(project / "most_bad.csv"), "-o", "n.parquet")
    assert result.exit_code == 0, result.stderr
    assert out["rows_scored"] == 40


def test_serve_batch_imports_neither_gx_nor_report_or_chart_libraries(project: Path) -> None:
    """Start-up cost: scoring needs pandas, scikit-learn, skops and pyarrow, not Great
    Expectations, Jinja2 or matplotlib; nor the alerting machinery when no alert fires
    (mlready.alerts: urllib.request is not a sign of it, skops imports every scikit-learn
    module to list its estimators as trusted, sklearn.datasets among them, which imports it)."""
    make_batch(200).to_csv(project / "batch.csv", index=False)
    code = (
        "import sys\n"
        "from mlready.cli.app import main\n"
        f"args = ['--spec', {str(project)!r}, 'serve-batch', '-i', {str(project / 'batch.csv')!r},"
        f" '-o', {str(project / 'out.parquet')!r}]\n"
        "try:\n    main(args)\nexcept SystemExit as exit:\n    code = exit.code\n"
        "heavy = ['great_expectations', 'jinja2', 'matplotlib', 'dask', 'distributed',"
        " 'mlready.alerts']\n"
        "print(f'EXIT={code} LOADED=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "EXIT=0 LOADED=", out.stdout + out.stderr


def test_the_canary_predicts_on_one_thread() -> None:
    """A few rows gain nothing from a team of threads, and on a busy machine each OpenMP
    barrier waits for a descheduled thread: the canary took seconds instead of 0.1 s."""
    import sklearn.ensemble  # noqa: F401 - loads the OpenMP runtime the limit applies to
    from threadpoolctl import threadpool_info, threadpool_limits

    from mlready import serving

    seen: list[int] = []

    class Model:
        classes_ = np.array(["No", "Yes"])

        def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
            seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")
            return np.tile([0.4, 0.6], (len(X), 1))

    info = serving.ModelInfo(
        name="toy",
        version=1,
        sha256="0" * 64,
        run_id=None,
        task="classification",
        classes=["No", "Yes"],
        threshold=0.5,
        numeric=["tenure"],
        categorical=["plan"],
        id_columns=[],
        profile=None,
        metadata={"input_example": [{"tenure": 3, "plan": "pro"}, {"tenure": 9, "plan": "max"}]},
    )
    with threadpool_limits(limits=2, user_api="openmp"):  # as on a machine with 2+ cores
        assert serving.canary(serving.Scorer(Model(), info))["passed"]
    assert seen
    assert set(seen) == {1}


def test_csv_chunks_hold_exactly_chunk_rows_whatever_the_blocks(
    tmp_path: Path, monkeypatch
) -> None:
    """Chunks are chunk_rows rows (the last fewer), cut from and joined across pyarrow's CSV
    blocks: every row once, in order, the same chunks from CSV and Parquet; also when the
    careful reader takes over from a block with text in a number column."""
    import pyarrow.csv as pacsv

    from mlready.serving import reader

    monkeypatch.setattr(reader, "BLOCK_BYTES", 4096)
    batch = make_batch(1500)
    path = tmp_path / "b.csv"
    batch.to_csv(path, index=False)
    columns = ["customer_id", "tenure", "plan"]
    numeric = frozenset({"tenure"})
    options = reader._options(path, columns, {})
    blocks = [b.num_rows for b in pacsv.open_csv(path, read_options=options["read_options"])]
    assert len(blocks) > 3  # several blocks of a small file
    assert max(blocks) < 400  # none of a chunk's size: chunks join blocks
    for size in (40, 400, 5000):
        chunks = list(reader.iter_batch(str(path), None, columns, size, numeric=numeric))
        expected = [min(size, 1500 - start) for start in range(0, 1500, size)]
        assert [len(c) for c in chunks] == expected
        assert pd.concat(chunks)["customer_id"].tolist() == batch["customer_id"].tolist()
        assert chunks[0]["tenure"].dtype == "float64"
    batch.to_parquet(tmp_path / "b.parquet", index=False)
    parquet = list(reader.iter_batch(str(tmp_path / "b.parquet"), None, columns, 400))
    assert [len(c) for c in parquet] == [400, 400, 400, 300]
    # a column per block: the numbers are not copied into one 2-D block on the way
    both = frozenset({"tenure", "monthly_charges"})
    two = list(reader.iter_batch(str(path), None, list(both), 400, numeric=both))
    assert len(two[0]._mgr.blocks) == 2

    batch["tenure"] = batch["tenure"].astype(object)
    batch.loc[1200, "tenure"] = "twelve"  # in a late block: the fast path stops there
    batch.to_csv(path, index=False)
    chunks = list(reader.iter_batch(str(path), None, columns, 10_000, numeric=numeric))
    joined = pd.concat(chunks, ignore_index=True)
    assert joined["customer_id"].tolist() == batch["customer_id"].tolist()
    assert joined["tenure"].astype(str).tolist()[1200] == "twelve"


def test_answers_equal_a_block_by_block_scorer_s_bit_for_bit(
    run_cli: Run, project: Path, monkeypatch
) -> None:
    """The streaming floor's way (chunks of chunk_rows, predict_proba SCORE_ROWS rows a call)
    gives the same probabilities, to the last bit; the batch profile is one line of JSON."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from mlready import serving
    from mlready.serving import reader

    monkeypatch.setattr(reader, "BLOCK_BYTES", 8192)
    monkeypatch.setattr(serving, "SCORE_ROWS", 256)  # several model calls per chunk
    make_batch(3000, seed=5).to_csv(project / "b.csv", index=False)
    result, out = _serve(
        run_cli, project, "-i", str(project / "b.csv"), "-o", "o.parquet", "--chunk-rows", "1000"
    )
    assert result.exit_code == 0, result.stderr
    model = _model(project)
    text_columns = ["customer_id", "month", "plan", "region"]
    types = {c: pa.float64() for c in ("tenure", "monthly_charges")}
    types |= {c: pa.string() for c in text_columns}
    table = pacsv.read_csv(
        project / "b.csv", convert_options=pacsv.ConvertOptions(column_types=types)
    ).to_pandas()
    # the floor's grouping: chunks of 1,000 rows, each scored 256 rows a call
    expected = np.concatenate(
        [
            model.predict_proba(table.iloc[start : min(start + 256, chunk + 1000)])[:, 1]
            for chunk in range(0, 3000, 1000)
            for start in range(chunk, min(chunk + 1000, 3000), 256)
        ]
    )
    scored = pd.read_parquet(project / "o.parquet")
    assert len(scored) == out["rows_scored"] == 3000
    assert out["fast_path"] == "compiled"  # the pipeline's steps as arrays: the same bits
    assert np.array_equal(scored["probability"].to_numpy(), expected)
    # the same batch again: answered whole from the cache, no row reaches a model
    again, cached = _serve(
        run_cli, project, "-i", str(project / "b.csv"), "-o", "o2.parquet", "--chunk-rows", "1000"
    )
    assert again.exit_code == 0, again.stderr
    assert cached["cache"]["batch_hit"]
    assert cached["fast_path"] == "none"
    text = (project / "o.profile.json").read_text()
    assert text.count("\n") == 1
    assert json.loads(text)["batch"]["rows_scored"] == 3000


def test_arrow_buffers_come_from_jemalloc_while_a_batch_is_scored(monkeypatch) -> None:
    import pyarrow as pa

    from mlready.serving import arrow_memory_pool

    if "jemalloc" not in pa.supported_memory_backends():
        pytest.skip("this pyarrow is built without jemalloc")
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = pa.default_memory_pool().backend_name
    with arrow_memory_pool():
        assert pa.default_memory_pool().backend_name == "jemalloc"
        assert pa.array([1.0, 2.0]).sum().as_py() == 3.0
    assert pa.default_memory_pool().backend_name == before
    # a pool the user chose is kept
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    with arrow_memory_pool():
        assert pa.default_memory_pool().backend_name == before


def test_a_pyarrow_without_jemalloc_keeps_its_own_pool(monkeypatch) -> None:
    """A pyarrow built without jemalloc (Windows wheels) says so in its supported backends:
    serve-batch scores with the default pool, unchanged, and never asks for jemalloc."""
    import pyarrow as pa

    from mlready.serving import arrow_memory_pool

    def missing() -> None:
        raise NotImplementedError("jemalloc support is not built")

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    monkeypatch.setattr(pa, "supported_memory_backends", lambda: ["mimalloc", "system"])
    monkeypatch.setattr(pa, "jemalloc_memory_pool", missing)
    before = pa.default_memory_pool().backend_name
    with arrow_memory_pool():
        assert pa.default_memory_pool().backend_name == before
    assert pa.default_memory_pool().backend_name == before
