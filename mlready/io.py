"""Files: atomic writes that never leave a half-written artifact, and content hashes."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "commit_files",
    "guard_outputs",
    "json_text",
    "os_error_message",
    "record_outputs",
    "remove_stale_temps",
    "sha256_bytes",
    "sha256_file",
    "staged",
    "table_columns",
    "temp_beside",
    "temp_folder_beside",
    "write_files",
]


@contextlib.contextmanager
def atomic_path(target: Path | str, *, clean: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is fsynced and renamed onto it.

    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    with staged(target, clean=clean) as tmp:
        yield tmp
    try:
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _raise_os_error(exc, target)
        raise
    _fsync_dir(target.parent)


@contextlib.contextmanager
def staged(target: Path | str, *, clean: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` to fill; on success it is fsynced and left
    there, for :func:`commit_files` to put in place with the files it belongs with.

    On any exception the temporary file is removed.
    """
    from mlready.errors import DataError

    target = Path(target)
    if target.is_dir():
        raise DataError(f"cannot write {target}: it is a folder; name a file instead")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_beside(target, clean=clean)
    except OSError as exc:
        raise DataError(os_error_message(exc, target) or f"cannot write {target}: {exc}") from exc
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; artifacts follow the umask
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _raise_os_error(exc, target)
        raise


def _raise_os_error(exc: BaseException, target: Path) -> None:
    """Raise the one-line DataError for the machine's errors (a full disk...), else nothing."""
    from mlready.errors import DataError

    message = os_error_message(exc, target) if isinstance(exc, OSError) else None
    if message is not None:
        raise DataError(message) from exc


#: errno -> what the user can do about it; an OSError with one of these is the machine's state
#: (a full disk, a read-only folder), not a bug in mlready: it exits 4, not 5.
_OS_ERROR_FIXES = {
    errno.ENOSPC: "no space left on the device: free some space or write elsewhere",
    errno.EDQUOT: "disk quota exceeded: free some space or write elsewhere",
    errno.EFBIG: "the file is too large for its file system: write elsewhere",
    errno.EROFS: "the file system is read-only: write to another folder",
    errno.EACCES: "permission denied: make it writable (readable) or choose another path",
    errno.EPERM: "operation not permitted: choose another path",
    errno.EISDIR: "it is a folder: name a file instead",
    errno.ENOTDIR: "a file is in the way where a folder is needed: move it or choose another path",
    errno.EEXIST: "a file is in the way where a folder is needed: move it or choose another path",
    errno.ENAMETOOLONG: "the name is too long: choose a shorter path",
    errno.EIO: "an input/output error of the device: check the disk",
    errno.ENOENT: "no such file or folder: check the path",
}
#: the same conditions as pyarrow words them (its OSErrors often carry no errno)
_OS_ERROR_TEXTS = {
    "no space left on device": errno.ENOSPC,
    "disk quota exceeded": errno.EDQUOT,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
    "is a directory": errno.EISDIR,
    "not a directory": errno.ENOTDIR,
}


def os_error_message(
    exc: BaseException, path: Path | str | None = None, *, verb: str = "write"
) -> str | None:
    """One line for an OSError caused by the machine (full disk, read-only or missing folder,
    a folder where a file is named): the path, the cause and the fix; None for any other."""
    if not isinstance(exc, OSError):
        return None
    code = exc.errno
    if code not in _OS_ERROR_FIXES:
        text = str(exc).lower()
        code = next((c for t, c in _OS_ERROR_TEXTS.items() if t in text), None)
        if code is None:
            return None
    where = path if path is not None else (exc.filename2 or exc.filename)
    subject = f"cannot {verb} {where}" if where is not None else "cannot read or write a file"
    return f"{subject}: {_OS_ERROR_FIXES[code]}"


#: A temporary file of a writer on another machine (a shared folder), whose process cannot be
#: looked up from here, is removed this long (seconds) after its last change.
STALE_TEMP_SECONDS = 3600
_TEMP_MARK = "mlready-"
#: ``.<name>.mlready-<pid>x<machine>-<random>.tmp`` (``x<machine>`` is missing in the names of
#: mlready 0.x before it; those are judged as another machine's); a commit's journal ends in
#: ``.commit`` instead of ``.tmp``.
_WRITER = _TEMP_MARK + r"(\d+)(?:x([0-9a-f]{6}))?-[^.]*"
_TEMP_NAME = re.compile(r"^\..+\." + _WRITER + r"\.tmp$")
_JOURNAL_NAME = re.compile(r"^\..+\." + _WRITER + r"\.commit$")


