"""Feature contribution: permutation importance on a bounded sample of held-out rows.

Each feature is shuffled ``repeats`` times on at most ``training.importance.max_rows`` rows the
model did not train on (the holdout with the final model, else every fold's validation rows with
that fold's model), and the drop in the primary metric is its contribution; the spread is the
standard deviation of the drop over the repeats. A feature that drops the metric by no more than
its spread, or by less than a thousandth of it, adds nothing measurable.

A feature the pipeline expands (one-hot columns, a missing-value indicator) is shuffled as one
group. The shuffle is applied to the preprocessed matrix, the group's columns moved together:
that is exactly shuffling the raw column (the preprocessing works column by column, which a probe
checks on every model) and costs one prediction of the estimator instead of preprocessing again.
A pipeline whose preprocessing mixes columns (an ensemble's members preprocess on their own) is
shuffled raw column by raw column through the whole pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlready.spec.models import IMPORTANCE_MAX_ROWS, IMPORTANCE_REPEATS
from mlready.training.metrics import SCORE_METRICS, higher_is_better, scorer

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_REPEATS",
    "Measured",
    "column_groups",
    "combine",
    "contribution_table",
    "measure",
    "sample_rows",
]

#: The default sample and shuffles per feature (the spec's training.importance).
DEFAULT_MAX_ROWS = IMPORTANCE_MAX_ROWS
DEFAULT_REPEATS = IMPORTANCE_REPEATS
#: A drop smaller than this share of the metric's size is too small to matter.
MIN_EFFECT = 0.001
#: Rows the probe of the preprocessing uses; a second and third probe settle the rare column
#: whose few distinct values two shuffles happen to move alike.
PROBE_ROWS = 2_000
PROBES = 3
#: The repeats of one feature are predicted in one call of at most this many cells (rows x
#: columns of the model's input; 64 MB of float64).
STACK_CELLS = 8_000_000


def sample_rows(rows: Any, max_rows: int | None, seed: int) -> Any:
    """At most ``max_rows`` of ``rows``, drawn without replacement (in their original order)."""
    import numpy as np

    rows = np.asarray(rows)
    if max_rows is None or len(rows) <= max_rows:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))


def effective_metric(metric: str, task: str, model: Any) -> str:
    """The metric the shuffles are scored by: a probability metric of a classifier without
    probabilities is replaced by accuracy (its labels are what it has)."""
    if metric in SCORE_METRICS and task == "classification" and not hasattr(model, "predict_proba"):
        return "accuracy"
    return metric


def _outputs(estimator: Any, X: Any, task: str, binary: bool, metric: str) -> Any:
    """What ``metric`` reads from the estimator on X, the way evaluate.predict computes it:
    values (regression), scores (probability metrics) or labels."""
    import numpy as np

    if task == "regression":
        return estimator.predict(X)
    wants_scores = metric in SCORE_METRICS
    if binary:
        if hasattr(estimator, "predict_proba"):
            scores = estimator.predict_proba(X)[:, 1]
            return scores if wants_scores else (scores >= 0.5).astype("int64")
        if wants_scores and hasattr(estimator, "decision_function"):
            return estimator.decision_function(X)
        return estimator.predict(X)
    if wants_scores and hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    labels = estimator.predict(X)
    if not wants_scores:
        return labels
    classes = list(estimator.classes_)
    scores = np.zeros((len(labels), len(classes)))
    scores[np.arange(len(labels)), [classes.index(v) for v in labels]] = 1.0
    return scores


def _same(a: Any, b: Any) -> Any:
    """Column by column: whether two matrices hold the same values (NaN equal to NaN)."""
    import numpy as np

    equal = a == b
    if np.issubdtype(a.dtype, np.floating):
        equal |= np.isnan(a) & np.isnan(b)
    return equal.all(axis=0)


def _shuffle_columns(X: Any, perms: list[Any]) -> Any:
    """X with column j's values in the order perms[j] (each column shuffled on its own)."""
    out = X.copy()
    for j, column in enumerate(X.columns):
        out[column] = X[column].iloc[perms[j]].set_axis(X.index)
    return out


