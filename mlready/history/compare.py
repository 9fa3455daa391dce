"""Two runs of a command side by side: what changed in their metrics, parameters, features,
data, spec, results and durations.

The sections come from the run log's records and, for train runs, from the ``metadata.json``
their folders hold (the same metadata a registered version keeps, so ``registry diff`` uses the
same :func:`training_sections`). A train run records the spec sections it read
(``metadata.spec.content``): the comparison names the spec keys that changed, not just the hash.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlready.history.listing import RunEntry, entry_of, find_run
from mlready.runs import RunRecord

__all__ = [
    "Change",
    "RunComparison",
    "change_text",
    "compare_runs",
    "diff_values",
    "shown",
    "training_sections",
]

#: The sections of a comparison, in the order they are shown.
SECTIONS = ("run", "metrics", "params", "features", "data", "spec", "results", "packages")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Change:
    """One item of two runs (or versions): its value in each, and b minus a for numbers."""

    key: str
    a: Any
    b: Any

    @property
    def changed(self) -> bool:
        """Whether the two values differ."""
        return bool(self.a != self.b)

    @property
    def change(self) -> float | None:
        """b minus a when both are numbers, else None."""
        if _number(self.a) and _number(self.b):
            return self.b - self.a  # type: ignore[no-any-return]
        return None

    @property
    def text(self) -> str:
        """The change as a person reads it (see :func:`change_text`); '' when there is none."""
        return change_text(self.a, self.b, self.change) if self.changed else ""

    def to_dict(self) -> dict[str, Any]:
        """``{"key", "a", "b", "change"}``: the row ``registry diff --format json`` prints."""
        return {"key": self.key, "a": self.a, "b": self.b, "change": self.change}


def diff_values(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Every key of either mapping, sorted, as a :class:`Change` (changed or not)."""
    return [Change(key, a.get(key), b.get(key)) for key in sorted(set(a) | set(b))]


_HASH = re.compile(r"[0-9a-f]{40,64}")


def shown(value: Any, digits: int = 6) -> str:
    """A value as a person reads it: a number to ``digits`` significant digits (every digit of
    its whole part) with thousands separators, 109,509 not 109509.47500000002; a hash by its
    first 12 hex digits; a list as its items; a truth value as yes or no."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(shown(item, digits) for item in value) or "(none)"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        return text[:12] if _HASH.fullmatch(text) else text
    if isinstance(value, int) or (math.isfinite(value) and value.is_integer()):
        return f"{int(value):,}"
    if not math.isfinite(value):
        return str(value)
    magnitude = math.floor(math.log10(abs(value)))
    text = f"{value:,.{max(0, digits - 1 - magnitude)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def change_text(before: Any, after: Any, change: float | None) -> str:
    """b against a: the difference of two numbers (and in percent), else what happened."""
    if change is not None:
        sign = "+" if change > 0 else ""
        text = f"{sign}{shown(change, 4)}"
        if before and math.isfinite(before) and math.isfinite(change):
            text += f" ({sign}{shown(100 * change / abs(before), 2)}%)"
        return text
    if before is None:
        return "added"
    if after is None:
        return "removed"
    return "changed"


# ------------------------------------------------------------------ what a train run holds


def _flat_metrics(metadata: dict[str, Any]) -> dict[str, Any]:
    v = metadata.get("validation") or {}
    out = {f"cv {k}": (s or {}).get("mean") for k, s in (v.get("cv") or {}).items()}
    out.update({f"holdout {k}": val for k, val in (v.get("holdout_metrics") or {}).items()})
    business = metadata.get("business") or {}
    if "cv" in business:
        out["business value"] = business["cv"]["best_threshold"]["value"]
        out["decision threshold"] = business.get("decision_threshold")
    return out


def training_sections(metadata: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a trained model is, by section, from its metadata: ``model`` (its type),
    ``params``, ``metrics`` (CV means, holdout, business value), ``features`` (each with its
    kind) and ``packages`` (Python and each package's version)."""
    features = metadata.get("features") or {}
    kinds = dict.fromkeys(features.get("numeric", []), "numeric")
    kinds.update(dict.fromkeys(features.get("categorical", []), "categorical"))
    model = metadata.get("model") or {}
    env = metadata.get("environment") or {}
    return {
        "model": {"type": model.get("type")},
        "params": model.get("params") or {},
        "metrics": _flat_metrics(metadata),
        "features": kinds,
        "packages": {"python": env.get("python"), **(env.get("packages") or {})},
    }


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists and scalars are leaves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value} if prefix else {}


