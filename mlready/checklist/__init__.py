"""Production readiness scored from evidence: the ML Test Score's 28 tests plus a Business section.

Each item earns 1 point when a command checked it automatically and repeatedly (two runs or
more in the run log; the repository's CI for repository evidence), 0.5 when it ran once or a
person attests it in ``checklist.attestations``, and 0 otherwise. A section's score is the sum of
its items; the Business section's two items are stretched to the same 0-7 scale; the final score
is the minimum over the sections, read against the ML Test Score's bands.

    from mlready.checklist import readiness
    result = readiness(load_spec("mlready.yaml"))
    result.final_score, result.band
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from mlready.checklist.rubric import ITEMS, SECTIONS, SEED_CHECKLIST, Item, band_of

__all__ = ["ItemResult", "ReadinessResult", "SectionResult", "readiness", "score_item"]

PASSING, FAILING, NOT_DONE = "passing", "failing", "not done"
#: Items per section on the ML Test Score's scale.
SCALE = 7


@dataclass(frozen=True)
class ItemResult:
    """One rubric item, judged: what was found, how it scores, what to do next."""

    id: str
    section: str
    title: str
    why: str
    how: str
    seeds: list[int]
    automated: bool
    status: str  # passing | failing | not done
    points: float
    max_points: float
    basis: str  # how the points were earned
    detail: str
    evidence: list[dict[str, Any]]
    next_action: str
    runs: int
    ci_runs: int
    attestation: dict[str, Any] | None


@dataclass(frozen=True)
class SectionResult:
    """A section's score (sum of its items' points) and that score on the 0-7 scale."""

    key: str
    title: str
    score: float
    max_score: float
    scaled: float
    passing: int
    items: int


@dataclass(frozen=True)
class ReadinessResult:
    """The readiness report's content; feeds the terminal, the JSON, Markdown and HTML."""

    project: str
    owner: str
    model: str | None
    generated_at: str
    final_score: float
    band: str
    band_meaning: str
    pass_bar: float
    passed: bool
    sections: list[SectionResult]
    items: list[ItemResult]
    gaps: list[dict[str, Any]]
    business: dict[str, Any]
    trends: dict[str, Any]
    seeds: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    @property
    def weakest(self) -> list[str]:
        """The sections that set the final score."""
        return [s.title for s in self.sections if abs(s.scaled - self.final_score) < 1e-9]

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        payload = asdict(self)
        payload["weakest"] = self.weakest
        return payload


def score_item(item: Item, check: Any, attestation: Any | None) -> ItemResult:
    """An item's status and points from its check and the spec's attestation (if any)."""
    runs = check.runs if item.automated else []
    ci_runs = sum(1 for r in runs if r.ci)
    if not item.automated:
        level = "none"
    elif check.level is not None:
        level = check.level
    else:
        level = "repeated" if len(runs) >= 2 else "once" if runs else "none"
    automatic = {"repeated": 1.0, "once": 0.5, "none": 0.0}[level]
    attested = 0.5 if attestation is not None else 0.0
    points = max(automatic, attested)
    max_points = 1.0 if item.automated else 0.5

    status = check.status if item.automated else NOT_DONE
    if status == NOT_DONE and attestation is not None:
        status = PASSING

    said = None
    if attestation is not None:
        said = {
            "by": attestation.by,
            "date": attestation.date.isoformat(),
            "evidence": attestation.evidence,
            "note": attestation.note,
        }
    if level == "repeated":
        basis = "automated and repeated" + (
            f": {len(runs)} runs, {ci_runs} in CI" if runs else " (CI runs it on every change)"
        )
    elif level == "once":
        basis = "done once" + ((" (in CI)" if ci_runs else " (not in CI)") if runs else "")
    elif said is not None:
        basis = f"attested by {said['by']} on {said['date']}"
    else:
        basis = "no evidence"
    if level != "none" and said is not None and automatic < attested:
        basis += f"; attested by {said['by']} on {said['date']}"

    if status in (FAILING, NOT_DONE) and check.action:
        action = check.action
    elif points < max_points and level == "once":
        action = (
            check.action or "Run it again, from CI, so that it is automatic and repeated (1 point)."
        )
    elif points < max_points and item.automated:
        action = check.action or f"Automate it: {item.how}"
    else:
        action = check.action if status != PASSING else ""
    return ItemResult(
        id=item.id,
        section=item.section,
        title=item.title,
        why=item.why,
        how=item.how,
        seeds=list(item.seeds),
        automated=item.automated,
        status=status,
        points=points,
        max_points=max_points,
        basis=basis,
        detail=check.detail,
        evidence=check.evidence,
        next_action=action,
        runs=len(runs),
        ci_runs=ci_runs,
        attestation=said,
    )


