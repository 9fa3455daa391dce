"""Production readiness scored from evidence: the ML Test Score's 28 tests plus a Business section.

Each item earns 1 point when a command checked it automatically (in CI or on a schedule, by the
runs' provenance) and repeatedly (on at least two commits or two days), 0.5 when it was done
once or by hand with its results on record, or when a person attests it in
``checklist.attestations`` (verified rules: who, a past date, evidence that exists, not expired,
never over automated evidence that it fails), and 0 otherwise. Only records that hold in the
hash-chained run log and belong to this project count.

Two scores come out: what *passes now* (an item whose latest evidence fails earns nothing) and
what is *in place* (the ML Test Score's reading: the test exists, whatever it says). A section's
score is the sum of its items; the Business section's two items are stretched to the same 0-7
scale; each final score is the minimum over the sections, read against the ML Test Score's
bands. The pass bar judges the passing-now score unless ``checklist.judge`` says otherwise.

    from mlready.checklist import readiness
    result = readiness(load_spec("mlready.yaml"))
    result.final_score, result.band
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlready.checklist.rubric import ITEMS, SECTIONS, SEED_CHECKLIST, Item, band_of

__all__ = ["ItemResult", "ReadinessResult", "SectionResult", "readiness", "score_item"]

PASSING, FAILING, NOT_DONE, ATTESTED = "passing", "failing", "not done", "attested"
#: Items per section on the ML Test Score's scale.
SCALE = 7
#: The evidence behind a point lists at most this many runs.
MAX_SOURCES = 3


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
    status: str  # passing | failing | not done | attested
    points: float  # in place: the check exists (ML Test Score's reading)
    passing_points: float  # passes now: nothing for an item whose latest evidence fails
    max_points: float
    basis: str  # how the points were earned
    detail: str
    evidence: list[dict[str, Any]]
    next_action: str
    runs: int
    ci_runs: int
    attestation: dict[str, Any] | None
    #: Where the points come from: the runs they rest on, with their provenance.
    sources: list[dict[str, Any]] = field(default_factory=list)
    #: Whether the item would earn more if CI (or a schedule) ran it on more commits or days.
    needs_ci: bool = False


@dataclass(frozen=True)
class SectionResult:
    """A section's score (sum of its items' points) and that score on the 0-7 scale."""

    key: str
    title: str
    score: float
    max_score: float
    scaled: float  # in place
    passing: int
    items: int
    passing_scaled: float = 0.0  # passes now
    ceiling: float = SCALE  # the most this section can reach on the 0-7 scale


@dataclass(frozen=True)
class ReadinessResult:
    """The readiness report's content; feeds the terminal, the JSON, Markdown and HTML."""

    project: str
    owner: str
    model: str | None
    generated_at: str
    final_score: float  # what passes now (the headline)
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
    in_place_score: float = 0.0  # what is in place, whether it passes or not
    in_place_band: str = ""
    judged: str = "passing_now"  # which score the pass bar judges
    ceiling: float = SCALE  # the highest final score possible (attestation-only items cap it)
    ceiling_items: list[str] = field(default_factory=list)
    log: dict[str, Any] = field(default_factory=dict)  # the run log's check
    #: The folder evidence paths are relative to (the spec's).
    base_dir: str = ""

    @property
    def weakest(self) -> list[str]:
        """The sections that set the final score."""
        return [s.title for s in self.sections if abs(s.passing_scaled - self.final_score) < 1e-9]

    @property
    def judged_score(self) -> float:
        return self.final_score if self.judged == "passing_now" else self.in_place_score

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        payload = asdict(self)
        payload["weakest"] = self.weakest
        return payload


def _day(record: Any) -> str:
    return str(record.started_at)[:10]


def repetitions(runs: list[Any]) -> tuple[int, int]:
    """Distinct commits and distinct days among runs: rerunning a command a minute later on
    the same commit is not a repetition, nor is an empty commit (commits are told apart by
    their tree, the files they hold)."""
    commits = set()
    for record in runs:
        found = record.provenance or {}
        commits.add(found.get("git_tree") or found.get("git_commit"))
    return len(commits - {None}), len({_day(r) for r in runs})