def _machine() -> str:
    """6 hex digits naming this machine and its process-id namespace (a container sharing the
    folder has its own): where a writer's process id can be looked up."""
    global _MACHINE
    if _MACHINE is None:
        import socket

        namespace = ""
        with contextlib.suppress(OSError):  # Linux: containers have their own pid namespace
            namespace = os.readlink("/proc/self/ns/pid")
        _MACHINE = sha256_bytes(f"{socket.gethostname()}|{namespace}".encode())[:6]
    return _MACHINE


_MACHINE: str | None = None


def _writer_mark() -> str:
    return f"{_TEMP_MARK}{os.getpid()}x{_machine()}-"


def temp_beside(target: Path, *, clean: bool = True) -> Path:
    """A new empty temporary file beside ``target``, named after it and this process (so a
    later run can tell a killed writer's leftover); a killed writer's leftovers there are
    removed first (see :func:`remove_stale_temps`) unless not ``clean``."""
    if clean:
        remove_stale_temps(target.parent)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.{_writer_mark()}", suffix=".tmp", dir=target.parent
    )
    os.close(fd)
    return Path(name)


def temp_folder_beside(target: Path) -> Path:
    """A new empty temporary folder beside ``target`` (for an output that is a folder), named
    as :func:`temp_beside` names files."""
    remove_stale_temps(target.parent)
    prefix = f".{target.name}.{_writer_mark()}"
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=target.parent))


def _gone(match: re.Match[str], changed: float, now: float, max_age: float) -> bool:
    """Whether the writer named in a temporary file's (or journal's) name is gone: its process
    has ended on this machine, or (another machine's) it is ``max_age`` old and not alive here."""
    pid, machine = int(match.group(1)), match.group(2)
    if machine == _machine():
        return not _process_alive(pid)
    return now - changed >= max_age and not _process_alive(pid)


def remove_stale_temps(
    folder: Path | str, *, max_age: float = STALE_TEMP_SECONDS, now: float | None = None
) -> list[Path]:
    """Clean up after writers killed in ``folder``: complete the commits they had decided (see
    :func:`commit_files`), then remove their temporary files and folders; return what was
    removed. A living writer's files, and anything not named like mlready's, are left alone.

    A writer on this machine is gone when its process is; another machine's (a shared folder)
    when its files are ``max_age`` seconds old and its process id is not alive here."""
    import time

    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    pending: set[str] = set()  # temporary files a living writer's commit will move
    for entry in entries:
        match = _JOURNAL_NAME.match(entry.name)
        if match is None:
            continue
        try:
            changed = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if _gone(match, changed, now, max_age):
            _finish_commit(Path(entry.path))
        if os.path.lexists(entry.path):  # a living writer's, or not completed: keep its files
            pending |= _journal_temps(Path(entry.path))
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or entry.name in pending:
            continue
        try:
            changed = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue  # moved into place or removed by another run meanwhile
        if not _gone(match, changed, now, max_age):
            continue
        with contextlib.suppress(OSError):  # another run removed it first
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def _remove(path: Path) -> None:
    """Remove a file or a folder with everything in it."""
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (when unsure: yes)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() != 87  # ERROR_INVALID_PARAMETER: no such process
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's: not ours to judge
        return True
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


def atomic_write_json(target: Path | str, payload: Any, *, clean: bool = True) -> Path:
    """Write ``payload`` as indented, key-sorted JSON atomically."""
    with atomic_path(target, clean=clean) as tmp:
        tmp.write_bytes(json_text(payload).encode("utf-8"))
    return Path(target)


# --------------------------------------------------------------------------------------------------
# Committing files that belong together: all of them, or (after a kill) the next run completes it
# --------------------------------------------------------------------------------------------------


