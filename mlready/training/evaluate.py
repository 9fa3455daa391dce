"""Cross-validation as the spec fixes it, predictions, slices, search and feature contribution."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mlready.errors import DataError, SpecError
from mlready.spec import ProjectSpec
from mlready.training.data import TrainingData
from mlready.training.importance import Measured, measure
from mlready.training.metrics import SCORE_METRICS, compute_metrics, meets

#: Slices with more groups than this show the largest ones and '(other)'.
MAX_SLICE_GROUPS = 20


def folds(spec: ProjectSpec, data: TrainingData) -> list[tuple[Any, Any]]:
    """(train, validation) row positions of each fold, within the rows not held out."""
    import numpy as np
    from sklearn import model_selection as ms

    cv = spec.validation.cv
    index = data.train_index
    n = len(index)
    seed = spec.model.random_state if cv.shuffle else None
    y = data.y[index]
    if cv.strategy == "time_series":
        size = n // (cv.folds + 1)
        if size < 1 or size <= 0 or n - size * cv.folds - cv.gap < 1:
            raise DataError(
                f"{n:,} rows are too few for {cv.folds} time-ordered folds with a gap of "
                f"{cv.gap}: lower validation.cv.folds or gap"
            )
        splitter: Any = ms.TimeSeriesSplit(n_splits=cv.folds, gap=cv.gap)
        groups = None
    elif cv.strategy == "group_kfold":
        groups = data.groups[index]
        distinct = len(np.unique(groups))
        if distinct < cv.folds:
            raise DataError(
                f"group_kfold needs at least {cv.folds} groups in '{cv.group_column}', found "
                f"{distinct}: lower validation.cv.folds"
            )
        splitter = ms.GroupKFold(n_splits=cv.folds, shuffle=cv.shuffle, random_state=seed)
    elif cv.strategy == "stratified_kfold" and data.task == "classification":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() < cv.folds:
            raise DataError(
                f"the rarest class of the target has {counts.min()} rows, fewer than the "
                f"{cv.folds} folds: lower validation.cv.folds, or gather more rows"
            )
        splitter = ms.StratifiedKFold(n_splits=cv.folds, shuffle=cv.shuffle, random_state=seed)
        groups = None
    else:
        if n < cv.folds:
            raise DataError(f"{n:,} rows are too few for {cv.folds} folds")
        splitter = ms.KFold(n_splits=cv.folds, shuffle=cv.shuffle, random_state=seed)
        groups = None
    try:
        splits = list(splitter.split(np.zeros(n), y, groups))
    except ValueError as exc:
        raise DataError(f"cannot make {cv.folds} folds: {exc}") from None
    return [(index[train], index[valid]) for train, valid in splits]


def predict(model: Any, X: Any, task: str, binary: bool) -> tuple[Any, Any]:
    """(scores, labels): positive-class probability and 0/1 labels at 0.5 for a binary
    classifier; the probability matrix and labels for several classes; the values for regression."""
    if task == "regression":
        values = model.predict(X)
        return values, values
    if binary:
        if hasattr(model, "predict_proba"):
            scores = model.predict_proba(X)[:, 1]
            return scores, (scores >= 0.5).astype("int64")
        if hasattr(model, "decision_function"):
            return model.decision_function(X), model.predict(X)
        labels = model.predict(X)  # hard voting: labels only
        return labels.astype("float64"), labels
    labels = model.predict(X)
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X), labels
    import numpy as np

    classes = list(model.classes_)
    scores = np.zeros((len(labels), len(classes)))
    scores[np.arange(len(labels)), [classes.index(v) for v in labels]] = 1.0
    return scores, labels  # no probabilities: the predicted class gets 1


def check_can_score(pipeline: Any, data: TrainingData, metrics: list[str]) -> None:
    """Probability metrics need predict_proba; say so before anything is fitted."""
    if data.task != "classification" or hasattr(pipeline, "predict_proba"):
        return
    scoring = {"log_loss", "brier_score"} if data.binary else SCORE_METRICS
    if data.binary and not hasattr(pipeline, "decision_function"):
        scoring = SCORE_METRICS
    needs = sorted(set(metrics) & scoring)
    if needs:
        raise SpecError(
            f"the model has no predict_proba, which {', '.join(needs)} need: wrap it in "
            "sklearn.calibration.CalibratedClassifierCV, or drop those metrics from "
            "validation.metrics"
        )


@dataclass
class FoldResult:
    """One fold's sizes, period, metrics and time."""

    fold: int
    train_rows: int
    validation_rows: int
    metrics: dict[str, float | None]
    fit_seconds: float
    train_period: tuple[str, str] | None = None
    validation_period: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fold": self.fold,
            "train_rows": self.train_rows,
            "validation_rows": self.validation_rows,
            "metrics": self.metrics,
            "fit_seconds": round(self.fit_seconds, 3),
            "train_period": self.train_period,
            "validation_period": self.validation_period,
        }


