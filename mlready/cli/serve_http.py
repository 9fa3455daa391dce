"""``mlready serve``: real-time scoring over HTTP with serve-batch's contract and scorer."""

from __future__ import annotations

from typing import Annotated

import typer

from mlready.cli.state import STATE, SpecOption, err


def serve(
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="NAME@ALIAS (followed when the alias moves) or NAME:VERSION. "
            "\\[default: the production alias]",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes (each loads the model and counts its own metrics)."
        ),
    ] = 1,
    spec: SpecOption = None,
) -> None:
    """Serve predictions over HTTP: POST /predict, GET /health /ready /model /metrics.

    Runs until Ctrl-C or SIGTERM (in-flight requests finish, the online profile is written to
    the run folder, which `mlready check-drift --batch RUN_ID` reads). Exit 2 when the port is
    taken or the server extra is missing; exit 4 when the registry holds no such model.
    """
    from mlready.http.server import serve as run_server
    from mlready.runs import start_run
    from mlready.spec import load_spec

    loaded = load_spec(STATE.spec_path(spec))
    with start_run(loaded.spec.project.artifacts_dir, "serve", loaded) as run:
        if not STATE.quiet:
            err().print(
                f"mlready serve: http://{host}:{port} (POST /predict; GET /health /ready "
                f"/model /metrics); run {run.run_id}; Ctrl-C stops"
            )
        summary = run_server(
            loaded,
            model=model,
            host=host,
            port=port,
            workers=workers,
            run_dir=run.dir,
            run_id=run.run_id,
            logger=run.logger,
        )
        run.summary.update(summary)
    if not STATE.quiet:
        err().print(
            f"stopped after {summary.get('requests', 0):,} requests, "
            f"{summary.get('rows_scored', 0):,} rows scored; run folder: {run.dir}"
        )
    raise typer.Exit(0)
