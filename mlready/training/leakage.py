"""Leakage guards: a feature that almost is the target, rows shared by training and validation,
and validation rows older than the rows the model trained on."""

from __future__ import annotations

from typing import Any

from mlready.training.data import TrainingData

#: A single feature predicting the target this well on rows it was not fitted on (cross-validated
#: R^2 for regression, ROC AUC for two classes, accuracy for more) is almost certainly derived from
#: it: training fails until the column is dropped or forbidden.
PROXY_BAR = 0.99
#: Proxies are looked for on a seeded sample of this many rows: a feature at the bar is
#: unmistakable there (the spread of a ROC AUC near 0.99 on 50,000 rows is about 0.0005),
#: and on 100,000 rows and more the check took longer than a fold's fit.
SAMPLE_ROWS = 50_000
#: Numeric features are cut into at most this many quantile bins for their single-feature model.
PROXY_BINS = 50
PROXY_FOLDS = 5
#: Shared rows are reported from this share of the validated rows on (below: the report lists
#: them without a warning; a few identical records are normal in tabular data).
SHARED_WARN_SHARE = 0.01


def _groups(series: Any, numeric: bool) -> Any:
    """Integer group codes of one feature: its values, or its quantile bins when numeric (the
    bins use no target, so nothing leaks into the folds); missing values are a group too."""
    import numpy as np
    import pandas as pd

    if numeric:
        values = pd.to_numeric(series, errors="coerce").astype(float)
        if values.nunique() > PROXY_BINS:
            values = pd.qcut(values, PROXY_BINS, labels=False, duplicates="drop")
        codes, _ = pd.factorize(values, use_na_sentinel=True)
    else:
        codes, _ = pd.factorize(series.astype(str).where(series.notna(), None))
    codes = np.asarray(codes)
    return np.where(codes < 0, codes.max(initial=-1) + 1, codes)


def _out_of_fold(codes: Any, targets: Any, folds: list[tuple[Any, Any]]) -> Any:
    """Each row's group mean of ``targets`` (one column per class) from the other folds' rows;
    a group a fold never saw gets that fold's overall mean."""
    import numpy as np

    size = int(codes.max()) + 1
    out = np.empty(targets.shape, dtype=float)
    for train, valid in folds:
        counts = np.bincount(codes[train], minlength=size)
        overall = targets[train].mean(axis=0)
        for j in range(targets.shape[1]):
            sums = np.bincount(codes[train], weights=targets[train, j], minlength=size)
            means = np.where(counts > 0, sums / np.maximum(counts, 1), overall[j])
            out[valid, j] = means[codes[valid]]
    return out


def _folds(rows: int) -> list[tuple[Any, Any]]:
    """sklearn's KFold(PROXY_FOLDS, shuffle=True, random_state=0) split of ``rows`` rows (the
    same rows in each fold), without importing scikit-learn: init runs this on its sample."""
    import numpy as np

    order = np.arange(rows)
    np.random.RandomState(0).shuffle(order)
    sizes = np.full(PROXY_FOLDS, rows // PROXY_FOLDS)
    sizes[: rows % PROXY_FOLDS] += 1
    out, start = [], 0
    for size in sizes:
        valid = np.zeros(rows, dtype=bool)
        valid[order[start : start + size]] = True
        out.append((np.flatnonzero(~valid), np.flatnonzero(valid)))
        start += size
    return out


def proxy_strength(series: Any, y: Any, task: str, *, numeric: bool) -> tuple[float, str] | None:
    """How well one feature predicts the target on its own, on rows its model did not see:
    the per-value (or per-bin) target mean, cross-validated; for numeric features also the
    rank (ROC AUC) or linear (R^2) fit. None when there is too little to judge."""
    import numpy as np
    import pandas as pd

    from mlready.training.metrics import roc_auc

    series = series.reset_index(drop=True)
    rows = len(series)
    if rows < 4 * PROXY_FOLDS or series.notna().sum() < 10:
        return None
    y = np.asarray(y)
    codes = _groups(series, numeric)
    folds = _folds(rows)
    present = series.notna().to_numpy()
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float) if numeric else None
    if task == "regression":
        target = y.astype(float)
        if np.ptp(target) == 0:
            return None
        predicted = _out_of_fold(codes, target[:, None], folds)[:, 0]
        total = float(((target - target.mean()) ** 2).sum())
        strength = 1 - float(((target - predicted) ** 2).sum()) / total
        if values is not None and present.sum() >= 10 and np.ptp(values[present]) > 0:
            linear = float(np.corrcoef(values[present], target[present])[0, 1]) ** 2
            strength = max(strength, linear)
        return strength, "cross-validated R^2 on its own"
    classes, labels = np.unique(y.astype(str), return_inverse=True)
    if len(classes) < 2:
        return None
    if len(classes) == 2:
        predicted = _out_of_fold(codes, labels[:, None].astype(float), folds)[:, 0]
        strength = roc_auc(labels == 1, predicted)
        if (
            values is not None
            and present.sum() >= 10
            and np.ptp(values[present]) > 0
            and len(np.unique(labels[present])) == 2
        ):
            auc = roc_auc(labels[present] == 1, values[present])
            strength = max(strength, auc, 1 - auc)
        return strength, "cross-validated ROC AUC on its own"
    if float(np.bincount(labels).max() / rows) >= PROXY_BAR:
        return None  # one class is almost every row: accuracy says nothing
    onehot = np.eye(len(classes))[labels]
    predicted = _out_of_fold(codes, onehot, folds).argmax(axis=1)
    return float(np.mean(labels == predicted)), "cross-validated accuracy on its own"


