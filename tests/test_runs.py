"""The artifact layout: run folders, run ids, the run log, and atomic writes."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from mlready.errors import DataError
from mlready.io import atomic_write_json, atomic_write_text, sha256_file
from mlready.runs import ci_name, new_run_id, read_run_log, start_run


def test_a_run_gets_a_folder_a_log_file_and_a_record(tmp_path: Path) -> None:
    with start_run(tmp_path, "train") as run:
        run.logger.info("fitting %d folds", 5)
        run.summary["rows"] = 10
        atomic_write_json(run.dir / "metadata.json", {"ok": True})
    assert run.dir.parent == tmp_path / "runs" / "train"
    assert "fitting 5 folds" in (run.dir / "run.log").read_text()
    [record] = read_run_log(tmp_path)
    assert record.step == "train"
    assert record.run_id == run.run_id
    assert record.status == "passed"
    assert record.exit_code == 0
    assert record.summary == {"rows": 10}
    assert record.duration_s >= 0
    assert record.user
    assert record.run_dir == f"runs/train/{run.run_id}"


def test_a_finished_run_leaves_no_logger_behind(tmp_path: Path) -> None:
    import logging

    before = set(logging.Logger.manager.loggerDict)
    with start_run(tmp_path, "train") as run:
        assert f"mlready.run.train.{run.run_id}" in logging.Logger.manager.loggerDict
    assert set(logging.Logger.manager.loggerDict) - before <= {"mlready.run", "mlready"}


def test_a_failing_check_is_recorded_as_failed(tmp_path: Path) -> None:
    with start_run(tmp_path, "validate-data") as run:
        run.fail()
    assert read_run_log(tmp_path)[0].status == "failed"
    assert read_run_log(tmp_path)[0].exit_code == 1


def test_an_error_is_recorded_with_its_exit_code_and_raised(tmp_path: Path) -> None:
    with pytest.raises(DataError), start_run(tmp_path, "serve-batch"):
        raise DataError("cannot read batch.csv")
    [record] = read_run_log(tmp_path)
    assert (record.status, record.exit_code) == ("error", 4)


def test_run_log_filters_by_step_and_skips_torn_lines(tmp_path: Path) -> None:
    with start_run(tmp_path, "train"):
        pass
    with start_run(tmp_path, "register"):
        pass
    with open(tmp_path / "runs.jsonl", "a") as handle:
        handle.write('{"step": "train", "run_id"\n')  # a torn write
    assert [r.step for r in read_run_log(tmp_path)] == ["train", "register"]
    assert len(read_run_log(tmp_path, "register")) == 1
    assert read_run_log(tmp_path / "nothing-here") == []


def _many_runs(folder: str) -> None:
    for _ in range(10):
        with start_run(folder, "serve-batch"):
            pass


def test_processes_appending_at_once_lose_no_record(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_many_runs, args=(str(tmp_path),)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    records = read_run_log(tmp_path)
    assert len(records) == 40
    assert len({r.run_id for r in records}) == 40
    for line in (tmp_path / "runs.jsonl").read_text().splitlines():
        json.loads(line)


def test_run_ids_sort_by_time() -> None:
    import datetime as dt

    early = new_run_id(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    late = new_run_id(dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
    assert early < late
    assert early.startswith("20260101T000000Z-")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"CI": "true"}, "ci"),
        ({"CI": "false"}, None),
        ({"GITHUB_ACTIONS": "true", "CI": "true"}, "github"),
        ({"GITLAB_CI": "true"}, "gitlab"),
    ],
)
def test_ci_detection(environ: dict[str, str], expected: str | None) -> None:
    assert ci_name(environ) == expected


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    atomic_write_text(target, "old")
    with pytest.raises(ValueError, match="Out of range float"):
        atomic_write_json(target, {"value": float("nan")})
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "blob"
    path.write_bytes(b"x" * 3_000_000)
    assert sha256_file(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


def test_verbose_shows_the_run_log_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlready.cli.state import configure_logging

    configure_logging(True)
    try:
        with start_run(tmp_path, "train") as run:
            run.logger.info("fold 3 of 5 done")
    finally:
        configure_logging(False)
    assert "fold 3 of 5 done" in capsys.readouterr().err
    with start_run(tmp_path, "train") as run:
        run.logger.info("quiet again")
    assert "quiet again" not in capsys.readouterr().err


def test_records_after_a_torn_line_are_trusted_and_the_line_is_reported(tmp_path: Path) -> None:
    """Issue 17, item 8: a torn line does not cost the records written after it."""
    from mlready.runs import verify_run_log

    with start_run(tmp_path, "train"):
        pass
    with open(tmp_path / "runs.jsonl", "a") as handle:
        handle.write('{"step": "train", "run_id"')  # torn: no end, no newline
    with start_run(tmp_path, "serve-batch"):
        pass
    (tmp_path / "runs.head.json").unlink()  # and without the head, the next one finds its place
    with open(tmp_path / "runs.jsonl", "a") as handle:
        handle.write("garbage\n")
    with start_run(tmp_path, "check-drift"):
        pass
    checked = verify_run_log(tmp_path)
    assert [r.step for r in checked.records] == ["train", "serve-batch", "check-drift"]
    assert [(p.line, p.reason) for p in checked.problems] == [
        (2, "cannot be read as a JSON record"),
        (4, "cannot be read as a JSON record"),
    ]
