"""What train writes: model.skops, reference_profile.json, training.html and metadata.json.

The model is stored as skops (no pickle), or as model.joblib when pickle is allowed (see
:mod:`mlready.model_format`). metadata.json is written last and names the model file's sha256 and
format: a run folder holding it is complete.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import re
import subprocess
import sys
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from mlready.spec import LoadedSpec, ProjectSpec

METADATA_FILE = "metadata.json"
PROFILE_FILE = "reference_profile.json"
REPORT_FILE = "training.html"
INPUT_EXAMPLE_ROWS = 5
#: Distributions whose versions a registered model records (the estimator's own is added).
PACKAGES = ("mlready", "scikit-learn", "pandas", "numpy", "scipy", "skops", "joblib", "pyarrow")
#: The import names of PACKAGES' own modules.
_LISTED = ("sklearn", "pandas", "numpy", "scipy", "skops", "joblib", "pyarrow")


#: The spec sections train reads (their hashes and content go into the metadata).
TRAINING_SECTIONS = ("data", "expectations", "model", "validation", "training", "business")
_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*):[^/@\s]*@")


def _without_passwords(value: Any) -> Any:
    """A spec section as written, with the password of any URL in it (a database's) masked."""
    if isinstance(value, str):
        return _PASSWORD.sub(r"\g<scheme>:***@", value)
    if isinstance(value, dict):
        return {k: _without_passwords(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_passwords(v) for v in value]
    return value


def jsonable(value: Any) -> Any:
    """Parameters and results as JSON: numpy scalars as numbers, NaN as null, objects as repr."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        return jsonable(value.item())
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return repr(value)


def judged_metric(metadata: dict[str, Any], metric: str | None) -> float | None:
    """The value of a metric on what the run was judged on (holdout, else the CV mean)."""
    value = ((metadata.get("validation") or {}).get("judged_metrics") or {}).get(metric)
    return None if value is None else float(value)


def package_versions(extra_modules: list[str]) -> dict[str, str]:
    """Installed versions of the packages a model depends on."""
    names = list(PACKAGES)
    tops = {module.split(".")[0] for module in extra_modules}
    # the modules of the packages listed already need no search of every installed package
    owners = {} if tops <= set(_LISTED) else importlib_metadata.packages_distributions()
    for module in extra_modules:
        for dist in owners.get(module.split(".")[0], []):
            if dist not in names:
                names.append(dist)
    versions = {}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def git_state(folder: Path) -> dict[str, Any] | None:
    """The commit the spec's folder is at, and whether tracked files have changes; None outside
    a repository or without git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())} if commit else None


def _estimator_modules(spec: ProjectSpec) -> list[str]:
    model = spec.model
    if model.estimator:
        return [model.estimator]
    assert model.ensemble is not None
    paths = [m.estimator for m in model.ensemble.members]
    if model.ensemble.final_estimator is not None:
        paths.append(model.ensemble.final_estimator.estimator)
    return paths


def _public_name(cls: type, import_path: str | None) -> str:
    """The class by the import path people write (sklearn.ensemble.X, not its private module)."""
    if import_path and import_path.rsplit(".", 1)[-1] == cls.__name__:
        return import_path
    module = cls.__module__.split("._")[0]
    return f"{module}.{cls.__qualname__}"


def reference_profile(
    spec: ProjectSpec, data: Any, rows: Any, prediction_scores: Any, threshold: float | None
) -> dict[str, Any]:
    """Profile of the training rows the model was fitted on, of its target, and of the model's
    predictions on rows it did not train on (holdout, else cross-validation)."""
    import numpy as np
    import pandas as pd

    from mlready.profiles import categorical_profile, numeric_profile, profile_frame

    drift = spec.monitoring.drift
    keep = drift.small_sample_rows
    profile = profile_frame(
        data.X.iloc[rows], data.numeric, data.categorical, bins=drift.bins, keep_values=keep
    )
    y = data.y[rows]
    if data.task == "regression":
        profile["target"] = numeric_profile(y, bins=drift.bins, keep_values=keep)
        profile["prediction"] = {
            "value": numeric_profile(prediction_scores, bins=drift.bins, keep_values=keep)
        }
    else:
        labels = np.asarray(data.classes, dtype=object)[y] if data.binary else y
        profile["target"] = categorical_profile(pd.Series(labels))
        if data.binary:
            cut = 0.5 if threshold is None else threshold
            predicted = np.where(
                np.asarray(prediction_scores) >= cut, data.classes[1], data.classes[0]
            )
            profile["prediction"] = {
                "score": numeric_profile(prediction_scores, bins=drift.bins, keep_values=keep),
                "classes": categorical_profile(pd.Series(predicted)),
                "threshold": cut,
            }
        else:
            predicted = np.asarray(data.classes, dtype=object)[np.argmax(prediction_scores, axis=1)]
            profile["prediction"] = {"classes": categorical_profile(pd.Series(predicted))}
    profile["prediction_rows"] = len(prediction_scores)
    profile["feature_kinds"] = {
        **dict.fromkeys(data.numeric, "numeric"),
        **dict.fromkeys(data.categorical, "categorical"),
    }
    return profile


