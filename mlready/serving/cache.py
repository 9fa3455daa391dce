"""The prediction cache: answers for rows (and whole batches) a model version already scored.

Two levels, both under ``<artifacts_dir>/cache/`` and both keyed by the model file's sha256 (and
the decision threshold), so a new model version never sees another version's answers:

* rows: a 128-bit hash of a row's feature values -> the model's output for it, in Parquet
  segments (one per run); entries older than the time-to-live are ignored and dropped.
* batches: the exact bytes of an input file, scored under the same contract -> that run's output,
  rejects and profile (hard links, so an entry costs no space), verified by sha256 on use.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Segments beyond this many are merged into one at the next run.
MAX_SEGMENTS = 16
_HASH_KEYS = ("mlready-rowkey-1", "mlready-rowkey-2")


_SALTS = (0x243F6A8885A308D3, 0x13198A2E03707344)
_MISSING = 0x6A09E667F3BCC909  # the hash of a missing value


def _mix(x: Any) -> Any:
    """splitmix64's finaliser: a bijection on uint64 that spreads every input bit."""
    import numpy as np

    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _column_hash(series: Any, numeric: bool, key: int) -> Any:
    import numpy as np
    import pandas as pd

    if numeric:
        values = np.asarray(series, dtype=np.float64) + 0.0  # -0.0 and 0.0 hash alike
        bits = values.view(np.uint64).copy()
        bits[np.isnan(values)] = np.uint64(_MISSING)
        return _mix(bits ^ np.uint64(_SALTS[key]))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = np.asarray(
        [str(int(u)) if isinstance(u, float) and u.is_integer() else str(u) for u in uniques],
        dtype=object,
    )
    hashed = pd.util.hash_array(texts, hash_key=_HASH_KEYS[key]) if len(texts) else texts
    out = np.full(len(codes), np.uint64(_MISSING), dtype=np.uint64)
    present = codes >= 0
    out[present] = np.asarray(hashed, dtype=np.uint64)[codes[present]]
    return out


def row_keys(X: Any, categorical: list[str]) -> tuple[Any, Any]:
    """Two independent 64-bit hashes of each row's feature values (categories as text, whole
    numbers without '.0'), computed column by column without Python objects per row."""
    import numpy as np

    keys = []
    for key in (0, 1):
        h = np.full(len(X), np.uint64(_SALTS[key]), dtype=np.uint64)
        for column in X.columns:
            h = _mix(h ^ _column_hash(X[column], column not in categorical, key))
        keys.append(h)
    return keys[0], keys[1]


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    from mlready.locking import exclusive

    with exclusive(folder / ".lock"):
        yield