@dataclass
class CrossValidation:
    """Every fold's result and the out-of-fold predictions (rows never validated: NaN / unset)."""

    folds: list[FoldResult]
    scores: Any  # per row of data.frame
    labels: Any
    validated: Any  # boolean mask: rows some fold validated
    seconds: float = 0.0
    importance: Measured | None = None  # feature contribution measured inside the folds


@dataclass(frozen=True)
class ImportanceRequest:
    """Feature contribution measured inside the fit tasks, on a sample of the rows they predict."""

    rows: Any  # positions in data.frame: each task measures on the ones it predicts
    metric: str
    repeats: int
    seed: int
    threads: int = 1  # features measured at a time in each task


@dataclass
class FitTask:
    """One fit: a clone of ``pipeline`` trained on the ``train`` rows, predicting ``predict``."""

    name: str  # "model", or a baseline's kind
    fold: int | None  # None: the fit on every training row
    pipeline: Any
    train: Any
    predict: Any
    measure_importance: bool = False  # on the request's rows among ``predict``
    keep: bool = False  # send the fitted model back (the artifact)
    weight: float = 1.0  # its expected share of the work, for the progress display


@dataclass
class FitOutcome:
    """What one fit task gave."""

    task: FitTask
    model: Any  # only when the task keeps it
    scores: Any
    labels: Any
    seconds: float
    importance: Measured | None = None


#: What a fit task sends back: its index, the model (when kept), scores, labels, fit seconds
#: and feature contribution.
TaskResult = tuple[int, Any, Any, Any, float, Measured | None]


def _run_task(
    index: int,
    task: FitTask,
    X: Any,
    y: Any,
    kind: str,
    binary: bool,
    classes: list[str],
    request: ImportanceRequest | None,
    stop: str | None = None,
) -> TaskResult:
    import os

    import numpy as np
    from sklearn.base import clone

    if stop is not None and os.path.exists(stop):  # the caller no longer wants the result
        return index, None, None, None, 0.0, None
    model = clone(task.pipeline)
    start = time.perf_counter()
    model.fit(X.iloc[task.train], y[task.train])
    seconds = time.perf_counter() - start
    scores = labels = None
    if len(task.predict):
        scores, labels = predict(model, X.iloc[task.predict], kind, binary)
    measured = None
    if task.measure_importance and request is not None:
        rows = task.predict[np.isin(task.predict, request.rows)]
        if len(rows):
            measured = measure(
                model,
                X.iloc[rows],
                y[rows],
                task=kind,
                binary=binary,
                metric=request.metric,
                classes=classes,
                repeats=request.repeats,
                seed=request.seed + (task.fold or 0),
                threads=request.threads,
            )
    return index, model if task.keep else None, scores, labels, seconds, measured


def _ready() -> None:
    """A worker's first task: the imports every fit needs."""
    import pandas  # noqa: F401
    import sklearn.compose
    import sklearn.pipeline
    import sklearn.preprocessing  # noqa: F401