def commit_files(
    moves: list[tuple[Path | None, Path]],
    *,
    record: Iterable[Path] = (),
    artifacts_dir: Path | str | None = None,
) -> None:
    """Put each temporary file (or folder) onto its target, and remove each target paired with
    None, as one commit; then remember the targets in ``record`` as outputs mlready wrote (see
    :func:`guard_outputs`).

    The targets are in one folder. A journal naming every move is written there first: a run
    killed after it is completed by the next write to the folder (:func:`remove_stale_temps`),
    so the files are never left half old, half new once mlready looks again. An error before the
    journal is written removes the temporary files and changes nothing.
    """
    folder = moves[0][1].parent
    if any(target.parent != folder for _, target in moves):
        raise ValueError("commit_files: the targets of one commit are in one folder")
    # commits of one project one at a time: two runs writing the same outputs at once leave the
    # later one's files, not a mix of both
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_commit_lock(artifacts_dir))
        except BaseException:
            _discard(moves)
            raise
        _commit(folder, moves, record, artifacts_dir)


def _discard(moves: list[tuple[Path | None, Path]]) -> None:
    for temp, _ in moves:
        if temp is not None:
            with contextlib.suppress(OSError):
                _remove(temp)


@contextlib.contextmanager
def _commit_lock(artifacts_dir: Path | str | None) -> Iterator[None]:
    if artifacts_dir is None:
        yield
        return
    from mlready.locking import exclusive

    with exclusive(Path(artifacts_dir) / COMMIT_LOCK):
        yield


def _commit(
    folder: Path,
    moves: list[tuple[Path | None, Path]],
    record: Iterable[Path],
    artifacts_dir: Path | str | None,
) -> None:
    import secrets

    from mlready.errors import DataError

    wanted = {_key(p) for p in record}
    try:
        entries: list[dict[str, Any]] = [
            {
                "temp": None if temp is None else temp.name,
                "target": target.name,
                "record": temp is not None and _key(target) in wanted,
                "sha256": _digest(temp) if temp is not None and _key(target) in wanted else None,
            }
            for temp, target in moves
        ]
        journal = folder / f".{moves[0][1].name}.{_writer_mark()}{secrets.token_hex(4)}.commit"
        artifacts = (
            None
            if artifacts_dir is None
            else os.path.relpath(Path(artifacts_dir).resolve(), folder.resolve())
        )
        atomic_write_json(journal, {"moves": entries, "artifacts": artifacts}, clean=False)
    except BaseException:
        _discard(moves)
        raise
    # committed: from here on, the next run completes what an error or a kill leaves undone
    try:
        _apply(folder, entries)
    except OSError as exc:
        message = os_error_message(exc, folder) or f"cannot write {folder}: {exc}"
        raise DataError(f"{message} (the next run writing there completes this one)") from exc
    _fsync_dir(folder)
    if artifacts_dir is not None:
        _record(artifacts_dir, {folder / e["target"]: e["sha256"] for e in entries if e["record"]})
    journal.unlink()


def write_files(
    folder: Path, files: dict[str, bytes], *, artifacts_dir: Path | str | None = None
) -> None:
    """Write files (name -> bytes) into ``folder`` as one commit (see :func:`commit_files`):
    all of them this run's, or all the run's before; recorded in ``artifacts_dir`` as mlready's."""
    moves: list[tuple[Path | None, Path]] = []
    try:
        for name, data in files.items():
            with staged(folder / name) as tmp:
                tmp.write_bytes(data)
            moves.append((tmp, folder / name))
    except BaseException:
        _discard(moves)
        raise
    if moves:
        commit_files(moves, record=[t for _, t in moves], artifacts_dir=artifacts_dir)


def _apply(folder: Path, entries: list[dict[str, Any]]) -> None:
    """Make each move of a commit that is not made yet (a temporary file gone is moved)."""
    import secrets

    for entry in entries:
        target = folder / entry["target"]
        if entry["temp"] is None:
            if os.path.lexists(target):
                _remove(target)
            continue
        temp = folder / entry["temp"]
        if not os.path.lexists(temp):
            continue  # moved before the writer was killed
        if temp.is_dir() and target.is_dir() and not target.is_symlink():
            # a folder cannot be renamed over a folder: the old one goes aside, then away
            aside = folder / f".{target.name}.{_writer_mark()}{secrets.token_hex(4)}.tmp"
            os.replace(target, aside)
            os.replace(temp, target)
            _remove(aside)
        else:
            os.replace(temp, target)


