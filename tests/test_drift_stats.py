"""Drift statistics from profiles against scipy on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlready.drift.stats import compare, psi
from mlready.profiles import ProfileBuilder, categorical_profile, numeric_profile

SETTINGS = {"small_sample_rows": 1000, "p_value": 0.05, "distance": 0.1, "psi_bar": 0.1}


def _numeric(ref: np.ndarray, cur: np.ndarray, keep: int = 1000, bins: int = 30):
    reference = numeric_profile(ref, bins=bins, keep_values=keep)
    builder = ProfileBuilder({"columns": {"x": reference}}, keep_values=keep)
    for start in range(0, len(cur), 7000):  # in chunks, as serve-batch gathers it
        builder.add_column("x", cur[start : start + 7000])
    return reference, builder.result()["columns"]["x"]


def _categorical(ref: list, cur: list):
    reference = categorical_profile(pd.Series(ref))
    builder = ProfileBuilder({"columns": {"c": reference}}, keep_values=0)
    builder.add_column("c", pd.Series(cur))
    return reference, builder.result()["columns"]["c"]


def test_small_samples_use_the_exact_two_sample_ks() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(0, 1, 800), rng.normal(0.3, 1, 600)
    verdict = compare("x", *_numeric(ref, cur), **SETTINGS)
    expected = stats.ks_2samp(ref, cur)
    assert verdict.test == "ks"
    assert verdict.exact
    assert verdict.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert verdict.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert verdict.drifted


def test_binned_ks_and_wasserstein_stay_within_their_stated_tolerance() -> None:
    rng = np.random.default_rng(1)
    ref, cur = rng.lognormal(0, 0.7, 200_000), rng.lognormal(0.05, 0.75, 150_000)
    reference, current = _numeric(ref, cur)
    ks = compare("x", reference, current, **{**SETTINGS, "small_sample_rows": 10**9})
    # tolerance: the largest fine bin holds 1/1000 of the reference
    assert ks.test == "ks"
    assert not ks.exact
    assert ks.statistic == pytest.approx(stats.ks_2samp(ref, cur).statistic, abs=2e-3)
    wd = compare("x", reference, current, **SETTINGS)
    expected = stats.wasserstein_distance(ref, cur) / ref.std(ddof=1)
    assert wd.test == "wasserstein"
    assert wd.statistic == pytest.approx(expected, rel=0.01)  # stated: 1% of the distance


def test_exact_wasserstein_on_small_samples() -> None:
    rng = np.random.default_rng(2)
    ref, cur = rng.normal(0, 2, 900), rng.normal(0.5, 2, 700)
    reference, current = _numeric(ref, cur)
    verdict = compare("x", reference, current, **SETTINGS, test="wasserstein")
    expected = stats.wasserstein_distance(ref, cur) / ref.std(ddof=1)
    assert verdict.statistic == pytest.approx(expected, rel=1e-9)


def test_chi_square_is_the_two_sample_contingency_test() -> None:
    rng = np.random.default_rng(3)
    ref = list(rng.choice(["a", "b", "c", "d"], 900, p=[0.4, 0.3, 0.2, 0.1]))
    cur = list(rng.choice(["a", "b", "c", "d"], 700, p=[0.3, 0.3, 0.25, 0.15]))
    verdict = compare("c", *_categorical(ref, cur), **SETTINGS)
    table = np.array([[ref.count(k) for k in "abcd"], [cur.count(k) for k in "abcd"]])
    expected = stats.chi2_contingency(table, correction=False)
    assert verdict.test == "chisquare"
    assert verdict.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert verdict.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    # the same number from scipy.stats.chisquare with expected counts from the margins
    f_exp = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    other = stats.chisquare(table.ravel(), f_exp.ravel(), ddof=table.size - 1 - 3)
    assert verdict.p_value == pytest.approx(other.pvalue, rel=1e-9)


def test_two_categories_use_the_z_test_of_proportions() -> None:
    ref = ["yes"] * 300 + ["no"] * 500
    cur = ["yes"] * 330 + ["no"] * 370
    verdict = compare("c", *_categorical(ref, cur), **SETTINGS)
    n1, n2 = 800, 700
    p1, p2 = 500 / n1, 370 / n2  # "no" sorts first
    pooled = (500 + 370) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert verdict.test == "ztest"
    assert verdict.statistic == pytest.approx(z, rel=1e-12)
    assert verdict.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)


def test_jensen_shannon_and_psi_on_large_samples() -> None:
    rng = np.random.default_rng(4)
    ref = list(rng.choice(list("abcde"), 5000, p=[0.3, 0.25, 0.2, 0.15, 0.1]))
    cur = list(rng.choice(list("abcdef"), 4000, p=[0.2, 0.25, 0.2, 0.15, 0.1, 0.1]))
    verdict = compare("c", *_categorical(ref, cur), **SETTINGS)
    keys = list("abcdef")
    r = np.array([ref.count(k) for k in keys], dtype=float)
    c = np.array([cur.count(k) for k in keys], dtype=float)
    assert verdict.test == "jensenshannon"
    assert verdict.statistic == pytest.approx(jensenshannon(r / r.sum(), c / c.sum()), abs=1e-12)
    rs, cs = np.maximum(r / r.sum(), 1e-4), np.maximum(c / c.sum(), 1e-4)
    assert verdict.psi == pytest.approx(np.sum((cs - rs) * np.log(cs / rs)), abs=1e-12)
    assert verdict.drifted
    assert "never seen in the reference, e.g. f" in verdict.note


def test_psi_by_hand() -> None:
    assert psi([50, 50], [50, 50]) == 0.0
    expected = (0.3 - 0.5) * np.log(0.3 / 0.5) + (0.7 - 0.5) * np.log(0.7 / 0.5)
    assert psi([5, 5], [3, 7]) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("rows", [500, 50_000], ids=["small", "large"])
def test_identical_data_never_drifts_and_a_planted_shift_always_does(rows: int) -> None:
    rng = np.random.default_rng(rows)
    x = rng.normal(10, 3, rows)
    same = compare("x", *_numeric(x, x.copy()), **SETTINGS)
    assert not same.drifted
    assert same.statistic == pytest.approx(0.0, abs=1e-12)
    shifted = compare("x", *_numeric(x, x + 1.5), **SETTINGS)
    assert shifted.drifted
    cats = list(rng.choice(list("abc"), rows))
    assert not compare("c", *_categorical(cats, list(cats)), **SETTINGS).drifted
    moved = ["a"] * (rows // 2) + cats[: rows - rows // 2]
    assert compare("c", *_categorical(cats, moved), **SETTINGS).drifted


def test_awkward_columns_get_a_clear_result() -> None:
    x = np.random.default_rng(5).normal(size=2000)
    empty = compare("x", *_numeric(x, np.array([])), **SETTINGS)
    assert empty.test == "none"
    assert not empty.drifted
    assert "no values in the current batch" in empty.note
    all_nan = compare("x", *_numeric(x, np.full(100, np.nan)), **SETTINGS)
    assert all_nan.test == "none"
    assert all_nan.current_missing == 1.0
    constant = compare("x", *_numeric(np.full(2000, 3.0), np.full(500, 3.0)), **SETTINGS)
    assert not constant.drifted
    moved = compare("x", *_numeric(np.full(2000, 3.0), np.full(500, 4.0)), **SETTINGS)
    assert moved.drifted
    new = compare("c", *_categorical(["a"] * 900, ["zzz"] * 100), **SETTINGS)
    assert new.drifted
    assert "never seen" in new.note


def test_benjamini_hochberg_keeps_chance_drift_out_of_many_unchanged_features() -> None:
    from mlready.drift.stats import correct_p_values

    rng = np.random.default_rng(12)
    columns = []
    for i in range(60):  # 60 features, none of them changed, tested on small samples
        ref, cur = rng.normal(0, 1, 500), rng.normal(0, 1, 300)
        verdict = compare(f"x{i}", *_numeric(ref, cur), **SETTINGS)
        columns.append(verdict)
    shifted_ref, shifted_cur = rng.normal(0, 1, 500), rng.normal(0.6, 1, 300)
    columns.append(compare("moved", *_numeric(shifted_ref, shifted_cur), **SETTINGS))
    raw = [c.p_value for c in columns]
    by_chance = [c.column for c in columns[:-1] if c.drifted]
    assert by_chance, "uncorrected, some unchanged features drift at p < 0.05 by chance"
    assert correct_p_values(columns, "benjamini_hochberg") == len(columns)
    expected = stats.false_discovery_control(raw, method="bh")
    assert [c.p_adjusted for c in columns] == pytest.approx(list(expected), rel=1e-12)
    assert [c.column for c in columns if c.drifted] == ["moved"]
    assert correct_p_values(columns[:3], "none") == 0


def test_the_scipy_free_statistics_equal_scipy_to_the_bit() -> None:
    """chi-square, z-test, Jensen-Shannon, KS p-value, weighted Wasserstein and Benjamini-Hochberg
    are computed without importing scipy.stats (0.6 s of CPU per check-drift): each must give
    scipy.stats' own number, bit for bit, on many random inputs."""
    from mlready.drift import stats as ours

    rng = np.random.default_rng(7)
    for _ in range(200):
        k = int(rng.integers(2, 12))
        ref = rng.integers(0, 500, size=k).astype(float)
        cur = rng.integers(0, 500, size=k).astype(float)
        ref[0] += 1
        cur[0] += 1
        table = np.asarray([ref, cur])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] >= 2:
            expected = stats.chi2_contingency(table, correction=False)
            assert ours.chi_square(ref, cur) == (float(expected.statistic), float(expected.pvalue))
        n1, n2 = ref[:2].sum(), cur[:2].sum()
        pooled = (ref[0] + cur[0]) / (n1 + n2)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (ref[0] / n1 - cur[0] / n2) / spread
        assert ours.z_test(ref[:2], cur[:2])[1] == float(2 * stats.norm.sf(abs(z)))
        assert ours.jensen_shannon(ref, cur) == float(
            jensenshannon(ref / ref.sum(), cur / cur.sum())
        )
        statistic, n, m = (
            float(rng.random()),
            int(rng.integers(10, 10**6)),
            int(rng.integers(10, 10**6)),
        )
        en = n * m / (n + m)
        assert ours._ks_p(statistic, n, m) == float(stats.kstwobign.sf(np.sqrt(en) * statistic))
        u, v = rng.normal(size=int(rng.integers(1, 40))), rng.normal(1, 2, int(rng.integers(1, 40)))
        uw, vw = rng.random(u.size) + 0.01, rng.random(v.size) + 0.01
        assert ours.weighted_wasserstein(u, v, uw, vw) == float(
            stats.wasserstein_distance(u, v, uw, vw)
        )
        ps = list(rng.random(int(rng.integers(1, 30))) ** 3)
        assert ours.benjamini_hochberg(ps) == [
            float(p) for p in stats.false_discovery_control(ps, method="bh")
        ]
    assert ours.benjamini_hochberg([]) == []
