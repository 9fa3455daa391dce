"""The promotion gate: a challenger becomes production only when it meets the spec's thresholds
and is not worse than the current production version, beyond the tolerance, on the same holdout.

"The same holdout" is taken literally: both models are loaded (verified) and scored on the holdout
rows of the spec's current training data, so two versions trained on different data are still
compared on equal terms. Without a holdout in the spec, the recorded cross-validation means are
compared, and the decision says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlready.registry import Registry, Version
from mlready.training.artifacts import judged_metric


@dataclass
class Decision:
    """Whether the gate lets a version become production, and why."""

    accepted: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def _holdout_scores(
    loaded: Any, registry: Registry, versions: list[Version], metric: str
) -> dict[int, float | None] | None:
    """Each version's metric on the holdout rows of the spec's training data; None when the
    spec has no holdout."""
    from mlready.columns import ColumnTypes
    from mlready.training.data import load_training_data
    from mlready.training.evaluate import predict
    from mlready.training.metrics import compute_metrics

    spec = loaded.spec
    if spec.validation.holdout is None:
        return None
    source = spec.data.source
    sql = (source.sql.url, source.sql.query) if source.sql is not None else None
    data = load_training_data(spec, ColumnTypes.of(spec).read(source.path, sql=sql))
    rows = data.holdout_index
    out: dict[int, float | None] = {}
    for version in versions:
        model = registry.load(version)
        features = version.metadata["features"]
        columns = features["numeric"] + features["categorical"]
        missing = [c for c in columns if c not in data.frame.columns]
        if missing:
            out[version.version] = None
            continue
        X = data.frame.iloc[rows][columns]
        scores, labels = predict(model, X, data.task, data.binary)
        out[version.version] = compute_metrics(
            [metric], data.y[rows], scores, labels, data.classes
        )[metric]
    return out


def evaluate(
    loaded: Any, registry: Registry, challenger: Version, champion: Version | None
) -> Decision:
    """The gate's verdict on making ``challenger`` production."""
    from mlready.training.metrics import higher_is_better, meets

    spec = loaded.spec
    gate = spec.registry.promotion
    metric = gate.metric or challenger.primary_metric or "roc_auc"
    details: dict[str, Any] = {"metric": metric, "tolerance": gate.tolerance}
    label = f"{challenger.model_name}:{challenger.version}"
    if not challenger.passed:
        return Decision(False, f"{label} failed its training checks", details)
    if gate.require_thresholds:
        missed = []
        for name, bar in spec.validation.thresholds.items():
            value = judged_metric(challenger.metadata, name)
            if not meets(name, value, bar):
                shown = "n/a" if value is None else f"{value:.4f}"
                direction = "at least" if higher_is_better(name) else "at most"
                missed.append(f"{name} {shown} (must be {direction} {bar})")
        details["thresholds_missed"] = missed
        if missed:
            return Decision(False, f"{label} misses thresholds: {'; '.join(missed)}", details)
    if champion is None:
        return Decision(True, f"{label} meets the thresholds; there is no production yet", details)
    if champion.version == challenger.version:
        return Decision(True, f"{label} is already production", details)
    scores = _holdout_scores(loaded, registry, [challenger, champion], metric)
    if scores is not None and None not in scores.values():
        basis = "the same holdout"
        new, old = scores[challenger.version], scores[champion.version]
    else:
        basis = "their recorded validation"
        new, old = (
            judged_metric(challenger.metadata, metric),
            judged_metric(champion.metadata, metric),
        )
    details.update(basis=basis, challenger=new, champion=old, champion_version=champion.version)
    if new is None or old is None:
        return Decision(False, f"cannot compare {metric} of the two versions on {basis}", details)
    worse_by = (old - new) if higher_is_better(metric) else (new - old)
    details["worse_by"] = worse_by
    comparison = (
        f"{metric} {new:.4f} against production {champion.model_name}:{champion.version}'s "
        f"{old:.4f} on {basis}"
    )
    if worse_by > gate.tolerance:
        return Decision(
            False, f"{label} is worse: {comparison} (tolerance {gate.tolerance})", details
        )
    return Decision(True, f"{label} is not worse: {comparison}", details)


def promote(
    loaded: Any,
    registry: Registry,
    version: Version,
    alias: str,
    *,
    force: bool,
    reason: str | None,
    actor: str,
) -> dict[str, Any]:
    """Move an alias to a version: production only through the gate, unless forced (with a
    reason); every decision goes into the alias history."""
    from mlready.registry import PRODUCTION, ModelRef

    name = version.model_name
    if alias == PRODUCTION:
        current = registry.aliases_of(name).get(PRODUCTION)
        champion = registry.resolve(ModelRef(name, version=current)) if current else None
        decision = evaluate(loaded, registry, version, champion)
    else:
        decision = Decision(True, f"alias {alias} set by hand")
    forced = force and not decision.accepted
    text = f"FORCED past the gate ({decision.reason}): {reason}" if forced else decision.reason
    if reason and not forced:
        text = f"{text}; {reason}"
    accepted = decision.accepted or forced
    registry.record_alias(
        name,
        alias,
        version.version,
        action="promote",
        accepted=accepted,
        forced=forced,
        reason=text,
        actor=actor,
        details=decision.details,
    )
    return {
        "alias": alias,
        "version": version.version,
        "accepted": accepted,
        "forced": forced,
        "reason": text,
        "details": decision.details,
    }
