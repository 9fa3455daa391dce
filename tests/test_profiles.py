"""Batch profiles gathered chunk by chunk, and the cache's row keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlready.profiles import (
    ProfileBuilder,
    bin_counts,
    numeric_profile,
    profile_frame,
    sorted_bin_counts,
)
from mlready.serving.cache import row_keys


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(3, 1, rows) + 1e6  # a large offset: sums must not lose precision
    x[rng.random(rows) < 0.05] = np.nan
    plan = rng.choice(["a", "b", "c", None], rows, p=[0.5, 0.3, 0.15, 0.05])
    return pd.DataFrame({"x": x, "plan": plan})


def test_chunks_and_merged_partitions_give_the_whole_batch_s_profile() -> None:
    reference = profile_frame(_frame(5000, 1), ["x"], ["plan"], bins=20, keep_values=100)
    batch = _frame(12_345, 2)
    whole = ProfileBuilder(reference, keep_values=100)
    whole.add(batch)
    parts = []
    for start in range(0, len(batch), 1000):
        part = ProfileBuilder(reference, keep_values=100)
        part.add(batch.iloc[start : start + 1000])
        parts.append(ProfileBuilder.from_state(part.to_state()))
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    a, b = whole.result()["columns"], merged.result()["columns"]
    for key in ("rows", "count", "missing", "counts", "fine_counts", "min", "max"):
        assert a["x"][key] == b["x"][key]
    assert a["plan"] == b["plan"]
    finite = batch["x"].dropna().to_numpy()
    assert b["x"]["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert b["x"]["std"] == pytest.approx(finite.std(ddof=1), rel=1e-9)
    assert b["x"]["counts"] == bin_counts(finite, reference["columns"]["x"]["cuts"])
    assert b["x"]["values"] is None  # more than keep_values: only bins
    assert b["plan"]["categories"] == batch["plan"].value_counts().to_dict()
    assert b["plan"]["missing"] == int(batch["plan"].isna().sum())


def test_sorted_bin_counts_equal_bin_counts_on_ties_and_edges() -> None:
    values = np.array([0.0, 1.0, 1.0, 2.0, 2.5, 3.0, 3.0, 7.0])
    for cuts in ([], [1.0], [1.0, 3.0], [-5.0, 1.0, 2.0, 3.0, 100.0]):
        assert sorted_bin_counts(np.sort(values), cuts) == bin_counts(values, cuts)


def test_small_batches_keep_their_values() -> None:
    reference = profile_frame(_frame(500, 3), ["x"], [], bins=10, keep_values=50)
    builder = ProfileBuilder(reference, keep_values=50)
    small = _frame(40, 4)
    builder.add(small)
    assert builder.result()["columns"]["x"]["values"] == sorted(small["x"].dropna())


def test_row_keys_depend_on_values_only() -> None:
    a = pd.DataFrame({"n": [1.0, -0.0, np.nan], "c": ["1", "x", None]})
    b = pd.DataFrame({"n": [1.0, 0.0, np.nan], "c": [1.0, "x", None]}, dtype=object)
    b["n"] = b["n"].astype(float)
    ka, kb = row_keys(a, ["c"]), row_keys(b, ["c"])
    assert (ka[0] == kb[0]).all()
    assert (ka[1] == kb[1]).all()
    c = a.copy()
    c.loc[0, "c"] = "2"
    kc = row_keys(c, ["c"])
    assert kc[0][0] != ka[0][0]
    assert kc[1][0] != ka[1][0]
    assert (kc[0][1:] == ka[0][1:]).all()
    swapped = pd.DataFrame({"n": [1.0], "c": ["x"]}), pd.DataFrame({"n": [np.nan], "c": ["1"]})
    assert row_keys(swapped[0], ["c"])[0][0] != row_keys(swapped[1], ["c"])[0][0]


def test_file_digests_are_remembered_until_the_file_changes(tmp_path) -> None:
    import hashlib
    import os

    from mlready.serving.cache import file_digests

    data, memo = tmp_path / "b.csv", tmp_path / "memo.json"
    data.write_text("a,b\n1,2\n")
    first = file_digests([data], memo)
    assert first == [hashlib.sha256(data.read_bytes()).hexdigest()]
    assert file_digests([data], memo) == first
    before = data.stat()
    data.write_text("a,b\n1,3\n")  # same size; put the old modification time back
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert file_digests([data], memo) == [hashlib.sha256(b"a,b\n1,3\n").hexdigest()]


def _numeric_profile_by_definition(values: np.ndarray, bins: int, keep: int) -> dict:
    """numeric_profile as first written: np.unique, np.quantile and bin_counts on raw values."""
    from mlready.profiles import FINE_BINS, bin_sums

    finite = values[np.isfinite(values)]
    out: dict = {"kind": "numeric", "rows": len(values), "count": len(finite)}
    out["missing"] = len(values) - len(finite)
    if not len(finite):
        return {**out, "cuts": [], "counts": [0], "fine_cuts": [], "fine_counts": [0], "values": []}

    def cuts(n: int) -> list[float]:
        qs = np.quantile(finite, np.linspace(0, 1, n + 1)[1:-1], method="linear")
        return [float(v) for v in np.unique(qs)]

    distinct, counts = np.unique(finite, return_counts=True)
    quantiles = np.quantile(finite, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    out.update(
        mean=float(finite.mean()),
        std=float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
        distinct=len(distinct),
        min=float(finite.min()),
        max=float(finite.max()),
        quantiles=dict(
            zip(
                ("p01", "p05", "p25", "p50", "p75", "p95", "p99"),
                map(float, quantiles),
                strict=True,
            )
        ),
        cuts=cuts(bins),
        counts=bin_counts(finite, cuts(bins)),
        fine_cuts=cuts(FINE_BINS),
        fine_counts=bin_counts(finite, cuts(FINE_BINS)),
        fine_sums=bin_sums(np.sort(finite), cuts(FINE_BINS)),
        values=[float(v) for v in np.sort(finite)] if len(finite) <= keep else None,
    )
    if len(distinct) <= 20:
        out["value_counts"] = {str(float(v)): int(c) for v, c in zip(distinct, counts, strict=True)}
    return out


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(0, 1, 20_000),
        np.round(np.random.default_rng(1).normal(0, 3, 30_000)),
        np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -0.0, 0.0, 2.0]),
        np.array([0.0, -0.0, 1.0, -0.0]),
        np.random.default_rng(2).integers(0, 3, 1000).astype(float),
        np.array([]),
        np.array([np.nan]),
        np.full(100, 5.0),
        np.random.default_rng(3).lognormal(0, 2, 999),
    ],
)
def test_numeric_profile_sorted_once_is_the_profile_by_definition(values: np.ndarray) -> None:
    from mlready.profiles import numeric_profile

    for keep in (0, 1000):
        got = numeric_profile(values, bins=30, keep_values=keep)
        # equal as numbers (a cut at zero may be -0.0 on one side: the same bins)
        assert got == _numeric_profile_by_definition(values, 30, keep)


def test_sorted_quantiles_are_numpy_s_quantiles() -> None:
    from mlready.profiles import sorted_quantiles

    rng = np.random.default_rng(0)
    for trial in range(400):
        n = int(rng.integers(1, 3000))
        values = [
            rng.normal(0, 1, n),
            np.round(rng.normal(0, 5, n)),
            rng.lognormal(0, 3, n) * 1e6,
            rng.integers(-3, 3, n).astype(float),
        ][trial % 4]
        ordered = np.sort(values)
        for qs in (np.linspace(0, 1, 1001)[1:-1], [0.0, 0.01, 0.5, 0.99, 1.0]):
            # equal as numbers (numpy's partition may leave -0.0 where the sort has 0.0)
            assert np.array_equal(sorted_quantiles(ordered, qs), np.quantile(ordered, qs))


def test_category_counts_of_arrow_text_equal_pandas_counts() -> None:
    from mlready.profiles import category_counts

    plan = _frame(3000, 5)["plan"]
    arrow = plan.astype("str")  # pandas' text held by Arrow: counted by pyarrow
    assert arrow.dtype.storage == "pyarrow"
    by_arrow = category_counts(arrow)
    by_pandas = category_counts(plan.astype(object))
    assert by_arrow == by_pandas
    assert list(by_arrow[0]) == list(plan.value_counts().index)  # most common first
    assert by_arrow[1] == int(plan.isna().sum()) > 0


def test_bins_counted_in_numpy_fold_into_the_state_when_it_is_read() -> None:
    reference = profile_frame(_frame(2000, 6), ["x"], [], bins=10, keep_values=10)
    batch = _frame(5000, 7)
    whole = ProfileBuilder(reference, keep_values=10)
    whole.add(batch)
    stepwise = ProfileBuilder(reference, keep_values=10)
    stepwise.add(batch.iloc[:2000])
    state = stepwise.to_state()["columns"]["x"]
    assert sum(state["fine_counts"]) == state["count"] == batch["x"].iloc[:2000].notna().sum()
    assert all(type(v) is int for v in state["counts"])  # plain JSON numbers
    stepwise.add(batch.iloc[2000:])
    a, b = whole.result()["columns"]["x"], stepwise.result()["columns"]["x"]
    assert a["counts"] == b["counts"]
    assert a["fine_counts"] == b["fine_counts"]
    assert b["fine_sums"] == pytest.approx(a["fine_sums"], rel=1e-12)
    assert all(type(v) is float for v in b["fine_sums"])


def test_values_near_the_float_limit_give_an_infinite_spread_not_an_error() -> None:
    """A chunked profile of values whose square overflows (2.68e154 found by the CSV fuzz test)
    ends with std inf, as the whole-table profile does, not with an OverflowError."""
    import warnings

    values = np.array([2.68e154, 1.0, 3.0, -1.34e154])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        whole = numeric_profile(values, bins=4, keep_values=0)
        builder = ProfileBuilder({"format": 1, "rows": 4, "columns": {"x": whole}}, keep_values=0)
        builder.add(pd.DataFrame({"x": values}))
        chunked = builder.result()["columns"]["x"]
    assert whole["std"] == chunked["std"] == float("inf")
    assert chunked["mean"] == pytest.approx(whole["mean"])


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng, n: rng.normal(size=n),
        lambda rng, n: rng.lognormal(3, 1, n) + 1e6,
        lambda rng, n: rng.integers(0, 50, n).astype(float),  # ties: cut points are values
        lambda rng, n: rng.normal(size=n) * 1e-300,
        lambda rng, n: rng.normal(size=n) * 1e300,
        lambda rng, n: rng.pareto(1.0, n),  # crowded cut points: not usable, values sorted
        lambda rng, n: np.concatenate([rng.normal(size=n // 2), rng.normal(1e6, 1, n - n // 2)]),
    ],
)
def test_the_grid_finds_the_bins_bisection_finds(draw) -> None:
    from mlready.profiles import FINE_BINS, Binner, _cuts

    rng = np.random.default_rng(8)
    ordered = np.sort(draw(rng, 20_000))
    for bins in (10, FINE_BINS):
        cuts = _cuts(ordered, bins, ordered=True)
        binner = Binner(cuts)
        edges = np.asarray(cuts)
        values = np.concatenate(
            [
                draw(rng, 5000),
                edges,  # on a cut point, and either side of it by one float
                np.nextafter(edges, -np.inf),
                np.nextafter(edges, np.inf),
                [-1e308, 1e308, 0.0, -0.0, 5e-324],
            ]
        )
        if binner.usable:
            assert np.array_equal(binner.bins(values), np.searchsorted(edges, values, "right"))
        # the batch profile is the same either way: counts exact, sums up to rounding
        with np.errstate(over="ignore", invalid="ignore"):  # 1e308 squared: std inf
            reference = {"columns": {"x": numeric_profile(ordered, bins=bins, keep_values=0)}}
            builder = ProfileBuilder(reference, keep_values=0)
            for start in range(0, len(values), 4000):
                builder.add_column("x", values[start : start + 4000])
            got = builder.result()["columns"]["x"]
        assert got["counts"] == bin_counts(values, got["cuts"])
        assert got["fine_counts"] == bin_counts(values, got["fine_cuts"])
        index = np.searchsorted(np.asarray(got["fine_cuts"]), values, "right")
        exact = [
            float(np.sum(np.sort(values[index == i]))) for i in range(len(got["fine_cuts"]) + 1)
        ]
        assert got["fine_sums"] == pytest.approx(exact, rel=1e-12, abs=1e-300)
        assert (got["min"], got["max"]) == (values.min(), values.max())


@pytest.mark.parametrize(
    ("coarse", "fine"),
    [
        ([1.0, 5.0, 9.0], [0.0, 1.0, 2.0, 5.0, 7.0, 9.0, 10.0]),  # coarse cut points are fine ones
        ([1.5, 4.0, 8.25], [0.0, 1.0, 2.0, 5.0, 7.0, 9.0, 10.0]),  # inside fine bins
        ([-5.0, 0.0, 20.0], [0.0, 1.0, 2.0]),  # outside the fine cut points' span
        ([3.0], []),  # no fine cut points: one fine bin, split
        ([], [0.0, 1.0]),  # no coarse cut points: one coarse bin
        ([2.0, 2.0, 3.0], [1.0, 2.0, 2.0, 4.0]),  # repeated cut points
    ],
)
def test_coarse_counts_from_fine_bins_are_bisection_s(coarse, fine) -> None:
    from mlready.profiles import CoarseFromFine

    rng = np.random.default_rng(3)
    edges = np.asarray(coarse + fine, dtype=float)
    values = np.concatenate(
        [
            rng.uniform(-8, 24, 3000),
            rng.integers(-2, 12, 500).astype(float),  # ties with cut points
            edges,
            np.nextafter(edges, -np.inf),
            np.nextafter(edges, np.inf),
        ]
    )
    index = np.searchsorted(np.asarray(fine, dtype=float), values, side="right")
    fine_counts = np.bincount(index, minlength=len(fine) + 1)
    got = CoarseFromFine(coarse, fine).counts(index, fine_counts, values)
    assert got.tolist() == bin_counts(values, coarse)


def test_the_grid_is_not_used_for_cut_points_it_cannot_spread() -> None:
    from mlready.profiles import GRID_DEPTH, Binner

    assert Binner([]).usable
    assert Binner([1.0]).usable
    assert not Binner([-1e308, 1e308]).usable  # the span overflows
    crowded = [0.0, *np.linspace(1.0, 1.0 + 1e-9, GRID_DEPTH + 1), 1e9]
    assert not Binner(crowded).usable
    assert Binner(crowded).depth > GRID_DEPTH