def start_workers(n_jobs: int) -> Callable[[], None]:
    """Start ``n_jobs`` pool processes now, so that they start and import while this process
    prepares the fits (joblib's next pool of the same size reuses them); the function returned
    waits for them (call it before the fits and before leaving, even on an error). Nothing to
    start when the fits will run in forked workers (``forked_pool``): those import nothing."""
    if n_jobs <= 1 or can_fork():
        return lambda: None
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_ready)() for _ in range(n_jobs)
    )

    def wait() -> None:
        for _ in results:
            pass

    return wait


def can_fork() -> bool:
    """Whether the fits may run in workers forked from this process (``workers.fork_safe``),
    which start at once with everything this process has imported and read (a fresh worker
    spends 1.5 CPU-s importing pandas and scikit-learn, then gets the table pickled): not with
    a joblib backend the caller chose (it is used as chosen)."""
    from joblib.parallel import get_active_backend

    from mlready.training.workers import fork_safe

    backend, _ = get_active_backend()
    return type(backend).__name__ == "LokyBackend" and fork_safe()


#: What forked workers read instead of receiving it pickled: set just before they fork.
_SHARED: dict[str, Any] = {}


def _run_shared(index: int, task: FitTask) -> TaskResult:
    s = _SHARED
    return _run_task(
        index, task, s["X"], s["y"], s["task"], s["binary"], s["classes"], s["importance"]
    )


def _run_forked(
    tasks: list[FitTask],
    order: list[int],
    data: TrainingData,
    n_jobs: int,
    importance: ImportanceRequest | None,
    meanwhile: Callable[[], bool] | None,
) -> Iterator[TaskResult]:
    """The tasks in ``n_jobs`` workers forked from this process (see ``can_fork``)."""
    import multiprocessing
    import os
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from mlready.training.workers import forked_init

    _SHARED.update(
        X=data.X,
        y=data.y,
        task=data.task,
        binary=data.binary,
        classes=data.classes,
        importance=importance,
    )
    pool = ProcessPoolExecutor(
        n_jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=forked_init,
        initargs=(os.getpid(),),
    )
    try:
        # the workers fork on the first submit, with the table in their memory
        pending = {pool.submit(_run_shared, i, tasks[i]) for i in order}
        _SHARED.clear()
        if meanwhile is not None and not meanwhile():
            raise Stopped
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    result = future.result()
                except BrokenProcessPool:
                    raise DataError(
                        "a process fitting the model died before it finished (killed, most "
                        "often for lack of memory)",
                        hint="free memory or train on fewer rows or features, and run again",
                    ) from None
                yield result
    except BaseException:
        # stopped, a fit failed, Ctrl-C: the fits still running are of no use, and the pool's
        # shutdown would wait for them
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        raise
    finally:
        _SHARED.clear()
        pool.shutdown(wait=True, cancel_futures=True)


class Stopped(Exception):
    """run_fits stopped before its tasks were done: ``meanwhile`` said so."""


def run_fits(
    tasks: list[FitTask],
    data: TrainingData,
    *,
    n_jobs: int = 1,
    importance: ImportanceRequest | None = None,
    on_done: Callable[[float], None] | None = None,
    meanwhile: Callable[[], bool] | None = None,
) -> list[FitOutcome]:
    """Every task in one pool, ``n_jobs`` at a time, the heaviest first: folds, the final fit
    and the baselines overlap, so no core idles between phases. ``on_done`` gets the summed
    weight of the tasks done so far. ``meanwhile`` runs in this process once the pool has its
    first tasks (with one job: before any task); when it returns False the tasks not done are
    cancelled and Stopped is raised (a task already running finishes first)."""
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i].weight)
    outcomes: list[FitOutcome | None] = [None] * len(tasks)
    done = 0.0
    run = _run_forked if n_jobs > 1 and can_fork() else _run_loky
    for i, model, scores, labels, seconds, measured in run(
        tasks, order, data, n_jobs, importance, meanwhile
    ):
        outcomes[i] = FitOutcome(tasks[i], model, scores, labels, seconds, measured)
        done += tasks[i].weight
        if on_done is not None:
            on_done(done)
    return [o for o in outcomes if o is not None]