def metadata(loaded: LoadedSpec, **facts: Any) -> dict[str, Any]:
    """Everything a registry and a reader need to know about the trained model."""
    from mlready import __version__
    from mlready.runs import current_user

    spec = loaded.spec
    data = facts["data"]
    model = facts["model"]
    validation = facts["validation"]
    cv = facts["cv"]
    estimator = model.steps[-1][1]
    holdout = spec.validation.holdout
    example = data.X.iloc[data.train_index[:INPUT_EXAMPLE_ROWS]]
    return jsonable(
        {
            "format": 1,
            "passed": facts["passed"],
            "failures": facts["failures"],
            "warnings": facts["warnings"],
            "notes": facts["notes"],
            "project": spec.project.name,
            "model_name": spec.model_name,
            "owner": spec.project.owner,
            "description": spec.project.description,
            "run_id": facts["run_id"],
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "author": current_user(),
            "training_seconds": round(facts["timings"]["total"], 3),
            "timings": {k: round(v, 3) for k, v in facts["timings"].items()},
            "task": data.task,
            "target": spec.data.target,
            "positive_class": data.positive_class,
            "classes": data.classes,
            "decision_threshold": (facts["business"] or {}).get(
                "decision_threshold", facts["default_threshold"]
            )
            if data.binary
            else None,
            "id_columns": spec.data.id_columns,
            "timestamp_column": spec.data.timestamp_column,
            "features": {
                "numeric": data.numeric,
                "categorical": data.categorical,
                "dtypes": data.feature_dtypes(),
            },
            "model": {
                "estimator": spec.model.estimator or f"ensemble:{spec.model.ensemble.kind}",  # type: ignore[union-attr]
                "type": _public_name(type(estimator), spec.model.estimator),
                "params": {
                    k: v
                    for k, v in model.get_params(deep=True).items()
                    if k.startswith("model__") and "__prep__" not in k
                },
                "random_state": spec.model.random_state,
                "pipeline": [name for name, _ in model.steps],
                "search": facts["search"],
            },
            "validation": {
                "strategy": spec.validation.cv.strategy,
                "folds": len(facts["splits"]),
                "gap": spec.validation.cv.gap,
                "shuffle": spec.validation.cv.shuffle
                if spec.validation.cv.strategy != "time_series"
                else False,
                "holdout": None
                if holdout is None
                else {
                    "start": holdout.start,
                    "end": holdout.end,
                    "column": holdout.column or spec.data.timestamp_column,
                    "rows": len(data.holdout_index),
                },
                "metrics": facts["metrics"],
                "primary_metric": facts["primary"],
                "judged_on": facts["basis"],
                "judged_metrics": facts["judged"],
                "thresholds": facts["checks"],
                "cv": facts["cv_summary"],
                "per_fold": [f.to_dict() for f in cv.folds],
                "cv_seconds": round(cv.seconds, 3),
                "holdout_metrics": facts["holdout_metrics"],
                "slices": facts["slices"],
                "curves": facts.get("curves"),
                "baselines": facts["baselines"],
            },
            "business": facts["business"],
            "feature_contribution": facts["contribution"],
            "leakage": facts["leakage"],
            "reproducibility": facts["reproducibility"],
            "data": {
                "source": validation["source"],
                "rows": validation["rows"],
                "rows_used": len(data.frame),
                "rows_without_target": data.dropped_rows,
                "training_rows": len(data.train_index),
                "holdout_rows": len(data.holdout_index),
                "fingerprint": validation["fingerprint"],
                "validation": {
                    "passed": validation["passed"],
                    "checks": validation["checks"],
                    "failed": validation["failed"],
                    "warnings": validation["warnings"],
                    "validated_by_run": validation["run_id"],
                },
            },
            "environment": {
                "python": platform.python_version(),
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
                "packages": package_versions(_estimator_modules(spec)),
            },
            "spec": {
                "path": str(loaded.path),
                "hash": loaded.spec_hash,
                "sections": {name: loaded.section_hash(name) for name in TRAINING_SECTIONS},
                # what the sections said, so two runs show which keys changed (runs compare)
                "content": {
                    name: _without_passwords(loaded.raw.get(name)) for name in TRAINING_SECTIONS
                },
            },
            "git": git_state(loaded.base_dir),
            "input_example": json.loads(example.to_json(orient="records", date_format="iso")),
            "mlready_version": __version__,
            "python_executable": sys.executable,
        }
    )


def warm_imports(spec: ProjectSpec | None = None) -> None:
    """Import what write_all needs (skops for a model.skops, matplotlib for the report's
    charts), so that a caller can do it while its processes fit; write_all imports them anyway."""
    from mlready.model_format import ModelPolicy, _skops_io

    policy = ModelPolicy() if spec is None else ModelPolicy.of(spec)
    if policy.write_format == "skops":
        _skops_io()
    import matplotlib.backends.backend_svg
    import matplotlib.figure  # noqa: F401


def write_all(
    run_dir: Path,
    model: Any,
    metadata: dict[str, Any],
    profile: dict[str, Any],
    spec: ProjectSpec | None = None,
) -> dict[str, Any]:
    """Write the artifacts, metadata.json last (it names the model file's sha256 and format):
    model.skops, or model.joblib when the spec allows pickle (``model.allow_pickle``)."""
    from mlready.io import atomic_write_json, atomic_write_text, sha256_file
    from mlready.model_format import MODEL_FILES, ModelPolicy, dump_model
    from mlready.training.report import render_training_report

    policy = ModelPolicy() if spec is None else ModelPolicy.of(spec)
    model_file = MODEL_FILES[policy.write_format]
    model_path = run_dir / model_file
    stored = dump_model(model, model_path, policy)
    metadata["artifact"] = {
        "file": model_file,
        "sha256": sha256_file(model_path),
        "bytes": model_path.stat().st_size,
        **stored,
    }
    profile_path = atomic_write_json(run_dir / PROFILE_FILE, jsonable(profile))
    report_path = atomic_write_text(run_dir / REPORT_FILE, render_training_report(metadata))
    metadata_path = atomic_write_json(run_dir / METADATA_FILE, metadata)
    return {
        "model": model_path,
        "profile": profile_path,
        "report": report_path,
        "metadata": metadata_path,
        "_metadata": metadata,
    }
