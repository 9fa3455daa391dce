"""--engine dask: the same checks and scoring on a Dask distributed cluster.

The batch is read as a dask.dataframe (partitions of CSV blocks or Parquet row groups); each
partition is checked, scored and written as ``part-NNNNN.parquet`` by a worker, into a hidden
folder that replaces the output folder, with the profile and the rejects, as one commit when
every partition succeeded. Workers return their
findings and profile counts, which merge exactly (the profiles are binned by the reference).
The model is loaded and verified here, passes its canary here, and is sent to the workers.
Workers need mlready installed (the same version) to unpickle the pipeline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlready.errors import CheckFailed, DataError, UsageError

#: Bytes of CSV per partition.
BLOCK_BYTES = 64 << 20
#: How long to keep trying a scheduler address before saying it cannot be reached.
CONNECT_TIMEOUT = "10s"


@contextlib.contextmanager
def client_for(scheduler: str) -> Iterator[Any]:
    """A client of the named scheduler, or of a cluster started here for 'local'."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        from mlready import DISTRIBUTION

        raise UsageError(
            f"--engine dask needs Dask: pip install '{DISTRIBUTION}[dask]' (dask[distributed])"
        ) from None
    if scheduler == "local":
        workers = max(1, os.cpu_count() or 1)
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                processes=True,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise DataError(
            f"cannot reach the Dask scheduler at {scheduler} ({exc}): start it (`dask "
            "scheduler`), check the address, or use --scheduler local"
        ) from None
    try:
        yield client
    finally:
        client.close()


def _frame(path: str, columns: list[str]) -> Any:
    import dask.dataframe as dd

    from mlready.io import resolve_files

    files = [str(f) for f in resolve_files(path)]
    try:
        if files[0].lower().endswith((".parquet", ".pq")):
            return dd.read_parquet(files, columns=columns)
        return dd.read_csv(
            files, usecols=columns, dtype=dict.fromkeys(columns, "str"), blocksize=BLOCK_BYTES
        )
    except ValueError as exc:
        raise DataError(f"cannot read {path} with Dask: {str(exc).splitlines()[0]}") from None


def _hashes(frame: Any, columns: list[str]) -> dict[str, Any]:
    from mlready.serving.prepare import value_hashes

    return {c: value_hashes(frame[c].dropna()) for c in columns}


