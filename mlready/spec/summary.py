"""A few lines that tell a person what a valid spec sets up."""

from __future__ import annotations

from mlready.spec.loading import LoadedSpec
from mlready.spec.models import format_duration


def summarize(loaded: LoadedSpec) -> list[str]:
    """Human-readable facts about the spec, one per line."""
    spec = loaded.spec
    data = spec.data
    source = data.source.path or f"SQL query on {data.source.sql.url if data.source.sql else '?'}"
    features = data.features
    numeric = "inferred" if features.numeric is None else str(len(features.numeric))
    categorical = "inferred" if features.categorical is None else str(len(features.categorical))
    model = spec.model.estimator or (
        f"{spec.model.ensemble.kind} ensemble of {len(spec.model.ensemble.members)}"
        if spec.model.ensemble
        else "?"
    )
    lines = [
        f"project {spec.project.name}, owner {spec.project.owner}",
        f"training data: {source}",
        f"target {data.target} ({data.task}); features: {numeric} numeric, {categorical} "
        "categorical",
        f"model: {model}"
        + (f", with {spec.model.search.method} search" if spec.model.search else ""),
        f"validation: {spec.validation.cv.folds}-fold {spec.validation.cv.strategy}"
        + (
            f", thresholds {dict(spec.validation.thresholds)}" if spec.validation.thresholds else ""
        ),
        f"expectations: {len(spec.expectations.columns)} column(s)",
        f"artifacts: {spec.project.artifacts_dir}",
    ]
    if spec.serving and spec.serving.sla:
        lines.append(
            f"SLA: output every {format_duration(spec.serving.sla.output_period)}, run-time budget "
            f"{format_duration(spec.serving.sla.budget)}"
        )
    if spec.monitoring.alerts:
        lines.append(f"alerts: {len(spec.monitoring.alerts)} rule(s)")
    return lines
