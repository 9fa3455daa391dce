"""Killing `mlready train` kills its fold workers too (issue 17, item 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="parent-death signals are a Linux feature"
)


def _children(pid: int) -> dict[int, str]:
    """pid -> command line of the processes whose parent is ``pid``."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out[int(entry.name)] = cmdline
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


#: `mlready train` with fits in loky's workers instead of forked ones.
LOKY_TRAIN = (
    "import sys; import mlready.training.workers as w; w.FORK['allowed'] = False; "
    "from mlready.cli.app import main; sys.argv[0] = 'mlready'; main()"
)


@pytest.mark.parametrize("pool", ["forked", "loky"])
def test_sigkill_of_train_leaves_no_worker_behind(sample_copy: Path, pool: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = ["-m", "mlready"] if pool == "forked" else ["-c", LOKY_TRAIN]
    command = [sys.executable, *start, "--quiet", "--spec", str(sample_copy), "train"]
    train = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: dict[int, str] = {}

    def fold_workers() -> dict[int, str]:
        found = _children(train.pid)
        if pool == "loky":
            return {p: c for p, c in found.items() if "loky" in c}
        # forked workers carry train's own command line
        return {p: c for p, c in found.items() if c.split()[1:3] == ["-m", "mlready"]}

    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and train.poll() is None:
            workers = fold_workers()
            if pool == "forked" and len(workers) >= 2:
                break
            if any("popen_loky_posix" in c for c in workers.values()):
                break
            time.sleep(0.2)
        if train.poll() is not None:
            pytest.skip("train ended before it started fold workers (one core?)")
        assert workers, f"no {pool} worker seen"
        time.sleep(1)  # the workers are fitting folds now
        train.send_signal(signal.SIGKILL)
        train.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        survivors = {p: c for p, c in workers.items() if _alive(p)}
        assert not survivors, f"workers outlived train: {survivors}"
    finally:
        if train.poll() is None:
            train.kill()
        for pid in workers:  # only the processes this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_ctrl_c_of_train_stops_its_forked_workers_at_once(sample_copy: Path) -> None:
    """Ctrl-C reaches the whole process group: the forked workers leave it to train, which kills
    them (no waiting for the fits under way) and exits 130 with one line, no traceback."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "mlready", "--quiet", "--spec", str(sample_copy), "train"]
    train = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # as on a terminal: a job started in the background of a script inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and train.poll() is None and len(workers) < 2:
            workers = {
                p: c for p, c in _children(train.pid).items() if c.split()[1:3] == ["-m", "mlready"]
            }
            time.sleep(0.1)
        if train.poll() is not None:
            pytest.skip("train ended before it started fold workers (one core?)")
        for pid in [train.pid, *workers]:  # what a terminal's Ctrl-C does
            os.kill(pid, signal.SIGINT)
        started = time.monotonic()
        _, stderr = train.communicate(timeout=60)
        assert time.monotonic() - started < 5
        assert train.returncode == 130, stderr
        assert "Traceback" not in stderr
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)]
    finally:
        if train.poll() is None:
            train.kill()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _twice(x: int) -> int:
    return 2 * x


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # the forked process's own id: it kills itself


def _refuse(message: str) -> None:
    from mlready.errors import DataError

    raise DataError(message, hint="fix the data")


def test_a_forked_call_returns_or_raises_what_its_function_did() -> None:
    from mlready.errors import DataError
    from mlready.training.workers import ForkedCall

    assert ForkedCall("doubling", _twice, 21).result() == 42
    with pytest.raises(DataError, match="bad rows") as caught:
        ForkedCall("refusing", _refuse, "bad rows").result()
    assert caught.value.hint == "fix the data"  # the error arrives whole
    # one that dies without a word is said, as a data error (exit 4), not waited for
    with pytest.raises(DataError, match=r"the test's process ended without a result \(exit 3\)"):
        ForkedCall("the test's process", os._exit, 3).result()
    with pytest.raises(DataError, match="killed, most often for lack of memory"):
        ForkedCall("the test's process", _killed).result()


def test_closing_a_forked_call_stops_it() -> None:
    from mlready.training.workers import ForkedCall

    call = ForkedCall("sleeping", time.sleep, 60)
    process = call._process
    started = time.monotonic()
    call.close()
    assert time.monotonic() - started < 5
    assert not process.is_alive()