def column_groups(prep: Any, X: Any, seed: int) -> list[Any] | None:
    """For each column of X, the columns of ``prep.transform(X)`` made from it alone (a one-hot
    column, a missing-value indicator); None when some output column mixes several input columns
    (or the output is not a dense matrix). Found by probing: every input column is shuffled on
    its own, and each output column must move exactly like the one input column it comes from."""
    import numpy as np

    probe = X.iloc[:PROBE_ROWS]
    n, m = len(probe), probe.shape[1]
    base = prep.transform(probe)
    if not isinstance(base, np.ndarray) or base.ndim != 2:
        return None
    width = base.shape[1]
    constant = _same(base, np.broadcast_to(base[:1], base.shape)) if n else np.ones(width, bool)
    candidates = np.ones((m, width), dtype=bool)
    rng = np.random.default_rng(seed)
    for _ in range(PROBES):
        perms = [rng.permutation(n) for _ in range(m)]
        shuffled = prep.transform(_shuffle_columns(probe, perms))
        if not isinstance(shuffled, np.ndarray) or shuffled.shape != base.shape:
            return None
        for j in range(m):
            candidates[j] &= _same(shuffled, base[perms[j]])
        owners = candidates[:, ~constant].sum(axis=0)
        if (owners == 0).any():
            return None  # an output column that moved with no single input column
        if (owners == 1).all():
            break
    else:
        return None
    # a constant column moves with every input: shuffling it changes nothing, it joins no group
    candidates[:, constant] = False
    return [np.flatnonzero(candidates[j]) for j in range(m)]


@dataclass
class Measured:
    """The drop in the metric per feature and repeat on some rows (positive: the feature helps)."""

    features: list[str]
    drops: Any  # (features, repeats)
    base: float  # the metric on the rows, nothing shuffled
    rows: int
    #: "preprocessed": groups shuffled in the model's input; "trees": the same, a booster
    #: re-evaluating only the trees that split on them; "raw": columns through the whole pipeline
    space: str
    seconds: float = 0.0


def _stacked(matrix: Any, copies: int) -> Any:
    """``copies`` copies of the rows of ``matrix`` one below the other (numpy or DataFrame)."""
    import numpy as np
    import pandas as pd

    if isinstance(matrix, np.ndarray):
        return np.tile(matrix, (copies, 1))
    return pd.concat([matrix] * copies, ignore_index=True)


class _Predictions:
    """What the metric reads from the estimator on a matrix of shuffled copies of the rows."""

    def __init__(self, estimator: Any, task: str, binary: bool, metric: str) -> None:
        self.estimator, self.task, self.binary, self.metric = estimator, task, binary, metric

    def of(self, stack: Any, columns: Any) -> Any:
        """The outputs on ``stack``, whose ``columns`` (only) are shuffled; None when shuffling
        them cannot change any prediction."""
        del columns
        return _outputs(self.estimator, stack, self.task, self.binary, self.metric)


class _Tree:
    """One tree of a booster, as the shortcut reads it: the raw prediction column it adds to
    (the class, for several classes), its predictor, the leaf each row as it is reaches and that
    leaf's value, and, per node, the input columns split on along the path from the root."""

    def __init__(self, column: int, predictor: Any, leaf: Any, paths: Any) -> None:
        self.column, self.predictor, self.leaf, self.paths = column, predictor, leaf, paths
        self.values = predictor.nodes["value"][leaf]

    def hit(self, columns: Any) -> Any:
        """The rows whose path passes a split on ``columns``: only their output can change
        when those columns are shuffled (every other row reaches the same leaf)."""
        return self.paths[:, columns].any(axis=1)[self.leaf]


def _path_columns(nodes: Any, width: int) -> Any:
    """(nodes, width): for each node of a tree, the columns split on from the root to it."""
    import numpy as np

    paths = np.zeros((len(nodes), width), dtype=bool)
    leaf, feature = nodes["is_leaf"], nodes["feature_idx"]
    left, right = nodes["left"], nodes["right"]
    todo = [0]
    while todo:
        node = todo.pop()
        if leaf[node]:
            continue
        for child in (int(left[node]), int(right[node])):
            paths[child] = paths[node]
            paths[child, feature[node]] = True
            todo.append(child)
    return paths