def _journal(path: Path) -> dict[str, Any] | None:
    """A commit's journal, if it reads as one: moves between plain names in its own folder."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        moves = data["moves"]
        for entry in moves:
            temp, target = entry["temp"], entry["target"]
            plain = isinstance(target, str) and target not in ("", ".", "..")
            if not plain or "/" in target or os.sep in target:
                return None
            if temp is not None and not (isinstance(temp, str) and _TEMP_NAME.match(temp)):
                return None
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return data if isinstance(data.get("artifacts"), (str, type(None))) else None


def _journal_temps(path: Path) -> set[str]:
    data = _journal(path)
    return {e["temp"] for e in data["moves"] if e["temp"]} if data else set()


def _finish_commit(journal: Path) -> None:
    """Complete the commit of a killed writer (its journal was written: it had decided)."""
    data = _journal(journal)
    if data is None:  # not one of ours, or damaged: it cannot be completed
        with contextlib.suppress(OSError):
            journal.unlink()
        return
    folder = journal.parent
    artifacts = None if data["artifacts"] is None else folder / data["artifacts"]
    try:
        with _commit_lock(artifacts):
            if not journal.exists():
                return  # completed by another run meanwhile
            _apply(folder, data["moves"])
            _fsync_dir(folder)
            if artifacts is not None:
                done = {}
                for entry in data["moves"]:
                    target = folder / entry["target"]
                    digest = entry.get("sha256")
                    if entry.get("record") and target.exists() and _digest(target) == digest:
                        done[target] = digest
                _record(artifacts, done)
            journal.unlink()
    except OSError:
        return  # (a read-only folder now): a later run tries again


def json_text(payload: Any, *, compact: bool = False) -> str:
    """``payload`` as the indented, key-sorted JSON text artifacts are written in; ``compact``:
    on one line (large machine-read artifacts such as batch profiles: the C encoder writes them
    about ten times faster than the indenting one)."""
    if compact:
        return (
            json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)
            + "\n"
        )
    return json.dumps(payload, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"


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
    except (OSError, EOFError, csv.Error) as exc:
        raise DataError(f"cannot read the header of {path}: {exc}") from None
    except Exception as exc:
        raise DataError(f"cannot read {path} as Parquet: {exc}") from None
    if not header:
        raise DataError(f"{path} is empty: the first line must name the columns")
    return header


# --------------------------------------------------------------------------------------------------
# Guarding user-named outputs: never overwrite a file mlready did not write
# --------------------------------------------------------------------------------------------------

#: In the artifacts folder: every file mlready wrote at a user-named path, with its sha256, so a
#: later run may replace it (its own earlier output) but nothing else without --force.
OUTPUTS_MANIFEST = "outputs.json"
#: Held while the manifest is read, changed and written (see mlready.locking).
OUTPUTS_LOCK = ".outputs.lock"
#: Held while files are put in place together (see commit_files).
COMMIT_LOCK = ".commit.lock"


def _key(path: Path | str) -> str:
    return str(Path(path).expanduser().resolve())


def _entry(path: Path | str, artifacts_dir: Path | str) -> str:
    """How the manifest names an output: seen from the artifacts folder, so that a project
    moved or copied with its artifacts (a CI cache restored elsewhere) still knows its own."""
    where = os.path.relpath(_key(path), Path(artifacts_dir).expanduser().resolve())
    return Path(where).as_posix()


def _manifest(artifacts_dir: Path | str) -> dict[str, str | None]:
    try:
        data = json.loads((Path(artifacts_dir) / OUTPUTS_MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}


def _digest(path: Path) -> str | None:
    """A file's sha256; None for a folder (a partitioned output is known by its path)."""
    return None if path.is_dir() else sha256_file(path)


