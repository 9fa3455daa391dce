"""Each step as a recorded run: open its run folder, call the step's library function, write its
artifacts and reports, and append its record (with the summary later steps read) to the run log.

The CLI's commands and :class:`mlready.Project` both call these, so a step run from a terminal
and from a notebook leaves the same evidence. None of them prints; a failed check is a result
(``passed`` False), an unusable input an :class:`~mlready.errors.MlreadyError`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlready.project.results import (
    DriftRun,
    ReadinessRun,
    RegisterRun,
    Registration,
    ServeRun,
    TrainRun,
    ValidationRun,
)

if TYPE_CHECKING:
    from mlready.checklist import ReadinessResult
    from mlready.drift import DriftResult
    from mlready.serving import ServeResult
    from mlready.spec import LoadedSpec
    from mlready.training import TrainResult
    from mlready.validation.result import ValidationResult

__all__ = [
    "actor",
    "run_check_drift",
    "run_checklist_report",
    "run_register",
    "run_serve_batch",
    "run_train",
    "run_validate_data",
    "sql_source",
]


def actor() -> str:
    """Who acts, as the registry's history records it: the user, and the CI system if any."""
    from mlready.runs import ci_name, current_user

    ci = ci_name()
    return f"{current_user()} ({ci})" if ci else current_user()


def sql_source(
    data: str | None, query: str | None, option: str = "--data"
) -> tuple[str, str] | None:
    """A database URL and its query as a SQL source; None for a file (UsageError when one
    comes without the other)."""
    from mlready.errors import UsageError

    if data is not None and "://" in data:
        if not query:
            raise UsageError(f"{option} {data} is a database URL: add --query 'SELECT ...'")
        return data, query
    if query:
        raise UsageError(f"--query goes with a database URL as {option} (e.g. sqlite:///x.db)")
    return None


# ------------------------------------------------------------------------- validate-data