# ------------------------------------------------------------------------ the comparison


@dataclass(frozen=True)
class RunComparison:
    """Two runs of one command compared, section by section (see :data:`SECTIONS`)."""

    project: str
    a: RunEntry
    b: RunEntry
    #: section -> every item of either run (changed or not), in the order shown
    sections: dict[str, list[Change]]
    #: what could not be compared (a run folder that is gone)
    notes: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        """How many items differ."""
        return sum(c.changed for items in self.sections.values() for c in items)

    @property
    def same(self) -> bool:
        """Nothing differs (a run compared with itself)."""
        return self.differences == 0

    def changed(self, section: str) -> list[Change]:
        """The items of a section that differ."""
        return [c for c in self.sections.get(section, []) if c.changed]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``mlready runs compare --json`` prints. Every item of each section
        is listed, with ``changed`` and (for two numbers) ``change``: b minus a."""
        return {
            "project": self.project,
            "command": self.a.step,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "same": self.same,
            "differences": self.differences,
            "sections": {
                name: [{**c.to_dict(), "changed": c.changed} for c in items]
                for name, items in self.sections.items()
            },
            "notes": self.notes,
        }

    def to_html(self) -> str:
        """The comparison as a self-contained HTML page."""
        from mlready.reporting import render

        return render("comparison.html.j2", comparison=self, shown=shown)

    def _repr_html_(self) -> str:
        from mlready.project.notebook import framed

        verdict = (
            "no change" if self.same else f"{self.differences} difference(s)"
        ) + f": {self.a.step} run {self.a.run_id} against {self.b.run_id}"
        return framed(verdict, self.to_html(), passed=None)


def _metadata(record: RunRecord, entry: RunEntry, notes: list[str]) -> dict[str, Any] | None:
    """A train run's metadata.json; None (and a note, when the run fitted a model) if it is
    gone or unreadable."""
    path = entry.run_dir / "metadata.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if isinstance(record.summary, dict) and record.summary.get("model_sha256"):
            notes.append(
                f"run {entry.run_id}: {path} cannot be read; compared from the run log only"
            )
        return None
    return payload if isinstance(payload, dict) else None


def _run_items(record: RunRecord) -> dict[str, Any]:
    origin = record.provenance if isinstance(record.provenance, dict) else {}
    ci = origin.get("ci") if isinstance(origin.get("ci"), dict) else {}
    return {
        "status": record.status,
        "exit code": record.exit_code,
        "duration (s)": record.duration_s,
        "user": record.user,
        "host": record.host,
        "ci": (ci or {}).get("system") or record.ci,
        "git commit": origin.get("git_commit"),
        "git uncommitted changes": origin.get("git_dirty"),
        "mlready": record.mlready_version,
    }


#: Summary keys of each command that name its data (the rest are results or metrics).
_DATA_KEYS = {
    "validate-data": ("source", "environment", "fingerprint", "contract_hash"),
    "serve-batch": ("source", "engine", "model"),
    "check-drift": ("current", "model"),
}


def _train_items(record: RunRecord, metadata: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    summary = record.summary if isinstance(record.summary, dict) else {}
    if metadata is None:
        sections: dict[str, dict[str, Any]] = {
            "metrics": {
                k: summary.get(k)
                for k in ("primary_value", "business_value", "decision_threshold")
                if k in summary
            },
            "params": {"model type": summary.get("model")} if "model" in summary else {},
            "data": {"fingerprint": summary.get("data_fingerprint")},
            "spec": {f"section {k}": v for k, v in (summary.get("spec_sections") or {}).items()},
        }
    else:
        found = training_sections(metadata)
        data = metadata.get("data") or {}
        spec = metadata.get("spec") or {}
        sections = {
            "metrics": found["metrics"],
            "params": {"model type": found["model"]["type"], **found["params"]},
            "features": found["features"],
            "data": {
                "source": data.get("source"),
                "fingerprint": data.get("fingerprint"),
                "rows": data.get("rows"),
                "training rows": data.get("training_rows"),
                "holdout rows": data.get("holdout_rows"),
            },
            "spec": {
                **{f"section {k}": v for k, v in (spec.get("sections") or {}).items()},
                **_flatten(spec.get("content") or {}),
            },
            "packages": found["packages"],
        }
    sections["results"] = {
        "passed": summary.get("passed"),
        "failures": summary.get("failures") or [],
        "warnings": summary.get("warnings"),
        "reproducible": summary.get("reproducible"),
        "model sha256": summary.get("model_sha256"),
    }
    return sections


def _step_items(record: RunRecord) -> dict[str, dict[str, Any]]:
    """Any other command: its summary, numbers as metrics, what names its data as data."""
    flat = _flatten(record.summary if isinstance(record.summary, dict) else {})
    data_keys = _DATA_KEYS.get(record.step, ())
    sections: dict[str, dict[str, Any]] = {"metrics": {}, "data": {}, "results": {}}
    for key, value in flat.items():
        if key.split(".")[0] in data_keys:
            sections["data"][key] = value
        elif _number(value):
            sections["metrics"][key] = value
        else:
            sections["results"][key] = value
    return sections


def compare_runs(
    artifacts_dir: Path | str, first: str, second: str, *, project: str = ""
) -> RunComparison:
    """Compare two runs of one command, named as :func:`find_run` reads them (a run id, a
    prefix, ``train``, ``train~1``). UsageError (exit 2) for runs of two commands."""
    from mlready.errors import UsageError

    a, b = find_run(artifacts_dir, first), find_run(artifacts_dir, second)
    if a.step != b.step:
        raise UsageError(
            f"{first} is a {a.step} run and {second} a {b.step} run: compare two runs of one "
            f"command (e.g. `mlready runs compare {a.step}~1 {a.step}`)"
        )
    entry_a, entry_b = entry_of(a, artifacts_dir), entry_of(b, artifacts_dir)
    notes: list[str] = []
    items: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    if a.step == "train":
        meta_a, meta_b = _metadata(a, entry_a, notes), _metadata(b, entry_b, notes)
        found_a, found_b = _train_items(a, meta_a), _train_items(b, meta_b)
    else:
        found_a, found_b = _step_items(a), _step_items(b)
    spec_a = (a.provenance or {}).get("spec_sha256") if isinstance(a.provenance, dict) else None
    spec_b = (b.provenance or {}).get("spec_sha256") if isinstance(b.provenance, dict) else None
    items["run"] = (_run_items(a), _run_items(b))
    for name in SECTIONS[1:]:
        part_a, part_b = found_a.get(name, {}), found_b.get(name, {})
        if name == "spec":
            part_a, part_b = {"spec sha256": spec_a, **part_a}, {"spec sha256": spec_b, **part_b}
        if part_a or part_b:
            items[name] = (part_a, part_b)
    sections = {}
    for name, (part_a, part_b) in items.items():
        changes = diff_values(part_a, part_b)
        if name == "run":  # as listed, not sorted: the status first
            changes = [Change(k, part_a.get(k), part_b.get(k)) for k in part_a]
        sections[name] = changes
    return RunComparison(project, entry_a, entry_b, sections, notes)