class _BoosterTrees(_Predictions):
    """A HistGradientBoosting estimator: shuffling a feature changes a tree's output only on the
    rows whose path through that tree passes a split on the feature, so only those rows of those
    trees are evaluated again; every other output is kept from the rows as they are. Which leaf
    each row reaches comes from sklearn's own tree traversal (a copy of the tree whose leaves
    hold their own number).

    This reads sklearn's private predictors; it is used only after it reproduced the estimator's
    own predictions, of the rows as they are and of a shuffled copy, and the shuffles are
    otherwise predicted in full."""

    def __init__(self, estimator: Any, task: str, binary: bool, metric: str, pre: Any) -> None:
        import numpy as np
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

        super().__init__(estimator, task, binary, metric)
        self.pre = pre
        width = pre.shape[1]
        self.known = estimator._bin_mapper.make_known_categories_bitsets()
        self.trees: list[_Tree] = []
        for iteration in estimator._predictors:
            for column, predictor in enumerate(iteration):
                numbered = predictor.nodes.copy()
                numbered["value"] = np.arange(len(numbered))
                finder = TreePredictor(
                    numbered, predictor.binned_left_cat_bitsets, predictor.raw_left_cat_bitsets
                )
                leaf = finder.predict(pre, *self.known, 1).astype(np.intp)
                paths = _path_columns(predictor.nodes, width)
                self.trees.append(_Tree(column, predictor, leaf, paths))
        # one row per tree: the columns it splits on
        self.uses = np.array([t.paths.any(axis=0) for t in self.trees]).reshape(-1, width)
        raw = np.zeros((len(pre), estimator.n_trees_per_iteration_), order="F")
        raw += estimator._baseline_prediction
        estimator._predict_iterations(pre, estimator._predictors, raw, False, 1)
        self.raw_base = raw

    def leaves_agree(self) -> bool:
        """Whether the leaves found give the estimator's own raw predictions back."""
        import numpy as np

        total = np.zeros_like(self.raw_base)
        total += self.estimator._baseline_prediction
        for tree in self.trees:
            total[:, tree.column] += tree.values
        return bool(np.allclose(total, self.raw_base, rtol=1e-9, atol=1e-12))

    def finish(self, raw: Any) -> Any:
        """The estimator's outputs for these raw predictions (sklearn's own link and labels)."""
        import copy

        shadow = copy.copy(self.estimator)
        shadow._raw_predict = lambda X, n_threads=None: raw
        return _outputs(shadow, raw, self.task, self.binary, self.metric)

    def of(self, stack: Any, columns: Any) -> Any:
        import numpy as np

        n = len(self.pre)
        copies = len(stack) // n
        offsets = n * np.arange(copies)[:, None]
        raw = None
        for i in np.flatnonzero(self.uses[:, columns].any(axis=1)):
            tree = self.trees[i]
            hit = tree.hit(columns)
            if not hit.any():
                continue
            if raw is None:
                raw = np.tile(self.raw_base, (copies, 1))
            rows = (np.flatnonzero(hit)[None, :] + offsets).ravel()
            now = tree.predictor.predict(stack[rows], *self.known, 1)
            raw[rows, tree.column] += now - np.tile(tree.values[hit], copies)
        return None if raw is None else self.finish(raw)

    @classmethod
    def build(
        cls,
        estimator: Any,
        matrix: Any,
        groups: list[Any],
        *,
        task: str,
        binary: bool,
        metric: str,
        seed: int,
    ) -> tuple[_BoosterTrees, list[Any]] | None:
        """The shortcut and the groups as columns of the booster's own input, or None (another
        estimator, another sklearn, or a shortcut that does not reproduce the estimator)."""
        import numpy as np

        if not type(estimator).__name__.startswith("HistGradientBoosting") or not len(matrix):
            return None
        try:
            pre = estimator._preprocess_X(matrix, reset=False)
            mapping = _booster_columns(estimator, matrix.shape[1])
            if mapping is None or not isinstance(pre, np.ndarray):
                return None
            trees = cls(estimator, task, binary, metric, np.ascontiguousarray(pre, np.float64))
            moved = [mapping[g] for g in groups]
            # the check: every row as it is, and the most used feature shuffled, both ways
            direct = _outputs(estimator, matrix, task, binary, metric)
            if not trees.leaves_agree() or not _close(trees.finish(trees.raw_base), direct):
                return None
            usage = [trees.uses[:, m].any(axis=1).sum() if len(m) else -1 for m in moved]
            i = int(np.argmax(usage))
            if usage[i] > 0:
                perm = np.random.default_rng(seed).permutation(len(matrix))
                shuffled, stack = matrix.copy(), trees.pre.copy()
                shuffled[:, groups[i]] = matrix[np.ix_(perm, groups[i])]
                stack[:, moved[i]] = trees.pre[np.ix_(perm, moved[i])]
                expected = _outputs(estimator, shuffled, task, binary, metric)
                got = trees.of(stack, moved[i])
                if not _close(direct if got is None else got, expected):
                    return None
        except (AttributeError, TypeError, ValueError, IndexError, KeyError, ImportError):
            return None
        return trees, moved


