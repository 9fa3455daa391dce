"""Hyperparameter search on the spec's folds, spending its budget well.

* Successive halving by default where it fits: every candidate is first scored on a third of the
  rows, the best third go on to three times the rows, until the last round scores the survivors
  on every row (sklearn's HalvingRandomSearchCV). Where the first round would get too few rows
  to rank candidates, or there are too few candidates to halve, the search is randomised.
* Candidates are scored in parallel, as many fits at a time as the folds run.
* Boosters stop early while they are searched: a candidate whose validation loss stops improving
  stops adding trees (the model trained afterwards keeps the spec's own setting).
* ``model.search.budget_s`` bounds the time: candidates are launched a few at a time, and none is
  launched once the budget is spent; the best of those scored wins, and the report says so.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlready.errors import SpecError
from mlready.spec import ProjectSpec
from mlready.training.data import TrainingData

__all__ = ["HALVING_FACTOR", "HALVING_MIN_ROWS", "choose_method", "search", "spec_key"]

#: sklearn scorer names, binary / multiclass.
_SCORERS = {
    "roc_auc": ("roc_auc", "roc_auc_ovr"),
    "average_precision": ("average_precision", "average_precision"),
    "accuracy": ("accuracy", "accuracy"),
    "balanced_accuracy": ("balanced_accuracy", "balanced_accuracy"),
    "f1": ("f1", "f1_macro"),
    "precision": ("precision", "precision_macro"),
    "recall": ("recall", "recall_macro"),
    "log_loss": ("neg_log_loss", "neg_log_loss"),
    "brier_score": ("neg_brier_score", "neg_brier_score"),
    "rmse": ("neg_root_mean_squared_error",) * 2,
    "mae": ("neg_mean_absolute_error",) * 2,
    "r2": ("r2",) * 2,
    "mape": ("neg_mean_absolute_percentage_error",) * 2,
}
#: Each round keeps a third of the candidates and gives them three times the rows.
HALVING_FACTOR = 3
#: Halving is the default only when its first round still has this many rows to rank on.
HALVING_MIN_ROWS = 500
#: Boosters stop early in the search only when each fit has this many rows (a tenth is held
#: back to decide when to stop).
EARLY_STOPPING_MIN_ROWS = 1_000

#: on_progress(label, done, total)
Progress = Callable[[str, int, int], None]


def scorer_name(metric: str, data: TrainingData) -> str:
    binary_or_regression = data.task == "regression" or data.binary
    return _SCORERS[metric][0 if binary_or_regression else 1]


def spec_key(pipeline_key: str) -> str:
    """A pipeline parameter as the spec names it: model__x -> x, model__m__model__x -> m__x."""
    return pipeline_key.removeprefix("model__").replace("__model__", "__")


def halving_rounds(candidates: int) -> int:
    """Rounds successive halving needs so that the last one scores fewer than three candidates."""
    return 1 + math.floor(math.log(candidates, HALVING_FACTOR) + 1e-9)


def choose_method(method: str, candidates: int, rows: int) -> str:
    """``auto``: halving when there are candidates to halve and its first round has at least
    HALVING_MIN_ROWS rows, else random; an explicit method is kept."""
    if method != "auto":
        return method
    rounds = halving_rounds(candidates)
    if rounds < 2 or rows // HALVING_FACTOR ** (rounds - 1) < HALVING_MIN_ROWS:
        return "random"
    return "halving"


def early_stopping(pipeline: Any, space: dict[str, Any], fit_rows: int) -> dict[str, Any]:
    """Parameters that make the pipeline's sklearn boosters stop early, for the search only:
    HistGradientBoosting* left at early_stopping='auto', GradientBoosting* without
    n_iter_no_change; none when a fit has fewer than EARLY_STOPPING_MIN_ROWS rows."""
    if fit_rows < EARLY_STOPPING_MIN_ROWS:
        return {}
    out: dict[str, Any] = {}
    for key, value in pipeline.get_params(deep=True).items():
        if not hasattr(value, "fit") or not type(value).__module__.startswith("sklearn.ensemble"):
            continue
        name = type(value).__name__
        prefix = f"{key}__" if key else ""
        if name.startswith("HistGradientBoosting"):
            param = f"{prefix}early_stopping"
            if value.get_params().get("early_stopping") == "auto" and param not in space:
                out[param] = True
        elif name.startswith("GradientBoosting"):
            param = f"{prefix}n_iter_no_change"
            if value.get_params().get("n_iter_no_change") is None and param not in space:
                out[param] = 10
    return out


def _booster_name(param: str) -> str:
    """The booster a parameter belongs to, as the spec names it: the model, or an ensemble
    member (model__member__model__early_stopping)."""
    parts = param.split("__")
    return "model" if len(parts) <= 2 else parts[1]


@dataclass
class _Plan:
    """How the search launches its candidates, and what it launched."""

    chunk: int
    deadline: float | None
    progress: Progress
    launched: int = 0
    skipped: int = 0
    stopped: bool = False
    last: Any = None
    rounds: list[dict[str, int]] = field(default_factory=list)


def _budgeted(base: type) -> type:
    """``base`` (a sklearn search class) launching candidates ``chunk`` at a time, and none
    once the deadline has passed."""

    class Budgeted(base):  # type: ignore[valid-type,misc]
        _plan: _Plan

        def _run_search(self, evaluate_candidates: Any, *, callback_ctx: Any = None) -> None:
            plan = self._plan

            def evaluate(
                candidate_params: Any, cv: Any = None, more_results: Any = None, **kwargs: Any
            ) -> Any:
                params = list(candidate_params)
                # sklearn's callback contexts (1.9+) number a call's fits from 0: launched in
                # chunks they would repeat; mlready registers no callbacks
                kwargs.pop("callback_ctx", None)
                label = "Searching hyperparameters"
                if more_results and "iter" in more_results and params:
                    rows = more_results["n_resources"][0]
                    label += (
                        f", round {more_results['iter'][0] + 1}: {len(params)} candidates "
                        f"on {rows:,} rows"
                    )
                    plan.rounds.append({"candidates": len(params), "rows": int(rows)})
                plan.progress(label, 0, len(params))
                for start in range(0, len(params), plan.chunk):
                    if (
                        plan.last is not None
                        and plan.deadline is not None
                        and time.monotonic() >= plan.deadline
                    ):
                        plan.stopped = True
                        plan.skipped += len(params) - start
                        if plan.rounds and more_results and "iter" in more_results:
                            plan.rounds[-1]["candidates"] = start
                        break
                    part = params[start : start + plan.chunk]
                    more = (
                        None
                        if more_results is None
                        else {
                            k: list(v)[start : start + len(part)] for k, v in more_results.items()
                        }
                    )
                    plan.last = evaluate_candidates(part, cv, more, **kwargs)
                    plan.launched += len(part)
                    plan.progress(label, start + len(part), len(params))
                return plan.last

            if callback_ctx is None:
                super()._run_search(evaluate)
            else:
                super()._run_search(evaluate, callback_ctx=callback_ctx)

    Budgeted.__name__ = base.__name__
    Budgeted.__qualname__ = base.__qualname__
    return Budgeted


def search(
    spec: ProjectSpec,
    pipeline: Any,
    data: TrainingData,
    splits: list[tuple[Any, Any]],
    metric: str,
    n_jobs: int,
    on_progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Successive-halving or randomised search over the spec's space, on the same folds:
    (a summary for the metadata, the best parameters by the pipeline's names)."""
    import numpy as np
    from sklearn import model_selection as ms
    from sklearn.base import clone

    from mlready.training.artifacts import jsonable
    from mlready.training.pipeline import search_space

    settings = spec.model.search
    assert settings is not None
    space = search_space(spec, pipeline)
    index = data.train_index
    position = np.full(len(data.frame), -1)
    position[index] = np.arange(len(index))
    local = [(position[tr], position[va]) for tr, va in splits]
    method = choose_method(settings.method, settings.n_iter, len(index))
    smallest_fit = min(len(tr) for tr, _ in local)
    if method == "halving":
        smallest_fit //= HALVING_FACTOR ** (halving_rounds(settings.n_iter) - 1)
    stopping = early_stopping(pipeline, space, smallest_fit) if settings.early_stopping else {}
    base = clone(pipeline).set_params(**stopping) if stopping else pipeline
    common: dict[str, Any] = {
        "scoring": scorer_name(metric, data),
        "cv": local,
        "n_jobs": n_jobs,
        "random_state": spec.model.random_state,
        "refit": False,
        "error_score": "raise",
    }
    start = time.monotonic()
    plan = _Plan(
        chunk=max(1, n_jobs),
        deadline=None if settings.budget_s is None else start + settings.budget_s,
        progress=on_progress or (lambda label, done, total: None),
    )
    if method == "halving":
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401

        searcher: Any = _budgeted(ms.HalvingRandomSearchCV)(
            base,
            space,
            n_candidates=settings.n_iter,
            factor=HALVING_FACTOR,
            min_resources="exhaust",
            **common,
        )
    else:
        searcher = _budgeted(ms.RandomizedSearchCV)(base, space, n_iter=settings.n_iter, **common)
    searcher._plan = plan
    try:
        searcher.fit(data.X.iloc[index], data.y[index])
    except ValueError as exc:
        raise SpecError(f"model.search failed: {str(exc).splitlines()[0]}") from None
    sign = -1.0 if common["scoring"].startswith("neg_") else 1.0
    results = searcher.cv_results_
    rounds = results.get("iter")
    last = None if rounds is None else max(rounds)  # halving: the round on the most rows
    candidates: list[dict[str, Any]] = [
        {
            "params": {spec_key(k): jsonable(v) for k, v in p.items()},
            "score": sign * float(s),
            "std": float(sd),
        }
        for i, (p, s, sd) in enumerate(
            zip(
                results["params"],
                results["mean_test_score"],
                results["std_test_score"],
                strict=True,
            )
        )
        if last is None or rounds[i] == last
    ]
    best = {k: jsonable(v) for k, v in searcher.best_params_.items()}
    evaluated = {
        json.dumps({spec_key(k): jsonable(v) for k, v in p.items()}, sort_keys=True, default=str)
        for p in results["params"]
    }
    summary = {
        "method": method,
        "requested_method": settings.method,
        "metric": metric,
        "n_iter": settings.n_iter,
        "candidates": len(candidates),
        "evaluated": len(evaluated),  # distinct configurations scored, in every round
        "rounds": [r for r in plan.rounds if r["candidates"]] if method == "halving" else None,
        "parallel_fits": n_jobs,
        "early_stopping": sorted(_booster_name(key) for key in stopping),
        "budget_s": settings.budget_s,
        "stopped_by_budget": plan.stopped,
        "candidates_skipped": plan.skipped,
        "best_params": {spec_key(k): v for k, v in best.items()},
        "best_score": sign * float(searcher.best_score_),
        "results": sorted(candidates, key=lambda c: -c["score"] if sign > 0 else c["score"])[:50],
        "seconds": time.monotonic() - start,
    }
    return summary, best
