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
#: Numeric columns with at most this many distinct values also keep counts per value.
FEW_DISTINCT = 20
MAX_CATEGORIES = 1000
OTHER = "__other__"


def _cuts(values: Any, bins: int, *, ordered: bool = False) -> list[float]:
    """Interior cut points at the quantiles; repeated values collapse (a constant: none).
    ``ordered``: the values are sorted (no NaN), and the quantiles are read off directly."""
    import numpy as np

    if len(values) == 0:
        return []
    probabilities = np.linspace(0, 1, bins + 1)[1:-1]
    if ordered:
        qs = sorted_quantiles(values, probabilities)
    else:
        qs = np.quantile(values, probabilities, method="linear")
    return [float(v) for v in np.unique(qs)]


def sorted_quantiles(ordered: Any, probabilities: Any) -> Any:
    """``np.quantile(ordered, probabilities)`` (method "linear") of sorted values without NaN,
    computed as numpy computes it (same indexes, same interpolation, to the last bit: tested),
    without the partition numpy does first (its cost on a sorted million: 20 ms a call)."""
    import numpy as np

    q = np.asanyarray(probabilities, dtype=float)
    n = len(ordered)
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    below = virtual < 0
    previous[below] = 0
    following[below] = 0
    gamma = np.asanyarray(virtual - previous, dtype=virtual.dtype)
    a = ordered[previous.astype(np.intp)]
    b = ordered[following.astype(np.intp)]
    difference = b - a
    result = np.add(a, difference * gamma)
    np.subtract(b, difference * (1 - gamma), out=result, where=gamma >= 0.5, casting="unsafe")
    return result


def bin_counts(values: Any, cuts: list[float]) -> list[int]:
    """Counts per bin: (-inf, c0), [c0, c1), ..., [c_last, inf)."""
    import numpy as np

    index = np.searchsorted(np.asarray(cuts, dtype=float), values, side="right")
    return [int(c) for c in np.bincount(index, minlength=len(cuts) + 1)]


#: Cells of a :class:`Binner`'s grid (a cell's first bin is looked up, not searched for).
GRID_CELLS = 16_384
#: A grid with more cut points in one cell than this is not used: values are sorted instead.
GRID_DEPTH = 6


class Binner:
    """The bin of each of many unsorted values, for fixed cut points: the bins of
    :func:`bin_counts` (the number of cut points at or below the value), found without sorting
    or a binary search per value.

    The cut points' span is cut into :data:`GRID_CELLS` equal cells; a value's cell is computed
    by one multiplication, and a table gives the number of cut points in the cells before it.
    The cut points inside its own cell (at most :attr:`depth`) are then compared one at a time.
    A cell is computed by the same float operations for a value and for a cut point, and those
    operations never reverse an order, so every cut point of an earlier cell is below the value
    and every one of a later cell above it: the bins are exact, ties and edges included (tested
    against :func:`bin_counts`). Quantile cut points of very skewed data crowd into a few cells;
    :attr:`usable` is then False (callers sort instead).
    """

    def __init__(self, cuts: Any) -> None:
        import numpy as np

        self.cuts = np.asarray(cuts, dtype=float)
        self.usable = False
        self.depth = 0
        if len(self.cuts) < 2:
            self.usable = True  # none: one bin; one: a comparison
            return
        low, high = float(self.cuts[0]), float(self.cuts[-1])
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            scale = np.float64(GRID_CELLS) / (np.float64(high) - np.float64(low))
        if not (np.isfinite(scale) and scale > 0):
            return
        self.low, self.scale = np.float64(low), scale
        cells = self._cells(self.cuts)
        self.depth = int(np.bincount(cells, minlength=GRID_CELLS).max())
        if self.depth > GRID_DEPTH:
            return
        # the number of cut points in the cells before each cell (at most 2**15 cut points)
        self.before = np.searchsorted(cells, np.arange(GRID_CELLS), side="left").astype(np.int16)
        self.bounds = np.concatenate((self.cuts, [np.inf]))
        self.usable = len(self.cuts) < 2**15

    def _cells(self, values: Any) -> Any:
        import numpy as np

        with np.errstate(over="ignore", invalid="ignore"):
            position = np.subtract(values, self.low)
            np.multiply(position, self.scale, out=position)
        np.clip(position, 0, GRID_CELLS - 1, out=position)
        return position.astype(np.intp)

    def bins(self, values: Any) -> Any:
        """The bin of each finite value (an integer array; requires :attr:`usable`)."""
        import numpy as np

        if len(self.cuts) == 0:
            return np.zeros(len(values), dtype=np.intp)
        if len(self.cuts) == 1:
            return (values >= self.cuts[0]).astype(np.intp)
        index = self.before[self._cells(values)].astype(np.intp)
        for _ in range(self.depth):
            index += values >= self.bounds[index]
        return index