def guard_outputs(
    targets: list[Path],
    *,
    artifacts_dir: Path | str,
    protected: Iterable[Path | str] = (),
    force: bool = False,
    option: str = "--output",
    folders: bool = False,
    hint: str = "choose another path, or pass --force to overwrite it",
) -> None:
    """Refuse (UsageError) to write over an input, the spec or a spec-named data file, ever, and
    over any other existing file mlready did not write itself (unless ``force``). ``folders``:
    the outputs are folders (a folder in the way is then one more thing not to overwrite)."""
    from mlready.errors import UsageError

    guarded = {_key(p) for p in protected}
    known = _manifest(artifacts_dir)
    for target in targets:
        key = _key(target)
        if key in guarded:
            raise UsageError(
                f"{option} {target} would overwrite an input, the spec or a data file it names: "
                "write the output to another path"
            )
        path = Path(key)
        if force or not path.exists():
            continue
        entry = _entry(path, artifacts_dir)
        ours = entry in known or key in known  # (absolute: as the first manifests wrote it)
        if ours and known.get(entry, known.get(key)) == _digest(path):
            continue
        if path.is_dir() and not ours and not folders:
            from mlready.errors import DataError

            # not ours, and no file can take its place: the same answer as when writing fails
            raise DataError(
                f"cannot write {option} {target}: it is a folder; name a file, or remove the folder"
            )
        raise UsageError(f"{option} {target} exists and was not written by mlready: {hint}")


def record_outputs(targets: list[Path], *, artifacts_dir: Path | str) -> None:
    """Remember the files just written at user-named paths (see :func:`guard_outputs`)."""
    digests = {}
    for target in targets:
        path = Path(_key(target))
        if path.exists():
            digests[path] = _digest(path)
    _record(artifacts_dir, digests)


def _record(artifacts_dir: Path | str, digests: dict[Path, str | None]) -> None:
    """Add outputs (path -> sha256) to the manifest: read, changed and written under its lock,
    so commands finishing at the same time keep each other's entries."""
    from mlready.locking import exclusive

    if not digests:
        return
    artifacts = Path(artifacts_dir)
    with exclusive(artifacts / OUTPUTS_LOCK):
        known = _manifest(artifacts)
        for path, digest in digests.items():
            key = _key(path)
            known.pop(key, None)  # (absolute: as the first manifests wrote it)
            known[_entry(key, artifacts)] = digest
        # not cleaning the folder here: that could complete a commit, which records, under the lock
        atomic_write_json(artifacts / OUTPUTS_MANIFEST, known, clean=False)


# --------------------------------------------------------------------------------------------------
# Reading tables: CSV, Parquet, a glob of either, or a SQL query
# --------------------------------------------------------------------------------------------------

#: file endings mlready refuses to read, and why: not portable, or code execution on load
REFUSED_SUFFIXES = {
    ".xls": "Excel",
    ".xlsx": "Excel",
    ".xlsm": "Excel",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
}


def resolve_files(path_or_glob: str | Path) -> list[Path]:
    """The files a path or glob names, sorted; DataError when there are none or a format is bad."""
    import glob

    from mlready.errors import DataError

    text = str(path_or_glob)
    for suffix, kind in REFUSED_SUFFIXES.items():
        if text.lower().endswith(suffix):
            raise DataError(
                f"{text}: {kind} files are not read by mlready; save the table as CSV or Parquet "
                "(pandas: df.to_parquet('data.parquet')), portable formats any tool can read"
            )
    files = sorted(Path(p) for p in glob.glob(text)) if glob.has_magic(text) else [Path(text)]
    if not files or not files[0].exists():
        raise DataError(f"no data at {text}: check the path (or glob) and that the file exists")
    for file in files:
        if file.is_dir():
            raise DataError(f"{file} is a folder: name a CSV or Parquet file, or a glob")
        if not file.name.lower().endswith((".csv", ".csv.gz", ".parquet", ".pq")):
            raise DataError(f"{file} is neither CSV nor Parquet (by its name): convert it first")
    return files


#: Rows of a CSV file looked at for code columns (digit strings with leading zeros).
CODE_SAMPLE_ROWS = 10_000
_CODE_RE = r"[+-]?0\d+"


