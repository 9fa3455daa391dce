"""train: fit the spec's pipeline, judge it the way production will, and write the artifacts.

The steps, in order: read the training data once; validate it against the contract; split it
into features and target (time order, holdout); build the pipeline; search hyperparameters (when
the spec asks) on the spec's folds; cross-validate the model and the baselines on those folds;
fit the artifact on every row not held out; score the holdout; put a value on the predictions
and choose the threshold that maximises it; measure feature contribution; write model.skops,
metadata.json, reference_profile.json and training.html into the run folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlready.errors import SpecError
from mlready.spec import LoadedSpec

__all__ = ["TrainResult", "train"]


#: on_progress(label, done, total): a phase's progress, for the terminal's progress bar.
Progress = Callable[[str, int, int], None]


@dataclass
class TrainResult:
    """What train found and wrote."""

    passed: bool
    failures: list[str]
    warnings: list[str]
    metadata: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)
    validation: Any = None  # the ValidationResult of the training data
    skew: Any = None  # the SkewResult: training rows through serving's reader (monitor-3)

    @property
    def validation_failed(self) -> bool:
        return self.validation is not None and not self.validation.passed


def _noop(label: str, done: int, total: int) -> None:
    del label, done, total


def train(
    loaded: LoadedSpec,
    run_dir: Path,
    *,
    run_id: str = "",
    check_reproducible: bool = False,
    importance: bool = True,
    revalidate: bool = False,
    on_progress: Progress | None = None,
    logger: logging.Logger | None = None,
) -> TrainResult:
    """Train the spec's model and write its artifacts into ``run_dir``.

    The training data is validated first, unless a passing ``validate-data`` run of the last
    day already checked these exact bytes against this contract with this mlready version
    (``revalidate`` checks again anyway).
    """
    from mlready.columns import ColumnTypes

    log = logger or logging.getLogger("mlready.train")
    progress = on_progress or _noop
    spec = loaded.spec
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    source = spec.data.source
    sql = (source.sql.url, source.sql.query) if source.sql is not None else None
    progress("Reading and validating the training data", 0, 1)
    start = time.perf_counter()
    frame = ColumnTypes.of(spec).read(source.path, sql=sql)
    timings["read"] = time.perf_counter() - start
    from mlready.training.data import check_roles

    check_roles(spec, frame)
    reused = None if revalidate or sql is not None else _reusable_validation(loaded, len(frame))
    gate = _Gate(loaded, frame, sql, reused, log, timings)
    try:
        if reused is not None:
            log.info(
                "training data already validated by run %s: not validated again",
                reused["run_id"],
            )
        else:
            gate.begin()
            if spec.model.search is not None:
                # a search fits many candidates in its own pool: the contract is checked first
                gate.run()
                if not gate.passed:
                    return gate.failure()
        progress("Reading and validating the training data", 1, 1)
        # loaded now, so that the limit below reaches scikit-learn's OpenMP runtime (a limit
        # only applies to the runtimes already loaded)
        import sklearn.utils._openmp_helpers  # noqa: F401
        from threadpoolctl import threadpool_limits

        from mlready.training.pipeline import small_data
        from mlready.training.workers import bound_workers

        # on small data a model's own threads only add overhead: one thread in this process
        limit = 1 if small_data(*frame.shape) else None
        try:
            with (
                threadpool_limits(limits=limit, user_api="openmp"),
                _quiet_warnings(log),
                bound_workers(),
            ):
                result = _fit_guarded(
                    loaded,
                    frame,
                    gate,
                    run_dir,
                    run_id=run_id,
                    check_reproducible=check_reproducible,
                    importance=importance,
                    progress=progress,
                    log=log,
                    timings=timings,
                    clock=clock,
                )
        except Exception:
            # the data's contract comes first: a table that breaks it gets its validation
            # failures, not whatever preparing it for the model stumbled on
            if gate.started:
                raise
            gate.run()
            if not gate.passed:
                return gate.failure()
            raise
        result.validation = gate.validation
        return result
    finally:
        gate.close()


class _Gate:
    """The training data's validation against the contract, run once: before a search, or in
    this process while the first fits run in the pool (a failure stops them). Nothing trained
    is kept or written unless it passed."""

    def __init__(
        self,
        loaded: LoadedSpec,
        frame: Any,
        sql: tuple[str, str] | None,
        reused: dict[str, Any] | None,
        log: logging.Logger,
        timings: dict[str, float],
    ) -> None:
        self.loaded, self.frame, self.sql, self.log, self.timings = loaded, frame, sql, log, timings
        self.validation: Any = None  # the ValidationResult, when it ran here
        self.summary: dict[str, Any] | None = reused  # what metadata.json records of it
        self.started = reused is not None
        self._forked: Any = None  # the validation under way in a forked process
        self._begun = 0.0
        if reused is not None:
            timings["validate"] = 0.0

    def begin(self) -> None:
        """Start validating in a process forked now, where it can: Great Expectations' import
        and checks (2-3 CPU-s) then run on a core that would otherwise idle while this process
        imports scikit-learn and prepares the fits; ``run`` collects the result. Elsewhere
        ``run`` validates in this process."""
        from mlready.training.workers import ForkedCall, fork_safe

        if self.started or self._forked is not None or not fork_safe():
            return
        from mlready.validation import validate_data

        self._begun = time.perf_counter()
        self._forked = ForkedCall(
            "the process validating the training data",
            functools.partial(
                validate_data, self.loaded, sql=self.sql, environment="training", frame=self.frame
            ),
        )

    def close(self) -> None:
        """Stop a forked validation nobody collected (training failed before it was needed)."""
        if self._forked is not None:
            self._forked.close()
            self._forked = None

    @property
    def passed(self) -> bool:
        return self.validation is None or bool(self.validation.passed)

    def run(self) -> None:
        """Validate (once); the result is in ``passed`` and ``failure()``."""
        if self.started:
            return
        self.started = True
        from mlready.validation import validate_data

        if self._forked is not None:
            forked, self._forked = self._forked, None
            try:
                validation = forked.result()
            finally:
                forked.close()
            self.timings["validate"] = time.perf_counter() - self._begun
        else:
            start = time.perf_counter()
            validation = validate_data(
                self.loaded, sql=self.sql, environment="training", frame=self.frame
            )
            self.timings["validate"] = time.perf_counter() - start
        self.validation = validation
        self.summary = {
            "source": validation.source,
            "rows": validation.rows,
            "fingerprint": validation.fingerprint,
            "passed": validation.passed,
            "checks": len(validation.results),
            "failed": len(validation.failed_errors),
            "warnings": len(validation.warnings),
            "run_id": None,
        }
        self.log.info(
            "training data: %s rows, validation %s (%s checks, %s failed)",
            validation.rows,
            "passed" if validation.passed else "FAILED",
            len(validation.results),
            len(validation.failed_errors),
        )

    def failure(self) -> TrainResult:
        failures = [_validation_failure(r) for r in self.validation.failed_errors]
        return TrainResult(False, failures, [], {}, validation=self.validation)


@contextlib.contextmanager
def _quiet_warnings(log: logging.Logger) -> Iterator[None]:
    """Library warnings (convergence, deprecations) go to the run log once each, not to the
    terminal; fold workers started meanwhile inherit the silence."""
    previous = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = previous
    seen = set()
    for item in caught:
        text = f"{item.category.__name__}: {str(item.message).splitlines()[0]}"
        if text not in seen:
            seen.add(text)
            log.warning("library warning: %s", text)


def _fit_guarded(
    loaded: LoadedSpec, frame: Any, gate: _Gate, run_dir: Path, **options: Any
) -> TrainResult:
    """``_prepared_and_fitted`` (``options``: its keyword arguments), with the pool's processes
    started first where they import (see ``evaluate.start_workers``); a model that cannot be
    fitted on this data (sklearn's ValueError) is a one-line data error, not a crash."""
    from mlready.errors import DataError
    from mlready.training import evaluate as ev
    from mlready.training.pipeline import small_data
    from mlready.training.workers import thread_budget

    folds = loaded.spec.validation.cv.folds
    ready = ev.start_workers(min(thread_budget(), folds + 1) if small_data(*frame.shape) else 1)
    try:
        return _prepared_and_fitted(loaded, frame, gate, run_dir, ready, **options)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"the model could not be trained on this data: {first}",
            hint="check model.params against the data's size and values",
        ) from exc
    finally:
        ready()