class CoarseFromFine:
    """Counts in coarse bins from values' fine bins (both the bins of :func:`bin_counts`), with
    no second pass over every value: a fine bin that no coarse cut point falls strictly inside
    lies in one coarse bin, so its count moves there whole; only the values of the few fine
    bins a coarse cut point splits are compared with the cut points. Exact (tested against
    :func:`bin_counts`)."""

    def __init__(self, coarse: Any, fine: Any) -> None:
        import numpy as np

        self.cuts = np.asarray(coarse, dtype=float)
        fine = np.asarray(fine, dtype=float)
        lower = np.concatenate(([-np.inf], fine))  # fine bin i holds [lower[i], upper[i])
        upper = np.concatenate((fine, [np.inf]))
        # coarse cut points at or below a fine bin's lower edge are at or below all its values
        self.base = np.searchsorted(self.cuts, lower, side="right")
        # ... and one strictly inside the bin splits it: its values are compared one by one
        self.split = np.searchsorted(self.cuts, upper, side="left") != self.base
        self.whole = ~self.split
        self.size = len(self.cuts) + 1

    def counts(self, index: Any, fine_counts: Any, values: Any) -> Any:
        """Coarse counts of ``values`` whose fine bins are ``index`` (counted: ``fine_counts``)."""
        import numpy as np

        out = np.bincount(
            self.base[self.whole], weights=fine_counts[self.whole], minlength=self.size
        ).astype(np.int64)
        if self.split.any():
            mask = self.split[index]
            if mask.any():
                bins = np.searchsorted(self.cuts, values[mask], side="right")
                out += np.bincount(bins, minlength=self.size)
        return out


def _sorted_finite(array: Any) -> Any:
    """The finite values, sorted, with one copy: NaN sorts last and infinities to the ends."""
    import numpy as np

    ordered = np.sort(array)
    end = len(ordered) - int(np.count_nonzero(np.isnan(ordered[-1:]))) if len(ordered) else 0
    if end and np.isnan(ordered[end - 1]):  # more than one NaN: find where they start
        end = int(np.searchsorted(ordered, np.nan, side="left"))
    ordered = ordered[:end]
    if len(ordered) and (np.isinf(ordered[0]) or np.isinf(ordered[-1])):
        low = int(np.searchsorted(ordered, -np.inf, side="right"))
        high = int(np.searchsorted(ordered, np.inf, side="left"))
        ordered = ordered[low:high]
    return ordered


def _bin_edges(ordered: Any, cuts: Any) -> tuple[Any, Any]:
    """(where each bin of sorted values starts and ends, counts per bin) as numpy arrays, for
    the bins of :func:`bin_counts`."""
    import numpy as np

    below = np.searchsorted(ordered, cuts, side="left")
    edges = np.concatenate(([0], below, [len(ordered)]))
    return edges, np.diff(edges)


def sorted_bin_counts(ordered: Any, cuts: list[float]) -> list[int]:
    """:func:`bin_counts` of values already sorted: two bisections per cut, not one per value."""
    import numpy as np

    if not cuts:
        return [len(ordered)]
    below = np.searchsorted(ordered, np.asarray(cuts, dtype=float), side="left")
    edges = np.concatenate(([0], below, [len(ordered)]))
    return [int(c) for c in np.diff(edges).tolist()]