def _sections(items: list[ItemResult]) -> list[SectionResult]:
    out = []
    for key, title in SECTIONS.items():
        mine = [i for i in items if i.section == key]
        score = sum(i.points for i in mine)
        out.append(
            SectionResult(
                key=key,
                title=title,
                score=score,
                max_score=float(len(mine)),
                scaled=score * SCALE / len(mine),
                passing=sum(1 for i in mine if i.status == PASSING),
                items=len(mine),
            )
        )
    return out


def _gaps(items: list[ItemResult], sections: list[SectionResult], count: int = 3) -> list[dict]:
    """The items whose fixing matters most: failing first, then missing, in the weakest
    sections first."""
    scaled = {s.key: s.scaled for s in sections}
    rank = {FAILING: 0, NOT_DONE: 1, PASSING: 2}
    order = {key: n for n, key in enumerate(ITEMS)}
    open_items = [i for i in items if i.status != PASSING or i.points < i.max_points]
    open_items.sort(
        key=lambda i: (rank[i.status], scaled[i.section], i.points - i.max_points, order[i.id])
    )
    return [
        {
            "id": i.id,
            "title": i.title,
            "section": SECTIONS[i.section],
            "status": i.status,
            "points": i.points,
            "gain": i.max_points - i.points,
            "detail": i.detail,
            "next_action": i.next_action,
        }
        for i in open_items[:count]
    ]


def _business(evidence: Any) -> dict[str, Any]:
    from mlready.checklist.items import realized_business, trained_value

    spec = evidence.spec
    if spec.business is None:
        return {"defined": False}
    chosen = evidence.model_run
    value, rows = None, None
    if chosen is not None:
        record, metadata = chosen
        value = trained_value(record, metadata)
        rows = ((metadata.get("business") or {}).get("cv") or {}).get("rows")
    out: dict[str, Any] = {
        "defined": True,
        "currency": spec.business.currency,
        "value": value,
        "rows": rows,
        "per_row": value / rows if value is not None and isinstance(rows, int) and rows else None,
        "decision_threshold": chosen[0].summary.get("decision_threshold") if chosen else None,
        "train_run": chosen[0].run_id if chosen else None,
        "realized": None,
    }
    realized = realized_business(evidence)
    if realized is not None:
        record, business = realized
        out["realized"] = {
            "value": business["value"],
            "per_row": business.get("per_row"),
            "rows": business.get("rows"),
            "run_id": record.run_id,
        }
    return out


def _trends(evidence: Any) -> dict[str, Any]:
    """Data for the report's charts: metrics against thresholds, value against the decision
    threshold, SLA run times against the budget, drift over batches."""
    trends: dict[str, Any] = {"metrics": [], "value_curve": None, "sla": [], "drift": []}
    if evidence.model_run is not None:
        record, metadata = evidence.model_run
        validation = metadata.get("validation") or {}
        bars = {t["metric"]: t["bar"] for t in validation.get("thresholds") or []}
        per_fold = validation.get("per_fold") or []
        for name in validation.get("metrics") or []:
            cv = (validation.get("cv") or {}).get(name) or {}
            trends["metrics"].append(
                {
                    "metric": name,
                    "folds": [(f.get("metrics") or {}).get(name) for f in per_fold],
                    "mean": cv.get("mean"),
                    "holdout": (validation.get("holdout_metrics") or {}).get(name),
                    "bar": bars.get(name),
                }
            )
        business = metadata.get("business") or {}
        # the same basis as the headline value: cross-validated rows
        basis = business.get("cv") or {}
        if basis.get("curve"):
            trends["value_curve"] = {
                "rows": basis.get("rows"),
                "points": basis["curve"],
                "threshold": business.get("decision_threshold"),
                "currency": business.get("currency") or "",
                "train_run": record.run_id,
            }
    for record in evidence.step("serve-batch")[-30:]:
        sla = record.summary.get("sla") or {}
        if sla.get("budget_s"):
            trends["sla"].append(
                {
                    "run_id": record.run_id,
                    "wall_s": sla.get("wall_s"),
                    "budget_s": sla["budget_s"],
                    "met": sla.get("met", True),
                    "rows": record.summary.get("rows_in"),
                    "cached": bool((record.summary.get("cache") or {}).get("batch_hit")),
                }
            )
    bar = evidence.spec.monitoring.drift.dataset_drift_share
    for record in evidence.step("check-drift")[-30:]:
        if "share_drifted" in record.summary:
            trends["drift"].append(
                {"run_id": record.run_id, "share": record.summary["share_drifted"], "bar": bar}
            )
    return trends