def code_columns(path: Path, numeric: frozenset[str] = frozenset()) -> set[str]:
    """Columns of a CSV file whose sampled values include a digit string with a leading zero
    (a zip or product code, not a number), leaving out the columns declared ``numeric``."""
    import pandas as pd

    with _csv_errors(path):
        sample = pd.read_csv(path, encoding="utf-8-sig", dtype=str, nrows=CODE_SAMPLE_ROWS)
    out = set()
    for column in sample.columns:
        if str(column) in numeric:
            continue
        values = sample[column].dropna().str.strip()
        if len(values) and bool(values.str.fullmatch(_CODE_RE).any()):
            out.add(str(column))
    return out


def csv_text_types(
    files: list[Path], text: frozenset[str], numeric: frozenset[str]
) -> dict[str, str]:
    """The ``dtype`` argument that reads these CSV files' text columns as text: the declared
    ones and the codes found in any file (one map for every file, so a glob reads as one)."""
    columns: set[str] = set()
    wanted = set(text)
    for file in files:
        if file.name.lower().endswith((".parquet", ".pq")):
            continue
        columns |= set(table_columns(file))
        wanted |= code_columns(file, numeric)
    return dict.fromkeys(sorted(wanted & columns), "str")


def _read_csv(path: Path, dtype: dict[str, str] | None = None) -> Any:
    # pandas' C engine: measured faster than its pyarrow engine on 5M rows x 25 columns here
    # (4.2 s against 6.5 s), and the same parser as the chunked reader, so both see one table
    import pandas as pd

    with _csv_errors(path):
        return _check_delimiter(pd.read_csv(path, encoding="utf-8-sig", dtype=dtype), path)


def _check_delimiter(frame: Any, path: Path) -> Any:
    """A one-column table whose header holds ';' or a tab was not comma-separated: say so."""
    from mlready.errors import DataError

    if len(frame.columns) == 1:
        header = str(frame.columns[0])
        for mark, name in ((";", "semicolon"), ("\t", "tab")):
            if mark in header:
                raise DataError(
                    f"{path} looks {name}-separated (its header is {header[:60]!r}): mlready "
                    "reads comma-separated CSV or Parquet; convert it, e.g. with pandas: "
                    f"pd.read_csv(path, sep={mark!r}).to_parquet('data.parquet')"
                )
    return frame