def bin_sums(ordered: Any, cuts: list[float]) -> list[float]:
    """The sum of the (sorted) values in each bin of :func:`bin_counts`: with the counts, each
    bin's mean, which places its mass far better than the bin's middle (long tails)."""
    import numpy as np

    below = np.searchsorted(ordered, np.asarray(cuts, dtype=float), side="left")
    edges = np.concatenate(([0], below, [len(ordered)]))
    running = np.concatenate(([0.0], np.cumsum(ordered, dtype=float)))
    return [float(v) for v in (running[edges[1:]] - running[edges[:-1]]).tolist()]


def category_counts(series: Any) -> tuple[dict[str, int], int]:
    """(count of each value as text, missing count) of one categorical column; whole numbers
    read without '.0', as the model's encoder reads them. Most common first."""
    arrow = _arrow_text(series)
    if arrow is not None:  # text held by Arrow: counted by pyarrow, no Python object per row
        import pyarrow.compute as pc

        found = pc.value_counts(arrow)
        keys, numbers = found.field(0).to_pylist(), found.field(1).to_pylist()
        pairs = sorted(
            ((k, n) for k, n in zip(keys, numbers, strict=True) if k is not None),
            key=lambda kv: -kv[1],
        )
        return dict(pairs), int(arrow.null_count)
    counts = series.value_counts(dropna=True)
    out: dict[str, int] = {}
    for key, count in counts.items():
        text = str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)
        out[text] = out.get(text, 0) + int(count)
    return out, int(series.isna().sum())


def _arrow_text(series: Any) -> Any:
    """The Arrow array behind a pandas text column held by Arrow (pandas' default ``str``), with
    no copy; None for any other column."""
    import pandas as pd

    dtype = series.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa

    try:
        return pa.array(series.array)
    except (TypeError, ValueError, pa.ArrowException):
        return None


def numeric_profile(values: Any, *, bins: int, keep_values: int) -> dict[str, Any]:
    """Statistics and histograms of one numeric column (NaN counts as missing).

    The values are sorted once and every quantile, count and sum is read off the sorted copy;
    the mean and spread are taken in the values' own order (float sums depend on the order)."""
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
    ordered = np.sort(finite)
    changes = ordered[1:] != ordered[:-1]
    distinct = 1 + int(np.count_nonzero(changes))
    cuts = _cuts(ordered, bins, ordered=True)
    fine = _cuts(ordered, FINE_BINS, ordered=True)
    profile.update(
        mean=float(finite.mean()),
        std=float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
        distinct=distinct,
        min=float(finite.min()),
        max=float(finite.max()),
        quantiles=_quantiles(ordered),
        cuts=cuts,
        counts=sorted_bin_counts(ordered, cuts),
        fine_cuts=fine,
        fine_counts=sorted_bin_counts(ordered, fine),
        fine_sums=bin_sums(ordered, fine),
        values=[float(v) for v in ordered] if len(finite) <= keep_values else None,
    )
    if distinct <= FEW_DISTINCT:  # each value's count, as np.unique gives them
        first = np.flatnonzero(np.concatenate(([True], changes)))
        counts = np.diff(np.concatenate((first, [len(ordered)])))
        profile["value_counts"] = {
            str(float(v)): int(c) for v, c in zip(ordered[first], counts, strict=True)
        }
    return profile


