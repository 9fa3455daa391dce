"""Test-only: run ``mlready ARGS`` and kill it (SIGKILL) just after a chosen change to the file
system, to see what a ``kill -9`` at that moment leaves behind.

    python tests/killpoints.py TRACE [KEY OCCURRENCE] -- ARGS...
    python tests/killpoints.py --serve     (jobs as JSON lines on stdin; see serve())

Every creating, renaming, removing or syncing call of the ``os``, ``shutil`` and ``tempfile``
modules is one change. Each is appended to the file TRACE (one JSON line: its number, the call,
its path, and its key: the call and path with run ids, process ids, hashes and random names
taken out, so that the same moment of two runs has the same key); just after the OCCURRENCE-th
change with key KEY, the process kills itself. Without KEY it is never killed: one such run
lists the moments a later run can be killed at. Nothing in mlready knows about this: the calls
are wrapped here, in the process that runs the command, and only in it (workers start clean).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from typing import Any

_WRAPPED = {
    os: ("replace", "rename", "unlink", "remove", "rmdir", "mkdir", "link", "fsync"),
    shutil: ("rmtree", "move", "copyfile"),
    tempfile: ("mkstemp", "mkdtemp"),
}
#: What differs between two runs of the same command, and what stands for it in a key.
_VARIABLE = (
    (re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}"), "RUN"),
    (re.compile(r"mlready-\d+(x[0-9a-f]{6})?-[0-9a-z_]+"), "mlready-WRITER"),
    (re.compile(r"joblib_memmapping_folder_[0-9a-f_]+"), "joblib_memmapping_folder"),
    (re.compile(r"[0-9a-f]{40,64}"), "HASH"),
    (re.compile(r"segment-\d+"), "segment-TIME"),
    (re.compile(r"/fresh-\d+"), "/fresh-N"),
)


def key(call: str, path: str) -> str:
    """What names a moment of a command alike in every run of it."""
    for pattern, stand_in in _VARIABLE:
        path = pattern.sub(stand_in, path)
    return f"{call} {path}"


def _where(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    for value in (*args, kwargs.get("dir"), kwargs.get("prefix")):
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        if isinstance(value, int) and not isinstance(value, bool):  # fsync(fd)
            try:
                return os.readlink(f"/proc/self/fd/{value}")
            except OSError:
                return "fd"
    return ""


class _Busy(threading.local):
    active = False


def install(trace: str, kill_key: str | None = None, occurrence: int = 1) -> None:
    """Wrap the calls; kill this process just after the ``occurrence``-th change ``kill_key``."""
    busy = _Busy()
    lock = threading.Lock()
    count = 0
    seen: dict[str, int] = {}
    raw_open, raw_write, raw_close = os.open, os.write, os.close

    def note(call: str, where: str) -> bool:
        """Trace one change; whether to die after it."""
        nonlocal count
        with lock:
            count += 1
            name = key(call, where)
            seen[name] = seen.get(name, 0) + 1
            line = json.dumps({"n": count, "call": call, "path": where, "key": name})
            fd = raw_open(trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                raw_write(fd, (line + "\n").encode())
            finally:
                raw_close(fd)
            return name == kill_key and seen[name] == occurrence

    def wrap(module: Any, name: str) -> None:
        original = getattr(module, name)

        @functools.wraps(original)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if busy.active:  # a wrapped call made by another (rmtree's unlinks) is not one
                return original(*args, **kwargs)
            busy.active = True
            try:
                die = note(f"{module.__name__}.{name}", _where(args, kwargs))
                try:
                    return original(*args, **kwargs)
                finally:
                    if die:
                        os.kill(os.getpid(), signal.SIGKILL)
            finally:
                busy.active = False

        setattr(module, name, wrapped)

    for module, names in _WRAPPED.items():
        for name in names:
            wrap(module, name)


def _run(trace: str, kill: list[Any] | None, args: list[str]) -> None:
    """Run ``mlready ARGS`` in this process (it exits)."""
    install(trace, *(kill or []))
    from mlready.cli.app import main

    main(args)


#: What the commands import as they run, loaded once by the server (no module starts a thread).
_PRELOAD = (
    "mlready.cli.app",
    "mlready.serving",
    "mlready.training",
    "mlready.validation.engine",
    "pandas",
    "pyarrow.parquet",
    "pyarrow.csv",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.metrics",
    "great_expectations",
    "great_expectations.expectations",
    "great_expectations.data_context.types.base",
    "matplotlib.pyplot",
    "scipy.stats",
    "jinja2",
)


def serve() -> None:
    """Fork one child per job read from stdin; answer how each ended on stdout.

    A job is one JSON line: ``{"trace": PATH, "kill": [KEY, OCCURRENCE] or null, "args": [...],
    "env": {...}, "log": PATH}``; the answer ``{"pid": P, "killed": bool, "exit_code": C}``.
    The heavy modules are imported once, here: a child starts in milliseconds, not seconds,
    and is otherwise the command as ``python -m mlready`` runs it.
    """
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: the command, with its output in the job's log file
            try:
                os.environ.update(job.get("env") or {})
                fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                _run(job["trace"], job.get("kill"), job["args"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
            except BaseException:
                import traceback

                traceback.print_exc()
                sys.stderr.flush()
                os._exit(99)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        print(json.dumps({"pid": pid, "killed": killed, "exit_code": code}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        split = sys.argv.index("--")
        before, after = sys.argv[1:split], sys.argv[split + 1 :]
        _run(before[0], [before[1], int(before[2])] if len(before) > 1 else None, after)
