"""Differences between two registered versions."""

from __future__ import annotations

from typing import Any

from mlready.registry import Version


def _flat_metrics(metadata: dict[str, Any]) -> dict[str, Any]:
    v = metadata.get("validation") or {}
    out = {f"cv {k}": (s or {}).get("mean") for k, s in (v.get("cv") or {}).items()}
    out.update({f"holdout {k}": val for k, val in (v.get("holdout_metrics") or {}).items()})
    business = metadata.get("business") or {}
    if "cv" in business:
        out["business value"] = business["cv"]["best_threshold"]["value"]
        out["decision threshold"] = business.get("decision_threshold")
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """The keys whose values differ, each with ``change``: b minus a when both are numbers."""
    return [
        {
            "key": key,
            "a": a.get(key),
            "b": b.get(key),
            "change": b[key] - a[key] if _number(a.get(key)) and _number(b.get(key)) else None,
        }
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def diff_versions(a: Version, b: Version) -> dict[str, list[dict[str, Any]]]:
    """Per section (model, params, metrics, features, packages, data): the keys that differ,
    each as ``{"key", "a", "b", "change"}`` (``change`` is b minus a for numbers, else None)."""
    ma, mb = a.metadata, b.metadata

    def features(m: dict[str, Any]) -> dict[str, Any]:
        f = m.get("features") or {}
        kinds = dict.fromkeys(f.get("numeric", []), "numeric")
        kinds.update(dict.fromkeys(f.get("categorical", []), "categorical"))
        return kinds

    def packages(m: dict[str, Any]) -> dict[str, Any]:
        env = m.get("environment") or {}
        return {"python": env.get("python"), **(env.get("packages") or {})}

    return {
        "model": _changes({"type": a.model_type}, {"type": b.model_type}),
        "params": _changes(
            (ma.get("model") or {}).get("params") or {}, (mb.get("model") or {}).get("params") or {}
        ),
        "metrics": _changes(_flat_metrics(ma), _flat_metrics(mb)),
        "features": _changes(features(ma), features(mb)),
        "packages": _changes(packages(ma), packages(mb)),
        "data": _changes(
            {"fingerprint": a.data_fingerprint, "spec": a.spec_hash, "git": a.git_commit},
            {"fingerprint": b.data_fingerprint, "spec": b.spec_hash, "git": b.git_commit},
        ),
    }