def _close(a: Any, b: Any) -> bool:
    """The same outputs: labels equal, numbers equal up to the last bits of a float sum."""
    import numpy as np

    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))
    return bool(np.array_equal(a, b))


def _booster_columns(estimator: Any, width: int) -> Any:
    """Where each input column lands in a HistGradientBoosting estimator's own input (it puts
    categorical columns first); None when it is not one column to one column."""
    import numpy as np

    prep = estimator._preprocessor
    if prep is None:
        return np.arange(width)
    mapping = np.full(width, -1)
    for name, _, selection in prep.transformers_:
        chosen = np.arange(width)[selection]
        where = prep.output_indices_[name]
        if where.stop - where.start != len(chosen):
            return None
        mapping[chosen] = np.arange(where.start, where.stop)
    if sorted(mapping) != list(range(width)):
        return None
    return mapping


def _drops_for(
    predictions: _Predictions,
    matrix: Any,
    groups: list[Any],
    chosen: list[int],
    y: Any,
    base: float,
    *,
    metric: str,
    classes: list[str],
    repeats: int,
    seed: int,
    on_feature: Callable[[], None] | None = None,
) -> Any:
    """Drops of the features ``chosen`` (rows: features, columns: repeats), shuffling ``groups``
    of columns of ``matrix`` (a numpy matrix, or a DataFrame of raw columns). The repeats of a
    feature are stacked into one prediction call (as many as STACK_CELLS allows): one call on
    many rows costs far less than many calls on few."""
    import numpy as np

    raw = not isinstance(matrix, np.ndarray)
    n = len(y)
    width = max(1, matrix.shape[1])
    per_call = max(1, min(repeats, STACK_CELLS // max(1, n * width)))
    work = _stacked(matrix, per_call)
    sign = 1.0 if higher_is_better(metric) else -1.0
    score = scorer(metric, y, classes)
    out = np.full((len(chosen), repeats), np.nan)
    for row, i in enumerate(chosen):
        columns = groups[i]
        if len(columns) == 0:
            out[row] = 0.0  # nothing to shuffle: a constant feature moves no prediction
            continue
        rng = np.random.default_rng([seed, i])
        perms = [rng.permutation(n) for _ in range(repeats)]
        for first in range(0, repeats, per_call):
            batch = perms[first : first + per_call]
            rows = np.concatenate(batch)
            if raw:
                name = matrix.columns[columns[0]]
                values = matrix[name].iloc[rows].reset_index(drop=True)
                target = work if len(batch) == per_call else work.iloc[: len(rows)].copy()
                target[name] = values
            else:
                target = work if len(batch) == per_call else work[: len(rows)]
                target[:, columns] = matrix[np.ix_(rows, columns)]
            outputs = predictions.of(target, columns)
            if outputs is None:  # no prediction can move: the drop is exactly nothing
                out[row, first : first + len(batch)] = 0.0
                continue
            for k in range(len(batch)):
                part = outputs[k * n : (k + 1) * n]
                value = score(part)
                if value is not None:
                    out[row, first + k] = sign * (base - value)
        if raw:
            name = matrix.columns[columns[0]]
            work[name] = _stacked(matrix[[name]], per_call)[name]
        else:
            work[:, columns] = np.tile(matrix[:, columns], (per_call, 1))
        if on_feature is not None:
            on_feature()
    return out


def measure(
    model: Any,
    X: Any,
    y: Any,
    *,
    task: str,
    binary: bool,
    metric: str,
    classes: list[str],
    repeats: int,
    seed: int,
    threads: int = 1,
    on_feature: Callable[[], None] | None = None,
    shortcut: bool = True,
) -> Measured | None:
    """Shuffle each feature of X ``repeats`` times and measure the drop of ``metric`` on (X, y)
    (``threads`` features at a time, ``on_feature`` called as each is done); None when the
    metric is undefined on these rows. ``shortcut``: a booster re-evaluates only the trees
    that split on the shuffled feature (the drops are the same)."""
    import numpy as np

    start = time.perf_counter()
    features = [str(c) for c in X.columns]
    metric = effective_metric(metric, task, model)
    groups = None
    estimator, matrix, space = model, X, "raw"
    steps = getattr(model, "steps", None)
    if steps is not None and len(steps) > 1 and len(X):
        groups = column_groups(model[:-1], X, seed)
        if groups is not None:
            estimator, matrix, space = model[-1], model[:-1].transform(X), "preprocessed"
    if groups is None:
        groups = [np.array([j]) for j in range(X.shape[1])]
    predictions = _Predictions(estimator, task, binary, metric)
    if shortcut and space == "preprocessed":
        found = _BoosterTrees.build(
            estimator, matrix, groups, task=task, binary=binary, metric=metric, seed=seed
        )
        if found is not None:
            predictions, groups = found
            matrix = predictions.pre
    if isinstance(predictions, _BoosterTrees):
        outputs = predictions.finish(predictions.raw_base)
    else:
        outputs = _outputs(estimator, matrix, task, binary, metric)
    base = scorer(metric, y, classes)(outputs)
    if base is None:
        return None
    kwargs: dict[str, Any] = {
        "metric": metric,
        "classes": classes,
        "repeats": repeats,
        "seed": seed,
        "on_feature": on_feature,
    }
    order = list(range(len(features)))
    if threads <= 1 or len(order) < 2:
        drops = _drops_for(predictions, matrix, groups, order, y, base, **kwargs)
    else:
        from joblib import Parallel, delayed
        from threadpoolctl import threadpool_limits

        chunks = [order[k::threads] for k in range(threads) if order[k::threads]]
        # one thread per chunk of features, each model call on one core: no oversubscription
        with threadpool_limits(limits=1):
            parts = Parallel(n_jobs=len(chunks), backend="threading")(
                delayed(_drops_for)(predictions, matrix, groups, chunk, y, base, **kwargs)
                for chunk in chunks
            )
        drops = np.empty((len(features), repeats))
        for chunk, part in zip(chunks, parts, strict=True):
            drops[chunk] = part
    return Measured(
        features=features,
        drops=drops,
        base=float(base),
        rows=len(y),
        space="trees" if isinstance(predictions, _BoosterTrees) else space,
        seconds=time.perf_counter() - start,
    )


def combine(parts: list[Measured]) -> Measured | None:
    """Several folds' measurements as one: each repeat's drop and the base averaged over the
    folds, weighted by their rows (like a cross-validated score)."""
    import numpy as np

    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    weights = np.array([p.rows for p in parts], dtype=float)
    weights /= weights.sum()
    drops = sum(w * np.nan_to_num(p.drops) for w, p in zip(weights, parts, strict=True))
    return Measured(
        features=parts[0].features,
        drops=drops,
        base=float(sum(w * p.base for w, p in zip(weights, parts, strict=True))),
        rows=sum(p.rows for p in parts),
        space=parts[0].space if len({p.space for p in parts}) == 1 else "mixed",
        seconds=sum(p.seconds for p in parts),
    )


def contribution_table(measured: Measured) -> list[dict[str, Any]]:
    """One row per feature, largest contribution first: the mean drop, its spread (standard
    deviation over the repeats) and whether the feature adds nothing measurable."""
    import numpy as np

    smallest = MIN_EFFECT * max(abs(measured.base), 1.0)  # too small to matter, in metric units
    means = np.nanmean(measured.drops, axis=1)
    spreads = np.nanstd(measured.drops, axis=1)
    table: list[dict[str, Any]] = [
        {
            "feature": name,
            "importance": float(mean),
            "std": float(std),
            "adds_nothing": bool(mean - std <= 0 or mean < smallest),
        }
        for name, mean, std in zip(measured.features, means, spreads, strict=True)
    ]
    table.sort(key=lambda r: -r["importance"])
    return table
