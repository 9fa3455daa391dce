"""mlready.io: a killed writer's temporary files are removed, and its commit completed, by the
next write to the folder; the outputs manifest keeps every writer's entries (issue 17, items 9
and 1)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlready.io import (
    OUTPUTS_MANIFEST,
    STALE_TEMP_SECONDS,
    atomic_write_text,
    commit_files,
    guard_outputs,
    record_outputs,
    remove_stale_temps,
    staged,
)
from tests.conftest import ROOT

WRITER = """
import sys, time
from mlready.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    print(tmp, flush=True)
    time.sleep(60)
"""


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _killed_writer(target: Path) -> Path:
    """The temporary file of a writer of ``target`` killed mid-write (SIGKILL: no cleanup)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    leftover = Path(writer.stdout.readline().strip())
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert leftover.exists()
    return leftover


def test_a_killed_writers_temp_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    leftover = _killed_writer(tmp_path / "metadata.json")
    assert leftover.name.startswith(".metadata.json.mlready-")
    atomic_write_text(tmp_path / "other.json", "{}")  # at once: its writer is gone
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]


def test_living_writers_and_other_machines_files_are_kept(tmp_path: Path) -> None:
    dead = _killed_writer(tmp_path / "a.json")
    pid = int(dead.name.split("mlready-")[1].split("x")[0])
    living = tmp_path / dead.name.replace(f"-{pid}x", f"-{os.getppid()}x")  # pytest's parent
    living.write_text("writing")
    _age(living, STALE_TEMP_SECONDS * 5)
    # a writer on another machine (a shared folder), or of an mlready that did not name its
    # machine: its process cannot be looked up from here, so only its age tells
    elsewhere = tmp_path / f".b.json.mlready-{pid}x000000-abc123.tmp"
    unnamed = tmp_path / f".c.json.mlready-{pid}-abc123.tmp"
    for path in (elsewhere, unnamed):
        path.write_text("writing")
    foreign = tmp_path / ".notes.tmp"  # not mlready's: never touched
    foreign.write_text("mine")
    _age(foreign, STALE_TEMP_SECONDS * 5)
    assert remove_stale_temps(tmp_path) == [dead]
    assert {p.name for p in tmp_path.iterdir()} == {
        living.name,
        elsewhere.name,
        unnamed.name,
        foreign.name,
    }
    later = time.time() + STALE_TEMP_SECONDS + 1
    assert sorted(remove_stale_temps(tmp_path, now=later)) == sorted([elsewhere, unnamed])
    assert living.exists()
    assert foreign.exists()


COMMITTER = """
import os, sys
from pathlib import Path
from mlready.io import commit_files, staged

folder, artifacts, moves_done = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
temps = []
for name, text in (("scores.csv", "new scores"), ("scores.profile.json", "new profile")):
    with staged(folder / name) as tmp:
        tmp.write_text(text)
    temps.append((tmp, folder / name))
real_replace, real_unlink = os.replace, os.unlink
done = 0

def move(src):
    global done
    name = Path(src).name
    if name.startswith(".scores") and name.endswith(".tmp") or name == "scores.rejected.csv":
        if done == moves_done:
            os._exit(9)  # as kill -9: no cleanup runs
        done += 1

os.replace = lambda src, dst: (move(src), real_replace(src, dst))
os.unlink = lambda path, **kw: (move(path), real_unlink(path, **kw))
commit_files(
    [*temps, (None, folder / "scores.rejected.csv")],
    record=[folder / "scores.csv", folder / "scores.profile.json"],
    artifacts_dir=artifacts,
)
"""


@pytest.mark.parametrize("moves_done", [0, 1, 2])
def test_a_commit_killed_midway_is_completed_by_the_next_write(
    tmp_path: Path, moves_done: int
) -> None:
    folder, artifacts = tmp_path / "out", tmp_path / ".mlready"
    folder.mkdir()
    for name, text in (
        ("scores.csv", "old scores"),
        ("scores.profile.json", "old profile"),
        ("scores.rejected.csv", "old rejects"),
    ):
        (folder / name).write_text(text)
    record_outputs(sorted(folder.iterdir()), artifacts_dir=artifacts)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", COMMITTER, str(folder), str(artifacts), str(moves_done)]
    assert subprocess.run(command, env=env, check=False).returncode == 9
    journals = [p for p in folder.iterdir() if p.name.endswith(".commit")]
    assert len(journals) == 1  # decided, not done
    texts = {p.name: p.read_text() for p in folder.iterdir() if not p.name.startswith(".")}
    assert texts["scores.csv"] == ("new scores" if moves_done else "old scores")
    # the next write in the folder completes it, and the new files are known as mlready's
    atomic_write_text(folder / "notes.txt", "x")
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt",
        "scores.csv",
        "scores.profile.json",
    ]
    assert (folder / "scores.csv").read_text() == "new scores"
    assert (folder / "scores.profile.json").read_text() == "new profile"
    guard_outputs([folder / "scores.csv", folder / "scores.profile.json"], artifacts_dir=artifacts)