#: What malformed evidence (a hand-edited or foreign run log, a truncated JSON file) raises.
_BAD_EVIDENCE = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def _judge(key: str, evidence: Any, warnings: list[str]) -> Any:
    """An item's check; evidence that cannot be read counts as none, with a warning."""
    from mlready.checklist.items import CHECKS, Check

    try:
        return CHECKS[key](evidence)
    except _BAD_EVIDENCE as error:
        what = f"{type(error).__name__}: {error}"[:160]
        warnings.append(f"{key}: its evidence could not be read ({what}); it scores 0")
        return Check(
            NOT_DONE,
            f"The recorded evidence could not be read ({what}).",
            action="Run the steps again so that they record their evidence afresh.",
        )


def _safely(function: Any, evidence: Any, empty: Any, warnings: list[str]) -> Any:
    try:
        return function(evidence)
    except _BAD_EVIDENCE as error:
        warnings.append(
            f"{function.__name__.strip('_')}: the recorded evidence could not be read "
            f"({type(error).__name__}: {error})"[:200]
        )
        return empty


def readiness(
    loaded: Any, *, pass_bar: float | None = None, now: dt.datetime | None = None
) -> ReadinessResult:
    """Score the project's readiness from what its commands wrote (reads only)."""
    from mlready.checklist.evidence import gather

    evidence = gather(loaded)
    spec = loaded.spec
    warnings: list[str] = []
    if not evidence.runs and not evidence.broken:
        warnings.append(
            f"no run log at {evidence.artifacts / 'runs.jsonl'}: run the pipeline first, or "
            "check project.artifacts_dir in the spec"
        )
    attestations = {a.item: a for a in spec.checklist.attestations}  # the last one wins
    items = [
        score_item(item, _judge(key, evidence, warnings), attestations.get(key))
        for key, item in ITEMS.items()
    ]
    sections = _sections(items)
    final = min(s.scaled for s in sections)
    band, meaning = band_of(final)
    bar = spec.checklist.pass_bar if pass_bar is None else pass_bar
    if evidence.registry.error:
        warnings.append(f"the registry could not be read: {evidence.registry.error}")
    production = evidence.registry.production
    seeds = [
        {
            "number": number,
            "text": text,
            "items": [
                {"id": i.id, "status": i.status, "points": i.points}
                for i in items
                if number in i.seeds
            ],
        }
        for number, text in SEED_CHECKLIST.items()
    ]
    moment = now or dt.datetime.now(dt.timezone.utc)
    return ReadinessResult(
        project=spec.project.name,
        owner=spec.project.owner or "",
        model=None if production is None else f"{production.model_name}:{production.version}",
        generated_at=moment.isoformat(timespec="seconds"),
        final_score=final,
        band=band,
        band_meaning=meaning,
        pass_bar=bar,
        passed=final >= bar - 1e-9,
        sections=sections,
        items=items,
        gaps=_gaps(items, sections),
        business=_safely(_business, evidence, {"defined": False}, warnings),
        trends=_safely(
            _trends,
            evidence,
            {"metrics": [], "value_curve": None, "sla": [], "drift": []},
            warnings,
        ),
        seeds=seeds,
        warnings=warnings,
    )
