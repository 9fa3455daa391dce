"""Which train run a registration takes, and the sha256 of its files as the run log recorded them.

A run folder can be written by anyone who can write ``.mlready/``, and its model file is loaded
later (``model.joblib`` is pickle; even a skops file builds objects). So the bytes that go into
the registry are checked against the hashes train recorded in the hash-chained run log when it
wrote them, never against ``metadata.json`` beside them: the record must hold under
:func:`mlready.runs.verify_run_log` (its own hash, its place in the chain, this project's
identity), its folder must lie inside the project's artifacts folder, and the folder's
files must still have the sha256 the record holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlready.errors import DataError, NotFoundError, UsageError

__all__ = ["RUN_ID", "TrainedRun", "trained_run"]

RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")


@dataclass(frozen=True)
class TrainedRun:
    """A train run folder and the sha256 of its files as recorded when train wrote them."""

    folder: Path
    run_id: str
    #: sha256 of the model file, from the run's record in the run log.
    model_sha256: str
    #: sha256 of every file the record names, by its path inside the folder.
    recorded: dict[str, str] = field(default_factory=dict)
    #: The model file's name in the folder: model.skops, or model.joblib (pickle).
    model_file: str = "model.skops"


def _model_file(record: Any, folder: Path) -> str:
    """Which model file the record names (model.skops or model.joblib); a record without
    file hashes (older, summary only) takes the one in the folder."""
    from mlready.model_format import MODEL_FILES

    names = list(MODEL_FILES.values())
    named = [n for n in names if n in (record.artifacts or {})]
    if len(named) > 1:
        raise DataError(
            f"the run log's record of train run {record.run_id} names two model files "
            f"({', '.join(named)}): train writes one; train again"
        )
    if named:
        return named[0]
    present = [n for n in names if (folder / n).is_file()]
    return present[0] if len(present) == 1 else names[0]


def _model_sha256(record: Any, model_file: str) -> str:
    """The model's sha256 in a train record: its artifacts entry, or its summary's."""
    from_files = (record.artifacts or {}).get(model_file)
    from_summary = (record.summary or {}).get("model_sha256")
    if from_files and from_summary and from_files != from_summary:
        raise DataError(
            f"the run log's record of train run {record.run_id} names two model sha256 "
            f"({from_files[:12]}…, {from_summary[:12]}…): train again"
        )
    digest = from_files or from_summary
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise DataError(
            f"the run log's record of train run {record.run_id} names no model sha256: "
            "it holds no model to register; train again"
        )
    return digest


def _inside(folder: Path, artifacts: Path) -> Path:
    """The run folder, refused unless it lies inside the artifacts folder (links resolved)."""
    resolved = folder.resolve()
    if not resolved.is_relative_to(artifacts.resolve()):
        raise DataError(
            f"refusing to register from {folder}: a train run folder must lie inside the "
            f"project's artifacts folder {artifacts} (it resolves to {resolved})"
        )
    return resolved


def _unchanged(record: Any, folder: Path, log: Path) -> None:
    """DataError unless every file the record names still has the sha256 it recorded."""
    from mlready.io import sha256_file

    changed = []
    for name, digest in sorted((record.artifacts or {}).items()):
        try:
            if sha256_file(folder / name) != digest:
                changed.append(f"{name} changed")
        except OSError:
            changed.append(f"{name} is missing")
    if changed:
        raise DataError(
            f"refusing to register train run {record.run_id}: its files no longer match what "
            f"its record in {log.name} holds ({', '.join(changed[:3])}): they were changed after "
            "training; train again (and find out who changed the run folder)"
        )


def trained_run(loaded: Any, run_id: str | None = None) -> TrainedRun:
    """The train run ``run_id`` (default: the newest passing one) with the hashes its record
    in the run log holds; DataError (exit 4) when that record does not hold."""
    from mlready.runs import identity_of, read_run_log, run_dir, verify_run_log

    artifacts = Path(loaded.spec.project.artifacts_dir)
    if run_id is not None and not RUN_ID.match(run_id):
        raise UsageError(
            f"--run {run_id!r} is not a run id (like 20261123T190102Z-3f9a1c): see "
            f"{artifacts / 'runs' / 'train'}"
        )
    raw = read_run_log(artifacts, "train")
    if run_id is None:
        passing = [r for r in raw if r.status == "passed"]
        if not passing:
            raise NotFoundError(
                "no passing train run to register: run `mlready train`, or name a run with --run"
            )
        run_id = passing[-1].run_id
    # the chain and the records only: hashing every run folder of a long history is not needed
    # to register one run; this run's files are checked below
    checked = verify_run_log(artifacts, identity_of(loaded), check_artifacts=False)
    trusted = [r for r in checked.records if r.step == "train" and r.run_id == run_id]
    if not trusted:
        problems = [p for p in checked.problems if p.run_id == run_id and p.step == "train"]
        folder = run_dir(artifacts, "train", run_id)
        if problems:
            raise DataError(
                f"refusing to register train run {run_id}: {problems[0]}; "
                "train again (and find out who changed the run log or the run folder)"
            )
        if folder.exists() or any(r.run_id == run_id for r in raw):
            raise DataError(
                f"refusing to register train run {run_id}: {checked.path} holds no record that "
                f"train wrote it, so nothing vouches for the files in {folder}; train again"
            )
        raise NotFoundError(f"no train run {run_id} in {folder.parent}")
    record = trusted[-1]
    folder = _inside(artifacts / record.run_dir, artifacts)
    _unchanged(record, folder, checked.path)
    model_file = _model_file(record, folder)
    return TrainedRun(
        folder=folder,
        run_id=record.run_id,
        model_sha256=_model_sha256(record, model_file),
        recorded=dict(record.artifacts or {}),
        model_file=model_file,
    )
