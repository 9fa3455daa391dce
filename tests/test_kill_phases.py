"""``kill -9`` at every moment serve-batch and train change the file system (issue 17, item 9).

Each command runs once to list the moments (tests/killpoints.py traces its file-system calls),
then again for each moment, killed with SIGKILL just after it. Afterwards:

* serve-batch's predictions, rejects and profile are one run's, the run before or the one
  killed, never a mix; a run killed after deciding its commit is completed by the next run;
* the next run starts (the output guard knows the files as mlready's), and it leaves no
  temporary file or commit journal anywhere in the project;
* no process the command started (loky workers, the resource tracker) outlives it;
* the run log verifies (a run killed before it was recorded is simply not in it).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.serving_data import SERVING, make_batch
from tests.training_data import write_project

pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="fork, /proc and parent-death signals"
    ),
    pytest.mark.slow,
]

KILLPOINTS = ROOT / "tests" / "killpoints.py"
#: What a write leaves while it is under way: a temporary file or folder, a commit's journal.
LEFTOVER = re.compile(r"\.mlready-\d+(x[0-9a-f]{6})?-[^.]*\.(tmp|commit)$")


@dataclass
class Ended:
    """How one command ended, and the file-system changes it made on the way."""

    killed: bool
    exit_code: int
    pid: int
    events: list[dict[str, Any]]
    output: str
    token: str

    @property
    def run_id(self) -> str:
        """The command's run id (its first change creates its run folder)."""
        first = self.events[0]
        assert first["call"] == "os.mkdir", first
        assert "/runs/" in first["path"], first
        return Path(first["path"]).name


class Commands:
    """``mlready`` commands run by the kill-point server, one forked child each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jobs = 0
        self.server = subprocess.Popen(
            [sys.executable, str(KILLPOINTS), "--serve"],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, kill: tuple[str, int] | None = None) -> Ended:
        """``mlready --quiet ARGS``, killed just after the change ``kill`` (key, occurrence)."""
        self.jobs += 1
        trace, log = self.folder / f"{self.jobs}.trace", self.folder / f"{self.jobs}.log"
        token = uuid.uuid4().hex
        job = {
            "trace": str(trace),
            "kill": kill,
            "log": str(log),
            "args": ["--quiet", *args],
            "env": {"MLREADY_KILL_TEST": token},
        }
        assert self.server.stdin is not None
        assert self.server.stdout is not None
        self.server.stdin.write(json.dumps(job) + "\n")
        self.server.stdin.flush()
        answer = json.loads(self.server.stdout.readline())
        events = [json.loads(x) for x in trace.read_text().splitlines()] if trace.exists() else []
        return Ended(
            answer["killed"], answer["exit_code"], answer["pid"], events, log.read_text(), token
        )

    def close(self) -> None:
        assert self.server.stdin is not None
        self.server.stdin.close()
        self.server.wait(30)


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Commands]:
    server = Commands(tmp_path_factory.mktemp("jobs"))
    try:
        yield server
    finally:
        server.close()


def kill_points(events: list[dict[str, Any]], shared: Path) -> list[tuple[str, int]]:
    """The moments to kill at, as (key, occurrence): just after the command's run folder is
    made, or a temporary folder; after temporary files are written in full (several in a row
    count once: the disk differs only in how many there are); and after each move or removal
    in ``shared`` (the output folder) and in the artifacts folder itself (the run log, the
    outputs manifest). Moves in a run's own folder or in the cache are left out: after them
    the disk is as it is at a later moment of the list."""
    points: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    written_last = False
    for event in events[:-1]:  # after the last change the command ends anyway
        call, path = event["call"], Path(event["path"])
        seen[event["key"]] = seen.get(event["key"], 0) + 1
        point = (event["key"], seen[event["key"]])
        made = event["n"] == 1 or call == "tempfile.mkdtemp"
        written = call == "os.fsync" and (path.name.endswith(".tmp") or path.name == "runs.jsonl")
        moved = call in ("os.replace", "os.rename", "os.unlink", "shutil.rmtree") and (
            path.parent == shared or path.parent.name == ".mlready"
        )
        if written and written_last:
            points[-1] = point
        elif made or written or moved:
            points.append(point)
        if made or written or moved:
            written_last = written
    return points


def _survivors(token: str) -> dict[int, str]:
    """The processes (pid -> command line) started with this token in their environment."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"MLREADY_KILL_TEST={token}".encode() in environ:
            found[int(entry.name)] = cmdline
    return found


