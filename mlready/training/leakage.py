"""Leakage guards: a feature that almost is the target, rows shared by training and validation,
and validation rows older than the rows the model trained on."""

from __future__ import annotations

from typing import Any

from mlready.training.data import TrainingData

#: A single feature predicting the target this well (ROC AUC, |correlation| or purity) is
#: almost certainly derived from it.
PROXY_BAR = 0.99
SAMPLE_ROWS = 200_000
#: Shared rows are reported from this share of the validated rows on (below: the report lists
#: them without a warning; a few identical records are normal in tabular data).
SHARED_WARN_SHARE = 0.01


def _purity(codes: Any, y: Any) -> float:
    """Share of rows whose group's most frequent target value is their own."""
    import pandas as pd

    table = pd.crosstab(codes, y)
    return float(table.max(axis=1).sum() / table.to_numpy().sum())


def target_proxies(data: TrainingData) -> list[dict[str, Any]]:
    """Features that by themselves nearly determine the target."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    rows = len(data.X)
    take = np.arange(rows)
    if rows > SAMPLE_ROWS:
        take = np.random.default_rng(0).choice(rows, SAMPLE_ROWS, replace=False)
    X = data.X.iloc[take]
    y = data.y[take]
    found = []
    baseline = None
    if data.task == "classification":
        baseline = float(pd.Series(y).value_counts(normalize=True).max())
    for column in X.columns:
        series = X[column]
        present = series.notna().to_numpy()
        if present.sum() < 10:
            continue
        strength = None
        how = ""
        if column in data.numeric:
            values = series.to_numpy(dtype=float)[present]
            target = y[present]
            if np.ptp(values) == 0:
                continue
            if data.binary and len(np.unique(target)) == 2:
                auc = float(roc_auc_score(target, values))
                strength, how = max(auc, 1 - auc), "ROC AUC on its own"
            elif data.task == "regression":
                strength = abs(float(np.corrcoef(values, target.astype(float))[0, 1]))
                how = "|correlation| with the target"
        if strength is None and data.task == "classification":
            codes = series.astype(str).where(series.notna(), "(missing)")
            if codes.nunique() < max(2, 0.5 * len(codes)) and baseline is not None:
                purity = _purity(codes.to_numpy(), y)
                if baseline < PROXY_BAR:
                    strength, how = purity, "share of rows its value alone classifies"
        if strength is not None and np.isfinite(strength) and strength >= PROXY_BAR:
            found.append({"feature": str(column), "strength": round(strength, 4), "measure": how})
    return found


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


def warnings_for(
    proxies: list[dict[str, Any]], shared: dict[str, Any], order: dict[str, Any] | None
) -> list[str]:
    """The guards' findings as sentences for the terminal and the report."""
    out = []
    for item in proxies:
        out.append(
            f"feature '{item['feature']}' almost equals the target ({item['measure']} "
            f"{item['strength']:.3f}): is it computed from the outcome? If so, add it to "
            "data.forbidden_columns"
        )
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