def score_partition(
    frame: Any,
    index: int,
    model: Any,
    info: Any,
    checks: list[Any],
    known: dict[str, set[str]],
    duplicates: dict[str, Any],
    references: tuple[dict[str, Any], dict[str, Any]],
    keep_values: int,
    folders: tuple[str, str],
    run_id: str,
    offset: int = 0,
) -> dict[str, Any]:
    """Check, score and write one partition; return what it found (runs on a worker).

    ``offset`` is the batch row number of the partition's first row (its rows are numbered
    from there when the model has no id columns)."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from mlready.profiles import ProfileBuilder
    from mlready.serving import (
        REASON_COLUMN,
        Scorer,
        as_text,
        output_table,
        profile_chunk,
        profile_predictions,
        row_keys_of,
    )
    from mlready.serving.prepare import Contract

    contract = Contract(checks, info.numeric, info.categorical, known, duplicates, info.dtypes)
    prepared = contract.prepare(frame)
    scorer = Scorer(model, info)
    raw = scorer.raw(prepared.X) if len(prepared.X) else scorer.empty()
    bad = scorer.bad(raw)
    features = ProfileBuilder(references[0], keep_values=keep_values)
    profile_chunk(features, prepared, info)
    predictions = ProfileBuilder(references[1], keep_values=keep_values)
    profile_predictions(predictions, raw, scorer)
    ids = row_keys_of(frame, prepared.accepted, info.id_columns, offset)
    out = output_table(ids, raw, scorer, run_id)
    pq.write_table(out, Path(folders[0]) / f"part-{index:05d}.parquet")
    rejected = int((~prepared.accepted).sum())
    if rejected:
        rows_out = frame.reset_index(drop=True).loc[~prepared.accepted].copy()
        rows_out[REASON_COLUMN] = [
            "; ".join(prepared.reasons[int(i)]) for i in np.flatnonzero(~prepared.accepted)
        ]
        rows_out.insert(0, "_mlready_partition", index)
        as_text(pd.DataFrame(rows_out)).astype({"_mlready_partition": "int64"}).to_parquet(
            Path(folders[1]) / f"part-{index:05d}.parquet", index=False
        )
    return {
        "index": index,
        "rows": len(frame),
        "scored": out.num_rows,
        "rejected": rejected,
        "nan": 0 if bad is None else int(bad.sum()),
        "contract": contract.state(),
        "features": features.to_state(),
        "predictions": predictions.to_state(),
    }


def serve_with_dask(
    loaded: Any,
    info: Any,
    batch: Any,
    checks: list[Any],
    on_invalid: str,
    chunk_rows: int,
    scheduler: str,
    result: Any,
    run_dir: Path,
    run_id: str,
    timings: dict[str, float],
    log: logging.Logger,
) -> None:
    """Score ``batch`` on a Dask cluster; fill ``result`` (see the module's docstring)."""
    import dask

    from mlready.io import atomic_write_json, json_text, staged, temp_folder_beside
    from mlready.profiles import ProfileBuilder
    from mlready.serving import (
        Scorer,
        _commit,
        batch_profile,
        canary,
        known_categories,
        prediction_reference,
    )
    from mlready.serving.prepare import Contract

    if batch.path is None:
        raise UsageError("--engine dask reads files (CSV or Parquet, or a glob): not SQL")
    if on_invalid == "stop":
        log.info("--engine dask: invalid rows are counted per partition; the run stops after")
    start = time.perf_counter()
    probe = Contract(checks, info.numeric, info.categorical, {})
    read_columns = list(dict.fromkeys(info.id_columns + probe.columns()))
    model = info.registry.load(info.handle)  # sha256-verified, here
    scorer = Scorer(model, info)
    result.canary = canary(scorer)
    slim = dataclasses.replace(info, registry=None, handle=None, metadata={}, profile=None)
    reference = info.profile or {"columns": {}}
    feature_ref = {
        "columns": {
            c: (reference.get("columns") or {}).get(c)
            or {"kind": "numeric" if c in info.numeric else "categorical"}
            for c in info.features
        }
    }
    prediction_ref = {"columns": prediction_reference(reference, scorer)}
    keep = loaded.spec.monitoring.drift.small_sample_rows
    known = known_categories(info)
    unique = [c.column for c in checks if c.kind == "unique" and c.severity == "error"]
    timings["load"] = round(time.perf_counter() - start, 4)
    if batch.output.exists() and not batch.output.is_dir():
        raise UsageError(f"--output {batch.output} is a file: --engine dask writes a folder")
    try:
        batch.output.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = temp_folder_beside(batch.output)
        tmp_rej = temp_folder_beside(batch.rejects)
    except OSError as exc:
        raise DataError(_cannot_write(exc, batch.output)) from exc
    committed = False
    try:
        with client_for(scheduler) as client:
            start = time.perf_counter()
            frame = _frame(batch.path, read_columns)
            parts = frame.to_delayed()
            offsets = [0] * len(parts)
            if not info.id_columns:
                # no ids: answers carry the batch row number, so each partition needs its start
                import itertools

                sizes = dask.compute(*[dask.delayed(len)(p) for p in parts])
                offsets = [0, *itertools.accumulate(sizes)][: len(parts)]
            duplicates: dict[str, Any] = {}
            if unique:
                import numpy as np

                hashed = dask.compute(*[dask.delayed(_hashes)(p, unique) for p in parts])
                for column in unique:
                    every = np.concatenate([h[column] for h in hashed])
                    every.sort()
                    duplicates[column] = np.unique(every[1:][every[1:] == every[:-1]])
            model_future = client.scatter(model, broadcast=True)
            tasks = [
                dask.delayed(score_partition)(
                    part,
                    i,
                    model_future,
                    slim,
                    checks,
                    known,
                    duplicates,
                    (feature_ref, prediction_ref),
                    keep,
                    (str(tmp_out), str(tmp_rej)),
                    run_id,
                    offsets[i],
                )
                for i, part in enumerate(parts)
            ]
            try:
                done = client.gather(client.compute(tasks))
            except OSError as exc:  # a worker could not write its part (a full disk...)
                raise DataError(_cannot_write(exc, batch.output)) from exc
            outcomes = sorted(done, key=lambda o: o["index"])
            timings["cluster"] = round(time.perf_counter() - start, 4)
        contract = Contract(checks, info.numeric, info.categorical, known)
        features = ProfileBuilder(feature_ref, keep_values=keep)
        predictions = ProfileBuilder(prediction_ref, keep_values=keep)
        for outcome in outcomes:
            contract.merge(outcome["contract"])
            features.merge(ProfileBuilder.from_state(outcome["features"]))
            predictions.merge(ProfileBuilder.from_state(outcome["predictions"]))
            result.rows_in += outcome["rows"]
            result.rows_scored += outcome["scored"]
            result.rows_rejected += outcome["rejected"]
            result.nan_predictions += outcome["nan"]
        if result.rows_in == 0:
            raise DataError(f"{batch.label} holds no rows: nothing to score (check the export)")
        if result.rows_scored:
            result.fast_path = "pipeline"  # the workers score with the fitted Pipeline
        result.findings = [f.to_dict() for f in contract.findings.values()]
        result.unseen = [f.to_dict() for f in contract.unseen.values()]
        table = contract.table_findings()
        result.findings += [f.to_dict() for f in table]
        hard = [f for f in table if f.severity == "error"]
        if on_invalid == "stop" and result.rows_rejected:
            hard += [f for f in contract.findings.values() if f.severity == "error" and f.count]
        if hard:
            raise CheckFailed(
                f"{batch.label} fails the serving contract: "
                + "; ".join(f"{f.id} ({f.description}): {f.count:,}" for f in hard)
                + "; nothing was written"
                + ("" if on_invalid != "stop" else " (--quarantine scores the valid rows)")
            )
        if result.nan_predictions:
            raise CheckFailed(
                f"{result.nan_predictions:,} predictions are NaN or infinite: the model or its "
                "inputs are broken; nothing was written"
            )
        profile = batch_profile(features, predictions, info, scorer, batch.label, result, run_id)
        atomic_write_json(run_dir / "batch_profile.json", profile)
        with staged(batch.profile) as profile_tmp:
            profile_tmp.write_text(json_text(profile, compact=True), encoding="utf-8")
        committed = True  # the commit owns the temporary folders now
        _commit(
            loaded,
            batch,
            run_dir,
            [
                (tmp_rej if result.rows_rejected else None, batch.rejects),
                (tmp_out, batch.output),
                (profile_tmp, batch.profile),
            ],
        )
        result.files.update(output=str(batch.output), profile=str(batch.profile))
        if result.rows_rejected:
            result.files["rejects"] = str(batch.rejects)
    finally:
        if not committed:
            shutil.rmtree(tmp_out, ignore_errors=True)
            shutil.rmtree(tmp_rej, ignore_errors=True)
        elif not result.rows_rejected:
            shutil.rmtree(tmp_rej, ignore_errors=True)


def _cannot_write(exc: OSError, output: Path) -> str:
    """One line for a write that failed on the machine's account, naming the output."""
    from mlready.io import os_error_message

    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return os_error_message(exc, output) or f"cannot write {output}: {first}"