def _run_loky(
    tasks: list[FitTask],
    order: list[int],
    data: TrainingData,
    n_jobs: int,
    importance: ImportanceRequest | None,
    meanwhile: Callable[[], bool] | None,
) -> Iterator[TaskResult]:
    """The tasks in joblib's pool (loky's fresh processes, or the backend the caller chose)."""
    import shutil
    import tempfile
    from pathlib import Path

    from joblib import Parallel, delayed

    folder = Path(tempfile.mkdtemp(prefix="mlready-fits-")) if meanwhile is not None else None
    # a task that finds this file skips its work: joblib's own abort kills the workers, and
    # loky's manager thread can trip over the tasks it loses (a traceback on the terminal)
    stop = None if folder is None else folder / "stop"
    jobs = (
        delayed(_run_task)(
            i,
            tasks[i],
            data.X,
            data.y,
            data.task,
            data.binary,
            data.classes,
            importance,
            None if stop is None else str(stop),
        )
        for i in order
    )
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        results = parallel(jobs)  # the pool starts on the first tasks now
        if meanwhile is not None and not meanwhile():
            assert stop is not None
            stop.touch()
            for _ in results:  # the tasks not started return at once
                pass
            raise Stopped
        yield from results
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _period(timestamps: Any, rows: Any) -> tuple[str, str] | None:
    if timestamps is None or len(rows) == 0:
        return None
    chosen = timestamps.iloc[rows]
    return (f"{chosen.min():%Y-%m-%d}", f"{chosen.max():%Y-%m-%d}")


def fold_tasks(
    name: str, pipeline: Any, splits: list[tuple[Any, Any]], *, weight: float = 1.0
) -> list[FitTask]:
    """One task per fold, weighted by its training rows."""
    return [
        FitTask(name, i, pipeline, train, valid, weight=weight * len(train))
        for i, (train, valid) in enumerate(splits)
    ]


def collect(
    outcomes: list[FitOutcome], data: TrainingData, metrics: list[str], seconds: float = 0.0
) -> CrossValidation:
    """The fold outcomes of one pipeline as its cross-validation: per-fold metrics by
    sklearn.metrics and the out-of-fold predictions."""
    import numpy as np

    from mlready.training.importance import combine

    n = len(data.frame)
    scores: Any
    labels: Any
    if data.task == "classification" and not data.binary:
        scores = np.full((n, len(data.classes)), np.nan)
        labels = np.empty(n, dtype=object)
    else:
        scores = np.full(n, np.nan)
        labels = np.full(n, np.nan) if data.task == "regression" else np.zeros(n, dtype="int64")
    validated = np.zeros(n, dtype=bool)
    results: list[FoldResult] = []
    for outcome in sorted(outcomes, key=lambda o: o.task.fold or 0):
        task = outcome.task
        valid = task.predict
        scores[valid] = outcome.scores
        labels[valid] = outcome.labels
        validated[valid] = True
        results.append(
            FoldResult(
                fold=(task.fold or 0) + 1,
                train_rows=len(task.train),
                validation_rows=len(valid),
                metrics=compute_metrics(
                    metrics, data.y[valid], outcome.scores, outcome.labels, data.classes
                ),
                fit_seconds=outcome.seconds,
                train_period=_period(data.timestamps, task.train),
                validation_period=_period(data.timestamps, valid),
            )
        )
    parts = [o.importance for o in outcomes if o.importance is not None]
    return CrossValidation(
        folds=results,
        scores=scores,
        labels=labels,
        validated=validated,
        seconds=seconds,
        importance=combine(parts) if parts else None,
    )


def cross_validate(
    pipeline: Any,
    data: TrainingData,
    splits: list[tuple[Any, Any]],
    metrics: list[str],
    *,
    n_jobs: int = 1,
    on_fold: Callable[[int], None] | None = None,
) -> CrossValidation:
    """Fit a clone per fold and score its validation rows; folds run n_jobs at a time."""
    start = time.perf_counter()
    tasks = fold_tasks("model", pipeline, splits)
    count = {"done": 0}

    def done(_: float) -> None:
        count["done"] += 1
        if on_fold is not None:
            on_fold(count["done"])

    outcomes = run_fits(tasks, data, n_jobs=n_jobs, on_done=done)
    return collect(outcomes, data, metrics, time.perf_counter() - start)


