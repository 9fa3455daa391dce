"""mlready.io: a killed writer's temporary file is removed by the next write (issue 17, item 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mlready.io import STALE_TEMP_SECONDS, atomic_write_text, remove_stale_temps
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


def test_a_killed_writers_old_temp_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    leftover = _killed_writer(tmp_path / "metadata.json")
    assert leftover.name.startswith(".metadata.json.mlready-")
    _age(leftover, STALE_TEMP_SECONDS + 60)
    atomic_write_text(tmp_path / "other.json", "{}")
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]


def test_a_recent_or_living_writers_temp_file_and_other_files_are_kept(tmp_path: Path) -> None:
    young = _killed_writer(tmp_path / "a.json")  # its writer is gone, but only just
    living = tmp_path / f".b.json.mlready-{os.getppid()}-abc123.tmp"  # pytest's parent lives
    living.write_text("writing")
    _age(living, STALE_TEMP_SECONDS * 5)
    foreign = tmp_path / ".notes.tmp"  # not mlready's: never touched
    foreign.write_text("mine")
    _age(foreign, STALE_TEMP_SECONDS * 5)
    assert remove_stale_temps(tmp_path) == []
    assert young.exists()
    assert living.exists()
    assert foreign.exists()
    assert remove_stale_temps(tmp_path, now=time.time() + STALE_TEMP_SECONDS + 1) == [young]


def test_a_moved_project_still_knows_the_outputs_it_wrote(tmp_path: Path) -> None:
    import shutil

    import pytest

    from mlready.errors import UsageError
    from mlready.io import guard_outputs, record_outputs

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