#: A validate-data run older than this is not reused (freshness checks depend on the date).
REUSE_VALIDATION_HOURS = 24


def _reusable_validation(loaded: LoadedSpec, rows: int) -> dict[str, Any] | None:
    """A passing validate-data run of the training data that checked these exact bytes against
    the same contract with this mlready version, within the last day; None when there is none."""
    from mlready import __version__
    from mlready.runs import read_run_log
    from mlready.validation import fingerprint

    spec = loaded.spec
    contract = loaded.section_hash("data", "expectations")
    now = dt.datetime.now(dt.timezone.utc)
    candidates = []
    for record in reversed(read_run_log(spec.project.artifacts_dir, "validate-data")):
        s = record.summary
        try:
            started = dt.datetime.fromisoformat(record.started_at)
        except ValueError:
            continue
        if (
            record.status == "passed"
            and s.get("environment") == "training"
            and s.get("contract_hash") == contract
            and not s.get("quarantined")
            and s.get("rows") == rows
            and record.mlready_version == __version__
            and now - started < dt.timedelta(hours=REUSE_VALIDATION_HOURS)
        ):
            candidates.append(record)
    if not candidates:
        return None
    digest = fingerprint(spec.data.source.path, None)
    for record in candidates:
        s = record.summary
        if s.get("fingerprint") == digest:
            return {
                "source": s.get("source"),
                "rows": s.get("rows"),
                "fingerprint": digest,
                "passed": True,
                "checks": s.get("checks"),
                "failed": s.get("failed"),
                "warnings": s.get("warnings"),
                "run_id": record.run_id,
            }
    return None