def source_of(record: Any) -> dict[str, Any]:
    """A run's provenance as the report shows it beside a point."""
    found = record.provenance or {}
    ci = found.get("ci") or {}
    commit = found.get("git_commit")
    return {
        "step": record.step,
        "run_id": record.run_id,
        "day": _day(record),
        "by": f"{found.get('user') or record.user}@{found.get('host') or record.host}",
        "ci": ci.get("system"),
        # a CI that names no run (a bare CI=true) cannot be looked up: a claim, shown as such
        "ci_verifiable": bool(ci.get("run_id") or ci.get("url")),
        "ci_run": ci.get("run_id"),
        "ci_url": ci.get("url"),
        "scheduled": bool(found.get("scheduled")),
        "commit": commit[:10] if isinstance(commit, str) else None,
        "dirty": found.get("git_dirty"),
    }


def _level(item: Item, check: Any) -> tuple[str, str, list[Any]]:
    """How far an automated item's evidence goes: "repeated" (automated, on two commits or
    days), "once" (done, by hand or once) or "none", with the basis in words and the runs."""
    from mlready.runs import is_automated

    runs = list(check.runs)
    if check.level is not None and not runs:  # evidence that is not a run: the repository
        words = {"repeated": "automated and repeated", "once": "done once"}.get(check.level, "")
        return check.level, words or "no evidence", runs
    if not runs:
        return "none", "no evidence", runs
    machine = [r for r in runs if is_automated(r)]
    commits, days = repetitions(machine)
    if machine and (commits >= 2 or days >= 2):
        spread = f"{commits} commits" if commits >= 2 else f"{days} days"
        level, words = (
            "repeated",
            f"automated and repeated: {_n(len(machine), 'run')} in CI on {spread}",
        )
    elif machine:
        level = "once"
        words = f"automated once: {_n(len(machine), 'run')} in CI on one commit and one day"
    else:
        level, words = "once", f"by hand: {_n(len(runs), 'run')}, none in CI or on a schedule"
    # an item may ask more of its runs than that (two measurements, say): the lower level holds
    rank = {"none": 0, "once": 1, "repeated": 2}
    if check.level is not None and rank[check.level] < rank[level]:
        level = check.level
        words += "; the item needs more than these runs show for 1 point"
    return level, words, runs


def _repeated_by_machine(runs: list[Any]) -> bool:
    from mlready.runs import is_automated

    commits, days = repetitions([r for r in runs if is_automated(r)])
    return commits >= 2 or days >= 2


def _n(count: int, word: str) -> str:
    from mlready.reporting import counted

    return counted(count, word)