def _no_survivors(token: str) -> None:
    deadline = time.monotonic() + 10
    while (left := _survivors(token)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:  # only the processes this test started
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived the killed command: {left}"


def _leftovers(*folders: Path) -> list[Path]:
    return sorted(p for f in folders for p in f.rglob("*") if LEFTOVER.search(p.name))


def _shm_leftovers(pid: int) -> list[str]:
    """joblib's memory-mapping folders of a process, in /dev/shm."""
    shm = Path("/dev/shm")
    return sorted(p.name for p in shm.glob(f"joblib_memmapping_folder_{pid}_*"))


def _verified(project: Path) -> None:
    from mlready.runs import verify_run_log

    checked = verify_run_log(project / ".mlready")
    assert not checked.problems, [str(p) for p in checked.problems]


# ---------------------------------------------------------------------------------- serve-batch


@pytest.fixture(scope="module")
def project(commands: Commands, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project with its model in production, a clean and a dirty batch (rows set aside), and
    how its train run went (the moments a train can be killed at)."""
    folder = write_project(tmp_path_factory.mktemp("served"), extra=SERVING)
    trained = commands.run("--spec", str(folder), "train", "--no-importance")
    assert trained.exit_code == 0, trained.output
    registered = commands.run("--spec", str(folder), "register", "--promote", "production")
    assert registered.exit_code == 0, registered.output
    make_batch(300, seed=1).to_csv(folder / "clean.csv", index=False)
    dirty = make_batch(300, seed=2)
    dirty.loc[[5, 50, 150], "tenure"] = -4  # under the contract's minimum: set aside
    dirty.to_csv(folder / "dirty.csv", index=False)
    return Project(folder, trained)


@dataclass
class Project:
    folder: Path
    trained: Ended


@pytest.fixture
def served(project: Project) -> Path:
    return project.folder


OUT = "out/scores.parquet"


def _pair(folder: Path) -> str | None:
    """The run whose predictions, rejects and profile are in ``out/``; fails on a mix."""
    out = folder / OUT
    profile_path = out.with_name("scores.profile.json")
    rejects = out.with_name("scores.rejected.parquet")
    if not out.exists():
        assert not profile_path.exists()
        assert not rejects.exists()
        return None
    predictions = pd.read_parquet(out)
    batch = json.loads(profile_path.read_text())["batch"]
    assert set(predictions["run_id"]) == {batch["run_id"]}, "predictions of another run"
    assert len(predictions) == batch["rows_scored"]
    assert rejects.exists() == (batch["rows_rejected"] > 0), "rejects of another run"
    if rejects.exists():
        assert len(pd.read_parquet(rejects)) == batch["rows_rejected"]
    return str(batch["run_id"])


def _serve(
    commands: Commands, folder: Path, batch: str, *more: str, kill: tuple[str, int] | None = None
) -> Ended:
    return commands.run(
        "--spec", str(folder), "serve-batch", "-i", str(folder / batch), "-o", str(folder / OUT),
        *more, kill=kill,
    )  # fmt: skip


def _fresh_batch(folder: Path, n: int) -> str:
    """A clean batch no run scored before (the batch cache cannot answer it)."""
    name = f"fresh-{n}.csv"
    make_batch(200 + n, seed=100 + n).to_csv(folder / name, index=False)
    return name


@pytest.mark.parametrize(
    ("before", "killed"),
    [("dirty.csv", "fresh"), ("clean.csv", "dirty.csv")],
    ids=["scored-over-rejects", "from-the-batch-cache-over-clean"],
)
def test_serve_batch_killed_at_every_change_leaves_one_runs_files(
    commands: Commands, served: Path, before: str, killed: str
) -> None:
    """A scored batch with no rejects killed over a run's files with rejects, and a batch the
    cache answers (with rejects) killed over a clean run's files."""
    fresh = iter(range(10_000))

    def batch() -> str:
        return _fresh_batch(served, next(fresh)) if killed == "fresh" else killed

    # each batch once first: the dirty one is in the batch cache from then on
    for name in {before, killed} - {"fresh"}:
        assert _serve(commands, served, name).exit_code == 0
    whole = _serve(commands, served, batch())
    assert whole.exit_code == 0, whole.output
    cached = _pair(served)  # the batch cache answers with the files of the run it stored
    points = kill_points(whole.events, (served / OUT).parent)
    if killed != "fresh":  # the moments outside the output folder are the scored run's too
        points = [p for p in points if f"{served / 'out'}/" in p[0]]
    assert len(points) >= 6
    previous = _pair(served)
    for point in points:
        if previous is None or _kind(served) != before:
            assert _serve(commands, served, before).exit_code == 0
            previous = _pair(served)
        ended = _serve(commands, served, batch(), kill=point)
        where = f"killed after {point}"
        assert ended.killed, f"{where}: the run ended first ({ended.output})"
        new = ended.run_id if killed == "fresh" else cached
        _no_survivors(ended.token)
        decided = list((served / "out").glob("*.commit"))
        if not decided:  # not committed, or committed in full
            assert _pair(served) in (previous, new), where
        # the next run: completes a decided commit, removes the leftovers, and stops at the
        # first invalid row of the dirty batch (--stop) before it writes anything
        after = _serve(commands, served, "dirty.csv", "--stop")
        assert after.exit_code == 1, f"{where}: {after.output}"
        assert "breaks the serving contract" in after.output, after.output
        now = _pair(served)
        assert now == new if decided else now in (previous, new), where
        assert _leftovers(served) == [], where
        _verified(served)
        previous = now


def _kind(folder: Path) -> str:
    """Which of the two batches the files in ``out/`` are of (by their rejects)."""
    rejects = (folder / OUT).with_name("scores.rejected.parquet")
    return "dirty.csv" if rejects.exists() else "clean.csv"


# ---------------------------------------------------------------------------------------- train


def _train_points(events: list[dict[str, Any]]) -> dict[str, tuple[str, int]]:
    """The moments train is killed at (key, occurrence): its folds fitted (its workers idle)
    and its model written in full, not in place; every artifact in place, not recorded;
    recorded, and the log's head not (serve-batch's test kills the log's writing at every
    moment: it is the same code)."""

    def at(test: Any, pick: int = 0) -> tuple[str, int]:
        event = [e for e in events if test(e)][pick]
        return event["key"], 1 + sum(e["key"] == event["key"] for e in events[: event["n"] - 1])

    return {
        "model written, not in place": at(
            lambda e: e["call"] == "os.fsync" and re.search(r"/\.model\.\w+\.mlready-", e["path"])
        ),
        "every artifact in place, not recorded": at(
            lambda e: e["call"] == "os.replace" and "/runs/train/" in e["path"], -1
        ),
        "recorded, the head not": at(lambda e: e["path"].endswith("runs.jsonl")),
    }


def test_train_killed_at_every_step_of_its_writing(commands: Commands, project: Project) -> None:
    """(Last in this module: it trains the served project again, and registers a version.)"""
    from mlready.runs import read_run_log

    folder, whole = project.folder, project.trained
    spec = ("--spec", str(folder))
    recorded = [r.run_id for r in read_run_log(folder / ".mlready", "train")]
    assert recorded == [whole.run_id]
    for phase, point in _train_points(whole.events).items():
        ended = commands.run(*spec, "train", "--no-importance", kill=point)
        assert ended.killed, f"{phase}: train ended first ({ended.output})"
        _no_survivors(ended.token)
        assert _shm_leftovers(ended.pid) == [], phase
        _verified(folder)
        if phase == "recorded, the head not":
            recorded.append(ended.run_id)  # its record is in: the run was complete
        assert [r.run_id for r in read_run_log(folder / ".mlready", "train")] == recorded
        # what is left is this run's: each run removes what the one killed before it left
        assert {f"mlready-{ended.pid}x" in p.name for p in _leftovers(folder)} <= {True}, phase
    # the next run registers the run killed after its record (its files are whole) and removes
    # the killed run's leftovers
    register = commands.run(*spec, "register", "--run", recorded[-1])
    assert register.exit_code == 0, register.output
    assert _leftovers(folder) == []
    verify = commands.run(*spec, "runs", "verify")
    assert verify.exit_code == 0, verify.output