def _validation_failure(result: Any) -> str:
    text = f"{result.check.id}: expected {result.check.description}"
    if result.unexpected_count:
        sample = ", ".join(result.sample[:3])
        text += f"; {result.unexpected_count:,} values are not" + (
            f" (e.g. {sample})" if sample else ""
        )
    elif result.observed:
        text += f"; observed {result.observed}"
    return text


def _prepared_and_fitted(
    loaded: LoadedSpec,
    frame: Any,
    gate: _Gate,
    run_dir: Path,
    ready: Callable[[], None],
    *,
    run_id: str,
    check_reproducible: bool,
    importance: bool,
    progress: Progress,
    log: logging.Logger,
    timings: dict[str, float],
    clock: float,
) -> TrainResult:
    import numpy as np

    from mlready.training import evaluate as ev
    from mlready.training import leakage, search
    from mlready.training.data import load_training_data
    from mlready.training.importance import (
        contribution_table,
        effective_metric,
        measure,
        sample_rows,
    )
    from mlready.training.metrics import DEFAULT_METRICS, compute_metrics, summarize
    from mlready.training.pipeline import baseline_pipeline, build_pipeline, fold_jobs
    from mlready.training.workers import thread_budget

    spec = loaded.spec
    data = load_training_data(spec, frame)
    for note in data.notes:
        log.info("%s", note)
    metrics = list(spec.validation.metrics or DEFAULT_METRICS[data.task])
    _check_metrics_fit_task(spec, metrics, data.task)
    primary = _primary_metric(spec, metrics)
    pipeline = build_pipeline(spec, data.task, data.numeric, data.categorical)
    ev.check_can_score(pipeline, data, metrics)
    splits = ev.folds(spec, data)
    jobs = fold_jobs(pipeline, len(splits), len(data.train_index), data.X.shape[1])
    log.info(
        "%s: %s rows for CV, %s held out, %s folds, %s at a time",
        data.task,
        len(data.train_index),
        len(data.holdout_index),
        len(splits),
        jobs,
    )

    warnings: list[str] = list(data.warnings)
    found: dict[str, Any] = {}

    def meanwhile() -> bool:
        """The work that needs no fitted model, done in this process while the pool fits:
        the contract (False stops the fits when the data breaks it), the leakage checks, the
        training rows through serving's reader, and the imports writing the artifacts needs."""
        if not gate.started:
            progress("Validating the training data while the model fits", 0, 1)
            gate.run()
            progress("Validating the training data while the model fits", 1, 1)
            if not gate.passed:
                return False
        progress("Checking for leakage", 0, 1)
        start = time.perf_counter()
        found["proxies"] = leakage.target_proxies(data)
        found["shared"] = leakage.shared_rows(data, splits)
        found["order"] = leakage.time_order(data, splits)
        warnings.extend(leakage.warnings_for(found["shared"], found["order"]))
        timings["leakage"] = time.perf_counter() - start
        progress("Checking for leakage", 1, 1)
        progress("Checking training rows through serving's reader", 0, 1)
        start = time.perf_counter()
        found["skew"] = _skew(spec, frame, data, log)
        timings["skew"] = time.perf_counter() - start
        progress("Checking training rows through serving's reader", 1, 1)
        from mlready.training import artifacts

        artifacts.warm_imports(spec)
        progress(label, 0, 100)
        return True

    ready()  # the pool's processes have started: the same pool fits from here on
    search_result = None
    if spec.model.search is not None:
        start = time.perf_counter()
        search_result, best_params = search.search(
            spec,
            pipeline,
            data,
            splits,
            spec.model.search.metric or primary,
            jobs,
            on_progress=progress,
        )
        pipeline.set_params(**best_params)
        timings["search"] = time.perf_counter() - start
        log.info("search: best %s %s", search_result["best_params"], search_result["best_score"])
        if search_result["stopped_by_budget"]:
            log.info(
                "search: the budget of %s s was spent; %s candidates were not launched",
                spec.model.search.budget_s,
                search_result["candidates_skipped"],
            )

    # one pool for every fit: the model's folds (measuring feature contribution on their
    # validation rows when there is no holdout), the final fit and the baselines overlap
    hold = data.holdout_index
    settings = spec.training.importance
    rows = len(data.train_index)
    tasks = [ev.FitTask("model", None, pipeline, data.train_index, hold, keep=True, weight=rows)]
    for task in ev.fold_tasks("model", pipeline, splits):
        task.measure_importance = importance and not len(hold)
        tasks.append(task)
    for kind in spec.validation.baselines:
        simple = baseline_pipeline(
            kind, data.task, data.numeric, data.categorical, spec.model.random_state
        )
        weight = BASELINE_WEIGHT[kind]
        tasks.extend(ev.fold_tasks(kind, simple, splits, weight=weight))
        if len(hold):
            tasks.append(
                ev.FitTask(kind, None, simple, data.train_index, hold, weight=weight * rows)
            )
    pool = 1 if jobs == 1 else max(1, min(len(tasks), thread_budget()))
    request = None
    if importance:
        # the rows the model did not train on: the holdout, else the rows some fold validates
        held_out = hold if len(hold) else np.unique(np.concatenate([v for _, v in splits]))
        request = ev.ImportanceRequest(
            rows=sample_rows(held_out, settings.max_rows, spec.model.random_state),
            metric=primary,
            repeats=settings.repeats,
            seed=spec.model.random_state,
            # the cores the pool leaves free: all of them when the folds run one at a time
            threads=max(1, thread_budget() // pool),
        )
    total = sum(t.weight for t in tasks)
    label = "Cross-validating, fitting the model" + (
        " and the baselines" if spec.validation.baselines else ""
    )
    start = time.perf_counter()
    try:
        outcomes = ev.run_fits(
            tasks,
            data,
            n_jobs=pool,
            importance=request,
            on_done=lambda done: progress(label, round(100 * done / total), 100),
            meanwhile=meanwhile,
        )
    except ev.Stopped:
        return gate.failure()
    proxies, shared, order = found["proxies"], found["shared"], found["order"]
    timings["fits"] = time.perf_counter() - start
    final = next(o for o in outcomes if o.task.name == "model" and o.task.fold is None)
    model = final.model
    cv = ev.collect(
        [o for o in outcomes if o.task.name == "model" and o.task.fold is not None],
        data,
        metrics,
        timings["fits"],
    )
    log.info("fits: %s tasks, %s at a time, %.1f s", len(tasks), pool, timings["fits"])

    start = time.perf_counter()
    holdout_metrics = None
    holdout_scores = holdout_labels = None
    if len(hold):
        holdout_scores, holdout_labels = final.scores, final.labels
        holdout_metrics = compute_metrics(
            metrics, data.y[hold], holdout_scores, holdout_labels, data.classes
        )
    baselines = []
    for kind in spec.validation.baselines:
        mine = [o for o in outcomes if o.task.name == kind]
        folds_done = [o for o in mine if o.task.fold is not None]
        result = ev.collect(folds_done, data, metrics)
        entry: dict[str, Any] = {
            "kind": kind,
            "cv": summarize([f.metrics for f in result.folds], metrics),
        }
        refit = next((o for o in mine if o.task.fold is None), None)
        if refit is not None:
            entry["holdout"] = compute_metrics(
                metrics, data.y[hold], refit.scores, refit.labels, data.classes
            )
        baselines.append(entry)

    cv_summary = summarize([f.metrics for f in cv.folds], metrics)
    oof = np.flatnonzero(cv.validated)
    slices = {"cv": ev.slice_metrics(spec, data, oof, cv.scores[oof], cv.labels[oof], metrics)}
    if len(hold):
        slices["holdout"] = ev.slice_metrics(
            spec, data, hold, holdout_scores, holdout_labels, metrics
        )

    default_threshold = 0.5 if hasattr(pipeline, "predict_proba") else 0.0
    business = _business(spec, data, oof, cv, hold, holdout_scores, default_threshold)
    threshold = business.get("decision_threshold") if business else None
    from mlready.training.curves import model_curves

    # the curves of what the run is judged on: the holdout, else the out-of-fold predictions
    shown_rows = hold if len(hold) else oof
    curves = model_curves(
        data.y[shown_rows],
        holdout_scores if len(hold) else cv.scores[oof],
        holdout_labels if len(hold) else cv.labels[oof],
        task=data.task,
        classes=data.classes,
        threshold=default_threshold if threshold is None else threshold,
        probabilities=hasattr(pipeline, "predict_proba"),
        basis="holdout" if len(hold) else "cv",
        seed=spec.model.random_state,
    )
    timings["analysis"] = time.perf_counter() - start

    contribution = None
    importance_facts = None
    if request is not None:
        measured = cv.importance
        if len(hold):
            label = "Measuring feature contribution on the holdout"
            features = len(data.X.columns)
            done = {"n": 0}

            def tick() -> None:
                done["n"] += 1
                progress(label, done["n"], features)

            progress(label, 0, features)
            start = time.perf_counter()
            rows_used = request.rows
            measured = measure(
                model,
                data.X.iloc[rows_used],
                data.y[rows_used],
                task=data.task,
                binary=data.binary,
                metric=primary,
                classes=data.classes,
                repeats=request.repeats,
                seed=request.seed,
                threads=thread_budget(),
                on_feature=tick,
            )
            timings["importance"] = time.perf_counter() - start
        if measured is not None:
            contribution = contribution_table(measured)
            importance_facts = {
                "basis": "holdout" if len(hold) else "cv",
                "rows": measured.rows,
                "held_out_rows": len(hold) if len(hold) else len(oof),
                "max_rows": settings.max_rows,
                "repeats": request.repeats,
                "metric": effective_metric(primary, data.task, pipeline),
                "shuffled": measured.space,
                "seconds": round(measured.seconds, 3),
            }
            nothing = [c["feature"] for c in contribution if c["adds_nothing"]]
            if nothing:
                warnings.append(
                    f"{len(nothing)} features add nothing measurable on held-out rows: "
                    f"{', '.join(nothing[:10])}{' ...' if len(nothing) > 10 else ''}"
                )

    basis = "holdout" if holdout_metrics is not None else "cv"
    judged = (
        holdout_metrics
        if holdout_metrics is not None
        else {k: v["mean"] for k, v in cv_summary.items()}
    )
    checks, failures = _judge(spec, judged, basis)
    comparison, baseline_failures, baseline_warnings = _compare_baselines(
        primary, judged, basis, cv_summary, baselines
    )
    failures.extend(baseline_failures)
    failures.extend(leakage.proxy_failures(proxies))
    warnings.extend(baseline_warnings)

    reproducibility = None
    if check_reproducible:
        progress("Training again to check reproducibility", 0, 1)
        start = time.perf_counter()
        reproducibility = _reproduce(pipeline, data, splits, metrics, cv, model, jobs)
        timings["reproducibility"] = time.perf_counter() - start
        progress("Training again to check reproducibility", 1, 1)
        if not reproducibility["identical"]:
            failures.append(
                "training twice gave different results (largest prediction difference "
                f"{reproducibility['max_abs_prediction_diff']:.3g}): fix every random_state"
            )

    skew = found["skew"]
    if not skew.passed:
        warnings.append(skew.message())

    # artifacts
    from mlready.training import artifacts

    progress("Writing the model, its profile and the report", 0, 1)
    start = time.perf_counter()
    reference_rows = data.train_index
    prediction_rows, prediction_scores = (
        (hold, holdout_scores) if len(hold) else (oof, cv.scores[oof])
    )
    profile = artifacts.reference_profile(spec, data, reference_rows, prediction_scores, threshold)
    del prediction_rows
    timings["profile"] = time.perf_counter() - start
    timings["total"] = time.perf_counter() - clock
    passed = not failures
    metadata = artifacts.metadata(
        loaded,
        data=data,
        run_id=run_id,
        validation=gate.summary,
        model=model,
        pipeline_params=pipeline,
        metrics=metrics,
        primary=primary,
        splits=splits,
        cv=cv,
        cv_summary=cv_summary,
        holdout_metrics=holdout_metrics,
        slices=slices,
        curves=curves,
        checks=checks,
        basis=basis,
        baselines=comparison,
        search=search_result,
        business=business,
        contribution=contribution,
        leakage={
            "target_proxies": proxies,
            "shared_rows": shared,
            "time_order": order,
            "forbidden": leakage.forbidden_facts(spec, data),
        },
        notes=data.notes,
        reproducibility=reproducibility,
        timings=timings,
        judged=judged,
        default_threshold=default_threshold,
        passed=passed,
        failures=failures,
        warnings=warnings,
    )
    metadata["skew"] = skew.to_dict()
    metadata["feature_contribution_method"] = artifacts.jsonable(importance_facts)
    files = artifacts.write_all(run_dir, model, metadata, profile, loaded.spec)
    metadata = files.pop("_metadata")  # type: ignore[assignment]
    return TrainResult(passed, failures, warnings, metadata, files, skew=skew)


#: A baseline's fit against the model's, for the progress display: the dummy costs nothing, the
#: linear model a fraction of a booster.
BASELINE_WEIGHT = {"dummy": 0.01, "linear": 0.3}


def _skew(spec: Any, frame: Any, data: Any, log: logging.Logger) -> Any:
    """A sample of the training rows through serving's reader and contract: the model must
    get the same feature values both ways."""
    from mlready.serving.skew import check_skew

    result = check_skew(spec, frame, data.numeric, data.categorical)
    log.info("%s", result.message())
    return result


def _fit(pipeline: Any, data: Any, rows: Any) -> Any:
    from sklearn.base import clone

    model = clone(pipeline)
    model.fit(data.X.iloc[rows], data.y[rows])
    return model


def _check_metrics_fit_task(spec: Any, metrics: list[str], task: str) -> None:
    from mlready.spec.models import CLASSIFICATION_METRICS, REGRESSION_METRICS

    allowed = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    for key, names in (("metrics", metrics), ("thresholds", list(spec.validation.thresholds))):
        wrong = sorted(set(names) - set(allowed))
        if wrong:
            raise SpecError(
                f"validation.{key} {wrong} do not fit a {task} target; use some of "
                f"{sorted(allowed)}, or set data.task"
            )
    missing = sorted(set(spec.validation.thresholds) - set(metrics))
    if missing:
        raise SpecError(
            f"validation.thresholds name {missing}, which are not measured: add them to "
            "validation.metrics"
        )
    business = spec.business
    if business is None:
        return
    amounts = any(
        getattr(business, o).constant or getattr(business, o).column
        for o in ("true_positive", "false_positive", "true_negative", "false_negative")
    )
    if task == "regression" and amounts:
        raise SpecError(
            "business gives amounts per true/false positive/negative, which need a classifier; "
            "for a regression target set business.cost_per_unit_error"
        )
    if task == "classification" and business.cost_per_unit_error is not None and not amounts:
        raise SpecError(
            "business.cost_per_unit_error is for regression; for a classifier give amounts "
            "for true_positive, false_positive, true_negative and false_negative"
        )


def _primary_metric(spec: Any, metrics: list[str]) -> str:
    """The metric that decides comparisons: the search's, the gate's, or the first one."""
    for candidate in (
        spec.model.search.metric if spec.model.search else None,
        spec.registry.promotion.metric,
    ):
        if candidate and candidate in metrics:
            return str(candidate)
    return metrics[0]


def _judge(
    spec: Any, judged: dict[str, float | None], basis: str
) -> tuple[list[dict[str, Any]], list[str]]:
    from mlready.training.metrics import higher_is_better, meets

    checks, failures = [], []
    for metric, bar in spec.validation.thresholds.items():
        value = judged.get(metric)
        ok = meets(metric, value, bar)
        direction = "at least" if higher_is_better(metric) else "at most"
        checks.append(
            {
                "metric": metric,
                "bar": bar,
                "direction": direction,
                "value": value,
                "basis": basis,
                "passed": ok,
            }
        )
        if not ok:
            shown = "undefined" if value is None else f"{value:.4f}"
            failures.append(f"{metric} is {shown} on the {basis}, must be {direction} {bar}")
    return checks, failures


def _compare_baselines(
    primary: str,
    judged: dict[str, float | None],
    basis: str,
    cv_summary: dict[str, Any],
    baselines: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """The model against each baseline on the primary metric: losing to the dummy fails;
    a linear model better than the model, or within the folds' spread of it, is reported
    (each case in its own words)."""
    from mlready.training.metrics import higher_is_better

    model_value = judged.get(primary)
    noise = max(cv_summary.get(primary, {}).get("std") or 0.0, 0.001)
    sign = 1.0 if higher_is_better(primary) else -1.0
    failures, warnings, out = [], [], []
    for entry in baselines:
        scores = (
            entry.get("holdout")
            if basis == "holdout"
            else {k: v["mean"] for k, v in entry["cv"].items()}
        )
        value = (scores or {}).get(primary)
        if value is None or model_value is None:
            verdict = "unknown"
        elif sign * (model_value - value) > noise:
            verdict = "model better"
        elif sign * (value - model_value) > noise:
            verdict = "baseline better"
        else:
            verdict = "as good"
        entry.update(
            metric=primary,
            value=value,
            model_value=model_value,
            verdict=verdict,
            margin=noise,
            basis=basis,
        )
        out.append(entry)
        if value is None or model_value is None:
            continue
        gap = abs(model_value - value)
        versus = f"({value:.4f} against the model's {model_value:.4f}"
        if entry["kind"] == "dummy" and verdict == "baseline better":
            failures.append(
                f"a dummy model is better than the model on {primary} by {gap:.4f} {versus}): "
                "it has not learned anything useful; check the features and the target"
            )
        elif entry["kind"] == "dummy" and verdict == "as good":
            failures.append(
                f"the model is no better than a dummy model on {primary} {versus}, within the "
                f"folds' spread {noise:.4f}): it has not learned anything useful"
            )
        elif entry["kind"] == "linear" and verdict == "baseline better":
            warnings.append(
                f"a simple linear model is better than the model on {primary} by {gap:.4f} "
                f"{versus}, beyond the folds' spread {noise:.4f}): prefer it, it is cheaper to "
                "run and to explain"
            )
        elif entry["kind"] == "linear" and verdict == "as good":
            warnings.append(
                f"a simple linear model is as good as the model on {primary} {versus}, within "
                f"the folds' spread {noise:.4f}): prefer it, it is cheaper to run and to explain"
            )
    return out, failures, warnings


def _business(
    spec: Any, data: Any, oof: Any, cv: Any, hold: Any, holdout_scores: Any, default: float
) -> dict[str, Any] | None:
    """Money on the validated rows: the value-maximising threshold is chosen on the
    cross-validation predictions and checked on the holdout."""
    from mlready.training import business as bz

    if spec.business is None:
        return None
    out: dict[str, Any] = {
        "currency": spec.business.currency,
        "description": spec.business.description,
    }
    if data.task == "regression":
        if spec.business.cost_per_unit_error is None:
            return None
        cost = spec.business.cost_per_unit_error
        out["cv_value"] = bz.regression_value(data.y[oof], cv.scores[oof], cost)
        # the cost of errors is always negative: what the model is worth is what it saves
        # against no model at all (every row predicted as the median)
        out["baseline_value"] = bz.regression_baseline_value(data.y[oof], cost)
        out["gain_over_baseline"] = out["cv_value"] - out["baseline_value"]
        if len(hold):
            out["holdout_value"] = bz.regression_value(data.y[hold], holdout_scores, cost)
        return out
    if not data.binary:
        return None
    cv_amounts = bz.outcome_amounts(spec.business, data.frame.iloc[oof])
    cv_value = bz.optimise_threshold(
        data.y[oof], cv.scores[oof], cv_amounts, spec.business.currency, default=default
    )
    out["cv"] = cv_value.to_dict()
    chosen = cv_value.best.threshold
    out["decision_threshold"] = chosen
    if len(hold):
        amounts = bz.outcome_amounts(spec.business, data.frame.iloc[hold])
        y = data.y[hold]
        holdout = bz.optimise_threshold(
            y, holdout_scores, amounts, spec.business.currency, default=default
        )
        out["holdout"] = holdout.to_dict()
        out["holdout_at_chosen"] = bz.confusion_at(y, holdout_scores, amounts, chosen).to_dict()
    return out


def _reproduce(
    pipeline: Any, data: Any, splits: Any, metrics: list[str], cv: Any, model: Any, jobs: int
) -> dict[str, Any]:
    """Train again from scratch; compare fold metrics and the fitted model's predictions."""
    import numpy as np

    from mlready.training import evaluate as ev

    again = ev.cross_validate(pipeline, data, splits, metrics, n_jobs=jobs)
    second = _fit(pipeline, data, data.train_index)
    rows = data.holdout_index if len(data.holdout_index) else data.train_index[:10_000]
    first_scores, _ = ev.predict(model, data.X.iloc[rows], data.task, data.binary)
    second_scores, _ = ev.predict(second, data.X.iloc[rows], data.task, data.binary)
    diff = float(np.max(np.abs(np.asarray(first_scores, float) - np.asarray(second_scores, float))))
    fold_diff = 0.0
    for a, b in zip(cv.folds, again.folds, strict=True):
        for name in metrics:
            x, y = a.metrics.get(name), b.metrics.get(name)
            if x is not None and y is not None:
                fold_diff = max(fold_diff, abs(x - y))
    return {
        "checked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "identical": diff == 0.0 and fold_diff == 0.0,
        "max_abs_prediction_diff": diff,
        "max_abs_metric_diff": fold_diff,
        "rows_compared": len(rows),
    }
