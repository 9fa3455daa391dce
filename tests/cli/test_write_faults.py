"""The machine's faults are exit 4 with one line, never exit 5 (issue 17, item 10): a full disk,
a read-only folder, an output named like a folder, a file where a folder is needed, a .csv.gz
that is not gzip, and options out of range."""

from __future__ import annotations

import contextlib
import errno
import gzip
import math
import os
import random
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlready.cli.app import main
from mlready.cli.state import STATE
from mlready.errors import DataError
from tests.conftest import MINIMAL_SPEC

SPEC = MINIMAL_SPEC


def _rows(count: int, seed: int, *, target: bool = True) -> str:
    rng = random.Random(seed)
    lines = ["customer_id,tenure,charges,plan" + (",churn" if target else "")]
    for i in range(count):
        tenure = rng.randint(0, 70)
        churn = rng.random() < 1 / (1 + math.exp(0.08 * (tenure - 30)))
        row = f"C{seed}-{i},{tenure},{rng.uniform(10, 100):.2f},{rng.choice(['basic', 'pro'])}"
        lines.append(row + (f",{'Yes' if churn else 'No'}" if target else ""))
    return "\n".join(lines) + "\n"


def _call(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    finally:
        STATE.spec, STATE.quiet, STATE.verbose, STATE.debug, STATE.json = (
            None,
            False,
            False,
            False,
            False,
        )
    return 0  # pragma: no cover - main always exits


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with version 1 of its model registered, and a batch of 3,000 rows to score."""
    folder = tmp_path_factory.mktemp("served")
    (folder / "data").mkdir()
    (folder / "data" / "train.csv").write_text(_rows(300, 1), encoding="utf-8")
    (folder / "data" / "batch.csv").write_text(_rows(3000, 2, target=False), encoding="utf-8")
    (folder / "mlready.yaml").write_text(SPEC, encoding="utf-8")
    assert _call("--quiet", "--spec", str(folder), "train") == 0
    assert _call("--quiet", "--spec", str(folder), "register") == 0
    return folder


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted on ``folder`` (root only); the test is skipped where not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _serve(served: Path, run_cli: Callable[..., Any], output: Path, *more: str) -> Any:
    batch = str(served / "data" / "batch.csv")
    return run_cli(
        "--spec", str(served), "serve-batch", "-m", "demo:1", "-i", batch,
        "-o", str(output), "--no-cache", *more,
    )  # fmt: skip


def _one_line_error(result: Any) -> str:
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_full_disk_exits_4_and_leaves_no_half_written_predictions(
    served: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    with _tmpfs(tmp_path / "small", "size=64k") as disk:
        for name in ("predictions.csv", "predictions.parquet"):
            output = disk / name
            result = _serve(served, run_cli, output)
            assert result.exit_code == 4, result.stderr
            line = _one_line_error(result)
            assert f"cannot write {disk}{os.sep}predictions." in line  # the output or its profile
            assert "no space left on the device" in line
            assert not output.exists()  # neither half-written nor whole: the run failed
            assert not [p for p in disk.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_output_folder_exits_4(
    served: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    with _tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        result = _serve(served, run_cli, folder / "predictions.parquet")
    assert result.exit_code == 4, result.stderr
    line = _one_line_error(result)
    assert str(folder) in line
    assert "read-only" in line


def test_an_output_named_like_a_folder_exits_4(
    served: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    output = tmp_path / "predictions.csv"
    output.mkdir()
    result = _serve(served, run_cli, output)
    assert result.exit_code == 4, result.stderr
    line = _one_line_error(result)
    assert str(output) in line
    assert "folder" in line


def test_chunk_rows_0_is_a_usage_error(served: Path, run_cli: Callable[..., Any]) -> None:
    result = _serve(served, run_cli, served / "p.csv", "--chunk-rows", "0")
    assert result.exit_code == 2
    assert "--chunk-rows" in result.stderr


def test_quarantine_naming_a_file_exits_4(project: Path, run_cli: Callable[..., Any]) -> None:
    in_the_way = project / "rejected"
    in_the_way.write_text("not a folder", encoding="utf-8")
    result = run_cli("--spec", str(project), "validate-data", "--quarantine", str(in_the_way))
    assert result.exit_code == 4, result.stderr
    line = _one_line_error(result)
    assert str(in_the_way) in line
    assert "a file is in the way" in line
    assert in_the_way.read_text(encoding="utf-8") == "not a folder"


def _fake_gzips(good: bytes) -> dict[str, bytes]:
    whole = gzip.compress(good)
    return {
        "plain text": b"customer_id,tenure\nC1,3\n",
        "gzip magic, then garbage": b"\x1f\x8b" + b"garbage" * 50,
        "cut short": whole[: len(whole) // 2],
        "trailing junk": whole + b"junkjunk",
    }


@pytest.mark.parametrize("kind", sorted(_fake_gzips(b"x")))
@pytest.mark.parametrize(
    "command",
    [("validate-data",), ("validate-data", "--chunk-rows", "1"), ("train",)],
    ids=["validate-data", "validate-data-chunked", "train"],
)
def test_a_csv_gz_that_is_not_gzip_exits_4(
    kind: str, command: tuple[str, ...], project: Path, run_cli: Callable[..., Any]
) -> None:
    good = (project / "data" / "train.csv").read_bytes()
    (project / "data" / "train.csv.gz").write_bytes(_fake_gzips(good)[kind])
    spec = project / "mlready.yaml"
    spec.write_text(spec.read_text().replace("train.csv}", "train.csv.gz}"), encoding="utf-8")
    result = run_cli("--spec", str(project), *command)
    assert result.exit_code == 4, result.stderr
    line = _one_line_error(result)
    assert "train.csv.gz" in line


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "no space left"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permission denied"),
        (errno.EISDIR, "is a folder"),
    ],
)
def test_atomic_writes_turn_the_machines_errors_into_exit_4(
    code: int, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlready.io import atomic_write_text

    target = tmp_path / "artifact.json"
    target.write_text("old", encoding="utf-8")

    def refuse(src: Any, dst: Any) -> None:
        raise OSError(code, os.strerror(code), str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(DataError, match=words) as raised:
        atomic_write_text(target, "new")
    assert raised.value.exit_code == 4
    assert str(target) in str(raised.value)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["artifact.json"]


def test_a_machine_error_raised_anywhere_is_exit_4_not_5(
    project: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence in main(): an OSError of the machine, even wrapped by a library
    (pyarrow, joblib), is exit 4 naming the path; any other error stays an internal error."""
    import mlready.spec

    def disk_full(*_: Any, **__: Any) -> None:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/data/out.bin")
        except OSError as exc:
            raise RuntimeError("writer failed") from exc

    monkeypatch.setattr(mlready.spec, "load_spec", disk_full)
    result = run_cli("--spec", str(project), "spec", "check")
    assert result.exit_code == 4, result.stderr
    line = _one_line_error(result)
    assert "cannot write /data/out.bin: no space left on the device" in line

    monkeypatch.setattr(mlready.spec, "load_spec", lambda *_, **__: 1 / 0)
    assert run_cli("--spec", str(project), "spec", "check").exit_code == 5


# --------------------------------------------------------------------------- --engine dask


def _serve_dask(served: Path, run_cli: Callable[..., Any], output: Path, scheduler: str) -> Any:
    return _serve(served, run_cli, output, "--engine", "dask", "--scheduler", scheduler)


def _nothing_published(folder: Path, name: str) -> None:
    """No output folder, rejects or profile of ``name``, and no temporary file, in ``folder``."""
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith((name, f".{name}"))) == []


