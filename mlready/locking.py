"""One cross-platform exclusive lock, for the files several processes append to or rewrite.

``fcntl`` exists only on POSIX; filelock uses ``fcntl.flock`` there, ``msvcrt.locking`` on Windows,
and a lock file created exclusively where neither is available. The lock lives in a file of its own
beside what it guards and is released when its holder exits, even by ``kill -9``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["exclusive"]


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created with its folder if missing)."""
    from filelock import FileLock

    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path)):
        yield
