"""Differences between two registered versions (the run comparison's sections of a model)."""

from __future__ import annotations

from typing import Any

from mlready.history.compare import diff_values, training_sections
from mlready.registry import Version


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """The keys whose values differ, each as ``{"key", "a", "b", "change"}``."""
    return [c.to_dict() for c in diff_values(a, b) if c.changed]


def diff_versions(a: Version, b: Version) -> dict[str, list[dict[str, Any]]]:
    """Per section (model, params, metrics, features, packages, data): the keys that differ,
    each as ``{"key", "a", "b", "change"}`` (``change`` is b minus a for numbers, else None)."""
    found_a, found_b = training_sections(a.metadata), training_sections(b.metadata)
    return {
        "model": _changes({"type": a.model_type}, {"type": b.model_type}),
        **{
            name: _changes(found_a[name], found_b[name])
            for name in ("params", "metrics", "features", "packages")
        },
        "data": _changes(
            {"fingerprint": a.data_fingerprint, "spec": a.spec_hash, "git": a.git_commit},
            {"fingerprint": b.data_fingerprint, "spec": b.spec_hash, "git": b.git_commit},
        ),
    }
