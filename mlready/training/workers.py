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
from collections.abc import Iterator

__all__ = ["bound_workers", "die_with_parent", "thread_budget"]

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