def run_validate_data(
    loaded: LoadedSpec,
    *,
    data: str | None = None,
    query: str | None = None,
    environment: str | None = None,
    quarantine: Path | None = None,
    chunk_rows: int | None = None,
    report: bool = True,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ValidationRun:
    """Check data (the spec's training data by default) against the contract; writes
    validation.json, junit.xml and validation.html in the run folder."""
    from mlready.io import atomic_write_json, atomic_write_text
    from mlready.runs import start_run
    from mlready.validation import validate_data
    from mlready.validation.report import junit_xml, render_html

    source = sql_source(data, query)
    with start_run(loaded.spec.project.artifacts_dir, "validate-data", loaded) as run:
        result = validate_data(
            loaded,
            data=None if source else data,
            sql=source,
            environment=environment,
            quarantine_dir=quarantine,
            chunk_rows=chunk_rows,
            on_progress=on_progress,
            force=force,
        )
        atomic_write_json(run.dir / "validation.json", result.to_dict())
        atomic_write_text(run.dir / "junit.xml", junit_xml(result))
        if report:
            atomic_write_text(
                run.dir / "validation.html", render_html(result, loaded.spec.project.name)
            )
        run.summary.update(_validation_summary(result, loaded))
        if not result.passed:
            run.fail(1)
    return ValidationRun(
        "validate-data",
        run.run_id,
        run.dir,
        result,
        run.dir / "validation.html" if report else None,
    )


def _validation_summary(result: ValidationResult, loaded: LoadedSpec) -> dict[str, Any]:
    """What the run log keeps of a validation (train reuses a passing one of the same bytes)."""
    return {
        "source": result.source,
        "environment": result.environment,
        "rows": result.rows,
        "checks": len(result.results),
        "failed": len(result.failed_errors),
        "warnings": len(result.warnings),
        "passed": result.passed,
        "fingerprint": result.fingerprint,
        "quarantined": (result.quarantine or {}).get("rejected_rows"),
        "contract_hash": loaded.section_hash("data", "expectations"),
    }


# ---------------------------------------------------------------------------------- train


def run_train(
    loaded: LoadedSpec,
    *,
    check_reproducible: bool = False,
    importance: bool = True,
    revalidate: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> TrainRun:
    """Fit the spec's pipeline, cross-validate it, and write the model with its metadata and
    report (or, when the training data fails its contract, the validation report)."""
    from mlready.io import atomic_write_json, atomic_write_text
    from mlready.runs import start_run
    from mlready.training import train

    with start_run(loaded.spec.project.artifacts_dir, "train", loaded) as run:
        result = train(
            loaded,
            run.dir,
            run_id=run.run_id,
            check_reproducible=check_reproducible,
            importance=importance,
            revalidate=revalidate,
            on_progress=on_progress,
            logger=run.logger,
        )
        if result.validation_failed:
            from mlready.validation.report import render_html

            atomic_write_json(run.dir / "validation.json", result.validation.to_dict())
            atomic_write_text(
                run.dir / "validation.html",
                render_html(result.validation, loaded.spec.project.name),
            )
        run.summary.update(_train_summary(result))
        for warning in result.warnings:
            run.logger.warning("%s", warning)
        if not result.passed:
            run.fail(1)
    report = run.dir / ("validation.html" if result.validation_failed else "training.html")
    return TrainRun("train", run.run_id, run.dir, result, report)


def _train_summary(result: TrainResult) -> dict[str, Any]:
    """What the run log keeps of a training run (the registry and the report read it)."""
    if result.validation_failed:
        return {"passed": False, "stage": "validation", "failures": result.failures[:20]}
    m = result.metadata
    v = m["validation"]
    primary = v["primary_metric"]
    business = m.get("business") or {}
    return {
        "passed": result.passed,
        "failures": result.failures,
        "model": m["model"]["type"],
        "model_sha256": m["artifact"]["sha256"],
        "model_format": m["artifact"].get("format"),
        "primary_metric": primary,
        "primary_value": v["judged_metrics"].get(primary),
        "judged_on": v["judged_on"],
        "decision_threshold": m.get("decision_threshold"),
        "business_value": (business.get("cv") or {}).get("best_threshold", {}).get("value")
        if "cv" in business
        else business.get("cv_value"),  # regression: minus the cost of the errors
        "business_gain": business.get("gain_over_baseline"),
        "data_fingerprint": m["data"]["fingerprint"],
        "spec_hash": m["spec"]["hash"],
        "spec_sections": m["spec"]["sections"],
        "reproducible": (m.get("reproducibility") or {}).get("identical"),
        "warnings": len(result.warnings),
        "skew": None if result.skew is None else result.skew.to_dict(),
    }


# ------------------------------------------------------------------------------- register


def check_register_options(
    *, allow_failing: bool, reason: str | None, promote: str | None, force: bool
) -> None:
    """The options of a registration that cannot go together (UsageError, exit 2)."""
    from mlready.errors import UsageError
    from mlready.registry import check_name

    if allow_failing and not reason:
        raise UsageError("--allow-failing needs --reason TEXT: say why a failing run may go in")
    check_gate_options(reason, force)
    if force and not promote:
        raise UsageError("--force only applies to --promote")
    if promote:
        check_name(promote, "alias")


def check_gate_options(reason: str | None, force: bool) -> None:
    """An override of the promotion gate is recorded with its reason."""
    from mlready.errors import UsageError

    if force and not reason:
        raise UsageError("--force needs --reason TEXT: the override is recorded with it")


def run_register(
    loaded: LoadedSpec,
    *,
    run: str | None = None,
    allow_failing: bool = False,
    reason: str | None = None,
    promote: str | None = None,
    force: bool = False,
) -> RegisterRun:
    """Store a train run's model (the newest passing one by default) as the next version of
    the spec's model; with ``promote``, then move that alias to it through the gate."""
    from mlready.registry import open_registry, trained_run
    from mlready.registry.gate import promote as through_gate
    from mlready.runs import start_run

    check_register_options(allow_failing=allow_failing, reason=reason, promote=promote, force=force)
    trained = trained_run(loaded, run)
    registry = open_registry(loaded)
    name = loaded.spec.model_name
    with start_run(loaded.spec.project.artifacts_dir, "register", loaded) as record:
        version, created = registry.register(
            name, trained, actor=actor(), allow_failing_reason=reason if allow_failing else None
        )
        record.summary.update(
            model=name,
            version=version.version,
            created=created,
            sha256=version.sha256,
            run_id=version.run_id,
        )
        decision = None
        if promote:
            decision = through_gate(
                loaded, registry, version, promote, force=force, reason=reason, actor=actor()
            )
            record.summary.update(
                promote=promote, accepted=decision["accepted"], reason=decision["reason"]
            )
            if not decision["accepted"]:
                record.fail(1)
    registration = Registration(name, version, created, decision)
    return RegisterRun("register", record.run_id, record.dir, registration, None)


# ---------------------------------------------------------------------------- serve-batch


def run_serve_batch(
    loaded: LoadedSpec,
    *,
    model: str | None = None,
    input_path: str | None = None,
    query: str | None = None,
    output: str | None = None,
    force: bool = False,
    quarantine: bool | None = None,
    chunk_rows: int | None = None,
    cache: bool = True,
    engine: str = "local",
    scheduler: str | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ServeRun:
    """Score a batch (serving.input by default) with a registered model (production by
    default), in chunks, within the SLA."""
    from mlready.runs import start_run
    from mlready.serving import serve_batch

    sql = sql_source(input_path, query, option="--input")
    with start_run(loaded.spec.project.artifacts_dir, "serve-batch", loaded) as run:
        result = serve_batch(
            loaded,
            run_dir=run.dir,
            run_id=run.run_id,
            model=model,
            input_path=None if sql else input_path,
            sql=sql,
            output=output,
            quarantine=quarantine,
            chunk_rows=chunk_rows,
            use_cache=cache,
            engine=engine,
            scheduler=scheduler,
            on_progress=on_progress,
            logger=run.logger,
            force=force,
        )
        run.summary.update(_serve_summary(result))
        for warning in result.warnings:
            run.logger.warning("%s", warning)
        if not result.passed:
            run.fail(1)
    return ServeRun("serve-batch", run.run_id, run.dir, result, None)


def _serve_summary(result: ServeResult) -> dict[str, Any]:
    """What the run log keeps of a scoring run (the readiness report reads it)."""
    return {
        "passed": result.passed,
        "failures": result.failures,
        "model": result.model,
        "source": result.source,
        "engine": result.engine,
        "rows_in": result.rows_in,
        "rows_scored": result.rows_scored,
        "rows_rejected": result.rows_rejected,
        "cache": result.cache,
        "canary": result.canary.get("passed"),
        "nan_predictions": result.nan_predictions,
        "unseen_categories": {f["id"].split(".")[0]: f["count"] for f in result.unseen},
        "sla": result.sla,
        "wall_s": result.wall_s,
        "peak_memory_mb": result.peak_memory_mb,
        "files": result.files,
        "alerts": [a["rule"] for a in result.alerts],
        "warnings": len(result.warnings),
    }


# ---------------------------------------------------------------------------- check-drift


def run_check_drift(
    loaded: LoadedSpec,
    *,
    current: str | None = None,
    batch: str | None = None,
    model: str | None = None,
    reference: str | None = None,
    outcomes: str | None = None,
) -> DriftRun:
    """Compare the current data (the latest scored batch by default) with the model's training
    reference, fire the alerts, and write drift.json and drift.html."""
    from mlready.drift import check_drift
    from mlready.drift.report import write_outputs
    from mlready.runs import start_run

    artifacts = loaded.spec.project.artifacts_dir
    with start_run(artifacts, "check-drift", loaded) as run:
        result = check_drift(
            loaded,
            run_dir=run.dir,
            run_id=run.run_id,
            current=current,
            batch=batch,
            model=model,
            reference=reference,
            outcomes=outcomes,
            logger=run.logger,
        )
        write_outputs(result, run.dir, run.run_id, artifacts, loaded.spec.project.name)
        run.summary.update(_drift_summary(result))
        if not result.passed:
            run.fail(1)
    return DriftRun("check-drift", run.run_id, run.dir, result, run.dir / "drift.html")


def _drift_summary(result: DriftResult) -> dict[str, Any]:
    """What the run log keeps (the readiness report reads it)."""
    return {
        "passed": result.passed,
        "model": result.model,
        "current": result.current,
        "dataset_drift": result.dataset_drift,
        "share_drifted": result.share_drifted,
        "drifted": result.drifted,
        "prediction_drift": result.prediction_drift,
        "features": len(result.features),
        "model_age_days": result.model_age_days,
        "performance": None
        if result.performance is None
        else {k: result.performance[k] for k in ("primary_metric", "value", "training_value")},
        "events": [e["event"] for e in result.events],
        "alerts": [
            {
                "rule": a["rule"],
                "severity": a["severity"],
                "delivered": any(d["delivered"] for d in a["deliveries"].values()),
            }
            for a in result.alerts
        ],
    }


# ----------------------------------------------------------------------- checklist-report


def run_checklist_report(
    loaded: LoadedSpec,
    *,
    fail_under: float | None = None,
    output: Path | None = None,
    force: bool = False,
) -> ReadinessRun:
    """Score production readiness from the evidence; writes checklist.html, .md and .json in
    the run folder (and copies them into ``output``)."""
    from mlready.checklist import readiness
    from mlready.checklist.report import write_outputs
    from mlready.io import guard_outputs
    from mlready.runs import start_run

    copies = [output / f"checklist.{ext}" for ext in ("json", "md", "html")] if output else []
    artifacts = loaded.spec.project.artifacts_dir
    guard_outputs(copies, artifacts_dir=artifacts, protected=loaded.protected_paths(), force=force)
    with start_run(artifacts, "checklist-report", loaded) as run:
        result = readiness(loaded, pass_bar=fail_under)
        files = write_outputs(result, run.dir, output, artifacts_dir=artifacts)
        run.summary.update(_readiness_summary(result))
        if not result.passed:
            run.fail(1)
    return ReadinessRun("checklist-report", run.run_id, run.dir, result, files["html"])


def _readiness_summary(result: ReadinessResult) -> dict[str, Any]:
    """What the run log keeps."""
    return {
        "passed": result.passed,
        "score": result.final_score,
        "in_place_score": result.in_place_score,
        "judged": result.judged,
        "band": result.band,
        "log_altered": bool(result.log.get("altered")),
        "pass_bar": result.pass_bar,
        "sections": {s.key: s.score for s in result.sections},
        "gaps": [g["id"] for g in result.gaps],
    }