def score_item(item: Item, check: Any, attestation: Any | None) -> ItemResult:
    """An item's status and points from its check and a verified attestation (if any).

    In place: 1 for automated-and-repeated evidence, 0.5 for evidence done once or by hand, or
    for an attestation; 0 otherwise. Passing now: the same, but nothing when the item fails."""
    level, basis, runs = _level(item, check) if item.automated else ("none", "", [])
    ci_runs = sum(1 for r in runs if r.ci)
    status = check.status if item.automated else NOT_DONE
    # an attestation never speaks over automated evidence that the item fails
    said = None
    if attestation is not None and status != FAILING:
        said = {
            "by": attestation.by,
            "date": attestation.date.isoformat(),
            "evidence": attestation.evidence,
            "note": attestation.note,
            "evidence_sha256": getattr(attestation, "evidence_sha256", None),
        }
    automatic = {"repeated": 1.0, "once": 0.5, "none": 0.0}[level]
    attested = 0.5 if said is not None else 0.0
    points = max(automatic, attested)
    max_points = 1.0 if item.automated else 0.5
    if status == NOT_DONE and said is not None:
        status = ATTESTED
    # what a command can check passes now only when a command checked it: an attestation of
    # it is a stop-gap that counts as in place
    if status == PASSING or (status == ATTESTED and not item.automated):
        passing_points = points
    else:
        passing_points = automatic if status == ATTESTED else 0.0

    if said is not None and automatic < attested:
        basis = f"attested by {said['by']} on {said['date']}, not verified" + (
            f" ({basis})" if level != "none" else ""
        )
        if item.automated:
            basis += (
                "; a stop-gap: it counts as in place, not as passing now, until a command checks it"
            )
    elif level == "none":
        basis = "no evidence"
    needs_ci = item.automated and bool(runs) and not _repeated_by_machine(runs)

    if status in (FAILING, NOT_DONE) and check.action:
        action = check.action
    elif needs_ci and status != FAILING:
        action = check.action or (
            "Run it from CI on every change (`mlready init --ci github` writes the workflow): "
            "automated runs on two commits or two days earn 1 point."
        )
    elif points < max_points and item.automated:
        action = check.action or f"Automate it: {item.how}"
    else:
        action = check.action if status not in (PASSING, ATTESTED) else ""
    if status == FAILING and points > 0:
        basis += "; failing now, so it earns nothing in the passing-now score"
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
        passing_points=passing_points,
        max_points=max_points,
        basis=basis,
        detail=check.detail,
        evidence=check.evidence,
        next_action=action,
        runs=len(runs),
        ci_runs=ci_runs,
        attestation=said,
        sources=[source_of(r) for r in runs[-MAX_SOURCES:]],
        needs_ci=needs_ci,
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
                passing_scaled=sum(i.passing_points for i in mine) * SCALE / len(mine),
                ceiling=sum(i.max_points for i in mine) * SCALE / len(mine),
            )
        )
    return out


def _gaps(items: list[ItemResult], sections: list[SectionResult], count: int = 3) -> list[dict]:
    """The items whose fixing matters most: failing first, then missing, in the weakest
    sections first."""
    scaled = {s.key: s.passing_scaled for s in sections}
    rank = {FAILING: 0, NOT_DONE: 1, ATTESTED: 2, PASSING: 2}
    order = {key: n for n, key in enumerate(ITEMS)}
    # an attested item at its maximum (what only a person can vouch for) has nothing to gain
    open_items = [
        i for i in items if i.points < i.max_points or i.status not in (PASSING, ATTESTED)
    ]
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


def _attestations(spec: Any, base_dir: Path, now: dt.datetime, warnings: list[str]) -> dict:
    """The spec's attestations that hold: by someone, dated in the past, not expired, with
    evidence that exists (a file, hashed now) or a URL. The others are named in a warning."""
    from types import SimpleNamespace

    from mlready.io import sha256_file

    max_age = spec.checklist.attestation_max_age_days
    today = now.date()
    held: dict[str, Any] = {}
    for attestation in spec.checklist.attestations:
        item = attestation.item
        problem, digest = None, None
        if attestation.date > today:
            problem = f"is dated {attestation.date}, in the future"
        elif (today - attestation.date).days > max_age:
            problem = (
                f"expired: dated {attestation.date}, more than {max_age} days ago "
                "(checklist.attestation_max_age_days); attest it again with fresh evidence"
            )
        elif attestation.evidence.startswith(("http://", "https://")):
            pass
        else:
            path = Path(attestation.evidence.split("#", 1)[0])
            path = path if path.is_absolute() else base_dir / path
            inside = path.resolve().is_relative_to(base_dir.resolve())
            if not path.is_file():
                problem = (
                    f"names evidence {attestation.evidence!r}, which is not a file (give a path "
                    "to a document in the project, or an http(s) URL)"
                )
            elif not inside:
                problem = (
                    f"names evidence {attestation.evidence!r} outside the project's folder "
                    f"({base_dir}): keep the document with the project, or give its URL"
                )
            elif not path.read_bytes().strip():
                problem = f"names evidence {attestation.evidence!r}, an empty file"
            else:
                digest = sha256_file(path)
        if problem is not None:
            warnings.append(f"attestation of {item} by {attestation.by} {problem}; it is ignored")
            held.pop(item, None)
            continue
        held[item] = SimpleNamespace(
            by=attestation.by,
            date=attestation.date,
            evidence=attestation.evidence,
            note=attestation.note,
            evidence_sha256=digest,
        )
    return held


