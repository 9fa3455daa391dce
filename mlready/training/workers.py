"""Fold workers that die with the command that started them.

joblib's loky workers outlive a killed parent: a ``kill -9`` of ``mlready train`` left them
fitting folds, with every core busy, for 40 minutes and more. On Linux each worker asks the
kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere the workers
still end by loky's idle timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "ForkedCall",
    "bound_workers",
    "die_with_parent",
    "fork_safe",
    "forked_init",
    "thread_budget",
]

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def thread_budget() -> int:
    """The cores this process may use: the CPUs it is allowed to run on, within a container's
    CPU quota and LOKY_MAX_CPU_COUNT (joblib's count)."""
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def die_with_parent(parent: int) -> None:
    """Worker initializer: be killed when ``parent`` dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # no libc prctl: the idle timeout
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl ran: nobody waits for us
        os._exit(1)


@contextlib.contextmanager
def bound_workers() -> Iterator[None]:
    """joblib pools started inside (the folds, a hyperparameter search) run loky workers bound to
    this process's life; a backend the caller chose (dask, threads) is left alone."""
    from joblib import parallel_config
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if type(backend).__name__ != "LokyBackend" or backend.backend_kwargs:
        yield
        return
    with parallel_config(backend="loky", initializer=die_with_parent, initargs=(os.getpid(),)):
        yield


#: Benchmarks and tests switch forked processes off (fits then run in loky's pool, validation in
#: this process).
FORK = {"allowed": True}


def fork_safe() -> bool:
    """Whether work may run in a process forked from this one, which starts at once with what
    this process has imported and read: on Linux, and only while every OpenMP runtime loaded
    is held to one thread, so that no OpenMP thread pool exists that a forked child could
    inherit broken (GNU OpenMP hangs on that)."""
    if not sys.platform.startswith("linux") or not FORK["allowed"]:
        return False
    from threadpoolctl import threadpool_info

    return all(lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "openmp")


def forked_init(parent: int) -> None:
    """A forked process's start: killed with its parent; Ctrl-C is the parent's to handle; its
    output goes to the streams themselves, not to a progress display's proxy of them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    die_with_parent(parent)


def _forked_call(send: Any, parent: int, function: Callable[..., Any], args: tuple) -> None:
    forked_init(parent)
    try:
        outcome: tuple[bool, Any] = (True, function(*args))
    except BaseException as exc:  # raised again in the parent
        outcome = (False, exc)
    try:
        send.send(outcome)
    except Exception as exc:  # an outcome that does not pickle
        send.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class ForkedCall:
    """``function(*args)`` computed in a process forked now (see ``fork_safe``): it shares this
    process's memory as it is, so nothing is pickled on the way in. ``result()`` waits for it
    and returns what it returned or raises what it raised; ``close()`` stops it if it runs."""

    def __init__(self, what: str, function: Callable[..., Any], *args: Any) -> None:
        import multiprocessing

        self.what = what  # for a message: "the process validating the training data"

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_forked_call, args=(send, os.getpid(), function, args), daemon=True
        )
        self._process.start()
        send.close()

    def result(self) -> Any:
        try:
            ok, value = self._receive.recv()
        except EOFError:
            from mlready.errors import DataError

            self._process.join()
            code = self._process.exitcode
            killed = " (killed, most often for lack of memory)" if code == -signal.SIGKILL else ""
            raise DataError(
                f"{self.what} ended without a result (exit {code}){killed}",
                hint="free memory and run again",
            ) from None
        finally:
            self._receive.close()
        self._process.join()
        if ok:
            return value
        raise value

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receive.close()
