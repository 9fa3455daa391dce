"""``mlready.Project``: a project's steps from Python, for notebooks and scripts.

Each method runs one step the way its command does (the same library function: a recorded run
in the run log, the same artifacts and reports) and returns the result the command prints: a
:class:`~mlready.project.results.StepRun` with ``passed``, ``run_id``, ``report``,
``to_dict()`` (the command's ``--json``) and an HTML view for Jupyter. A failed check is a
result with ``passed`` False; an input that cannot be used raises an
:class:`~mlready.errors.MlreadyError` with the message the CLI prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlready.history import RunComparison, RunTable
    from mlready.http.background import BackgroundServer
    from mlready.project.results import (
        DriftRun,
        ReadinessRun,
        RegisterRun,
        ServeRun,
        TrainRun,
        ValidationRun,
    )
    from mlready.site import SiteResult
    from mlready.spec import LoadedSpec

__all__ = ["Project"]

PathLike = str | os.PathLike[str]


class Project:
    """An mlready project, named by its spec: ``Project("path/to/mlready.yaml")``, its folder,
    or nothing for ``./mlready.yaml``.

    The spec is read (and checked) when the project is opened, and again by each step, so an
    edit to ``mlready.yaml`` between two cells is what the next step runs with.
    """

    path: Path
    _loaded: LoadedSpec

    def __init__(self, spec: PathLike | None = None) -> None:
        from mlready.spec.loading import find_spec_path

        self.path = find_spec_path(None if spec is None else Path(spec)).resolve()
        self._load()

    @classmethod
    def init(
        cls,
        folder: PathLike,
        *,
        data: PathLike | None = None,
        target: str | None = None,
        force: bool = False,
    ) -> Project:
        """Write a commented starter project in ``folder`` (with example data, or from your
        ``data`` and its ``target`` column), as ``mlready init`` does, and open it."""
        from mlready.scaffold import scaffold_project

        written = scaffold_project(
            Path(folder), data=None if data is None else Path(data), target=target, force=force
        )
        return cls(written.spec_path)

    def _load(self, *, allow_pickle: bool = False) -> LoadedSpec:
        from mlready.spec import load_spec

        self._loaded = load_spec(self.path)
        return self._loaded.allowing_pickle() if allow_pickle else self._loaded

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r})"

    # ----------------------------------------------------------------------- what it is

    @property
    def spec(self) -> LoadedSpec:
        """The spec as last read (each step reads it again)."""
        return self._loaded

    @property
    def name(self) -> str:
        """The project's name (``project.name``)."""
        return self._loaded.spec.project.name

    @property
    def artifacts_dir(self) -> Path:
        """Where the project's runs, registry and run log are (``project.artifacts_dir``)."""
        return Path(self._loaded.spec.project.artifacts_dir)

    # -------------------------------------------------------------------------- the steps

    def validate(
        self,
        data: PathLike | None = None,
        *,
        query: str | None = None,
        environment: str | None = None,
        quarantine: PathLike | None = None,
        chunk_rows: int | None = None,
        report: bool = True,
        force: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> ValidationRun:
        """Check data against the spec's expectations, as ``mlready validate-data`` does.

        ``data``: a CSV/Parquet file or glob, or a database URL with ``query`` (default: the
        spec's training data). ``environment``: ``training`` or ``serving`` expectations.
        ``quarantine``: a folder for the rows failing row-level checks (the rest go on).
        """
        from mlready.project.steps import run_validate_data

        return run_validate_data(
            self._load(),
            data=None if data is None else os.fspath(data),
            query=query,
            environment=environment,
            quarantine=None if quarantine is None else Path(quarantine),
            chunk_rows=chunk_rows,
            report=report,
            force=force,
            on_progress=on_progress,
        )

    def train(
        self,
        *,
        check_reproducible: bool = False,
        importance: bool = True,
        revalidate: bool = False,
        allow_pickle: bool = False,
        on_progress: Callable[[str, int, int], None] | None = None,
    ) -> TrainRun:
        """Fit the spec's pipeline, cross-validate it, and write the model with its metadata
        and report, as ``mlready train`` does.

        ``check_reproducible`` trains twice and fails unless both agree; ``importance=False``
        skips permutation importance; ``revalidate`` validates the data even when a recent
        validate-data run checked the same bytes; ``allow_pickle`` stores model.joblib (pickle)
        instead of model.skops, as ``model.allow_pickle: true`` does.
        """
        from mlready.project.steps import run_train

        return run_train(
            self._load(allow_pickle=allow_pickle),
            check_reproducible=check_reproducible,
            importance=importance,
            revalidate=revalidate,
            on_progress=on_progress,
        )

    def register(
        self,
        run: str | None = None,
        *,
        allow_failing: bool = False,
        reason: str | None = None,
        promote: str | None = None,
        force: bool = False,
        allow_pickle: bool = False,
    ) -> RegisterRun:
        """Store a train run's model as the next version of the spec's model, as
        ``mlready register`` does (default: the newest passing train run).

        ``promote``: then move this alias to it (``production`` goes through the gate;
        ``force`` with a ``reason`` overrides a refusal). ``allow_failing`` with a ``reason``
        registers a run that failed its checks. ``allow_pickle``: the gate may load versions
        stored as joblib (pickle), as ``--allow-pickle`` does.
        """
        from mlready.project.steps import run_register

        return run_register(
            self._load(allow_pickle=allow_pickle),
            run=run,
            allow_failing=allow_failing,
            reason=reason,
            promote=promote,
            force=force,
        )

    def serve_batch(
        self,
        model: str | None = None,
        *,
        input: PathLike | None = None,
        query: str | None = None,
        output: PathLike | None = None,
        force: bool = False,
        quarantine: bool | None = None,
        chunk_rows: int | None = None,
        cache: bool = True,
        engine: str = "local",
        scheduler: str | None = None,
        allow_pickle: bool = False,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> ServeRun:
        """Score a batch with a registered model, in chunks, within the SLA, as
        ``mlready serve-batch`` does.

        ``model``: ``NAME@ALIAS`` or ``NAME:VERSION`` (default: production). ``input``: a file
        or glob, or a database URL with ``query`` (default: ``serving.input``). ``quarantine``:
        set invalid rows aside (True) or stop at the first (False); default
        ``serving.on_invalid``. ``engine``: ``local`` or ``dask`` (with ``scheduler``).
        ``allow_pickle``: load a version stored as joblib (pickle, which runs code from the
        file), as ``--allow-pickle`` does.
        """
        from mlready.project.steps import run_serve_batch

        return run_serve_batch(
            self._load(allow_pickle=allow_pickle),
            model=model,
            input_path=None if input is None else os.fspath(input),
            query=query,
            output=None if output is None else os.fspath(output),
            force=force,
            quarantine=quarantine,
            chunk_rows=chunk_rows,
            cache=cache,
            engine=engine,
            scheduler=scheduler,
            on_progress=on_progress,
        )

    def serve(
        self,
        model: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        wait: float | None = 120,
    ) -> BackgroundServer:
        """Serve predictions over HTTP from a background thread, as ``mlready serve`` does (the
        same endpoints, contract, cache, metrics and online profile), and return a handle:
        ``url``, ``ready``, ``predict(records)``, ``stop()``; a ``with`` block stops it.

        ``model``: ``NAME@ALIAS`` (followed when the alias moves) or ``NAME:VERSION`` (default:
        production). ``port``: 0 picks a free one. ``wait``: seconds to wait for the model's
        canary before returning (None: return at once; ``server.wait_ready()`` waits later).
        The run is recorded in the run log when the server stops (or the process exits).
        """
        from mlready.http.background import BackgroundServer

        server = BackgroundServer(self._load(), model=model, host=host, port=port)
        if wait is not None:
            try:
                server.wait_ready(wait)
            except BaseException:
                server.stop()
                raise
        return server

    def check_drift(
        self,
        current: PathLike | None = None,
        *,
        batch: str | None = None,
        model: str | None = None,
        reference: PathLike | None = None,
        outcomes: PathLike | None = None,
    ) -> DriftRun:
        """Compare current data with the model's training reference and fire the alerts, as
        ``mlready check-drift`` does.

        ``current``: a file to compare (default: the latest scored batch); ``batch``: a
        serve-batch run id instead; ``outcomes``: the batch's true outcomes, for realized
        performance and business value.
        """
        from mlready.project.steps import run_check_drift

        return run_check_drift(
            self._load(),
            current=None if current is None else os.fspath(current),
            batch=batch,
            model=model,
            reference=None if reference is None else os.fspath(reference),
            outcomes=None if outcomes is None else os.fspath(outcomes),
        )

    def readiness(
        self,
        *,
        fail_under: float | None = None,
        output: PathLike | None = None,
        force: bool = False,
    ) -> ReadinessRun:
        """Score production readiness from what the steps recorded, as
        ``mlready checklist-report`` does (``output``: also copy the reports into a folder)."""
        from mlready.project.steps import run_checklist_report

        return run_checklist_report(
            self._load(),
            fail_under=fail_under,
            output=None if output is None else Path(output),
            force=force,
        )

    # ------------------------------------------------------------------------ the history

    def runs(self, command: str | None = None, *, last: int | None = None) -> RunTable:
        """The runs in the run log (of one command), oldest first, as ``mlready runs list``
        shows them; ``last``: only the newest N."""
        from mlready.history import list_runs

        loaded = self._load()
        return list_runs(
            loaded.spec.project.artifacts_dir, step=command, last=last, project=self.name
        )

    def compare(
        self, a: str, b: str, *, html: PathLike | None = None, force: bool = False
    ) -> RunComparison:
        """What differs between two runs of a command, as ``mlready runs compare`` shows it.

        Name a run by its id, a prefix of it, or its command: ``"train"`` is the newest train
        run, ``"train~1"`` the one before. ``html``: also write the comparison page there
        (``force`` lets it overwrite a file mlready did not write).
        """
        from mlready.history import compare_runs
        from mlready.io import atomic_write_text, guard_outputs, record_outputs

        loaded = self._load()
        artifacts = loaded.spec.project.artifacts_dir
        target = None if html is None else Path(html)
        if target is not None:
            guard_outputs(
                [target],
                artifacts_dir=artifacts,
                protected=loaded.protected_paths(),
                force=force,
                option="--html",
            )
        comparison = compare_runs(artifacts, a, b, project=self.name)
        if target is not None:
            atomic_write_text(target, comparison.to_html())
            record_outputs([target], artifacts_dir=artifacts)
        return comparison

    def site(self, *, force: bool = False) -> SiteResult:
        """Write the project site, as ``mlready site`` does: static pages in
        ``<artifacts_dir>/site/`` (readiness over time, the registry, every run with its report,
        the data checks, drift per feature, the alerts, what changed). Returns a
        :class:`~mlready.site.SiteResult` (``index``, ``pages``, ``runs``, ``readiness``,
        ``to_dict()``); in Jupyter, links to its pages. ``force`` lets it overwrite pages of
        the same name that mlready did not write."""
        from mlready.site import build_site

        return build_site(self._load(), force=force)