def spec_key(pipeline_key: str) -> str:
    """A pipeline parameter as the spec names it: model__x -> x, model__m__model__x -> m__x."""
    return pipeline_key.removeprefix("model__").replace("__model__", "__")


def slice_groups(frame: Any, column: str, bins: list[float] | None) -> Any:
    """The group label of every row for one slice: values, or ranges between cut points."""
    import numpy as np
    import pandas as pd

    series = frame[column]
    if bins:
        edges = [-np.inf, *sorted(bins), np.inf]
        labels = []
        for low, high in itertools.pairwise(edges):
            if np.isinf(low):
                labels.append(f"< {high:g}")
            elif np.isinf(high):
                labels.append(f">= {low:g}")
            else:
                labels.append(f"{low:g} to < {high:g}")
        groups = pd.cut(pd.to_numeric(series, errors="coerce"), edges, right=False, labels=labels)
        groups = groups.astype(object)
    else:
        groups = series.map(value_label, na_action="ignore")
    groups = groups.where(groups.notna(), "(missing)").astype(str)
    top = groups.value_counts().index[:MAX_SLICE_GROUPS]
    return groups.where(groups.isin(top), "(other)").to_numpy()


def value_label(value: Any) -> str:
    """A slice's group as the data writes it: a category coded 0/1 is '0' and '1' even when
    the column was read as floats (a number column with a gap is), not '0.0'; other numbers
    as Python prints them; text as it is."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _group_order(groups: Any, bins: list[float] | None) -> list[str]:
    """Bins in their numeric order; values in natural order (numbers as numbers); then the
    catch-all groups."""
    present = set(groups)
    special = [g for g in ("(other)", "(missing)") if g in present]
    plain = [g for g in present if g not in special]
    if bins:

        def low(label: str) -> float:
            return (
                -float("inf")
                if label.startswith("<")
                else float(label.split()[-1 if label.startswith(">") else 0])
            )

        return sorted(plain, key=low) + special

    def natural(label: str) -> tuple[int, float, str]:
        try:
            return (0, float(label), label)
        except ValueError:
            return (1, 0.0, label)

    return sorted(plain, key=natural) + special


def slice_metrics(
    spec: ProjectSpec,
    data: TrainingData,
    rows: Any,
    scores: Any,
    labels: Any,
    metrics: list[str],
) -> list[dict[str, Any]]:
    """Metrics for every group of every slice in the spec, on the given rows' predictions."""
    import numpy as np

    out = []
    frame = data.frame.iloc[rows]
    y = data.y[rows]
    for item in spec.validation.slices:
        if item.column not in frame.columns:
            raise DataError(
                f"validation.slices '{item.name}': column '{item.column}' is not in the data"
            )
        import pandas as pd

        if item.bins and not pd.api.types.is_numeric_dtype(frame[item.column]):
            raise DataError(
                f"validation.slices '{item.name}': bins need a numeric column, but "
                f"'{item.column}' holds text; drop bins to group by its values"
            )
        groups = slice_groups(frame, item.column, item.bins)
        table = []
        for group in _group_order(groups, item.bins):
            mask = groups == group
            row: dict[str, Any] = {
                "group": group,
                "rows": int(mask.sum()),
                "metrics": compute_metrics(
                    metrics, y[mask], scores[mask], labels[mask], data.classes
                ),
            }
            if data.binary:
                row["positive_rate"] = float(np.mean(y[mask]))
            row["below_bar"] = [
                metric
                for metric, bar in spec.validation.thresholds.items()
                if row["metrics"].get(metric) is not None
                and not meets(metric, row["metrics"][metric], bar)
            ]
            table.append(row)
        out.append({"name": item.name, "column": item.column, "groups": table})
    return out