def _quantiles(ordered: Any) -> dict[str, float]:

    quantiles = sorted_quantiles(ordered, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    return dict(
        zip(("p01", "p05", "p25", "p50", "p75", "p95", "p99"), map(float, quantiles), strict=True)
    )


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


class ProfileBuilder:
    """A batch profile gathered chunk by chunk in the bins of a reference profile.

    ``add`` takes one chunk; ``merge`` adds another builder's counts (a partition scored
    elsewhere); ``result`` gives a profile in the reference's format. Counts, sums, minima and
    maxima merge exactly, so the profile of a batch does not depend on how it was split.
    """

    def __init__(self, reference: dict[str, Any], *, keep_values: int) -> None:
        self.keep_values = keep_values
        self.rows = 0
        self.columns: dict[str, dict[str, Any]] = {}
        self._acc: dict[str, dict[str, Any]] = {}  # numeric columns' bins, not yet folded
        for name, ref in (reference.get("columns") or {}).items():
            self.columns[name] = self._empty(ref)

    @staticmethod
    def _empty(ref: dict[str, Any]) -> dict[str, Any]:
        if ref.get("kind") == "numeric":
            cuts, fine = list(ref.get("cuts") or []), list(ref.get("fine_cuts") or [])
            return {
                "kind": "numeric",
                "rows": 0,
                "count": 0,
                "missing": 0,
                "sum": 0.0,
                "sumsq": 0.0,
                "shift": None,  # sums are of (x - shift): no loss of precision on large values
                "min": None,
                "max": None,
                "cuts": cuts,
                "counts": [0] * (len(cuts) + 1),
                "fine_cuts": fine,
                "fine_counts": [0] * (len(fine) + 1),
                "fine_sums": [0.0] * (len(fine) + 1),
                "values": [],
                "value_counts": {} if "value_counts" in ref else None,
            }
        return {"kind": "categorical", "rows": 0, "count": 0, "missing": 0, "categories": {}}

    def add_column(self, name: str, values: Any) -> None:
        """Count one chunk of one column (a column the reference does not know is passed over)."""
        import numpy as np

        state = self.columns.get(name)
        if state is None:
            return
        if state["kind"] == "categorical":
            import pandas as pd

            series = values if isinstance(values, pd.Series) else pd.Series(values)
            counts, missing = category_counts(series)
            self.add_counts(name, counts, len(series), missing)
            return
        array = np.asarray(values, dtype=float)
        acc = self._acc.get(name)
        if acc is None:
            # counts and sums per bin add up in numpy arrays, folded into the state's lists
            # when it is read (_fold): no Python number per bin per chunk
            fine = Binner(state["fine_cuts"])
            coarse = np.asarray(state["cuts"], dtype=float)
            acc = self._acc[name] = {
                "counts": np.zeros(len(state["cuts"]) + 1, dtype=np.int64),
                "fine_counts": np.zeros(len(state["fine_cuts"]) + 1, dtype=np.int64),
                "fine_sums": np.zeros(len(state["fine_cuts"]) + 1, dtype=float),
                "cuts": coarse,
                "fine_cuts": fine.cuts,
                # fine bins looked up in a grid, unsorted, and the coarse counts taken from
                # them; else the values are sorted first
                "binners": (CoarseFromFine(coarse, fine.cuts), fine) if fine.usable else None,
            }
        if acc["binners"] is None:
            finite = _sorted_finite(array)
            low, high = (float(finite[0]), float(finite[-1])) if len(finite) else (0.0, 0.0)
        else:
            keep = np.isfinite(array)
            finite = array if keep.all() else array[keep]
            low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
        state["rows"] += len(array)
        state["count"] += len(finite)
        state["missing"] += len(array) - len(finite)
        if len(finite) == 0:
            return
        if state["shift"] is None:
            state["shift"] = low
        centred = finite - state["shift"]
        state["sum"] += float(centred.sum())
        # not np.dot: a threaded BLAS spins its threads on every call (8 ms of CPU a chunk)
        state["sumsq"] += float(np.square(centred, out=centred).sum())
        state["min"] = low if state["min"] is None else min(state["min"], low)
        state["max"] = high if state["max"] is None else max(state["max"], high)
        if acc["binners"] is None:
            acc["counts"] += _bin_edges(finite, acc["cuts"])[1]
            fine_counts = _bin_edges(finite, acc["fine_cuts"])[1]
            acc["fine_counts"] += fine_counts
            # each bin summed on its own (a difference of running sums loses a small bin
            # next to a large one)
            index = np.repeat(np.arange(len(fine_counts)), fine_counts)
            acc["fine_sums"] += np.bincount(index, weights=finite, minlength=len(fine_counts))
        else:
            coarse, fine = acc["binners"]
            size = len(acc["fine_counts"])
            index = fine.bins(finite)
            fine_counts = np.bincount(index, minlength=size)
            acc["fine_counts"] += fine_counts
            acc["counts"] += coarse.counts(index, fine_counts, finite)
            acc["fine_sums"] += np.bincount(index, weights=finite, minlength=size)
        if state.get("value_counts") is not None:
            seen, seen_counts = np.unique(finite, return_counts=True)
            table = state["value_counts"]
            for value, count in zip(seen, seen_counts, strict=True):
                key = str(float(value))
                table[key] = table.get(key, 0) + int(count)
            if len(table) > MAX_CATEGORIES:
                state["value_counts"] = None  # not a few values any more: the bins tell
        if state["values"] is not None:
            if state["count"] <= self.keep_values:
                state["values"].extend(float(v) for v in finite)
            else:
                state["values"] = None  # too many to keep: tests use the bins

    def add_counts(self, name: str, counts: dict[str, int], rows: int, missing: int) -> None:
        """Count one chunk of a categorical column from its value counts."""
        state = self.columns.get(name)
        if state is None:
            return
        state["rows"] += rows
        state["missing"] += missing
        state["count"] += sum(counts.values())
        categories = state["categories"]
        for key, count in counts.items():
            categories[key] = categories.get(key, 0) + int(count)

    def add(self, frame: Any) -> None:
        """Count one chunk: every column of the reference that the chunk has."""
        self.rows += len(frame)
        for name in self.columns:
            if name in frame.columns:
                self.add_column(name, frame[name])

    def _fold(self) -> None:
        """Add the bins counted in numpy since the last fold to the state's lists."""
        for name, acc in self._acc.items():
            state = self.columns[name]
            coarse = zip(state["counts"], acc["counts"], strict=True)
            state["counts"] = [int(a + b) for a, b in coarse]
            fine = zip(state["fine_counts"], acc["fine_counts"], strict=True)
            state["fine_counts"] = [int(a + b) for a, b in fine]
            sums = zip(state["fine_sums"], acc["fine_sums"], strict=True)
            state["fine_sums"] = [float(a + b) for a, b in sums]
        self._acc = {}

    def merge(self, other: ProfileBuilder) -> None:
        """Add another builder's counts (same reference)."""
        self._fold()
        other._fold()
        self.rows += other.rows
        for name, theirs in other.columns.items():
            mine = self.columns[name]
            if mine["kind"] == "categorical":
                for key in ("rows", "count", "missing"):
                    mine[key] += theirs[key]
                for key, count in theirs["categories"].items():
                    mine["categories"][key] = mine["categories"].get(key, 0) + count
                continue
            if theirs["count"]:
                if mine["shift"] is None:
                    mine["shift"] = theirs["shift"]
                delta = theirs["shift"] - mine["shift"]
                # re-centre their sums on my shift: sum(x - a) = sum(x - b) + n (b - a)
                n = theirs["count"]
                mine["sumsq"] += theirs["sumsq"] + 2 * delta * theirs["sum"] + n * delta * delta
                mine["sum"] += theirs["sum"] + n * delta
                mine["min"] = (
                    theirs["min"] if mine["min"] is None else min(mine["min"], theirs["min"])
                )
                mine["max"] = (
                    theirs["max"] if mine["max"] is None else max(mine["max"], theirs["max"])
                )
            for key in ("rows", "count", "missing"):
                mine[key] += theirs[key]
            for key in ("counts", "fine_counts", "fine_sums"):
                mine[key] = [a + b for a, b in zip(mine[key], theirs[key], strict=True)]
            if mine.get("value_counts") is not None and theirs.get("value_counts") is not None:
                for key, count in theirs["value_counts"].items():
                    mine["value_counts"][key] = mine["value_counts"].get(key, 0) + count
                if len(mine["value_counts"]) > MAX_CATEGORIES:
                    mine["value_counts"] = None
            else:
                mine["value_counts"] = None
            if mine["values"] is not None and theirs["values"] is not None:
                mine["values"] = mine["values"] + theirs["values"]
                if len(mine["values"]) > self.keep_values:
                    mine["values"] = None
            else:
                mine["values"] = None

    def result(self) -> dict[str, Any]:
        """The profile, in the format of :func:`profile_frame`."""
        self._fold()
        columns: dict[str, Any] = {}
        for name, state in self.columns.items():
            columns[name] = self._finish(state)
        return {"format": FORMAT, "rows": self.rows, "columns": columns}

    def _finish(self, state: dict[str, Any]) -> dict[str, Any]:
        if state["kind"] == "categorical":
            ordered = sorted(state["categories"].items(), key=lambda kv: (-kv[1], kv[0]))
            return {
                "kind": "categorical",
                "rows": state["rows"],
                "count": state["count"],
                "missing": state["missing"],
                "categories": dict(ordered[:MAX_CATEGORIES]),
                "other": sum(c for _, c in ordered[MAX_CATEGORIES:]),
            }
        n = state["count"]
        out = {
            "kind": "numeric",
            "rows": state["rows"],
            "count": n,
            "missing": state["missing"],
            "cuts": state["cuts"],
            "counts": state["counts"],
            "fine_cuts": state["fine_cuts"],
            "fine_counts": state["fine_counts"],
            "fine_sums": state["fine_sums"],
        }
        if state.get("value_counts") is not None:
            out["value_counts"] = state["value_counts"]
        if n == 0:
            out["values"] = []
            return out
        import numpy as np

        # in numpy floats, as numeric_profile: values near the float limit overflow to inf
        # (Python floats would raise OverflowError on the square)
        with np.errstate(over="ignore", invalid="ignore"):
            mean_centred = np.float64(state["sum"]) / n
            variance = (
                (np.float64(state["sumsq"]) - n * mean_centred**2) / (n - 1) if n > 1 else 0.0
            )
            mean = float(state["shift"] + mean_centred)
        variance = float(variance)
        out.update(
            mean=mean,
            std=(max(variance, 0.0) ** 0.5) if not np.isnan(variance) else float("inf"),
            min=state["min"],
            max=state["max"],
            values=sorted(state["values"]) if state["values"] is not None else None,
        )
        return out

    def to_state(self) -> dict[str, Any]:
        """The builder as plain data (to send between processes)."""
        self._fold()
        return {"rows": self.rows, "keep_values": self.keep_values, "columns": self.columns}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ProfileBuilder:
        builder = cls({}, keep_values=state["keep_values"])
        builder.rows = state["rows"]
        builder.columns = state["columns"]
        return builder


#: A reference of at most this many rows is profiled exactly from its values, held as it is
#: read (8 bytes a numeric value); a larger one takes its quantile cut points from a uniform
#: random sample of at most this many rows and counts every row in those bins on a second pass,
#: so its memory stays flat however many rows it has.
SAMPLE_ROWS = 1_000_000
#: The seed of the sample's random row keys: the same reference gives the same profile.
SAMPLE_SEED = 20_240_601


class ReferenceBuilder:
    """The reference profile of a table read chunk by chunk (see :data:`SAMPLE_ROWS`).

    Pass one (:meth:`add`) counts the categories of every categorical column and keeps the
    numeric values of a random sample of rows: every row while there are at most
    ``sample_rows``, and from then on the rows whose random key (one per row, drawn in row
    order) is under a threshold that halves whenever the sample outgrows ``sample_rows``, so the
    sample does not depend on the chunks' sizes. When no row was dropped (:attr:`exact`),
    :meth:`result` is :func:`profile_frame`'s profile of the whole table, value for value.
    Otherwise :meth:`second_pass` gives a :class:`ProfileBuilder` in the sample's bins to count
    every row of the numeric columns in, and :meth:`result` takes its counts.
    """

    def __init__(
        self,
        numeric: list[str],
        categorical: list[str],
        *,
        bins: int,
        keep_values: int,
        sample_rows: int | None = None,
    ) -> None:
        import numpy as np

        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.bins = bins
        self.keep_values = keep_values
        self.sample_rows = SAMPLE_ROWS if sample_rows is None else sample_rows
        self.rows = 0
        self.threshold = 1.0
        self._random = np.random.Generator(np.random.PCG64(SAMPLE_SEED))
        self._keys: list[Any] = []
        self._values: dict[str, list[Any]] = {c: [] for c in self.numeric}
        self._kept = 0
        self._categories: dict[str, dict[str, int]] = {c: {} for c in self.categorical}
        self._missing: dict[str, int] = dict.fromkeys(self.categorical, 0)

    @property
    def exact(self) -> bool:
        """Whether every row was kept (the profile is exact, in one pass)."""
        return self.threshold == 1.0

    def add(self, numbers: dict[str, Any], texts: Any) -> None:
        """One chunk: ``numbers`` the numeric columns as float arrays (NaN: missing), ``texts``
        the categorical columns as :func:`mlready.training.pipeline.to_text` gives them."""
        import numpy as np

        rows = len(texts) if texts is not None else len(next(iter(numbers.values()), []))
        for column in self.categorical:
            series = texts[column]
            counts = series.value_counts(dropna=True, sort=False)
            table = self._categories[column]
            for key, count in zip(counts.index, counts.to_numpy(), strict=True):
                table[str(key)] = table.get(str(key), 0) + int(count)
            self._missing[column] += int(rows - counts.sum())
        self.rows += rows
        if not self.numeric:
            return
        keys = self._random.random(rows)
        keep = keys < self.threshold if not self.exact else None
        self._keys.append(keys if keep is None else keys[keep])
        for column in self.numeric:
            values = np.asarray(numbers[column], dtype=float)
            self._values[column].append(values if keep is None else values[keep])
        self._kept += rows if keep is None else int(keep.sum())
        if self._kept > self.sample_rows:
            self._shrink()

    def _shrink(self) -> None:
        """Halve the threshold until the sample fits; keep only the rows under it."""
        import numpy as np

        keys = np.concatenate(self._keys)
        while self._kept > self.sample_rows:
            self.threshold /= 2
            self._kept = int(np.count_nonzero(keys < self.threshold))
        keep = keys < self.threshold
        self._keys = [keys[keep]]
        for column in self.numeric:
            self._values[column] = [np.concatenate(self._values[column])[keep]]

    def _column(self, column: str) -> Any:
        import numpy as np

        parts = self._values[column]
        return np.concatenate(parts) if parts else np.empty(0)

    def second_pass(self) -> ProfileBuilder:
        """A builder to count every row of the numeric columns in the sample's bins."""
        import numpy as np

        columns: dict[str, Any] = {}
        for column in self.numeric:
            values = self._column(column)
            ordered = np.sort(values[np.isfinite(values)])
            columns[column] = {
                "kind": "numeric",
                "cuts": _cuts(ordered, self.bins, ordered=True),
                "fine_cuts": _cuts(ordered, FINE_BINS, ordered=True),
                "value_counts": {},  # counted up to MAX_CATEGORIES distinct values
            }
        return ProfileBuilder({"columns": columns}, keep_values=self.keep_values)

    def result(self, counted: ProfileBuilder | None = None) -> dict[str, Any]:
        """The profile (``counted``: the :meth:`second_pass` builder, when not :attr:`exact`)."""
        import numpy as np

        columns: dict[str, Any] = {}
        if self.exact:
            for column in self.numeric:
                columns[column] = numeric_profile(
                    self._column(column), bins=self.bins, keep_values=self.keep_values
                )
        else:
            if counted is None:
                raise ValueError("a sampled reference needs its second pass counted")
            whole = counted.result()["columns"]
            for column in self.numeric:
                profile = whole[column]
                values = self._column(column)
                ordered = np.sort(values[np.isfinite(values)])
                table = profile.pop("value_counts", None)
                if table is not None:  # at most MAX_CATEGORIES distinct values, all counted
                    profile["distinct"] = len(table)
                    if len(table) <= FEW_DISTINCT:
                        ordered_keys = sorted(table, key=float)
                        profile["value_counts"] = {k: table[k] for k in ordered_keys}
                if profile["count"]:
                    profile["quantiles"] = _quantiles(ordered)
                profile["sample_rows"] = self._kept
                columns[column] = profile
        for column in self.categorical:
            ordered_counts = sorted(self._categories[column].items(), key=lambda kv: -kv[1])
            count = sum(c for _, c in ordered_counts)
            columns[column] = {
                "kind": "categorical",
                "rows": self.rows,
                "count": count,
                "missing": self._missing[column],
                "categories": dict(ordered_counts[:MAX_CATEGORIES]),
                "other": sum(c for _, c in ordered_counts[MAX_CATEGORIES:]),
            }
        out = {"format": FORMAT, "rows": self.rows, "columns": columns}
        if not self.exact:
            out["sampled"] = {
                "rows": self._kept,
                "seed": SAMPLE_SEED,
                "note": "quantile cut points from a uniform random sample; counts of every row",
            }
        return out