@contextlib.contextmanager
def _csv_errors(path: Path) -> Iterator[None]:
    """Turn pandas' errors on a bad CSV file into one-line DataErrors that say what to do."""
    import gzip
    import zlib

    import pandas as pd

    from mlready.errors import DataError

    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes): a CSV needs at least a header row")
    try:
        yield
    except UnicodeDecodeError:
        raise DataError(
            f"{path} is not UTF-8 text: re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: a CSV needs at least a header row") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"cannot read {path} as CSV: {_first_line(exc)}") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # a .gz file that is not (all) gzip
        raise DataError(
            f"cannot read {path}: it is not a whole gzip file ({_first_line(exc)}); "
            "compress it again, or save it as plain .csv"
        ) from None
    except OSError as exc:
        message = os_error_message(exc, path, verb="read")
        raise DataError(message or f"cannot read {path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _read_parquet(path: Path) -> Any:
    import pyarrow.parquet as pq

    from mlready.errors import DataError

    try:
        return pq.read_table(path).to_pandas()
    except Exception as exc:
        raise DataError(f"cannot read {path} as Parquet: {str(exc).splitlines()[0]}") from None


def read_file(path: Path, dtype: dict[str, str] | None = None) -> Any:
    """One CSV or Parquet file as a pandas DataFrame; DataError when it cannot be read.

    ``dtype`` types CSV columns (Parquet columns keep their stored types)."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        frame = _read_parquet(path)
    else:
        frame = _read_csv(path, dtype or None)
    return normalize_dates(frame)


def read_source_rows(path: str | Path) -> Any:
    """The table exactly as stored: CSV as text (every value as written, empty as ''), Parquet
    as an Arrow table; quarantine writes rejected rows from it, so no number is rewritten."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlready.errors import DataError

    files = resolve_files(path)
    if files[0].name.lower().endswith((".parquet", ".pq")):
        try:
            return pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
        except Exception as exc:
            raise DataError(f"cannot read {path} as Parquet: {str(exc).splitlines()[0]}") from None
    frames = []
    for file in files:
        with _csv_errors(file):
            frames.append(
                pd.read_csv(
                    file, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_filter=False
                )
            )
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def normalize_dates(frame: Any) -> Any:
    """Columns of datetime.date objects (CSV dates, Parquet date32) become datetime64 columns."""
    import datetime as dt

    import pandas as pd

    for column in frame.columns:
        series = frame[column]
        if series.dtype != object:
            continue
        first = series.dropna().head(1)
        if len(first) and isinstance(first.iloc[0], dt.date):
            frame[column] = pd.to_datetime(series, errors="coerce")
    return frame


def read_sql(url: str, query: str, *, chunk_rows: int | None = None) -> Any:
    """The result of a SQL query through SQLAlchemy (a DataFrame, or an iterator of chunks)."""
    import pandas as pd
    import sqlalchemy

    from mlready.errors import DataError

    try:
        engine = sqlalchemy.create_engine(url)
    except Exception as exc:
        raise DataError(f"cannot use database URL {url!r}: {exc}") from None
    try:
        return pd.read_sql_query(sqlalchemy.text(query), engine, chunksize=chunk_rows)
    except Exception as exc:
        raise DataError(f"the query failed on {url}: {str(exc).splitlines()[0]}") from None


def read_table(
    path: str | Path | None = None,
    *,
    sql: tuple[str, str] | None = None,
    text: frozenset[str] = frozenset(),
    numeric: frozenset[str] = frozenset(),
) -> Any:
    """A whole table from a file, a glob of files (concatenated) or a (url, query) pair.

    CSV columns in ``text``, and columns of digit strings with leading zeros (codes) not in
    ``numeric``, are read as text, value for value as written (see :mod:`mlready.columns`).
    """
    import pandas as pd

    from mlready.errors import DataError

    if sql is not None:
        return read_sql(*sql)
    if path is None:
        raise DataError("no data source given: name a file, a glob, or a SQL query")
    files = resolve_files(path)
    dtype = csv_text_types(files, text, numeric)
    frames = [read_file(file, dtype) for file in files]
    if len(frames) == 1:
        return frames[0]
    columns = list(frames[0].columns)
    for file, frame in zip(resolve_files(path)[1:], frames[1:], strict=True):
        if list(frame.columns) != columns:
            raise DataError(
                f"{file} has other columns than the first file of {path}: "
                f"{sorted(set(frame.columns) ^ set(columns))}; a glob must name files of one table"
            )
    return pd.concat(frames, ignore_index=True)


def iter_table(
    path: str | Path | None = None,
    *,
    sql: tuple[str, str] | None = None,
    chunk_rows: int,
    columns: list[str] | None = None,
    text: frozenset[str] = frozenset(),
    numeric: frozenset[str] = frozenset(),
) -> Iterator[Any]:
    """The table in chunks of at most ``chunk_rows`` rows, so memory stays flat as it grows.

    ``columns`` reads only those columns (files only; a query selects its own); ``text`` and
    ``numeric`` type the columns as :func:`read_table` does.
    """
    import pandas as pd
    import pyarrow.parquet as pq

    from mlready.errors import DataError

    if sql is not None:
        yield from read_sql(*sql, chunk_rows=chunk_rows)
        return
    if path is None:
        raise DataError("no data source given: name a file, a glob, or a SQL query")
    files = resolve_files(path)
    dtype = csv_text_types(files, text, numeric)
    if columns is not None:
        dtype = {c: t for c, t in dtype.items() if c in columns}
    for file in files:
        if file.name.lower().endswith((".parquet", ".pq")):
            try:
                parquet = pq.ParquetFile(file)
                for batch in parquet.iter_batches(batch_size=chunk_rows, columns=columns):
                    yield normalize_dates(batch.to_pandas())
            except Exception as exc:
                raise DataError(f"cannot read {file} as Parquet: {exc}") from None
            continue
        with (
            _csv_errors(file),
            pd.read_csv(
                file,
                chunksize=chunk_rows,
                encoding="utf-8-sig",
                usecols=columns,
                dtype=dtype or None,
            ) as reader,
        ):
            for chunk in reader:
                yield _check_delimiter(chunk, file)
