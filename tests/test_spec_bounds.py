"""Property tests: a number `spec check` accepts never crashes the code that uses it later, and a
number it refuses exits 3 naming the key (issue 17, item 10)."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlready.errors import MlreadyError, SpecError
from mlready.spec import load_spec
from mlready.spec.models import ProjectSpec
from tests.conftest import MINIMAL_SPEC

CSV = "customer_id,tenure,plan,churn,seen\nC1,3,basic,Yes,2026-01-01\nC2,40,pro,No,2026-02-01\n"

#: numbers a person (or a typo) may write: every size and sign, the edges of our bounds and of
#: the types they feed (timedelta's 999,999,999 days, int64, 2**32 seeds), .inf and .nan
NUMBERS = st.one_of(
    st.integers(-5, 5),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [36_500, 36_501, 999_999_999, 1_000_000, 10**12, 10**12 + 1, 2**32 - 1, 2**32, 2**63]
    ),
)
DURATIONS = NUMBERS | st.builds(
    lambda n, unit: f"{n}{unit}", st.integers(0, 10**25), st.sampled_from(["d", "h", "m", "s"])
)


def _use_ttl(spec: ProjectSpec) -> None:
    assert spec.serving is not None
    ttl = spec.serving.cache.ttl
    assert time.time() - ttl.total_seconds() <= time.time()  # serving.cache: entries' age
    _ = dt.datetime.now(dt.timezone.utc) + ttl


def _use_sla(spec: ProjectSpec) -> None:
    from mlready.spec.models import format_duration

    assert spec.serving is not None
    assert spec.serving.sla is not None
    budget = spec.serving.sla.budget
    format_duration(budget)
    _ = dt.datetime.now(dt.timezone.utc) + budget


def _use_checks(spec: ProjectSpec) -> None:
    """row_count and freshness: the checks validate-data and serve-batch build."""
    from mlready.validation.checks import build_checks

    build_checks(spec, ["customer_id", "tenure", "plan", "churn", "seen"], "training")
    build_checks(spec, ["customer_id", "tenure", "plan", "seen"], "serving")


def _use_model_age(spec: ProjectSpec) -> None:
    limit = spec.monitoring.max_model_age_days
    assert limit is not None
    _ = f"{limit:g}", limit < 12.5, dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=limit)


def _use_timeout(spec: ProjectSpec) -> None:
    timeout = spec.monitoring.channels["ops"].timeout.total_seconds()
    with socket.socket() as sock:  # what urlopen(timeout=) and subprocess's waits accept
        sock.settimeout(timeout)


def _use_profile(spec: ProjectSpec) -> None:
    import pandas as pd

    from mlready.drift.stats import choose_test
    from mlready.profiles import profile_frame

    drift = spec.monitoring.drift
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    profile = profile_frame(
        frame, ["x"], ["c"], bins=drift.bins, keep_values=drift.small_sample_rows
    )
    choose_test(profile["columns"]["x"], drift.small_sample_rows)


def _use_seed(spec: ProjectSpec) -> None:
    import numpy as np
    from sklearn.utils import check_random_state

    check_random_state(spec.model.random_state)
    np.random.default_rng(spec.model.random_state)


def _use_importance(spec: ProjectSpec) -> None:
    import numpy as np

    from mlready.training.importance import sample_rows

    settings = spec.training.importance
    assert len(sample_rows(np.arange(3_000), settings.max_rows, 0)) <= settings.max_rows
    _ = [np.random.default_rng([0, 1]).permutation(3) for _ in range(settings.repeats)]


def _use_budget(spec: ProjectSpec) -> None:
    assert spec.model.search is not None
    assert spec.model.search.budget_s is not None
    _ = time.monotonic() + spec.model.search.budget_s
    _ = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=spec.model.search.budget_s)


def _use_folds(spec: ProjectSpec) -> None:
    import numpy as np

    from mlready.training.evaluate import folds

    data = types.SimpleNamespace(
        train_index=np.arange(60), y=np.array([0, 1] * 30), task="classification"
    )
    with contextlib.suppress(MlreadyError):  # too few rows for these folds: exit 4, no crash
        folds(spec, data)  # type: ignore[arg-type]


def _use_chunks(spec: ProjectSpec) -> None:
    from mlready.io import iter_table

    assert spec.serving is not None
    source = spec.data.source.path
    assert source is not None
    assert sum(len(c) for c in iter_table(source, chunk_rows=spec.serving.chunk_rows)) == 2


def _use_attestation_age(spec: ProjectSpec) -> None:
    _ = dt.date.today() - dt.timedelta(days=spec.checklist.attestation_max_age_days)


#: a numeric key, the spec around it (value in {v}), and what later commands do with it
FIELDS: dict[str, tuple[dict[str, Any], Callable[[ProjectSpec], None]]] = {
    "serving.cache.ttl": ({"serving": {"cache": {"ttl": "{v}"}}}, _use_ttl),
    "serving.sla.output_period": ({"serving": {"sla": {"output_period": "{v}"}}}, _use_sla),
    "serving.sla.max_run_time": (
        {"serving": {"sla": {"output_period": "36500d", "max_run_time": "{v}"}}},
        _use_sla,
    ),
    "serving.chunk_rows": ({"serving": {"chunk_rows": "{v}"}}, _use_chunks),
    "expectations.freshness.max_age_days": (
        {"expectations": {"freshness": {"column": "seen", "max_age_days": "{v}"}}},
        _use_checks,
    ),
    "expectations.row_count.min": ({"expectations": {"row_count": {"min": "{v}"}}}, _use_checks),
    "expectations.row_count.max": (
        {"expectations": {"row_count": {"min": 0, "max": "{v}"}}},
        _use_checks,
    ),
    "monitoring.max_model_age_days": (
        {"monitoring": {"max_model_age_days": "{v}"}},
        _use_model_age,
    ),
    "monitoring.channels.ops.timeout": (
        {"monitoring": {"channels": {"ops": {"type": "log", "path": "a.log", "timeout": "{v}"}}}},
        _use_timeout,
    ),
    "monitoring.drift.small_sample_rows": (
        {"monitoring": {"drift": {"small_sample_rows": "{v}"}}},
        _use_profile,
    ),
    "monitoring.drift.bins": ({"monitoring": {"drift": {"bins": "{v}"}}}, _use_profile),
    "model.random_state": ({"model": {"random_state": "{v}"}}, _use_seed),
    "validation.cv.gap": (
        {"validation": {"cv": {"strategy": "time_series", "gap": "{v}"}}},
        _use_folds,
    ),
    "validation.cv.folds": ({"validation": {"cv": {"folds": "{v}"}}}, _use_folds),
    "training.importance.max_rows": (
        {"training": {"importance": {"max_rows": "{v}"}}},
        _use_importance,
    ),
    "training.importance.repeats": (
        {"training": {"importance": {"repeats": "{v}"}}},
        _use_importance,
    ),
    "model.search.budget_s": (
        {"model": {"search": {"budget_s": "{v}", "space": {"C": {"values": [1.0, 2.0]}}}}},
        _use_budget,
    ),
    "checklist.attestation_max_age_days": (
        {"checklist": {"attestation_max_age_days": "{v}"}},
        _use_attestation_age,
    ),
}


def _merge(base: dict[str, Any], extra: dict[str, Any], value: Any) -> dict[str, Any]:
    out = dict(base)
    for key, item in extra.items():
        if item == "{v}":
            out[key] = value
        elif isinstance(item, dict):
            out[key] = _merge(base.get(key) or {}, item, value)
        else:
            out[key] = item
    return out


def _spec_with(key: str, value: Any, folder: Path) -> Path:
    base = yaml.safe_load(MINIMAL_SPEC)
    base["data"]["timestamp_column"] = "seen"
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "train.csv").write_text(CSV, encoding="utf-8")
    path = folder / "mlready.yaml"
    path.write_text(yaml.safe_dump(_merge(base, FIELDS[key][0], value)), encoding="utf-8")
    return path


def _check(key: str, value: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _spec_with(key, value, Path(folder))
        try:
            loaded = load_spec(path, check_files=True)
        except SpecError as exc:
            refused: SpecError | None = exc
        else:
            refused = None
            FIELDS[key][1](loaded.spec)
    if refused is not None:
        text = str(refused)
        parent, leaf = key.rsplit(".", 1)  # the key named (a cross-key rule names its parent)
        assert refused.exit_code == 3
        assert f"{key}:" in text or (f"{parent}:" in text and leaf in text), text
        assert text.startswith("mlready.yaml:"), text  # with its line
        assert "\n" not in refused.message


@pytest.mark.parametrize("key", sorted(FIELDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=NUMBERS)
def test_an_accepted_number_does_not_crash_its_users(key: str, value: Any) -> None:
    _check(key, value)


@pytest.mark.parametrize(
    "key", sorted(k for k in FIELDS if k.endswith(("ttl", "output_period", "max_run_time")))
)
@settings(max_examples=60, deadline=None)
@given(value=DURATIONS)
def test_an_accepted_duration_does_not_crash_its_users(key: str, value: Any) -> None:
    _check(key, value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("serving.cache.ttl", "1000000000d"),  # past timedelta's 999,999,999 days
        ("serving.cache.ttl", 99999999999999999999),
        ("expectations.freshness.max_age_days", 1_000_000),  # passed, then crashed validate-data
        ("monitoring.max_model_age_days", float("inf")),
        ("model.random_state", 2**32),
    ],
)
def test_values_that_crashed_later_commands_are_refused_by_spec_check(
    key: str, value: Any, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    path = _spec_with(key, value, tmp_path)
    result = run_cli("--spec", str(path), "spec", "check")
    assert result.exit_code == 3, result.stderr
    assert f"{key}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_nested_500_deep_is_a_spec_error(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    spec = MINIMAL_SPEC + "checklist:\n  test_command: " + "[" * 500 + "]" * 500 + "\n"
    (tmp_path / "mlready.yaml").write_text(spec, encoding="utf-8")
    result = run_cli("--spec", str(tmp_path), "spec", "check")
    assert result.exit_code == 3
    assert "mlready.yaml:" in result.stderr
    assert "nested more than 50 levels" in result.stderr
    assert "Traceback" not in result.stderr
    assert "internal" not in result.stderr


def test_block_yaml_nested_deep_is_a_spec_error(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    body = "".join("  " * i + "a:\n" for i in range(1, 300)) + "  " * 300 + "b: 1\n"
    (tmp_path / "mlready.yaml").write_text(MINIMAL_SPEC + "extra:\n" + body, encoding="utf-8")
    result = run_cli("--spec", str(tmp_path), "spec", "check")
    assert result.exit_code == 3
    assert "nested more than 50 levels" in result.stderr
