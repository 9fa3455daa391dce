"""The in-memory answer cache of `mlready serve`: a row's model answer by the hash of its
feature values (serve-batch's row keys), keyed on the model's sha256 so an answer of one version
never answers for another, least recently used first out, each entry living serving.cache.ttl."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

__all__ = ["AnswerCache"]


class AnswerCache:
    """At most ``max_rows`` answers, each for ``ttl_seconds``."""

    def __init__(self, max_rows: int, ttl_seconds: float) -> None:
        self.max_rows = max_rows
        self.ttl = ttl_seconds
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, tuple[Any, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        self.sha256: str | None = None  # the model answers are kept for

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self, sha256: str | None = None) -> None:
        """Forget every answer; keep only answers of the model ``sha256`` from now on (a swap:
        a request still scored by the old model stores nothing)."""
        with self._lock:
            self._entries.clear()
            self.sha256 = sha256

    def lookup(self, sha256: str, k1: Any, k2: Any, scorer: Any) -> tuple[Any, dict[str, Any]]:
        """(mask of rows answered, their answers per output column) for rows keyed (k1, k2)."""
        import numpy as np

        now = time.monotonic()
        found: list[tuple[Any, ...]] = []
        hit = np.zeros(len(k1), dtype=bool)
        with self._lock:
            for i, key in enumerate(zip(k1.tolist(), k2.tolist(), strict=True)):
                answer = self._take((sha256, *key), now)
                if answer is not None:
                    hit[i] = True
                    found.append(answer)
        empty = scorer.empty()
        answers = {
            name: np.asarray([row[j] for row in found], dtype=empty[name].dtype)
            for j, name in enumerate(scorer.payload)
        }
        return hit, answers

    def add(self, sha256: str, k1: Any, k2: Any, answers: dict[str, Any]) -> None:
        """Keep the answers of rows keyed (k1, k2)."""
        if self.max_rows == 0 or sha256 != self.sha256:
            return
        expires = time.monotonic() + self.ttl
        columns = [answers[name].tolist() for name in answers]
        with self._lock:
            entries = self._entries
            for i, key in enumerate(zip(k1.tolist(), k2.tolist(), strict=True)):
                full = (sha256, *key)
                entries[full] = (expires, tuple(c[i] for c in columns))
                entries.move_to_end(full)
            while len(entries) > self.max_rows:
                entries.popitem(last=False)

    def get_rows(self, sha256: str, keys: list[Any]) -> dict[int, tuple[Any, ...]]:
        """The answers kept for rows keyed by their values (the fast path's keys: its own key
        space beside the batch path's hashes), by position."""
        now = time.monotonic()
        found: dict[int, tuple[Any, ...]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                answer = self._take((sha256, "row", key), now)
                if answer is not None:
                    found[i] = answer
        return found

    def _take(self, full: tuple[Any, ...], now: float) -> tuple[Any, ...] | None:
        """The answer kept under ``full`` if it has not expired (an expired one is dropped),
        marked as just used; the caller holds the lock."""
        entry = self._entries.get(full)
        if entry is None:
            return None
        if entry[0] < now:
            del self._entries[full]
            return None
        self._entries.move_to_end(full)
        return entry[1]

    def put_rows(self, sha256: str, keys: list[Any], answers: list[tuple[Any, ...]]) -> None:
        """Keep the answers of rows keyed by their values."""
        if self.max_rows == 0 or sha256 != self.sha256:
            return
        expires = time.monotonic() + self.ttl
        with self._lock:
            entries = self._entries
            for key, answer in zip(keys, answers, strict=True):
                full = (sha256, "row", key)
                entries[full] = (expires, answer)
                entries.move_to_end(full)
            while len(entries) > self.max_rows:
                entries.popitem(last=False)