@pytest.mark.parametrize("size", ["16k", "96k"], ids=["parts", "profile"])
def test_dask_on_a_full_disk_exits_4_and_publishes_nothing(
    served: Path, tmp_path: Path, run_cli: Callable[..., Any], dask_scheduler: str, size: str
) -> None:
    """Workers writing their parts, or the profile after them, run out of space."""
    with _tmpfs(tmp_path / "small", f"size={size}") as disk:
        result = _serve_dask(served, run_cli, disk / "predictions", dask_scheduler)
        assert result.exit_code == 4, result.stderr
        line = _one_line_error(result)
        assert f"cannot write {disk}{os.sep}predictions" in line
        assert "no space left on the device" in line
        _nothing_published(disk, "predictions")


def test_dask_into_a_read_only_folder_exits_4(
    served: Path, tmp_path: Path, run_cli: Callable[..., Any], dask_scheduler: str
) -> None:
    with _tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        result = _serve_dask(served, run_cli, folder / "predictions", dask_scheduler)
        assert result.exit_code == 4, result.stderr
        line = _one_line_error(result)
        assert f"cannot write {folder}{os.sep}predictions" in line
        assert "read-only" in line
        assert list(folder.iterdir()) == []


def test_dask_output_in_the_way_is_refused_and_kept(
    served: Path, tmp_path: Path, run_cli: Callable[..., Any], dask_scheduler: str
) -> None:
    """A folder mlready did not write is not replaced without --force (exit 2), a file is never
    replaced by a folder (exit 2); their contents stay."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    result = _serve_dask(served, run_cli, folder, dask_scheduler)
    assert result.exit_code == 2, result.stderr
    assert "not written by mlready" in _one_line_error(result)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    a_file = tmp_path / "scores"
    a_file.write_text("keep me too", encoding="utf-8")
    result = _serve_dask(served, run_cli, a_file, dask_scheduler)
    assert result.exit_code == 2, result.stderr
    assert a_file.read_text(encoding="utf-8") == "keep me too"
    # --force replaces the folder (its files were not mlready's): the parts stand in its place
    result = run_cli(
        "--spec", str(served), "serve-batch", "-m", "demo:1",
        "-i", str(served / "data" / "batch.csv"), "-o", str(folder), "--no-cache", "--force",
        "--engine", "dask", "--scheduler", dask_scheduler,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir())[0] == "part-00000.parquet"
    assert (tmp_path / "mine.profile.json").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif how == "garbage":
        path.write_bytes(b"not a database at all\n" * 20)
    else:  # pages overwritten: the header and the schema read, a table does not
        path.write_bytes(data[:12288] + b"\xff" * 8192 + data[12288 + 8192 :])


@pytest.mark.parametrize("how", ["truncated", "garbage", "pages"])
def test_a_damaged_registry_database_exits_4_with_one_line(
    served: Path, tmp_path: Path, run_cli: Callable[..., Any], how: str
) -> None:
    import shutil

    project = tmp_path / "copy"
    shutil.copytree(served, project)
    _damage(project / ".mlready" / "registry.db", how)
    batch, output = str(project / "data" / "batch.csv"), str(tmp_path / "p.csv")
    serve = ("serve-batch", "-m", "demo:1", "-i", batch, "-o", output)
    # a damaged page is found by the query that reads it: registry list reads every table
    for command in [("registry", "list")] + ([serve] if how != "pages" else []):
        result = run_cli("--spec", str(project), *command)
        assert result.exit_code == 4, (command, result.stderr)
        line = _one_line_error(result)
        assert "registry" in line
        assert "backup" in result.stderr