def _log_warnings(log: Any, warnings: list[str]) -> dict[str, Any]:
    """Warnings about records the run log check left out, and a summary for the report."""
    if log is None:
        return {}
    problems = log.problems
    foreign = [p for p in problems if "not this project" in p.reason]
    altered = [p for p in problems if p not in foreign and "has no hash" not in p.reason]
    if altered:
        shown = "; ".join(str(p) for p in altered[:3]) + (" ..." if len(altered) > 3 else "")
        records = [p for p in altered if not p.whole_log]
        warnings.append(
            f"the run log was altered ({shown}); "
            + (f"{_n(len(records), 'record')} left out of the score; " if records else "")
            + "`mlready runs verify` lists every problem"
        )
    if foreign:
        warnings.append(
            f"{_n(len(foreign), 'record')} in {log.path} belong to another project (another spec "
            "wrote them) and are ignored: check project.artifacts_dir"
        )
    if log.unchained:
        warnings.append(
            f"{_n(log.unchained, 'record')} in {log.path} have no hash (written by hand or by an "
            "older mlready) and are not scored: run the pipeline again"
        )
    return {
        "path": str(log.path),
        "trusted": len(log.records),
        "altered": bool(altered),
        "left_out": sum(1 for p in problems if not p.whole_log),
        "foreign": len(foreign),
        "unchained": log.unchained,
        "problems": [str(p) for p in problems[:20]],
    }


def readiness(
    loaded: Any, *, pass_bar: float | None = None, now: dt.datetime | None = None
) -> ReadinessResult:
    """Score the project's readiness from what its commands wrote (reads only)."""
    from mlready.checklist.evidence import gather

    evidence = gather(loaded)
    spec = loaded.spec
    moment = now or dt.datetime.now(dt.timezone.utc)
    warnings: list[str] = []
    log = _log_warnings(evidence.log, warnings)
    if not evidence.runs and not evidence.broken and not (log and log["left_out"]):
        warnings.append(
            f"no run log at {evidence.artifacts / 'runs.jsonl'}: run the pipeline first, or "
            "check project.artifacts_dir in the spec"
        )
    attestations = _attestations(spec, loaded.base_dir, moment, warnings)
    items = [
        score_item(item, _judge(key, evidence, warnings), attestations.get(key))
        for key, item in ITEMS.items()
    ]
    for item in items:
        if item.id in attestations and item.attestation is None:
            warnings.append(
                f"attestation of {item.id} is not counted: the automated evidence says it fails"
            )
    sections = _sections(items)
    final = min(s.passing_scaled for s in sections)
    in_place = min(s.scaled for s in sections)
    ceiling = min(s.ceiling for s in sections)
    band, meaning = band_of(final)
    bar = spec.checklist.pass_bar if pass_bar is None else pass_bar
    judged = spec.checklist.judge
    if evidence.registry.error:
        warnings.append(f"the registry could not be read: {evidence.registry.error}")
    production = evidence.registry.production
    seeds = [
        {
            "number": number,
            "text": text,
            "items": [
                {"id": i.id, "status": i.status, "points": i.passing_points}
                for i in items
                if number in i.seeds
            ],
        }
        for number, text in SEED_CHECKLIST.items()
    ]
    return ReadinessResult(
        project=spec.project.name,
        owner=spec.project.owner or "",
        model=None if production is None else f"{production.model_name}:{production.version}",
        generated_at=moment.isoformat(timespec="seconds"),
        final_score=final,
        band=band,
        band_meaning=meaning,
        pass_bar=bar,
        passed=(final if judged == "passing_now" else in_place) >= bar - 1e-9,
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
        in_place_score=in_place,
        in_place_band=band_of(in_place)[0],
        judged=judged,
        ceiling=ceiling,
        ceiling_items=[i.id for i in items if not i.automated],
        log=log,
        base_dir=str(loaded.base_dir),
    )
