"""Files: atomic writes that never leave a half-written artifact, and content hashes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "sha256_bytes",
    "sha256_file",
    "table_columns",
]


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is fsynced and renamed onto it.

    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(target: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: Path | str, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: Path | str, payload: Any) -> Path:
    """Write ``payload`` as indented, key-sorted JSON atomically."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str, allow_nan=False)
    return atomic_write_text(target, text + "\n")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str, *, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        _update(digest, handle, chunk_size)
    return digest.hexdigest()


def _update(digest: Any, handle: IO[bytes], chunk_size: int) -> None:
    while chunk := handle.read(chunk_size):
        digest.update(chunk)


def table_columns(path: Path | str) -> list[str]:
    """The column names of a CSV or Parquet file, read from its header or schema only."""
    import csv
    import gzip

    from mlready.errors import DataError

    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        opener: Any = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text: re-save it as UTF-8 CSV") from None
    except (OSError, csv.Error) as exc:
        raise DataError(f"cannot read the header of {path}: {exc}") from None
    except Exception as exc:
        raise DataError(f"cannot read {path} as Parquet: {exc}") from None
    if not header:
        raise DataError(f"{path} is empty: the first line must name the columns")
    return header