def test_a_commit_that_fails_before_its_journal_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlready.io

    (tmp_path / "a.csv").write_text("old")
    with staged(tmp_path / "a.csv") as tmp:
        tmp.write_text("new")

    def full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mlready.io, "atomic_write_json", full)
    with pytest.raises(OSError, match="No space"):
        commit_files([(tmp, tmp_path / "a.csv")])
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
    assert (tmp_path / "a.csv").read_text() == "old"


SLOW_COMMITTER = """
import os, sys, time
from pathlib import Path
from mlready.io import commit_files, staged

folder, artifacts, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
pause = float(sys.argv[4])
moves = []
for target in ("scores.csv", "scores.profile.json"):
    with staged(folder / target) as tmp:
        tmp.write_text(name)
    moves.append((tmp, folder / target))
real = os.replace

def replace(src, dst):
    real(src, dst)
    if Path(dst).name == "scores.csv":
        time.sleep(pause)  # between the two moves of the commit

os.replace = replace
print("ready", flush=True)
sys.stdin.readline()
commit_files(moves, record=[t for _, t in moves], artifacts_dir=artifacts)
"""


def test_two_commits_of_the_same_files_at_once_leave_one_of_them_whole(tmp_path: Path) -> None:
    """A slow commit and a quick one of the same outputs: the files are all one run's."""
    folder, artifacts = tmp_path / "out", tmp_path / ".mlready"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", SLOW_COMMITTER, str(folder), str(artifacts), name, pause],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, pause in (("slow", "0.5"), ("quick", "0"))
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
    for writer in writers:  # the slow one first, the quick one while it sleeps
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
        time.sleep(0.2)
    for writer in writers:
        assert writer.wait(30) == 0
    texts = {p.name: p.read_text() for p in folder.iterdir()}
    assert texts in (
        {"scores.csv": "slow", "scores.profile.json": "slow"},
        {"scores.csv": "quick", "scores.profile.json": "quick"},
    )


def _record_many(artifacts: str, folder: str, worker: int) -> None:
    for n in range(15):
        output = Path(folder) / f"out-{worker}-{n}.csv"
        output.write_text(f"{worker},{n}\n")
        record_outputs([output], artifacts_dir=artifacts)


def test_commands_recording_outputs_at_once_keep_each_others_entries(tmp_path: Path) -> None:
    artifacts, folder = tmp_path / ".mlready", tmp_path / "out"
    folder.mkdir()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_record_many, args=(str(artifacts), str(folder), w))
        for w in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    known = json.loads((artifacts / OUTPUTS_MANIFEST).read_text())
    assert len(known) == 60
    guard_outputs(sorted(folder.iterdir()), artifacts_dir=artifacts)  # every one is known


def test_a_moved_project_still_knows_the_outputs_it_wrote(tmp_path: Path) -> None:
    import shutil

    from mlready.errors import UsageError

    project = tmp_path / "a" / "project"
    (project / ".mlready").mkdir(parents=True)
    output = project / "predictions" / "scores.csv"
    output.parent.mkdir()
    output.write_text("id,score\n1,0.5\n")
    record_outputs([output], artifacts_dir=project / ".mlready")
    guard_outputs([output], artifacts_dir=project / ".mlready")  # its own: may be replaced
    moved = tmp_path / "b" / "project"
    shutil.copytree(project, moved)  # a CI cache restored elsewhere
    guard_outputs([moved / "predictions" / "scores.csv"], artifacts_dir=moved / ".mlready")
    (moved / "predictions" / "scores.csv").write_text("edited by hand\n")
    with pytest.raises(UsageError, match="not written by mlready"):
        guard_outputs([moved / "predictions" / "scores.csv"], artifacts_dir=moved / ".mlready")