class RowCache:
    """The row-level cache of one model (one namespace folder)."""

    def __init__(self, folder: Path, ttl_seconds: float, payload: list[str]) -> None:
        self.folder = folder
        self.ttl = ttl_seconds
        self.payload = payload  # output columns kept per row
        self.index: Any = None
        self.k2: Any = None
        self.values: dict[str, Any] = {}
        self.entries = 0
        self._writer: Any = None
        self._tmp: Path | None = None
        self.written = 0

    def load(self) -> None:
        """Read the live entries; merge segments when there are many, drop expired ones."""
        import pandas as pd
        import pyarrow.parquet as pq

        from mlready.io import remove_stale_temps

        with _locked(self.folder):
            remove_stale_temps(self.folder)  # the segments of runs killed while scoring
            segments = sorted(self.folder.glob("segment-*.parquet"))
            frames = []
            for segment in segments:
                try:
                    frames.append(pq.read_table(segment).to_pandas())
                except Exception:  # a damaged segment is only lost answers: drop it
                    segment.unlink(missing_ok=True)
            if not frames:
                self._empty()
                return
            table = pd.concat(frames, ignore_index=True)
            table = table[table["at"] >= time.time() - self.ttl]
            table = table.drop_duplicates("k1", keep="last").reset_index(drop=True)
            if len(segments) > MAX_SEGMENTS or len(table) < sum(len(f) for f in frames):
                self._rewrite(table, segments)
        self.entries = len(table)
        self.index = pd.Index(table["k1"].to_numpy())
        self.k2 = table["k2"].to_numpy()
        self.values = {c: table[c].to_numpy() for c in self.payload}

    def _empty(self) -> None:
        import numpy as np
        import pandas as pd

        self.index = pd.Index(np.empty(0, dtype=np.uint64))
        self.k2 = np.empty(0, dtype=np.uint64)
        self.values = {}

    def _rewrite(self, table: Any, old: list[Path]) -> None:
        from mlready.io import atomic_path

        if len(table):
            with atomic_path(self.folder / f"segment-{time.time_ns():020d}-merged.parquet") as tmp:
                table.to_parquet(tmp, index=False)
        for segment in old:
            segment.unlink(missing_ok=True)

    def lookup(self, k1: Any, k2: Any) -> tuple[Any, dict[str, Any]]:
        """(hit mask, payload values of the hits)."""
        import numpy as np

        if self.entries == 0:
            return np.zeros(len(k1), dtype=bool), {}
        position = self.index.get_indexer(k1)
        hit = position >= 0
        hit[hit] = self.k2[position[hit]] == k2[hit]
        return hit, {c: v[position[hit]] for c, v in self.values.items()}

    def add(self, k1: Any, k2: Any, payload: dict[str, Any]) -> None:
        """Queue new answers (written to a segment that ``commit`` publishes)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        if len(k1) == 0:
            return
        columns = {"k1": pa.array(k1), "k2": pa.array(k2)}
        columns["at"] = pa.array(np.full(len(k1), time.time()))
        for name in self.payload:
            columns[name] = pa.array(payload[name])
        table = pa.table(columns)
        if self._writer is None:
            from mlready.io import temp_beside

            self.folder.mkdir(parents=True, exist_ok=True)
            self._tmp = temp_beside(self.folder / "segment.parquet")
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))
        self.written += len(k1)

    def commit(self) -> None:
        """Publish this run's answers."""
        if self._writer is None or self._tmp is None:
            return
        self._writer.close()
        self._writer = None
        with _locked(self.folder):
            os.replace(self._tmp, self.folder / f"segment-{time.time_ns():020d}.parquet")

    def discard(self) -> None:
        """Forget this run's answers (the run failed)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


class BatchCache:
    """Whole batches: the same input bytes under the same contract and model."""

    def __init__(self, folder: Path, ttl_seconds: float) -> None:
        self.folder = folder
        self.ttl = ttl_seconds

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry for ``key`` if it is live and its files are intact."""
        from mlready.io import sha256_file

        entry_dir = self.folder / key
        try:
            entry = json.loads((entry_dir / "entry.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if time.time() - float(entry.get("stored_at", 0)) > self.ttl:
            shutil.rmtree(entry_dir, ignore_errors=True)
            return None
        for name, digest in (entry.get("files") or {}).items():
            path = entry_dir / name
            if not path.is_file() or sha256_file(path) != digest:
                shutil.rmtree(entry_dir, ignore_errors=True)
                return None
        entry["dir"] = str(entry_dir)
        return dict(entry)

    def put(self, key: str, files: dict[str, Path], result: dict[str, Any]) -> None:
        """Keep hard links to (or copies of) a finished run's files under ``key``."""
        from mlready.io import atomic_write_json, sha256_file, temp_folder_beside

        entry_dir = self.folder / key
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = temp_folder_beside(entry_dir)  # (a killed run's is removed by the next)
        try:
            digests = {}
            for name, source in files.items():
                link(source, staging / name)
                digests[name] = sha256_file(staging / name)
            atomic_write_json(
                staging / "entry.json",
                {"stored_at": time.time(), "files": digests, "result": result},
            )
            shutil.rmtree(entry_dir, ignore_errors=True)
            os.replace(staging, entry_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._prune()

    def _prune(self) -> None:
        """Drop entries past their time-to-live."""
        now = time.time()
        for entry in self.folder.glob("*/entry.json"):
            try:
                stored = float(json.loads(entry.read_text(encoding="utf-8"))["stored_at"])
            except (OSError, ValueError, KeyError):
                continue
            if now - stored > self.ttl:
                shutil.rmtree(entry.parent, ignore_errors=True)


def remove_killed_writes(root: Path) -> None:
    """Remove what runs killed while they wrote the cache left (their temporary segments and
    batch entries): a cached run looks here before it reads."""
    from mlready.io import remove_stale_temps

    remove_stale_temps(root / "batches")
    with contextlib.suppress(OSError):
        for entry in os.scandir(root / "rows"):
            if entry.is_dir(follow_symlinks=False):
                remove_stale_temps(entry.path)


def link(source: Path, target: Path) -> None:
    """A hard link (no copy, no space) where the file system allows it, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def file_digests(files: list[Path], memo: Path) -> list[str]:
    """sha256 of each file, remembered in ``memo`` against the file's size, inode and
    modification and change times (as git's index does): an untouched file is not read again.
    The change time cannot be set by hand, so any rewrite of the file is seen; a file written
    in the last two seconds is always read."""
    from mlready.io import atomic_write_json, sha256_file

    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    digests, changed = [], False
    for file in files:
        info = file.stat()
        stamp = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]
        key = str(file.resolve())
        entry = known.get(key)
        if entry and entry.get("stat") == stamp:
            digests.append(entry["sha256"])
            continue
        digest = sha256_file(file)
        digests.append(digest)
        # a file changed in the last seconds may change again within the clock's resolution
        # without its times moving ("racy git"): remember only files that have settled
        if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > 2_000_000_000:
            known[key] = {"stat": stamp, "sha256": digest}
            changed = True
    if changed:
        if len(known) > 10_000:  # forget the oldest half
            known = dict(list(known.items())[-5_000:])
        atomic_write_json(memo, known)
    return digests
