"""Data profiles: per-column statistics and binned distributions, the reference for drift.

A profile is plain JSON. Bins are fixed by the reference (quantile cut points), so the counts of
any later batch, gathered chunk by chunk, land in the same bins and partial profiles merge by
adding counts. Numeric columns keep two histograms: ``bins`` coarse bins (PSI, Jensen-Shannon,
charts) and up to ``FINE_BINS`` fine ones (Wasserstein distance and the KS statistic to within a
bin). A reference of at most ``keep_values`` rows also keeps its sorted values, so small-sample
tests (KS) are exact.
"""

from __future__ import annotations

from typing import Any

FORMAT = 1
FINE_BINS = 1000
MAX_CATEGORIES = 1000
OTHER = "__other__"


def _cuts(values: Any, bins: int) -> list[float]:
    """Interior cut points at the quantiles; repeated values collapse (a constant: none)."""
    import numpy as np

    if len(values) == 0:
        return []
    qs = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1], method="linear")
    return [float(v) for v in np.unique(qs)]


def bin_counts(values: Any, cuts: list[float]) -> list[int]:
    """Counts per bin: (-inf, c0), [c0, c1), ..., [c_last, inf)."""
    import numpy as np

    index = np.searchsorted(np.asarray(cuts, dtype=float), values, side="right")
    return [int(c) for c in np.bincount(index, minlength=len(cuts) + 1)]


def numeric_profile(values: Any, *, bins: int, keep_values: int) -> dict[str, Any]:
    """Statistics and histograms of one numeric column (NaN counts as missing)."""
    import numpy as np

    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    profile: dict[str, Any] = {
        "kind": "numeric",
        "rows": len(array),
        "count": len(finite),
        "missing": int(len(array) - len(finite)),
    }
    if len(finite) == 0:
        profile.update(cuts=[], counts=[0], fine_cuts=[], fine_counts=[0], values=[])
        return profile
    quantiles = np.quantile(finite, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    cuts = _cuts(finite, bins)
    fine = _cuts(finite, FINE_BINS)
    profile.update(
        mean=float(finite.mean()),
        std=float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
        min=float(finite.min()),
        max=float(finite.max()),
        quantiles=dict(
            zip(
                ("p01", "p05", "p25", "p50", "p75", "p95", "p99"),
                map(float, quantiles),
                strict=True,
            )
        ),
        cuts=cuts,
        counts=bin_counts(finite, cuts),
        fine_cuts=fine,
        fine_counts=bin_counts(finite, fine),
        values=[float(v) for v in np.sort(finite)] if len(finite) <= keep_values else None,
    )
    return profile


def categorical_profile(values: Any) -> dict[str, Any]:
    """Counts of each value (as text) of one categorical column; the rarest beyond
    MAX_CATEGORIES are summed under OTHER."""
    import pandas as pd

    from mlready.training.pipeline import to_text

    text = to_text(pd.DataFrame({"v": values}))["v"]
    counts = text.value_counts(dropna=True)
    kept = counts.iloc[:MAX_CATEGORIES]
    return {
        "kind": "categorical",
        "rows": len(text),
        "count": int(counts.sum()),
        "missing": int(text.isna().sum()),
        "categories": {str(k): int(v) for k, v in kept.items()},
        "other": int(counts.iloc[MAX_CATEGORIES:].sum()),
    }


def profile_frame(
    frame: Any,
    numeric: list[str],
    categorical: list[str],
    *,
    bins: int,
    keep_values: int,
) -> dict[str, Any]:
    """A profile of each named column of a DataFrame."""
    columns: dict[str, Any] = {}
    for column in numeric:
        columns[column] = numeric_profile(frame[column], bins=bins, keep_values=keep_values)
    for column in categorical:
        columns[column] = categorical_profile(frame[column])
    return {"format": FORMAT, "rows": len(frame), "columns": columns}