def find_proxies(
    X: Any, y: Any, task: str, numeric: list[str], *, bar: float = PROXY_BAR
) -> list[dict[str, Any]]:
    """Columns of ``X`` that by themselves predict ``y`` at ``bar`` or better."""
    import numpy as np

    found = []
    numeric_set = set(numeric)
    for column in X.columns:
        measured = proxy_strength(X[column], y, task, numeric=column in numeric_set)
        if measured is None:
            continue
        strength, how = measured
        if np.isfinite(strength) and strength >= bar:
            found.append({"feature": str(column), "strength": round(strength, 4), "measure": how})
    return found


def target_proxies(data: TrainingData) -> list[dict[str, Any]]:
    """Features that by themselves nearly determine the target (on at most SAMPLE_ROWS rows)."""
    import numpy as np

    rows = len(data.X)
    take = np.arange(rows)
    if rows > SAMPLE_ROWS:
        take = np.random.default_rng(0).choice(rows, SAMPLE_ROWS, replace=False)
    return find_proxies(data.X.iloc[take], np.asarray(data.y)[take], data.task, data.numeric)


def proxy_failures(proxies: list[dict[str, Any]]) -> list[str]:
    """One failure per proxy: the column, how strong, and the fix."""
    return [
        f"feature '{item['feature']}' alone predicts the target ({item['measure']} "
        f"{item['strength']:.4f}, the bar is {PROXY_BAR}): it is most likely derived from the "
        "outcome; drop it from data.features or add it to data.forbidden_columns"
        for item in proxies
    ]


def shared_rows(data: TrainingData, splits: list[tuple[Any, Any]]) -> dict[str, Any]:
    """Validation rows identical (features and target) to a row the same fold trained on."""
    import numpy as np
    import pandas as pd

    frame = data.X.copy()
    frame["__target__"] = data.y
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    per_fold = []
    for train, valid in splits:
        per_fold.append(int(np.isin(hashes[valid], hashes[train]).sum()))
    holdout = 0
    if data.holdout is not None:
        holdout = int(np.isin(hashes[data.holdout_index], hashes[data.train_index]).sum())
    validated = sum(len(v) for _, v in splits) + len(data.holdout_index)
    return {
        "per_fold": per_fold,
        "holdout": holdout,
        "total": sum(per_fold) + holdout,
        "validated": validated,
    }


def time_order(data: TrainingData, splits: list[tuple[Any, Any]]) -> dict[str, Any] | None:
    """Per fold, validation rows older than the newest row the fold trained on."""
    import numpy as np

    if data.timestamps is None:
        return None
    moments = data.timestamps.to_numpy()
    per_fold = []
    for train, valid in splits:
        newest = moments[train].max() if len(train) else None
        per_fold.append(0 if newest is None else int((moments[valid] < newest).sum()))
    holdout = 0
    if data.holdout is not None:
        newest = moments[data.train_index].max()
        holdout = int((moments[data.holdout_index] < newest).sum())
    return {"per_fold": per_fold, "holdout": holdout, "total": int(np.sum(per_fold)) + holdout}


def forbidden_facts(spec: Any, data: Any) -> dict[str, Any]:
    """Which forbidden columns the training data holds, and that none of them is a feature
    (a declared column that is not in the data keeps nothing out)."""
    declared = list(spec.data.forbidden_columns)
    columns = {str(c) for c in data.frame.columns}
    features = {*data.numeric, *data.categorical}
    return {
        "declared": declared,
        "present": [c for c in declared if c in columns],
        "used": sorted(set(declared) & features),
    }


def warnings_for(shared: dict[str, Any], order: dict[str, Any] | None) -> list[str]:
    """The shared-rows and time-order findings as sentences (proxies fail: proxy_failures)."""
    out = []
    validated = max(shared.get("validated", 0), 1)
    if shared["total"] and shared["total"] / validated >= SHARED_WARN_SHARE:
        out.append(
            f"{shared['total']:,} validation rows ({shared['total'] / validated:.1%}) are "
            "identical to rows their fold trained on "
            "(features and target): duplicated records inflate the metrics; deduplicate the data, "
            "or fold by entity with group_kfold"
        )
    if order and order["total"]:
        out.append(
            f"{order['total']:,} validation rows are older than rows their fold trained on: the "
            "model learns from the future; use validation.cv.strategy: time_series"
        )
    return out
