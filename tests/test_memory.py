"""Freed memory goes back to the operating system between chunks (glibc's malloc_trim)."""

from __future__ import annotations

import sys

import pytest


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_holes_in_the_heap_go_back_to_the_system() -> None:
    from mlready.memory import release_freed_memory

    release_freed_memory()
    # 4 KB blocks (glibc's heap, not Python's small-object arenas), then one kept after them:
    # freeing the first ones leaves a hole below the kept block that glibc keeps mapped
    blocks = [bytearray(4096) for _ in range(60_000)]
    for block in blocks:
        block[::512] = b"x" * 8  # touched: resident
    keep = [bytearray(4096) for _ in range(100)]
    del blocks
    before = _rss_mb()
    assert release_freed_memory()
    after = _rss_mb()
    assert before - after > 100, f"{before:.0f} MB -> {after:.0f} MB"
    assert keep[0][:1] == b"\x00"


def test_where_there_is_no_malloc_trim_nothing_is_done(monkeypatch) -> None:
    from mlready import memory

    monkeypatch.setattr(memory, "_TRIM", [])
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.release_freed_memory() is False
